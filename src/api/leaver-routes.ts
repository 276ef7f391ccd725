import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { LeaverChange } from '../retention/leaver-store.ts';
import { leaverChangeView, leaverView, recordLeaverChange } from '../retention/leavers.ts';
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
  const recorded = (req: FastifyRequest, p: Principal, operation: LedgerOperation, parameters: Record<string, unknown>, work: (tx: Tx) => Promise<LeaverChange>) =>
    recordLeaverChange(s.audit, { ...actorContext(req, p), user: p.user, logonType: 'admin' }, operation, parameters, work);
  const filer = (p: Principal) => ({ user: p.user, label: `user:${p.user.name}` });

  routes.add({
    method: 'GET', url: '/api/v1/leavers', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'leaver.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see leavers' } },
    summary: 'mailboxes marked as belonging to someone who left (with the day their mail is disposed from and any exemption), retention.leaverMonths, and the changes filed with their decisions (admins, approvers, auditors)',
    handler: async () => s.db.read(async (tx) => ({
      leaverMonths: s.leavers.leaverMonths, leavers: (await s.leavers.states(tx)).map(leaverView), changes: (await s.leavers.changes(tx)).map(leaverChangeView),
    })),
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/:name/leaver', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'leaver.file', reason: 'not a records manager or admin', message: 'only records managers and admins file leaving dates', parameters: ({ params }) => ({ mailbox: params.name }) } },
    summary: "file the day the mailbox's person left (`left`, YYYY-MM-DD; null: withdraw the date, they are still there) with a reason (admins): applied only when an approver who did not file it approves; then its mail not kept by a retention rule's minimum or a legal hold is disposed retention.leaverMonths after that day",
    body: z.strictObject({ left: day.nullable(), reason }),
    handler: async (req, _reply, { body, params, p }) => leaverChangeView(await recorded(req, p, 'leaver.file', { mailbox: params.name, left: body.left, reason: body.reason },
      (tx) => (body.left === null ? s.leavers.fileReturn(tx, filer(p), params.name, body.reason, 'api') : s.leavers.fileLeave(tx, filer(p), params.name, body.left, body.reason, 'api')))),
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/:name/leaver/exemption', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'leaver.file', reason: 'not a records manager or admin', message: 'only records managers and admins file leaver exemptions', parameters: ({ params }) => ({ mailbox: params.name }) } },
    summary: "file an exemption from the leaver rule for a leaver's mailbox, with the reason the law asks for and an optional end (`until`, YYYY-MM-DD; null: until decided otherwise) (admins): in force only when an approver who did not file it approves",
    body: z.strictObject({ until: day.nullable().default(null), reason }),
    handler: async (req, _reply, { body, params, p }) => leaverChangeView(await recorded(req, p, 'leaver.file', { mailbox: params.name, until: body.until, reason: body.reason },
      (tx) => s.leavers.fileExemption(tx, filer(p), params.name, body.until, body.reason, 'api'))),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/leaver-changes/:id/${decision}`, tag: 'retention',
      // Leavers.decide holds to the same role for any other caller.
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `leaver.${decision}`, message: 'only approvers decide on leaving dates and exemptions', parameters: ({ params }) => ({ change: params.id }) } },
      summary: `${decision} a filed leaving date, withdrawal or exemption, with a reason (approvers; never the one who filed it, anyone linked to them, or the mailbox's owner)${decision === 'approve' ? ': applied if the mailbox is still as it was when filed' : ''}`,
      body: z.strictObject({ reason }),
      handler: async (req, _reply, { body, params, p }) => leaverChangeView(await recorded(req, p, `leaver.${decision}`, { change: params.id, reason: body.reason },
        (tx) => s.leavers.decide(tx, p.user, params.id, decision, body.reason))),
    });
  }
}
