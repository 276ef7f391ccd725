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
      const n = s.notice.current();
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      if (!n || !n.text) return { text: null, version: n?.version ?? 0, updatedAt: null, acknowledgedAt: null, mustAcknowledge: false };
      const acknowledgedAt = s.notice.acknowledgedAt(p.user, n.version);
      return {
        text: n.text, version: n.version, updatedAt: iso(n.updatedAt), acknowledgedAt: iso(acknowledgedAt), mustAcknowledge: acknowledgedAt === null,
        ...(p.user.roles.some((r) => r === 'admin' || r === 'auditor') ? { updatedBy: n.updatedBy, acknowledgements: s.notice.acknowledgements(n.version) } : {}),
      };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/notice', tag: 'notice',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'notice.set', reason: 'not an admin', message: 'only admins set the archiving notice' } },
    summary: 'set the archiving notice text (admins); everyone acknowledges the new version anew; an empty text withdraws it',
    body: z.strictObject({ text: z.string().max(MAX_NOTICE_CHARS) }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      const n = s.audit.record(ctx, (n: { version: number; text: string }) => ({
        operation: 'notice.set',
        parameters: { version: n.version, sha256: createHash('sha256').update(n.text).digest('hex'), text: n.text },
      }), () => s.notice.set(body.text, p.user));
      return { text: n.text || null, version: n.version, updatedAt: new Date(n.updatedAt).toISOString() };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/notice/acknowledge', tag: 'notice', auth: { scope: 'content' },
    summary: 'acknowledge the archiving notice (the version read); recorded in the ledger',
    body: z.strictObject({ version: z.number().int().min(1) }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'owner' as const };
      const at = s.audit.record(ctx, { operation: 'notice.acknowledge', parameters: { version: body.version } }, () => s.notice.acknowledge(p.user, body.version));
      return { version: body.version, acknowledgedAt: new Date(at).toISOString() };
    },
  });
}
