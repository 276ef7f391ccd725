import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const MAX_IDS = 200;

// Each person's notices in the app: requests awaiting their decision, access to their mailbox,
// decisions on their requests… (the notices the outbox mails, src/access/notifier.ts). Only
// one's own: no route names another person, whatever one's roles, so an admin cannot read what
// an owner is told nor mark it read for them.
export function inboxRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/me/notifications', tag: 'notifications', auth: { scope: 'content' },
    summary: 'my notices in the app, newest first (at most 200), and how many are unread; a notice a mailbox policy delays appears when its delay ends',
    handler: async (_req, _reply, { p }) => {
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      const inbox = await s.db.read((tx) => s.notifier.inboxOf(tx, p.user));
      return { unread: inbox.unread, notifications: inbox.notices.map((n) => ({ id: n.id, kind: n.kind, subject: n.subject, body: n.body, arrivedAt: iso(n.arrivedAt), readAt: iso(n.readAt) })) };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/me/notifications/read', tag: 'notifications', auth: { scope: 'content' },
    summary: "mark my notices read; an id that is not one of mine is 404 like a missing one, nothing is marked and the refusal is recorded",
    body: z.strictObject({ ids: z.array(z.number().int().min(1)).min(1).max(MAX_IDS) }),
    handler: async (req, _reply, { body, p }) => {
      const { notTheirs } = await s.db.write((tx) => s.notifier.markRead(tx, p.user, body.ids));
      if (notTheirs.length > 0) {
        await s.audit.denied({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { operation: 'notifications.read', parameters: { ids: notTheirs } }, 'not notices of theirs');
        throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no notification ${notTheirs.join(', ')}`);
      }
      return { unread: (await s.db.read((tx) => s.notifier.inboxOf(tx, p.user))).unread };
    },
  });
}
