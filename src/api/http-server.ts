import Fastify from 'fastify';
import type { Logger } from 'pino';
import { asSealboxError, SealboxError } from '../core/errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Stores } from '../store/open-stores.ts';

export interface HttpDeps {
  stores: Stores;
  ledger: Ledger;
  verifierKey: string;
  indexCursor: () => number;
  log: Logger;
}

// The HTTP API. Until governed access lands it serves no message content at all: only health
// and the ledger's public parts (checkpoint, verifier key), which witnesses and monitors need.
export function buildHttpServer(deps: HttpDeps) {
  const app = Fastify({ loggerInstance: deps.log.child({ component: 'http' }), bodyLimit: 1024 * 1024 });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    // Fastify's own 4xx (bad JSON, too large) keep their meaning; anything else is a fault.
    const e = err.statusCode && err.statusCode < 500 && !(err instanceof SealboxError)
      ? new SealboxError('SEALBOX_ERR_BAD_INPUT', err.message)
      : asSealboxError(err);
    if (e.statusCode >= 500) deps.log.error({ err }, 'http request failed');
    reply.status(e.statusCode).send({ error: { code: e.code, message: e.statusCode >= 500 ? 'internal error' : e.message } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'SEALBOX_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });

  app.get('/api/v1/health', async () => {
    const counts = deps.stores.meta.counts();
    const checkpoint = deps.stores.meta.latestCheckpoint();
    return {
      status: 'ok',
      captures: counts.captures,
      messages: counts.messages,
      ledger: { size: deps.ledger.size, checkpointSize: checkpoint?.size ?? null, checkpointAt: checkpoint ? new Date(checkpoint.createdAt).toISOString() : null },
      index: { lagCaptures: deps.stores.meta.lastCaptureRowId() - deps.indexCursor() },
    };
  });

  app.get('/api/v1/ledger/checkpoint', async (_req, reply) => {
    const checkpoint = deps.stores.meta.latestCheckpoint();
    if (!checkpoint) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no checkpoint has been signed yet');
    reply.type('text/plain; charset=utf-8');
    return checkpoint.note;
  });

  app.get('/api/v1/ledger/public-key', async (_req, reply) => {
    reply.type('text/plain; charset=utf-8');
    return deps.verifierKey + '\n';
  });

  return app;
}
