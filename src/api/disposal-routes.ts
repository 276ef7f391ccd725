import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { DisposalRequest } from '../retention/disposal-request-store.ts';
import type { DisposalPlan } from '../retention/disposal.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

// ISO 8601 date or time.
const time = z.string().max(40).refine((v) => Number.isFinite(Date.parse(v)), { message: 'not an ISO 8601 date or time' });
const certificateQuery = z.strictObject({ since: time.optional(), until: time.optional() });
const requestBody = z.strictObject({ sha256s: z.array(z.string().regex(/^[0-9a-fA-F]{64}$/, "not a message's sha256 (64 hex digits)")).min(1).max(10_000), reason: z.string().min(1).max(2000) });
const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000) });

// How many dispose entries the list shows; the certificate has them all.
const RECENT = 50;
// How many messages of each kind the preview looks at: it runs on every visit of the Retention
// page, and messages a hold keeps past their retention pile up for as long as it lasts.
const PREVIEW = 1000;

// What retention destroyed, for those who must prove it (auditors); and destroying mail before
// its retention ends, which one admin asks for and an approver who is not them decides.
export function disposalRoutes(routes: RouteTable, s: Services, verifierKey: string): void {
  const admin = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });

  routes.add({
    method: 'GET', url: '/api/v1/disposal-requests', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'disposal.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see disposal requests' } },
    summary: 'requests to destroy messages before their retention ends, newest first, with their decisions and outcomes',
    handler: async () => s.db.read(async (tx) => ({ requests: (await s.disposalRequests.list(tx)).map(requestView) })),
  });

  routes.add({
    method: 'POST', url: '/api/v1/disposal-requests', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'disposal.file', reason: 'not a records manager or admin', message: 'only records managers and admins ask for mail to be destroyed early' } },
    summary: 'ask for messages (sha256s) to be destroyed before their retention ends, with a reason (admins): filed for an approver who is not the filer nor linked to them; what a legal hold covers stays even then',
    body: requestBody,
    handler: async (req, _reply, { body, p }) => requestView(await s.audit.record(admin(req, p), (r: DisposalRequest) => ({ operation: 'disposal.file', messages: r.sha256s, parameters: { request: r.id, reason: r.reason } }),
      (tx) => s.disposalRequests.file(tx, { user: p.user, label: `user:${p.user.name}` }, body))),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/disposal-requests/:id/${decision}`, tag: 'retention',
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `disposal.${decision}`, message: 'only approvers decide on early disposal', parameters: ({ params }) => ({ request: params.id }) } },
      summary: `${decision} an early disposal, with a reason (approvers; never the one who asked, nor anyone linked to them)${decision === 'approve' ? ': carried out at once and answered with what was destroyed and what a hold kept' : ''}`,
      body: reasonBody,
      handler: async (req, _reply, { body, params, p }) => {
        const parameters = { request: params.id, reason: body.reason };
        // An approval whose carrying out was cut short is carried out when approved again (its dispose entry records it).
        const cut = decision === 'approve' ? await s.db.read((tx) => s.disposalRequests.get(tx, params.id)) : null;
        const r = cut?.decision === 'approve' && cut.executedAt === null ? cut : await s.audit.recordOrRefuse(admin(req, p), { operation: `disposal.${decision}`, parameters }, { operation: `disposal.${decision}`, parameters },
          (tx) => s.disposalRequests.decide(tx, p.user, params.id, decision, body.reason));
        if (decision === 'deny') return requestView(r);
        return { ...requestView(r), outcome: await s.disposalRequests.execute(admin(req, p), params.id) };
      },
    });
  }

  routes.add({
    method: 'GET', url: '/api/v1/disposals', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'disposal.runs', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see disposal runs' } },
    summary: `the latest ${RECENT} dispose entries of the ledger, newest first (index, time, actor — system:retention on its schedule —, policy, number of messages: retention's runs, early disposals and erasures), and what a run now would do (\`next\`: the messages due by policy, those legal holds keep by hold, leavers due, leavers' mail a retention rule's minimum keeps, mail not indexed yet; \`complete\` false when it looked at only the first ${PREVIEW} of a kind), with retention.disposeEveryHours`,
    handler: async () => {
      const [recent, plan] = await Promise.all([s.disposal.recent(RECENT), s.disposal.plan(PREVIEW)]);
      return {
        disposeEveryHours: s.config.retention.disposeEveryHours,
        recent: recent.map((r) => ({ ...r, time: new Date(r.time).toISOString() })),
        next: { ...await planView(s, plan), complete: plan.due.length + plan.held.length + plan.keptByRule.length + plan.unindexed.length < PREVIEW },
      };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/disposals/run', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'disposal.run', reason: 'not a records manager or admin', message: 'only records managers and admins run disposal' } },
    summary: "dispose now of what retention lets go, as it does every retention.disposeEveryHours (records managers, admins): only mail past its retention or a due leaver's, never what a legal hold covers; its dispose entries name the caller as their actor. Answered with what the run saw (`heldUpTo`: expired mail up to then an earlier run found held, under the same holds and custodians' addresses, and was not read again) and the entries it wrote; 409 if a hold or a leaving date changed while it decided (nothing disposed: run again)",
    handler: async (req, _reply, { p }) => {
      const { plan, outcomes } = await s.disposal.run(admin(req, p));
      return {
        ran: await planView(s, plan),
        entries: outcomes.filter((o) => o.ledgerIndex !== null).map((o) => ({ index: o.ledgerIndex, messages: o.disposed.length })),
        // Their keys are destroyed; the next run erases their bytes.
        notErasedYet: outcomes.reduce((n, o) => n + o.failed.length, 0),
      };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/disposals/certificate', tag: 'retention', query: certificateQuery,
    auth: { scope: 'ledger', roles: ['auditor', 'records'], refusal: { operation: 'disposal.certificate', reason: 'not an auditor or records manager', message: 'only auditors and records managers download disposal certificates' } },
    summary: 'the disposal certificate for a period (since/until, ISO 8601; default: all): every dispose entry with its exact leaf, payload and inclusion proof in the latest signed checkpoint, and the messages they name; check it offline with scripts/verify-disposal-certificate.mjs. 409 until a checkpoint covers the last entry; handing it out is itself an entry',
    handler: async (req, reply, { query, p }) => {
      const period = { since: query.since === undefined ? undefined : Date.parse(query.since), until: query.until === undefined ? undefined : Date.parse(query.until) };
      const certificate = await s.disposal.certificate({ ...actorContext(req, p), user: p.user, logonType: 'admin' }, period, { origin: s.config.ledger.origin, verifierKey });
      reply.header('content-disposition', `attachment; filename="sealbox-disposal-certificate-${certificate.issuedAt.replace(/[:.]/g, '-')}.json"`);
      return certificate;
    },
  });
}

function requestView(r: DisposalRequest) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id, sha256s: r.sha256s, reason: r.reason, filedBy: r.filedByLabel, filedAt: iso(r.filedAt),
    state: r.executedAt !== null ? 'carried out' : r.decision === 'approve' ? 'approved' : r.decision === 'deny' ? 'denied' : 'pending',
    decisionReason: r.decisionReason, decidedAt: iso(r.decidedAt), executedAt: iso(r.executedAt), outcome: r.outcome,
  };
}

// What a run decides, counted (no message content; the holds by id and name): the messages due by
// policy (one dispose entry each), those each hold keeps (one several holds cover counts under
// each), the leavers due, the leavers' mail a rule's minimum keeps, the mail not indexed yet.
async function planView(s: Services, plan: DisposalPlan) {
  const names = new Map((await s.db.read((tx) => s.holds.holds(tx))).map((h) => [h.id, h.name]));
  const count = (keys: string[]) => [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())];
  return {
    at: new Date(plan.at).toISOString(),
    due: count(plan.due.map((d) => d.policy)).map(([policy, messages]) => ({ policy, messages })),
    held: count(plan.held.flatMap((h) => h.holds)).map(([hold, messages]) => ({ hold, name: names.get(hold) ?? null, messages })),
    heldMessages: plan.held.length,
    // A run: expired mail up to this retain-until was found held by an earlier run and not read again.
    heldUpTo: plan.heldUpTo === null ? null : new Date(plan.heldUpTo).toISOString(),
    leavers: plan.leavers.map(({ mailbox, left, disposeFrom }) => ({ mailbox, left, disposeFrom })),
    keptByRule: plan.keptByRule.length,
    unindexed: plan.unindexed.length,
  };
}
