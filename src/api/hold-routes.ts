import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { Hold, HoldRelease } from '../retention/hold-store.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

const date = z.string().max(40).refine((v) => Number.isFinite(Date.parse(v)), { message: 'not an ISO 8601 date or time' });
const holdBody = z.strictObject({
  name: z.string().min(1).max(200),
  matter: z.string().min(1).max(200),
  custodians: z.array(z.string().min(1).max(320)).min(1).max(1000),
  dateFrom: date.nullable().optional(),
  dateTo: date.nullable().optional(),
  query: z.string().max(2000).nullable().optional(),
});
const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000) });

// Legal holds (cases): placed by admins at once, released only when an approver who did not ask
// for it agrees, acknowledged by the custodians' owners.
export function holdRoutes(routes: RouteTable, s: Services): void {
  const admin = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });
  // A refusal the work itself decides (a rule of four eyes, a hold already released) is recorded too.
  const recorded = <T>(req: FastifyRequest, p: Principal, operation: LedgerOperation, parameters: Record<string, unknown>, work: (tx: Tx) => Promise<T>, event?: (r: T) => Record<string, unknown>): Promise<T> =>
    s.audit.recordOrRefuse(admin(req, p), { operation, parameters }, (r: T) => ({ operation, parameters: { ...parameters, ...event?.(r) } }), work);

  routes.add({
    method: 'GET', url: '/api/v1/holds', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'hold.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see legal holds' } },
    summary: 'legal holds, newest first, each with its custodians, window, saved query, state, releases asked for and decided, and which custodians acknowledged their notice (admins, approvers, auditors)',
    handler: async () => s.db.read(async (tx) => {
      const out = [];
      for (const h of await s.holds.holds(tx)) out.push(holdView(h, await s.holds.releases(tx, h.id), await s.holds.notices(tx, h.id)));
      return { holds: out };
    }),
  });

  routes.add({
    method: 'GET', url: '/api/v1/holds/mine', tag: 'retention', auth: { scope: 'content' },
    summary: "the legal holds on my mailboxes, newest first: name, matter, my mailboxes among its custodians (not anyone else's), window, saved query, state, when I was told and whether I acknowledged it (`notified`: false when my mailbox became mine after the notice went out, so there is nothing to acknowledge)",
    handler: async (_req, _reply, { p }) => s.db.read(async (tx) => ({
      holds: (await s.holds.mine(tx, p.user)).map(({ hold: h, mailboxes, notifiedAt, acknowledgedAt }) => ({
        id: h.id, name: h.name, matter: h.matter, mailboxes, dateFrom: iso(h.dateFrom), dateTo: iso(h.dateTo), query: h.query,
        state: h.releasedAt === null ? 'on' : 'released', placedAt: iso(h.placedAt), releasedAt: iso(h.releasedAt),
        notified: notifiedAt !== null, notifiedAt: iso(notifiedAt), acknowledgedAt: iso(acknowledgedAt),
      })),
    })),
  });

  routes.add({
    method: 'POST', url: '/api/v1/holds', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'hold.place', reason: 'not a records manager or admin', message: 'only records managers and admins place legal holds' } },
    summary: "place a legal hold (admins): its custodians' mail in the window (dateFrom inclusive, dateTo exclusive, ISO 8601), matching the query if one is given, is kept from disposal until a release is approved; applies at once; each custodian mailbox's owner is told",
    body: holdBody,
    handler: async (req, _reply, { body, p }) => {
      const input = { ...body, dateFrom: body.dateFrom ? Date.parse(body.dateFrom) : null, dateTo: body.dateTo ? Date.parse(body.dateTo) : null };
      const h = await recorded<Hold>(req, p, 'hold.place', { name: body.name, matter: body.matter }, (tx) => s.holds.place(tx, { user: p.user, label: `user:${p.user.name}` }, input),
        (h) => ({ hold: h.id, custodians: h.custodians.map((c) => c.name), dateFrom: h.dateFrom, dateTo: h.dateTo, query: h.query }));
      return holdView(h, [], []);
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/holds/:id/release', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'hold.release.file', reason: 'not a records manager or admin', message: 'only records managers and admins ask for a legal hold to be released', parameters: ({ params }) => ({ hold: params.id }) } },
    summary: 'ask for a legal hold to be released, with a reason (admins): filed for an approver who did not ask for it and is not linked to the one who did',
    body: reasonBody,
    handler: async (req, _reply, { body, params, p }) => releaseView(await recorded<HoldRelease>(req, p, 'hold.release.file', { hold: params.id, reason: body.reason },
      (tx) => s.holds.fileRelease(tx, { user: p.user, label: `user:${p.user.name}` }, params.id, body.reason), (r) => ({ release: r.id }))),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/holds/releases/:id/${decision}`, tag: 'retention',
      // LegalHolds.decideRelease holds to the same role for any other caller.
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `hold.release.${decision}`, message: 'only approvers decide on releasing a legal hold', parameters: ({ params }) => ({ release: params.id }) } },
      summary: `${decision} the release of a legal hold, with a reason (approvers; never the one who asked, nor anyone linked to them)${decision === 'approve' ? ': the hold ends, and its mail follows retention again' : ''}`,
      body: reasonBody,
      handler: async (req, _reply, { body, params, p }) => releaseView(await recorded<HoldRelease>(req, p, `hold.release.${decision}`, { release: params.id, reason: body.reason },
        (tx) => s.holds.decideRelease(tx, p.user, params.id, decision, body.reason), (r) => ({ hold: r.holdId, filedBy: r.filedByLabel }))),
    });
  }

  routes.add({
    method: 'POST', url: '/api/v1/holds/:id/acknowledge', tag: 'retention',
    auth: { scope: 'content' },
    summary: "acknowledge a legal hold's notice to you (the owner of a custodian mailbox)",
    handler: async (req, _reply, { params, p }) => {
      await recorded<void>(req, p, 'hold.acknowledge', { hold: params.id }, (tx) => s.holds.acknowledge(tx, p.user, params.id));
      return { acknowledged: true };
    },
  });
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

function releaseView(r: HoldRelease) {
  return {
    id: r.id, hold: r.holdId, reason: r.reason, filedBy: r.filedByLabel, filedAt: iso(r.filedAt),
    state: r.decision === 'approve' ? 'approved' : r.decision === 'deny' ? 'denied' : 'pending', decisionReason: r.decisionReason, decidedAt: iso(r.decidedAt),
  };
}

function holdView(h: Hold, releases: HoldRelease[], notices: { mailboxId: number; owner: string; notifiedAt: number; acknowledgedAt: number | null }[]) {
  return {
    id: h.id, name: h.name, matter: h.matter, custodians: h.custodians.map((c) => c.name), dateFrom: iso(h.dateFrom), dateTo: iso(h.dateTo), query: h.query,
    state: h.releasedAt === null ? 'on' : 'released', placedBy: h.placedByLabel, placedAt: iso(h.placedAt), releasedAt: iso(h.releasedAt),
    releases: releases.map(releaseView),
    notices: notices.map((n) => ({ owner: n.owner, mailbox: h.custodians.find((c) => c.id === n.mailboxId)?.name ?? null, notifiedAt: iso(n.notifiedAt), acknowledgedAt: iso(n.acknowledgedAt) })),
  };
}
