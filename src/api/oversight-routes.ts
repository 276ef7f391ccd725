import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import { SealboxError } from '../core/errors.ts';
import type { User } from '../access/people.ts';
import { isSubjectOf } from '../access/request-visibility.ts';
import { reportCsv } from '../oversight/oversight-report.ts';
import type { ReviewAction } from '../oversight/review-queue.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const when = (name: string) => z.string().refine((v) => Number.isFinite(Date.parse(v)), `${name} must be an ISO date or time`).optional();

// Oversight: the permission inventory and reports (auditors), the review queue (approvers and
// auditors). Reading any of it is itself a ledger entry.
export function oversightRoutes(routes: RouteTable, s: Services): void {
  const overseer = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });
  // AuditorViews holds to the same role for the console.
  const auditors = { reason: 'not an auditor', message: 'only auditors read the permission inventory and the reports' } as const;
  const reviewers = { reason: 'not an approver or auditor', message: 'only approvers and auditors may do this' } as const;
  // A review of a grant on one's own mailbox is the investigation itself: its subject does not
  // see it (it answers like a missing item, and asking is recorded).
  const aboutMe = async (tx: Tx, user: User, requestId: string | null) => {
    const request = requestId ? await safe(() => s.grants.get(tx, requestId)) : null;
    return request !== null && request.requesterId !== user.id && isSubjectOf(user, request);
  };
  // Asked outside any transaction: a refusal is recorded in one of its own.
  const hiddenFrom = async (ctx: { user: User | null }, id: string, operation: LedgerOperation, log: Parameters<typeof s.audit.denied>[0]) => {
    const { item, hidden } = await s.stores.meta.read(async (tx) => {
      const item = await s.reviews.get(tx, id);
      return { item, hidden: ctx.user !== null && await aboutMe(tx, ctx.user, item.requestId) };
    });
    if (hidden) {
      await s.audit.denied(log, { operation, parameters: { review: id } }, 'review of a grant on your own mailbox');
      throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no review item ${id}`);
    }
    return item;
  };

  routes.add({
    method: 'GET', url: '/api/v1/oversight/inventory', tag: 'oversight',
    auth: { scope: 'ledger', roles: ['auditor'], refusal: { ...auditors, operation: 'oversight.inventory', parameters: ({ query }) => ({ at: query.at ? Date.parse(query.at) : null }) } },
    summary: 'who can read which mailbox: active grants with time left, break-glass holders, owners, content-scoped API tokens; at=TIME rebuilds it from the ledger (auditors)',
    query: z.strictObject({ at: when('at') }),
    handler: async (req, _reply, { query, p }) => s.oversight.inventory(overseer(req, p), query.at ? Date.parse(query.at) : undefined),
  });

  routes.add({
    method: 'GET', url: '/api/v1/oversight/report', tag: 'oversight',
    auth: { scope: 'ledger', roles: ['auditor'], refusal: { ...auditors, operation: 'oversight.report', parameters: ({ query }) => s.oversight.period(period(query)) } },
    summary: 'the oversight report for a period (default: the last 30 days) as JSON or CSV (auditors)',
    query: z.strictObject({ from: when('from'), to: when('to'), format: z.enum(['json', 'csv']).default('json') }),
    handler: async (req, reply, { query, p }) => {
      const report = await s.oversight.report(overseer(req, p), period(query));
      if (query.format === 'csv') {
        reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="sealbox-report.csv"');
        return reportCsv(report);
      }
      return report;
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/reviews', tag: 'oversight', summary: 'the review queue (approvers and auditors)',
    auth: { scope: 'ledger', roles: ['approver', 'auditor'], refusal: { ...reviewers, operation: 'review.list', parameters: ({ query }) => query } },
    query: z.strictObject({ state: z.enum(['open', 'claimed', 'reviewed', 'escalated', 'closed']).optional(), kind: z.enum(['breakglass', 'sample', 'high-impact', 'alert']).optional() }),
    handler: async (req, _reply, { query, p }) => {
      const ctx = overseer(req, p);
      return s.stores.meta.read(async (tx) => {
        const reviews = [];
        for (const i of await s.reviews.list(tx, query)) if (!(await aboutMe(tx, ctx.user, i.requestId))) reviews.push(iso(i));
        return { reviews };
      });
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/reviews/:id', tag: 'oversight',
    auth: { scope: 'ledger', roles: ['approver', 'auditor'], refusal: { ...reviewers, operation: 'review.read', parameters: ({ params }) => ({ review: params.id }) } },
    summary: "one review item with the reviewed grant's full activity in metadata form (queries, messages opened, exports); recorded",
    handler: async (req, _reply, { params, p }) => {
      const id = params.id;
      const ctx = overseer(req, p);
      const { requestId } = await hiddenFrom(ctx, id, 'review.read', ctx);
      return s.audit.record(ctx, { operation: 'review.read', grantId: requestId, parameters: { review: id } }, async (tx) => {
        // The item, its grant and the activity as they stand when the reading is recorded.
        const item = await s.reviews.get(tx, id);
        const request = requestId ? await safe(() => s.grants.get(tx, requestId)) : null;
        const requester = request && await s.people.byId(tx, request.requesterId);
        return {
          ...iso(item),
          request: request && { id: request.id, requester: requester?.name ?? null, purpose: request.purpose, justification: request.justification, ticket: request.ticket, mailboxes: request.mailboxes.map((m) => m.name), permissions: request.permissions, dateFrom: isoOf(request.dateFrom), dateTo: isoOf(request.dateTo), startsAt: isoOf(request.startsAt), endsAt: isoOf(request.endsAt), revokedAt: isoOf(request.revokedAt), breakglass: request.breakglass },
          activity: (await s.reviews.activity(tx, item)).map((e) => ({
            index: e.index, time: new Date(e.time).toISOString(), actor: e.actor, operation: e.operation, result: e.result, mailboxes: e.objects.mailboxes,
            messages: e.objects.messages, query: e.parameters.canonicalQuery ?? e.parameters.query ?? null, results: e.parameters.results ?? null, bytes: e.parameters.bytes ?? null,
          })),
        };
      });
    },
  });

  for (const action of ['claim', 'review', 'escalate', 'close', 'reopen'] as const satisfies readonly ReviewAction[]) {
    routes.add({
      method: 'POST', url: `/api/v1/reviews/:id/${action}`, tag: 'oversight',
      // ReviewQueue.step holds to the same roles for any other caller.
      auth: { scope: 'approvals', roles: ['approver', 'auditor'], refusal: { operation: `review.${action}`, message: 'only approvers and auditors review', parameters: ({ params }) => ({ review: params.id }) } },
      summary: `${action} a review item (never one about oneself)${action === 'claim' ? '' : '; a note is required'}`,
      body: z.strictObject({ note: z.string().max(5000).optional() }),
      handler: async (req, _reply, { body, params, p }) => {
        const id = params.id;
        const ctx = overseer(req, p);
        await hiddenFrom(ctx, id, `review.${action}`, ctx);
        return iso(await s.reviews.step(ctx, id, action, body.note ?? null));
      },
    });
  }
}

// The period asked for: times as given, the defaults left to AuditorViews.period.
function period(query: { from?: string; to?: string }): { from?: number; to?: number } {
  return { from: query.from ? Date.parse(query.from) : undefined, to: query.to ? Date.parse(query.to) : undefined };
}

function iso<T extends { createdAt: number; updatedAt: number | null }>(i: T) {
  return { ...i, createdAt: new Date(i.createdAt).toISOString(), updatedAt: isoOf(i.updatedAt) };
}

function isoOf(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

async function safe<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch {
    return null;
  }
}
