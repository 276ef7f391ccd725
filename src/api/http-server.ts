import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { asSealboxError, SealboxError } from '../core/errors.ts';
import { adminRoutes } from './admin-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { roleChangeRoutes, ssoLinkRoutes, ssoRoutes } from './sso-routes.ts';
import { contentRoutes } from './content-routes.ts';
import { ingestRoutes } from './ingest-routes.ts';
import { directoryRoutes } from './directory-routes.ts';
import { scimRoutes } from './scim-routes.ts';
import { ledgerRoutes } from './ledger-routes.ts';
import { disposalRoutes } from './disposal-routes.ts';
import { holdRoutes } from './hold-routes.ts';
import { leaverRoutes } from './leaver-routes.ts';
import { subjectRoutes } from './subject-routes.ts';
import { mailboxRoutes } from './mailbox-routes.ts';
import { recoveryRoutes } from './recovery-routes.ts';
import { inboxRoutes } from './inbox-routes.ts';
import { noticeRoutes } from './notice-routes.ts';
import type { IngestDeps } from './ingest-routes.ts';
import type { SystemListener } from './admin-routes.ts';
import { oversightRoutes } from './oversight-routes.ts';
import { requestRoutes } from './request-routes.ts';
import { retentionRoutes } from './retention-routes.ts';
import { transparencyRoutes } from './transparency-routes.ts';
import { RateLimiter } from './rate-limit.ts';
import { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { webApp } from './web-app.ts';
import { exportRoutes } from './export-routes.ts';
import type { ExportJobs } from '../export/export-jobs.ts';

export interface HttpDeps {
  services: Services;
  verifierKey: string;
  log: Logger;
  capture?: IngestDeps;   // POST /api/v1/ingest, where the archive writer runs (serve)
  listeners?: SystemListener[];   // what serve listens on, for the admins' health view
  exports?: ExportJobs;           // export jobs (serve runs them)
}

// The HTTP API. Message content is served only through the access-decision point (owner
// self-access or an active grant), each read recorded in the ledger; the ledger's public parts
// (checkpoints, proofs, verifier key) are open, as witnesses and monitors need them.
export function buildHttpServer(deps: HttpDeps) {
  const { services } = deps;
  const app = Fastify({ loggerInstance: deps.log.child({ component: 'http' }) as unknown as FastifyBaseLogger, bodyLimit: 1024 * 1024, trustProxy: false });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('x-frame-options')) reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    // The web app's pages and assets set their own (src/api/web-app.ts); the API keeps these.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  });
  // The limits as the policy was at most RECENT_POLICY_MS ago (src/access/policy.ts), whichever
  // node changed it.
  const limiter = new RateLimiter(() => services.clock.now(), async () => {
    const policy = await services.policy.recent();
    return { signin: policy.signinPerMinute, api: policy.requestsPerMinute };
  }, services.stores.meta.countRequest?.bind(services.stores.meta) ?? null);
  app.addHook('onRequest', async (req) => limiter.check(req));
  const routes = new RouteTable(app, services);
  authRoutes(routes, services);
  ssoRoutes(routes, services);
  ssoLinkRoutes(routes, services);
  roleChangeRoutes(routes, services);
  requestRoutes(routes, services);
  contentRoutes(routes, services, deps.verifierKey);
  if (deps.exports) exportRoutes(routes, services, deps.exports);
  transparencyRoutes(routes, services);
  ledgerRoutes(routes, services, deps.verifierKey);
  disposalRoutes(routes, services, deps.verifierKey);
  holdRoutes(routes, services);
  subjectRoutes(routes, services);
  leaverRoutes(routes, services);
  adminRoutes(routes, services, deps.listeners ?? [], deps.capture?.space);
  mailboxRoutes(routes, services);
  directoryRoutes(routes, services);
  scimRoutes(app, routes, services);
  retentionRoutes(routes, services);
  recoveryRoutes(routes, services);
  noticeRoutes(routes, services);
  inboxRoutes(routes, services);
  oversightRoutes(routes, services);
  if (deps.capture) ingestRoutes(app, routes, services, deps.capture);
  app.get('/api/openapi.json', async () => routes.openApi());
  webApp(app);

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    // Fastify's own 4xx (bad JSON, too large) keep their meaning; anything else is a fault.
    const e = err.statusCode && err.statusCode < 500 && !(err instanceof SealboxError)
      ? new SealboxError('SEALBOX_ERR_BAD_INPUT', err.message)
      : asSealboxError(err);
    if (e.statusCode >= 500) deps.log.error({ err }, 'http request failed');
    reply.status(e.statusCode).send({ error: { code: e.code, message: e.statusCode >= 500 ? 'internal error' : e.message, ...(e.fields && e.statusCode < 500 ? { fields: e.fields } : {}) } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'SEALBOX_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });

  return app;
}
