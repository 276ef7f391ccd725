import { z } from 'zod';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// ISO 8601 date or time.
const time = z.string().max(40).refine((v) => Number.isFinite(Date.parse(v)), { message: 'not an ISO 8601 date or time' });
const certificateQuery = z.strictObject({ since: time.optional(), until: time.optional() });

// What retention destroyed, for those who must prove it (auditors).
export function disposalRoutes(routes: RouteTable, s: Services, verifierKey: string): void {
  routes.add({
    method: 'GET', url: '/api/v1/disposals/certificate', tag: 'retention', query: certificateQuery,
    auth: { scope: 'ledger', roles: ['auditor'], refusal: { operation: 'disposal.certificate', reason: 'not an auditor', message: 'only auditors may do this' } },
    summary: 'the disposal certificate for a period (since/until, ISO 8601; default: all): every dispose entry with its exact leaf, payload and inclusion proof in the latest signed checkpoint, and the messages they name; check it offline with scripts/verify-disposal-certificate.mjs. 409 until a checkpoint covers the last entry; handing it out is itself an entry',
    handler: async (req, reply, { query, p }) => {
      const period = { since: query.since === undefined ? undefined : Date.parse(query.since), until: query.until === undefined ? undefined : Date.parse(query.until) };
      const certificate = await s.disposal.certificate({ ...actorContext(req, p), user: p.user, logonType: 'admin' }, period, { origin: s.config.ledger.origin, verifierKey });
      reply.header('content-disposition', `attachment; filename="sealbox-disposal-certificate-${certificate.issuedAt.replace(/[:.]/g, '-')}.json"`);
      return certificate;
    },
  });
}
