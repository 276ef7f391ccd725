import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { DisposalRequest } from '../retention/disposal-request-store.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

// ISO 8601 date or time.
const time = z.string().max(40).refine((v) => Number.isFinite(Date.parse(v)), { message: 'not an ISO 8601 date or time' });
const certificateQuery = z.strictObject({ since: time.optional(), until: time.optional() });
const requestBody = z.strictObject({ sha256s: z.array(z.string().length(64)).min(1).max(10_000), reason: z.string().min(1).max(2000) });
const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000) });

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
