import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MAX_NOTICE_CHARS } from '../access/archiving-notice.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// The archiving notice: set by admins, shown to every signed-in person until they acknowledge
// the version in force. Setting and acknowledging are ledger entries.
export function noticeRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/notice', tag: 'notice', auth: { scope: 'content' },
    summary: 'the archiving notice in force and whether I have acknowledged it',
    handler: async (_req, _reply, { p }) => {
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      return s.db.read(async (tx) => {
        const n = await s.notice.current(tx);
        if (!n || !n.text) return { text: null, version: n?.version ?? 0, updatedAt: null, acknowledgedAt: null, mustAcknowledge: false };
        const acknowledgedAt = await s.notice.acknowledgedAt(tx, p.user, n.version);
        return {
          text: n.text, version: n.version, updatedAt: iso(n.updatedAt), acknowledgedAt: iso(acknowledgedAt), mustAcknowledge: acknowledgedAt === null,
          ...(p.user.roles.some((r) => r === 'admin' || r === 'auditor') ? { updatedBy: n.updatedBy, acknowledgements: await s.notice.acknowledgements(tx, n.version) } : {}),
        };
      });
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/notice', tag: 'notice',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'notice.set', reason: 'not an admin', message: 'only admins set the archiving notice' } },
    summary: 'set the archiving notice text (admins); everyone acknowledges the new version anew; an empty text withdraws it',
    body: z.strictObject({ text: z.string().max(MAX_NOTICE_CHARS) }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      const n = await s.audit.record(ctx, (n: { version: number; text: string }) => ({
        operation: 'notice.set',
        parameters: { version: n.version, sha256: createHash('sha256').update(n.text).digest('hex'), text: n.text },
      }), (tx) => s.notice.set(tx, body.text, p.user));
      return { text: n.text || null, version: n.version, updatedAt: new Date(n.updatedAt).toISOString() };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/notice/acknowledge', tag: 'notice', auth: { scope: 'content' },
    summary: 'acknowledge the archiving notice (the version read); recorded in the ledger',
    body: z.strictObject({ version: z.number().int().min(1) }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'owner' as const };
      const at = await s.audit.record(ctx, { operation: 'notice.acknowledge', parameters: { version: body.version } }, (tx) => s.notice.acknowledge(tx, p.user, body.version));
      return { version: body.version, acknowledgedAt: new Date(at).toISOString() };
    },
  });
}
