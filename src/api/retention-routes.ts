import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import { DIRECTIONS } from '../retention/retention-store.ts';
import type { RetentionChangeRecord, RetentionRule } from '../retention/retention-store.ts';
import { changeView, ruleChangeEvent } from '../retention/retention-rules.ts';
import type { RuleOutcome } from '../retention/retention-rules.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

const ruleBody = z.strictObject({
  name: z.string().min(1).max(200),
  mailboxes: z.array(z.string().min(1).max(320)).max(1000).default([]),
  sensitivities: z.array(z.string().min(1).max(100)).max(100).default([]),
  departments: z.array(z.string().min(1).max(100)).max(100).default([]),   // RetentionRules says which names can be one
  domains: z.array(z.string().min(1).max(255)).max(1000).default([]),
  directions: z.array(z.enum(DIRECTIONS)).max(3).default([]),
  days: z.number().int().min(1).max(100_000).nullable(),   // null: for ever
  minDays: z.number().int().min(0).max(100_000).optional(), // at most days (RetentionRules checks); absent: as long as days
  note: z.string().max(2000).optional(),                    // why, kept with a filed change
});

export function retentionRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/retention', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'retention.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see retention rules' } },
    summary: 'the retention rules, the default (retention.defaultDays; null: for ever) and the rule changes filed for approval with their decisions (admins, approvers, auditors)',
    handler: async () => s.db.read(async (tx) => ({
      defaultDays: s.retention.defaultDays, rules: await s.retention.rules(tx), changes: (await s.retention.changes(tx)).map(changeView),
    })),
  });

  // A rule added (id undefined) or changed: applied at once, or filed; either way one entry.
  const set = async (req: FastifyRequest, p: Principal, id: string | undefined, body: z.infer<typeof ruleBody>) => {
    const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
    const { note, ...rule } = body;
    const r = await s.audit.record(ctx, (r: RuleOutcome) => ruleChangeEvent(r, note ?? null),
      (tx) => s.retention.set(tx, { user: p.user, label: `user:${p.user.name}` }, { ...rule, id }, note ?? null));
    return outcomeView(r);
  };

  routes.add({
    method: 'POST', url: '/api/v1/retention/rules', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'retention.set', reason: 'not a records manager or admin', message: 'only records managers and admins change retention rules' } },
    summary: 'add a retention rule (admins): applied at once when it can only lengthen what mail is kept; one that keeps matching mail less than the default is filed for an approver\'s decision (`applied: false`, the change)',
    body: ruleBody,
    handler: async (req, _reply, { body, p }) => set(req, p, undefined, body),
  });

  routes.add({
    method: 'POST', url: '/api/v1/retention/rules/:id', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'retention.set', reason: 'not a records manager or admin', message: 'only records managers and admins change retention rules', parameters: ({ params }) => ({ rule: params.id }) } },
    summary: 'change a retention rule (admins): applied at once when it can only lengthen what mail is kept, otherwise filed for an approver\'s decision; captures already made keep their retain-until',
    body: ruleBody,
    handler: async (req, _reply, { body, params, p }) => set(req, p, params.id, body),
  });

  routes.add({
    method: 'POST', url: '/api/v1/retention/rules/:id/remove', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'retention.file', reason: 'not a records manager or admin', message: 'only records managers and admins change retention rules', parameters: ({ params }) => ({ rule: params.id }) } },
    summary: 'ask for a retention rule to be removed (admins): always filed for an approver\'s decision',
    body: z.strictObject({ note: z.string().max(2000).optional() }),
    handler: async (req, _reply, { body, params, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      const r = await s.audit.record(ctx, (r: RuleOutcome) => ruleChangeEvent(r, body.note ?? null),
        (tx) => s.retention.remove(tx, { user: p.user, label: `user:${p.user.name}` }, params.id, body.note ?? null));
      return outcomeView(r);
    },
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/retention/changes/:id/${decision}`, tag: 'retention',
      // RetentionRules.decide holds to the same role for any other caller.
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `retention.${decision}`, message: 'only approvers decide on retention changes', parameters: ({ params }) => ({ change: params.id }) } },
      summary: `${decision} a filed retention change, with a reason (approvers; never the one who filed it, nor anyone linked to them)`,
      body: z.strictObject({ reason: z.string().min(1).max(2000) }),
      handler: async (req, _reply, { body, params, p }) => {
        const id = params.id;
        const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
        const c = await s.audit.recordOrRefuse(ctx, { operation: `retention.${decision}`, parameters: { change: id } }, (c: RetentionChangeRecord) => ({
          operation: `retention.${decision}`,
          parameters: { change: id, kind: c.kind, rule: c.after, before: c.before, filedBy: c.filedByLabel, reason: body.reason },
        }), (tx) => s.retention.decide(tx, p.user, id, decision, body.reason));
        return changeView(c);
      },
    });
  }
}

function outcomeView(r: RuleOutcome): { applied: boolean; rule?: RetentionRule | null; change?: ReturnType<typeof changeView> } {
  return r.applied ? { applied: true, rule: r.rule } : { applied: false, change: changeView(r.change) };
}
