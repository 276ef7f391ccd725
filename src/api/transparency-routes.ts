import { SealboxError } from '../core/errors.ts';
import { ownerMaySee } from '../access/transparency.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// What a mailbox's owner learns of access to it by others: the transparency page.
export function transparencyRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/mailboxes/mine/accesses', tag: 'transparency', auth: { scope: 'content' },
    summary: "who accessed my mailboxes, when, how and under which request, as each mailbox's notification policy allows (my own reads are left out)",
    handler: async (_req, _reply, { p }) => {
      return s.db.read(async (tx) => {
        const owned = await s.people.ownedMailboxes(tx, p.user);
        if (owned.length === 0) return { mailboxes: [], accesses: [] };
        const policies = await s.notifier.policies(tx, owned.map((o) => o.id));
        const seen = new Set<number>();
        const now = s.clock.now();
        const accesses = [];
        for (const { entry: e } of await s.stores.meta.ofMailbox(tx, owned.map((m) => m.id), 1000)) {
          if (seen.has(e.index) || e.type !== 'access' || e.actor === `user:${p.user.name}`) continue;
          seen.add(e.index);
          const grant = e.grantId ? await s.grants.get(tx, e.grantId).catch(notFound) : null;
          // Each mailbox's notification policy says when its owner may learn of an access (delayed, or never with a legal basis).
          const shown = e.objects.mailboxes.filter((m) => owned.some((o) => o.name === m && ownerMaySee(policies.get(o.id)!, grant, now)));
          if (shown.length === 0) continue;
          accesses.push({
            index: e.index, time: new Date(e.time).toISOString(), actor: e.actor.replace(/^user:/, ''), operation: e.operation, result: e.result, logonType: e.logonType,
            mailboxes: shown, messages: e.objects.messages.length,
            request: grant ? { id: grant.id, purpose: grant.purpose, ticket: grant.ticket, justification: grant.justification, breakglass: grant.breakglass } : null,
          });
        }
        return { mailboxes: owned.map((m) => m.name), accesses };
      });
    },
  });
}

// A grant an entry names that is not there (never expected) shows as no request; any other fault is thrown.
function notFound(err: unknown): null {
  if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_NOT_FOUND') return null;
  throw err;
}
