import { z } from 'zod';
import { syncFromLdap } from '../directory/ldap-sync.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// Directory sync from LDAP / Active Directory (src/directory/): run by an admin, read by admins
// and auditors. What a sync would give someone is filed for someone else's approval.
export function directoryRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'POST', url: '/api/v1/directory/sync', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'directory.sync', message: 'only admins sync the directory', parameters: ({ body }) => ({ dryRun: body.dryRun }) } },
    summary: 'read directory.ldap and apply the difference (admins): mailboxes, addresses, managers, departments, roles through sso.roleGroups, disabled and gone people as leavers; a role, a mailbox or a leaving date is filed for an approver; `dryRun` lists the changes only; a sync that would remove more than directory.maxRemovalShare of the people answers state "stopped" unless `confirm`',
    body: z.strictObject({ dryRun: z.boolean().default(false), confirm: z.boolean().default(false) }),
    handler: async (req, _reply, { body, p }) => {
      const actor = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      try {
        return await syncFromLdap(s.config, s.directory, actor, body);
      } catch (err) {
        await s.audit.denied(actor, { operation: 'directory.sync', parameters: { dryRun: body.dryRun, source: 'ldap' } }, (err as Error).message);
        throw err;
      }
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/directory/syncs', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin', 'auditor'], refusal: { operation: 'directory.sync.list', message: 'only admins and auditors see directory syncs' } },
    summary: 'the latest directory syncs (LDAP and SCIM) with their changes and what came of each, newest first, and the group-to-role mapping (sso.roleGroups) they apply (admins, auditors)',
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    handler: async (_req, _reply, { query }) => {
      const syncs = await s.db.read((tx) => s.directory.syncs(tx, query.limit));
      return {
        ldap: s.config.directory.ldap ? { url: s.config.directory.ldap.url, baseDns: s.config.directory.ldap.baseDns, everyMinutes: s.config.directory.ldap.everyMinutes } : null,
        maxRemovalShare: s.config.directory.maxRemovalShare,
        roleGroups: s.config.sso.roleGroups,
        syncs: syncs.map((y) => ({ ...y, startedAt: new Date(y.startedAt).toISOString() })),
      };
    },
  });
}
