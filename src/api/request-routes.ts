import type { LedgerOperation } from '../core/ledger-operations.ts';
import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import type { FastifyRequest } from 'fastify';
import type { AccessRequest, NewRequest } from '../access/grants.ts';
import { approvalsGiven, MAX_REQUEST_QUERY, PERMISSIONS, stateOf } from '../access/grants.ts';
import type { Principal, TokenScope } from '../access/credentials.ts';
import type { Tx } from '../core/transactions.ts';
import type { User } from '../access/people.ts';
import { mayKnowOfRequest } from '../access/request-visibility.ts';
import { sealedFor, subjectAccessRequest } from '../access/subject-access.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const newRequest = z.strictObject({
  purpose: z.string().min(1),
  justification: z.string().min(1).max(5000),
  ticket: z.string().max(200).nullable().optional(),
  mailboxes: z.array(z.string().min(1)).min(1).max(100),
  dateFrom: z.string().nullable().optional(),
  dateTo: z.string().nullable().optional(),
  query: z.string().max(MAX_REQUEST_QUERY).nullable().optional(),
  permissions: z.array(z.enum(PERMISSIONS)).min(1),
  durationHours: z.number().positive(),
  startsAt: z.string().nullable().optional(),
  extends: z.string().max(100).nullable().optional(),   // the grant this request extends (same scope, more time)
});

const subjectAccess = z.strictObject({
  addresses: z.array(z.string().min(3).max(320)).min(1).max(20),
  reference: z.string().min(1).max(200),
  justification: z.string().min(1).max(5000),
  durationHours: z.number().positive(),
});

export function requestRoutes(routes: RouteTable, s: Services): void {
  // A request as `p` sees it: with what they may do about it now (the verdicts the routes below
  // enforce, so the web app offers only what the API would do) and, while it waits, how close it
  // is to its approvals and whether enough people are left to give them. Only approvers,
  // auditors and admins see how many could still approve (a requester is told only that too few
  // can); a request a caller may not know of never reaches here.
  const viewFor = (tx: Tx, p: Principal) => {
    let everyone: User[] | null = null;
    let names: Map<number, string> | null = null;
    const staff = p.user.roles.some((role) => role === 'approver' || role === 'auditor' || role === 'admin');
    const scoped = (scope: TokenScope) => p.scopes === null || p.scopes.includes(scope);
    return async (r: AccessRequest) => {
      everyone ??= await s.people.list(tx);
      const known = (names ??= new Map(everyone.map((u) => [u.id, u.name])));
      const name = (id: number) => known.get(id) ?? `#${id}`;
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      const state = stateOf(r, s.clock.now());
      const given = approvalsGiven(r);
      const sealed = sealedFor(p.user, r);
      // Sealed, who is left to approve is counted as if it named no mailbox (its owners cannot
      // approve it, which would say whose mail it found).
      const left = state === 'pending' ? await s.grants.approversLeft(tx, sealed ? { ...r, mailboxes: [] } : r, everyone) : null;
      const mine = r.approvals.find((a) => a.approverId === p.user.id);
      const cannotDecide = scoped('approvals') ? (await s.grants.decisionRefusal(tx, p.user, r))?.message ?? null : 'this API token lacks the "approvals" scope';
      return {
        id: r.id, state, requester: name(r.requesterId), purpose: r.purpose, justification: r.justification, ticket: r.ticket,
        mailboxes: sealed ? [] : r.mailboxes.map((m) => m.name), sealed, dateFrom: iso(r.dateFrom), dateTo: iso(r.dateTo), query: r.fixedQuery, permissions: r.permissions,
        durationHours: r.durationSeconds / 3600, approvalsNeeded: r.approvalsNeeded, breakglass: r.breakglass, createdAt: iso(r.createdAt),
        lapsesAt: iso(r.lapsesAt), startsAt: iso(r.startsAt), endsAt: iso(r.endsAt), revokedAt: iso(r.revokedAt), extends: r.extends,
        approvals: r.approvals.map((a) => ({ approver: name(a.approverId), decision: a.decision, reason: a.reason, at: iso(a.at) })),
        approvalsGiven: given,
        tooFewApprovers: left !== null && left < r.approvalsNeeded - given,
        approversLeft: staff ? left : null,
        you: {
          decision: mine?.decision ?? null,
          mayDecide: cannotDecide === null,
          cannotDecide: mine ? null : cannotDecide,
          mayRevoke: scoped('requests') && s.grants.revokeRefusal(p.user, r) === null,
        },
      };
    };
  };
  // The request as the caller sees it, read after the change committed.
  const answer = (p: Principal, r: AccessRequest) => s.db.read((tx) => viewFor(tx, p)(r));
  const logon = (u: User) => (u.roles.includes('admin') ? 'admin' : 'owner') as 'admin' | 'owner';
  const event = (operation: LedgerOperation, r: AccessRequest, parameters: Record<string, unknown> = {}) =>
    ({ operation, mailboxes: r.mailboxes, grantId: r.id, parameters: {
      // The scope and the window in force, so the ledger alone can rebuild who could read what when.
      state: stateOf(r, s.clock.now()), permissions: r.permissions, dateFrom: r.dateFrom, dateTo: r.dateTo, startsAt: r.startsAt, endsAt: r.endsAt,
      ...(r.extends ? { extends: r.extends } : {}), ...parameters,
    } });
  // Filed though too few people could ever approve it: the requester is told in the answer and
  // the ledger keeps it, so oversight can see requests that could only lapse.
  const shortOfApprovers = async (tx: Tx, r: AccessRequest) => {
    const left = await s.grants.approversLeft(tx, r, await s.people.list(tx));
    return left < r.approvalsNeeded ? { approversLeft: left } : {};
  };
  // A refusal (not one's role, not one's request, not in that state) is evidence too; bad input
  // is not an attempt on anything and is only answered.
  // A request one may not know of (the subject of it; a covert one for an admin) answers exactly
  // like a missing one, on every route.
  const known = async (tx: Tx, user: User, id: string): Promise<AccessRequest> => {
    const r = await s.grants.get(tx, id);
    const policies = await s.notifier.policies(tx, r.mailboxes.map((m) => m.id));
    if (!mayKnowOfRequest(user, r, (m) => policies.get(m)!)) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${id}`);
    return r;
  };
  const refusing = async <T>(ctx: Parameters<typeof s.audit.denied>[0], operation: LedgerOperation, grantId: string | null, work: () => Promise<T>, parameters: () => Record<string, unknown> = () => ({})): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof SealboxError && ['SEALBOX_ERR_FORBIDDEN', 'SEALBOX_ERR_NOT_FOUND', 'SEALBOX_ERR_CONFLICT'].includes(err.code)) {
        await s.audit.denied(ctx, { operation, grantId, parameters: parameters() }, err.message);
      }
      throw err;
    }
  };
  // Files a request as p asks and tells the approvers, as one `request.file` entry; `terms` finds
  // what is asked for (a data subject's request searches for it), and `parameters` is what the
  // entry, or the refusal's, is to say besides.
  const file = async (req: FastifyRequest, p: Principal, terms: () => Promise<NewRequest>, parameters: () => Record<string, unknown> = () => ({}), options: { sealed?: boolean } = {}) => {
    const ctx = { ...actorContext(req, p), user: p.user, logonType: logon(p.user) };
    let short = {};
    const r = await refusing(ctx, 'request.file', null, async () => {
      const input = await terms();
      return s.audit.record(ctx, (r: AccessRequest) => event('request.file', r, { purpose: r.purpose, ticket: r.ticket, permissions: r.permissions, durationHours: r.durationSeconds / 3600, ...short, ...parameters() }), async (tx) => {
        const r = await s.grants.file(tx, p.user, input, options);
        short = await shortOfApprovers(tx, r);
        await s.notifier.requestFiled(tx, r, p.user);
        return r;
      });
    }, parameters);
    return answer(p, r);
  };

  routes.add({
    method: 'POST', url: '/api/v1/requests', tag: 'requests', body: newRequest,
    // Grants.file holds to the same role for any other caller.
    auth: { scope: 'requests', roles: ['requester'], refusal: { operation: 'request.file', logonType: logon, message: 'only users with the requester role can file access requests' } },
    summary: 'file an access request: purpose, justification, ticket, scope (mailboxes, dates, fixed query), permissions, duration; filed even when too few people could approve it, with `tooFewApprovers` in the answer',
    handler: async (req, _reply, { body, p }) => file(req, p, async () => body),
  });

  routes.add({
    method: 'POST', url: '/api/v1/subject-requests/access', tag: 'requests', body: subjectAccess,
    auth: { scope: 'requests', roles: ['requester'], refusal: { operation: 'request.file', logonType: logon, message: 'only users with the requester role can file access requests' } },
    summary: "file a data subject's access request (GDPR Art. 15): the person's addresses, a reference (the ticket), a justification, a duration. An access request like any other (purpose `subject-access-request`, permissions search, read and export), approved by someone else and exported under its grant (`GET /api/v1/export?q=<its query>&grant=<its id>`): its mailboxes are those holding mail in which one of the addresses takes part, its fixed query that mail exactly (any role, Bcc by envelope included). Filed the same whether or not any mailbox holds such mail: until it is approved its filer sees it `sealed` (no mailboxes; it needs as many approvals as the most sensitive mailbox would), and learns what there is from the export. The `request.file` entry counts what the search for the person found",
    handler: async (req, _reply, { body, p }) => {
      let found = {};
      return file(req, p, () => subjectAccessRequest(s, p.user, body, (f) => { found = f; }), () => ({ subjectAccess: found }), { sealed: true });
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/breakglass', tag: 'requests', body: newRequest,
    auth: { scope: 'requests', roles: ['breakglass'], refusal: { operation: 'breakglass.open', logonType: 'breakglass', message: 'only users with the breakglass role can open a break-glass grant' } },
    summary: 'open an emergency grant alone (at most an hour); approvers and auditors are alerted and a review is required',
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'breakglass' as const };
      const r = await refusing(ctx, 'breakglass.open', null, () => s.audit.record(ctx, (r: AccessRequest) => event('breakglass.open', r, { purpose: r.purpose, justification: r.justification }), async (tx) => {
        const r = await s.grants.file(tx, p.user, body, { breakglass: true });
        await s.notifier.breakglass(tx, r, p.user);
        return r;
      }));
      return answer(p, r);
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/requests', tag: 'requests', auth: { scope: 'requests' },
    summary: 'my requests; approvers, auditors and admins see the others (no message content), never those on their own mailboxes, and admins none under a `none` notification policy',
    query: z.strictObject({ state: z.string().optional() }),
    handler: async (_req, _reply, { query, p }) => {
      const all = p.user.roles.some((r) => r === 'approver' || r === 'auditor' || r === 'admin');
      const list = await s.db.read(async (tx) => {
        const view = viewFor(tx, p);
        const views = [];
        for (const r of await s.grants.list(tx, all ? {} : { requesterId: p.user.id })) {
          const policies = await s.notifier.policies(tx, r.mailboxes.map((m) => m.id));
          if (mayKnowOfRequest(p.user, r, (m) => policies.get(m)!)) views.push(await view(r));
        }
        return views;
      });
      return { requests: query.state ? list.filter((r) => r.state === query.state) : list };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/requests/:id', tag: 'requests', auth: { scope: 'requests' }, summary: 'one request with its approvals and state, how many approvals it has of those it needs, whether too few people are left to approve it, and what the caller may do about it (`you`: their decision, mayDecide and why not, mayRevoke)',
    handler: async (req, _reply, { params, p }) => {
      const id = params.id;
      // Someone else's request looks exactly like a missing one, and asking is recorded.
      return refusing({ ...actorContext(req, p), user: p.user, logonType: logon(p.user) }, 'request.read', id,
        () => s.db.read(async (tx) => viewFor(tx, p)(await known(tx, p.user, id))));
    },
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/requests/:id/${decision}`, tag: 'requests',
      // No roles here: a request one may not know of answers 404 whatever one's roles (known()
      // decides first); Grants.decide then admits approvers only.
      auth: { scope: 'approvals' },
      summary: `${decision} a pending request, with a reason (never one's own, nor one on one's own mailbox)`,
      body: z.strictObject({ reason: z.string().min(1).max(5000) }),
      handler: async (req, _reply, { body, params, p }) => {
        const id = params.id;
        const ctx = { ...actorContext(req, p), user: p.user, logonType: logon(p.user) };
        try {
          return await answer(p, await s.audit.record(ctx, (r: AccessRequest) => event(`request.${decision}`, r, { reason: body.reason }), async (tx) => {
            await known(tx, p.user, id);
            const r = await s.grants.decide(tx, p.user, id, decision, body.reason);
            if (r.deniedAt !== null || r.approvedAt !== null) await s.notifier.decided(tx, r, (await s.people.byId(tx, r.requesterId))!, decision, p.user, body.reason);
            return r;
          }));
        } catch (err) {
          if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await s.audit.denied(ctx, { operation: `request.${decision}`, grantId: id }, err.message);
          throw err;
        }
      },
    });
  }

  routes.add({
    method: 'POST', url: '/api/v1/requests/:id/revoke', tag: 'requests', auth: { scope: 'requests' },
    summary: 'end a grant at once ("I am done", or an approver/admin stopping it)',
    body: z.strictObject({ reason: z.string().max(5000).optional() }),
    handler: async (req, _reply, { body, params, p }) => {
      const id = params.id;
      const ctx = { ...actorContext(req, p), user: p.user, logonType: logon(p.user) };
      return answer(p, await refusing(ctx, 'request.revoke', id, () => s.audit.record(ctx, (r: AccessRequest) => event('request.revoke', r, { reason: body.reason ?? null }), async (tx) => {
        await known(tx, p.user, id);
        return s.grants.revoke(tx, p.user, id);
      })));
    },
  });
}
