import type { LedgerOperation } from '../core/ledger-operations.ts';
import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import type { Principal } from '../access/credentials.ts';
import { actorContext, principal } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// Account recovery (src/access/account-recovery.ts): an admin asks, someone else approves, the
// code goes by mail to the person alone. Every refusal is a ledger entry.
export function recoveryRoutes(routes: RouteTable, s: Services): void {
  const refusing = <T>(ctx: Parameters<typeof s.audit.denied>[0], operation: LedgerOperation, parameters: Record<string, unknown>, work: () => T): T => {
    try {
      return work();
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') s.audit.denied(ctx, { operation, parameters }, err.message);
      throw err;
    }
  };
  const context = (req: Parameters<typeof principal>[1], p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });

  routes.add({
    method: 'POST', url: '/api/v1/users/:name/recovery', tag: 'admin', auth: 'user',
    summary: "ask for an account recovery of someone already enrolled (lost password or second factor): another admin or approver approves, and the one-time code is mailed to the person, never shown to either (admins, never for themselves)",
    body: z.strictObject({ reason: z.string().min(1).max(2000) }),
    handler: async (req, _reply, { body }) => {
      const p = principal(s, req, 'admin');
      const name = (req.params as { name: string }).name;
      const ctx = context(req, p);
      return refusing(ctx, 'user.recovery.request', { name }, () => {
        if (!p.user.roles.includes('admin')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins ask for account recoveries');
        return s.audit.record(ctx, (r: { id: string }) => ({ operation: 'user.recovery.request', parameters: { name, recovery: r.id, reason: body.reason } }),
          () => s.recovery.request(p.user, name, body.reason));
      });
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/recoveries', tag: 'admin', auth: 'user', summary: 'account recoveries and their state (admins, approvers, auditors); never a code',
    handler: async (req) => {
      const p = principal(s, req, 'admin');
      if (!p.user.roles.some((r) => r === 'admin' || r === 'approver' || r === 'auditor')) {
        s.audit.denied(context(req, p), { operation: 'user.recovery.list' }, 'not an admin, approver or auditor');
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins, approvers and auditors see account recoveries');
      }
      return { recoveries: s.recovery.list() };
    },
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/recoveries/:id/${decision}`, tag: 'admin', auth: 'user',
      summary: `${decision} an account recovery, with a reason (admins and approvers; never one's own, nor one they asked for, nor one asked by someone linked to them)`,
      body: z.strictObject({ reason: z.string().min(1).max(2000) }),
      handler: async (req, _reply, { body }) => {
        const p = principal(s, req, 'admin');
        const id = (req.params as { id: string }).id;
        const ctx = context(req, p);
        return refusing(ctx, `user.recovery.${decision}`, { recovery: id }, () => s.audit.record(ctx,
          (r: { user: string }) => ({ operation: `user.recovery.${decision}`, parameters: { recovery: id, name: r.user, reason: body.reason } }),
          () => s.recovery.decide(p.user, id, decision, body.reason)));
      },
    });
  }
}
