import type { LedgerOperation } from '../core/ledger-operations.ts';
import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import type { Principal } from '../access/credentials.ts';
import type { FastifyRequest } from 'fastify';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// Account recovery (src/access/account-recovery.ts): an admin asks, someone else approves, the
// code goes by mail to the person alone. Every refusal is a ledger entry.
export function recoveryRoutes(routes: RouteTable, s: Services): void {
  const refusing = async <T>(ctx: Parameters<typeof s.audit.denied>[0], operation: LedgerOperation, parameters: Record<string, unknown>, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await s.audit.denied(ctx, { operation, parameters }, err.message);
      throw err;
    }
  };
  const context = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });

  routes.add({
    method: 'POST', url: '/api/v1/users/:name/recovery', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'user.recovery.request', message: 'only admins ask for account recoveries', parameters: ({ params }) => ({ name: params.name }) } },
    summary: "ask for an account recovery of someone already enrolled (lost password or second factor): another admin or approver approves, and the one-time code is mailed to the person, never shown to either (admins, never for themselves)",
    body: z.strictObject({ reason: z.string().min(1).max(2000) }),
    handler: async (req, _reply, { body, params, p }) => {
      const name = params.name;
      const ctx = context(req, p);
      return refusing(ctx, 'user.recovery.request', { name }, () => s.audit.record(ctx,
        (r: { id: string }) => ({ operation: 'user.recovery.request', parameters: { name, recovery: r.id, reason: body.reason } }),
        (tx) => s.recovery.request(tx, p.user, name, body.reason)));
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/recoveries', tag: 'admin', summary: 'account recoveries and their state (admins, approvers, auditors); never a code',
    auth: { scope: 'admin', roles: ['admin', 'approver', 'auditor'], refusal: { operation: 'user.recovery.list', reason: 'not an admin, approver or auditor', message: 'only admins, approvers and auditors see account recoveries' } },
    handler: async () => ({ recoveries: await s.db.read((tx) => s.recovery.list(tx)) }),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/recoveries/:id/${decision}`, tag: 'admin',
      // AccountRecovery.decide holds to the same roles for any other caller.
      auth: { scope: 'admin', roles: ['admin', 'approver'], refusal: { operation: `user.recovery.${decision}`, message: 'only admins and approvers decide on account recoveries', parameters: ({ params }) => ({ recovery: params.id }) } },
      summary: `${decision} an account recovery, with a reason (admins and approvers; never one's own, nor one they asked for, nor one asked by someone linked to them)`,
      body: z.strictObject({ reason: z.string().min(1).max(2000) }),
      handler: async (req, _reply, { body, params, p }) => {
        const id = params.id;
        const ctx = context(req, p);
        return refusing(ctx, `user.recovery.${decision}`, { recovery: id }, () => s.audit.record(ctx,
          (r: { user: string }) => ({ operation: `user.recovery.${decision}`, parameters: { recovery: id, name: r.user, reason: body.reason } }),
          (tx) => s.recovery.decide(tx, p.user, id, decision, body.reason)));
      },
    });
  }
}
