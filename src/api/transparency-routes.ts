import { ownerAccesses } from '../access/transparency.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// What a mailbox's owner learns of access to it by others: the transparency page.
export function transparencyRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/mailboxes/mine/accesses', tag: 'transparency', auth: { scope: 'content' },
    summary: "who accessed my mailboxes, as each mailbox's notification policy allows (my own reads are left out): `requests`, one per person and request (display name, purpose, ticket, first and last access, searches, distinct messages read and exported, refusals, and the details: each search, each message opened once however many parts of it were fetched, each export); `accesses`, every ledger entry",
    handler: async (_req, _reply, { p }) => {
      return s.db.read((tx) => ownerAccesses({
        ofMailbox: (t, ids, limit) => s.stores.meta.ofMailbox(t, ids, limit),
        grant: (t, id) => s.grants.get(t, id),
        policies: (t, ids) => s.notifier.policies(t, ids),
        owned: (t, user) => s.people.ownedMailboxes(t, user),
        person: (t, name) => s.people.byName(t, name),
        mailboxesHolding: (shas, ids) => s.search.mailboxesHolding(shas, ids),
        now: () => s.clock.now(),
      }, tx, p.user));
    },
  });
}
