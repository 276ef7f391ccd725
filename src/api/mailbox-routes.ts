import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import { importDirectory, parseDirectoryCsv } from '../store/mailbox-import.ts';
import { actorContext, principal } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// Who may look mailboxes up: those who file, decide on or oversee requests. The directory says
// whose mailbox it is and under which addresses, never anything about its content.
const DIRECTORY_ROLES = ['requester', 'approver', 'auditor', 'admin', 'breakglass'];

export function mailboxRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/mailboxes', tag: 'mailboxes', auth: 'user',
    summary: 'mailboxes whose name, display name (a word of it) or an address starts with q (requesters, approvers, auditors, admins); no content; admins and auditors also see sensitivity and notification policy',
    query: z.strictObject({ q: z.string().max(320).default(''), limit: z.coerce.number().int().min(1).max(500).default(20), offset: z.coerce.number().int().min(0).default(0) }),
    handler: async (req, _reply, { query }) => {
      const p = principal(s, req, 'requests');
      if (!p.user.roles.some((r) => DIRECTORY_ROLES.includes(r))) {
        s.audit.denied({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { type: 'admin', operation: 'mailbox.list', parameters: { q: query.q } }, 'not a requester, approver, auditor or admin');
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only requesters, approvers, auditors and admins look up mailboxes');
      }
      const full = p.user.roles.some((r) => r === 'admin' || r === 'auditor');
      const prefix = query.q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
      const rows = s.stores.meta.prepare(`SELECT id, name, display_name, owner, sensitivity, auto FROM mailbox
        WHERE lower(name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE '% ' || ?1 ESCAPE '\\'
          OR id IN (SELECT mailbox_id FROM mailbox_address WHERE address LIKE ?1 ESCAPE '\\')
        ORDER BY auto, name LIMIT ?2 OFFSET ?3`).all(prefix, query.limit, query.offset) as Record<string, any>[];
      const addresses = s.stores.meta.prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ? ORDER BY address LIMIT 20');
      return {
        mailboxes: rows.map((r) => ({
          name: r.name, displayName: r.display_name, owner: r.owner, addresses: (addresses.all(r.id) as { address: string }[]).map((a) => a.address),
          ...(full ? { sensitivity: r.sensitivity, auto: Boolean(r.auto), notification: s.notifier.policy(Number(r.id)) } : {}),
        })),
      };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/import', tag: 'mailboxes', auth: 'user',
    summary: 'import the directory (admins): CSV text with a header row (addresses, display_name, owner, sensitivity, name, …) as `sealbox mailboxes import` reads it; any bad line rejects the whole file',
    body: z.strictObject({ csv: z.string().min(1), fileName: z.string().max(255).optional() }),
    handler: async (req, _reply, { body }) => {
      const p = principal(s, req, 'admin');
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      if (!p.user.roles.includes('admin')) {
        s.audit.denied(ctx, { type: 'admin', operation: 'mailboxes.import', parameters: { file: body.fileName ?? null } }, 'not an admin');
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins import the directory');
      }
      const rows = parseDirectoryCsv(body.csv);
      const id = s.stores.meta.prepare('SELECT id FROM mailbox WHERE name = ?');
      const result = s.audit.record(ctx, (r: { mailboxes: number; addresses: number }) => ({
        type: 'admin', operation: 'mailboxes.import',
        mailboxes: rows.map((m) => ({ id: Number((id.get(m.name) as { id: number }).id), name: m.name })),
        // the owners in force from here on, as the command line records them
        parameters: { file: body.fileName ?? null, ...r, owners: Object.fromEntries(rows.filter((m) => m.owner).map((m) => [m.name, m.owner])) },
      }), () => importDirectory(s.stores.meta, rows));
      return result;
    },
  });
}
