import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import { SealboxError } from '../core/errors.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { LeaverChange, LeaverState } from '../retention/leaver-store.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD');
const reason = z.string().min(1).max(2000);

// Leavers (src/retention/leavers.ts): admins file a leaving date, its withdrawal or an exemption,
// each with a reason; an approver who did not file it, is not linked to the filer and does not own
// the mailbox decides. Nothing here applies at once: a leaving date shortens retention.
export function leaverRoutes(routes: RouteTable, s: Services): void {
  const admin = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });
  // The entry names the mailbox; a refusal the work itself decides (four eyes, a stale filing) is recorded too.
  const recorded = async (req: FastifyRequest, p: Principal, operation: LedgerOperation, parameters: Record<string, unknown>, work: (tx: Tx) => Promise<LeaverChange>): Promise<LeaverChange> => {
    const ctx = admin(req, p);
    try {
      return await s.audit.record(ctx, (c: LeaverChange) => ({ operation, mailboxes: [{ id: c.mailboxId, name: c.mailbox }], parameters: { ...parameters, change: c.id, kind: c.kind, mailbox: c.mailbox, ...changeFacts(c) } }), work);
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await s.audit.denied(ctx, { operation, parameters }, err.message);
      throw err;
    }
  };
  const filer = (p: Principal) => ({ user: p.user, label: `user:${p.user.name}` });

  routes.add({
    method: 'GET', url: '/api/v1/leavers', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'leaver.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see leavers' } },
    summary: 'mailboxes marked as belonging to someone who left (with the day their mail is disposed from and any exemption), retention.leaverMonths, and the changes filed with their decisions (admins, approvers, auditors)',
    handler: async () => s.db.read(async (tx) => ({
      leaverMonths: s.leavers.leaverMonths, leavers: (await s.leavers.states(tx)).map(leaverView), changes: (await s.leavers.changes(tx)).map(changeView),
    })),
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/:name/leaver', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'leaver.file', reason: 'not a records manager or admin', message: 'only records managers and admins file leaving dates', parameters: ({ params }) => ({ mailbox: params.name }) } },
    summary: "file the day the mailbox's person left (`left`, YYYY-MM-DD; null: withdraw the date, they are still there) with a reason (admins): applied only when an approver who did not file it approves; then its mail not kept by a longer retention rule or a legal hold is disposed retention.leaverMonths after that day",
    body: z.strictObject({ left: day.nullable(), reason }),
    handler: async (req, _reply, { body, params, p }) => changeView(await recorded(req, p, 'leaver.file', { mailbox: params.name, left: body.left, reason: body.reason },
      (tx) => (body.left === null ? s.leavers.fileReturn(tx, filer(p), params.name, body.reason, 'api') : s.leavers.fileLeave(tx, filer(p), params.name, body.left, body.reason, 'api')))),
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/:name/leaver/exemption', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'leaver.file', reason: 'not a records manager or admin', message: 'only records managers and admins file leaver exemptions', parameters: ({ params }) => ({ mailbox: params.name }) } },
    summary: "file an exemption from the leaver rule for a leaver's mailbox, with the reason the law asks for and an optional end (`until`, YYYY-MM-DD; null: until decided otherwise) (admins): in force only when an approver who did not file it approves",
    body: z.strictObject({ until: day.nullable().default(null), reason }),
    handler: async (req, _reply, { body, params, p }) => changeView(await recorded(req, p, 'leaver.file', { mailbox: params.name, until: body.until, reason: body.reason },
      (tx) => s.leavers.fileExemption(tx, filer(p), params.name, body.until, body.reason, 'api'))),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/leaver-changes/:id/${decision}`, tag: 'retention',
      // Leavers.decide holds to the same role for any other caller.
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `leaver.${decision}`, message: 'only approvers decide on leaving dates and exemptions', parameters: ({ params }) => ({ change: params.id }) } },
      summary: `${decision} a filed leaving date, withdrawal or exemption, with a reason (approvers; never the one who filed it, anyone linked to them, or the mailbox's owner)${decision === 'approve' ? ': applied if the mailbox is still as it was when filed' : ''}`,
      body: z.strictObject({ reason }),
      handler: async (req, _reply, { body, params, p }) => changeView(await recorded(req, p, `leaver.${decision}`, { change: params.id, reason: body.reason },
        (tx) => s.leavers.decide(tx, p.user, params.id, decision, body.reason))),
    });
  }
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const isoDay = (t: number | null) => (t === null ? null : new Date(t).toISOString().slice(0, 10));

function changeFacts(c: LeaverChange) {
  return c.kind === 'leave' ? { left: isoDay(c.leftOn), disposeFrom: isoDay(c.disposeFrom) } : c.kind === 'exempt' ? { until: isoDay(c.exemptUntil) } : {};
}

export function leaverView(l: LeaverState) {
  return { mailbox: l.mailbox, left: isoDay(l.leftOn), disposeFrom: isoDay(l.disposeFrom), exemption: l.exemption && { change: l.exemption.changeId, until: isoDay(l.exemption.until), reason: l.exemption.reason } };
}

function changeView(c: LeaverChange) {
  return {
    id: c.id, mailbox: c.mailbox, kind: c.kind, ...changeFacts(c), reason: c.reason, source: c.source, filedBy: c.filedByLabel, filedAt: iso(c.filedAt),
    state: c.decision === 'approve' ? 'approved' : c.decision === 'deny' ? 'denied' : 'pending', decisionReason: c.decisionReason, decidedAt: iso(c.decidedAt),
  };
}
