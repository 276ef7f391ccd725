import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { CaptureWriter } from '../capture/capture-writer.ts';
import { outcomeFacts } from '../capture/capture-writer.ts';
import type { ClientPolicy } from '../capture/client-policy.ts';
import { ENVELOPE_ADDRESS } from '../capture/envelope.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { CaptureRecord, Envelope } from '../core/types.ts';
import type { DiskSpace } from '../store/disk-space.ts';
import type { Principal } from '../access/credentials.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

export interface IngestDeps {
  capture: CaptureWriter;
  clients: ClientPolicy;
  space: DiskSpace;
}

const MAIL_FROM_HEADER = 'x-sealbox-mail-from';
const RCPT_TO_HEADER = 'x-sealbox-rcpt-to';
// An address as an envelope carries it: no white space, brackets or commas (no quoted local parts).

// POST /api/v1/ingest: a raw message from a system that is not an MTA, with the envelope it
// knows. The body streams into the sealer as it arrives (never held whole), and 201 is answered
// only once the message, its capture and the capture's ledger entry are durable — the same commit
// as an SMTP 250. Who submitted it (user, token, client) is in the capture's provenance, so the
// ledger entry of the capture records it.
export function ingestRoutes(app: FastifyInstance, routes: RouteTable, s: Services, deps: IngestDeps): void {
  const { receiver } = s.config;
  app.addContentTypeParser('message/rfc822', (_req, payload, done) => done(null, payload));
  // An error answered before the body was read to its end (a refused caller, a bad envelope, a
  // message too large): Node reads and drops the rest of a declared length, so the client gets its
  // answer on a connection it can reuse; a body of unknown (chunked) or outsized length is cut off
  // instead: the connection is closed after the answer.
  app.addHook('onError', async (req, reply) => {
    if (req.routeOptions.url !== '/api/v1/ingest' || req.raw.complete) return;
    const declared = Number(req.headers['content-length']);
    if (!(declared <= 2 * receiver.maxMessageBytes)) reply.header('connection', 'close');
  });

  routes.add({
    method: 'POST', url: '/api/v1/ingest', tag: 'capture', auth: { scope: 'ingest' }, status: 201,
    summary: 'archive one raw message (API token with the "ingest" scope, held by an admin); answers {sha256, captureId, duplicate} once it is durable (and `original` for an Exchange journal report from a receiver.journalClients address, unwrapped)',
    rawBody: { contentType: 'message/rfc822', description: `the message exactly as it is to be archived, at most receiver.maxMessageBytes (${receiver.maxMessageBytes}) bytes` },
    headers: [
      { name: 'x-sealbox-mail-from', description: 'envelope sender (MAIL FROM); empty or <> for the null sender' },
      { name: 'x-sealbox-rcpt-to', description: 'an envelope recipient (RCPT TO); repeat the header, or separate addresses with commas' },
    ],
    query: z.strictObject({
      mailFrom: z.string().optional().describe('envelope sender, instead of the x-sealbox-mail-from header'),
      rcptTo: z.union([z.string(), z.array(z.string())]).optional().describe('envelope recipient, repeated; instead of x-sealbox-rcpt-to headers'),
    }),
    handler: async (req, reply, { query, p }) => ingest(req, reply, p, query),
  });

  async function ingest(req: FastifyRequest, reply: FastifyReply, p: Principal, query: { mailFrom?: string; rcptTo?: string | string[] }) {
    const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
    if (p.via !== 'token') throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'messages are submitted with an API token that has the "ingest" scope, not from a session');
    if (!p.user.roles.includes('admin')) {
      await s.audit.denied(ctx, { operation: 'capture.ingest' }, 'the token holder is no longer an admin');
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'ingest tokens work only while their holder is an admin');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'message/rfc822') throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the body must be the raw message with content-type message/rfc822, not "${type || 'none'}"`);
    const declared = Number(req.headers['content-length']);
    if (declared > receiver.maxMessageBytes) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE', `message of ${declared} bytes exceeds receiver.maxMessageBytes (${receiver.maxMessageBytes})`);
    const envelope = envelopeOf(req, query, s.config.receiver);
    if (deps.space.refusing) throw new SealboxError('SEALBOX_ERR_INSUFFICIENT_STORAGE');
    const body = req.body as Readable | undefined;

    const receivedAt = s.clock.now();
    const sealer = deps.capture.begin({ journal: { refusal: deps.clients.journalRefusal(req.ip) } });
    try {
      // Not destroyed when the loop stops early: Node then reads and drops the rest, so the client gets the answer.
      if (body) for await (const chunk of body.iterator({ destroyOnReturn: false })) await sealer.write(chunk as Buffer);
      if (!req.raw.complete) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the request body ended early');
    } catch (err) {
      await sealer.discard();
      if (err instanceof SealboxError) throw err;
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the request body could not be read: ${(err as Error).message}`);
    }
    if (sealer.size === 0) {
      await sealer.discard();
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the message is empty');
    }
    const capture: CaptureRecord = {
      id: newId('cap', receivedAt), source: 'api', receivedAt,
      envelope: envelope && {
        ...envelope, mailFromArgs: {}, clientAddress: null, clientPort: null, clientHelo: null, clientName: null, authUser: null, queueId: null,
        protocol: 'HTTP', tls: null, transport: { address: req.ip, port: req.socket.remotePort ?? 0, helo: null }, xforward: {},
      },
      provenance: { api: { user: p.user.name, tokenId: p.sessionId, clientIp: ctx.clientIp, userAgent: ctx.userAgent } },
    };
    const outcome = await sealer.commit(capture);
    const { result, original } = outcome;
    req.log.info({ ...outcomeFacts(outcome), size: sealer.size }, 'captured');
    reply.status(201);
    return { sha256: result.sha256, captureId: result.captureId, duplicate: result.duplicate, ...(original ? { original: { sha256: original.sha256, captureId: original.captureId, duplicate: original.duplicate } } : {}) };
  }
}

// The envelope from the x-sealbox-* headers or from the query (not both); null when neither gives one.
function envelopeOf(req: FastifyRequest, query: { mailFrom?: string; rcptTo?: string | string[] }, rc: Services['config']['receiver']): Pick<Envelope, 'mailFrom' | 'rcptTo'> | null {
  const headers = req.raw.headersDistinct;
  const fromHeaders = headers[MAIL_FROM_HEADER];
  const rcptHeaders = headers[RCPT_TO_HEADER];
  const inHeaders = fromHeaders !== undefined || rcptHeaders !== undefined;
  const inQuery = query.mailFrom !== undefined || query.rcptTo !== undefined;
  if (inHeaders && inQuery) throw new SealboxError('SEALBOX_ERR_BAD_ENVELOPE', 'give the envelope in x-sealbox-* headers or in the query, not both');
  if (!inHeaders && !inQuery) return null;
  const from = inHeaders ? fromHeaders : query.mailFrom === undefined ? undefined : [query.mailFrom];
  if (from && from.length > 1) throw new SealboxError('SEALBOX_ERR_BAD_ENVELOPE', 'more than one envelope sender');
  const rcpt = (inHeaders ? rcptHeaders ?? [] : [query.rcptTo ?? []].flat())
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (rcpt.length > rc.maxRecipients) throw new SealboxError('SEALBOX_ERR_TOO_MANY_RECIPIENTS', `more than ${rc.maxRecipients} recipients (receiver.maxRecipients)`);
  const domains = new Set(rc.recipientDomains.map((d) => d.toLowerCase()));
  const rcptTo = rcpt.map((value) => {
    const address = bare(value, 'recipient');
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    if (domains.size > 0 && !domains.has(domain)) throw new SealboxError('SEALBOX_ERR_RECIPIENT_DOMAIN', `recipient domain ${domain} is not archived here`);
    return { address, args: {} };
  });
  const sender = from?.[0].trim();
  return { mailFrom: sender === undefined ? null : sender === '' || sender === '<>' ? '' : bare(sender, 'sender'), rcptTo };
}

function bare(value: string, what: string): string {
  const address = value.startsWith('<') && value.endsWith('>') ? value.slice(1, -1) : value;
  if (!ENVELOPE_ADDRESS.test(address)) throw new SealboxError('SEALBOX_ERR_BAD_ENVELOPE', `envelope ${what} "${value.slice(0, 100)}" is not an address`);
  return address;
}
