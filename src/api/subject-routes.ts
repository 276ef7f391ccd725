import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { SubjectRequest } from '../retention/subject-store.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { RECORD_KEEPERS, RECORD_READERS } from '../access/roles.ts';

const fileBody = z.strictObject({
  kind: z.literal('erasure'),
  addresses: z.array(z.string().min(3).max(320)).min(1).max(100),
  reference: z.string().min(1).max(200),
  reason: z.string().min(1).max(2000),
});
const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000) });

// Data subjects' requests (GDPR Art. 17): filed by admins, decided by approvers who did not file
// them; an approval is carried out at once and answered with its certificate. No entry or
// notice names the person (ids, references and counts only).
export function subjectRoutes(routes: RouteTable, s: Services): void {
  const admin = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });
  const recorded = <T>(req: FastifyRequest, p: Principal, operation: LedgerOperation, parameters: Record<string, unknown>, work: (tx: Tx) => Promise<T>): Promise<T> =>
    s.audit.recordOrRefuse(admin(req, p), { operation, parameters }, { operation, parameters }, work);

  routes.add({
    method: 'GET', url: '/api/v1/subject-requests', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_READERS, refusal: { operation: 'subject.list', reason: 'not a records manager, admin, approver or auditor', message: 'only records managers, admins, approvers and auditors see data-subject requests' } },
    summary: 'data-subject erasure requests, newest first, with their decisions and, once carried out, their certificates (the addresses then only as hashes)',
    handler: async () => s.db.read(async (tx) => ({ requests: (await s.subjects.list(tx)).map(view) })),
  });

  routes.add({
    method: 'POST', url: '/api/v1/subject-requests', tag: 'retention',
    auth: { scope: 'admin', roles: RECORD_KEEPERS, refusal: { operation: 'subject.file', reason: 'not a records manager or admin', message: 'only records managers and admins file data-subject requests' } },
    summary: "file a data subject's erasure request (admins; GDPR Art. 17): the person's addresses, a reference and a reason; an approver who did not file it decides",
    body: fileBody,
    handler: async (req, _reply, { body, p }) => {
      const ctx = admin(req, p);
      const r = await s.audit.record(ctx, (r: SubjectRequest) => ({ operation: 'subject.file', parameters: { request: r.id, reference: r.reference, addresses: r.addresses.length } }),
        (tx) => s.subjects.file(tx, { user: p.user, label: `user:${p.user.name}` }, body));
      return view(r);
    },
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/subject-requests/:id/${decision}`, tag: 'retention',
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `subject.${decision}`, message: 'only approvers decide on data-subject requests', parameters: ({ params }) => ({ request: params.id }) } },
      summary: `${decision} an erasure request, with a reason (approvers; never the one who filed it, nor anyone linked to them)${decision === 'approve' ? ': carried out at once, answered with its certificate (what was disposed of and erased, what was kept and why)' : ''}`,
      body: reasonBody,
      handler: async (req, _reply, { body, params, p }) => {
        // An approval whose carrying out was cut short (a fault after the decision committed) is
        // carried out when an approver approves it again; the outcome's entries record it.
        const cut = decision === 'approve' ? await s.db.read((tx) => s.subjects.get(tx, params.id)) : null;
        const r = cut?.decision === 'approve' && cut.executedAt === null ? cut
          : await recorded(req, p, `subject.${decision}`, { request: params.id, reason: body.reason }, (tx) => s.subjects.decide(tx, p.user, params.id, decision, body.reason));
        if (decision === 'deny') return view(r);
        return { ...view(r), outcome: await s.subjects.execute(admin(req, p), params.id) };
      },
    });
  }
}

function view(r: SubjectRequest) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id, kind: r.kind, addresses: r.addresses, reference: r.reference, reason: r.reason, filedBy: r.filedByLabel, filedAt: iso(r.filedAt),
    state: r.executedAt !== null ? 'carried out' : r.decision === 'approve' ? 'approved' : r.decision === 'deny' ? 'denied' : 'pending',
    decisionReason: r.decisionReason, decidedAt: iso(r.decidedAt), executedAt: iso(r.executedAt), outcome: r.outcome,
  };
}
