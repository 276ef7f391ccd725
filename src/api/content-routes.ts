import { z } from 'zod';
import { SEARCH_SORTS } from '../index/search-index.ts';
import type { SearchHit } from '../index/search-index.ts';
import { MAX_REQUEST_QUERY } from '../access/grants.ts';
import { SealboxError } from '../core/errors.ts';
import { verifyCheckpoint } from '../ledger/checkpoint.ts';
import { bodyServerTiming, renderMessageDocument } from './message-document.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const sha = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 of 64 lowercase hex digits');

// How long the viewer may use a recorded remote-content read to load that message's remote
// content (reloading the frame); after that it asks, and is recorded, again.
export const REMOTE_CONTENT_WINDOW_MS = 15 * 60 * 1000;

// The most results a page with snippets may have: each snippet reads and parses its message.
export const MAX_SNIPPETS = 100;

export function contentRoutes(routes: RouteTable, s: Services, verifierKey: string): void {
  routes.add({
    method: 'GET', url: '/api/v1/search', tag: 'content', auth: { scope: 'content' }, queryLanguage: ['q'],
    summary: 'search your own mailboxes, or within an active grant (grant=ID): a page of results (newest or oldest first), the total in scope, and with snippets=1 each message\'s passage with the words found (escaped HTML, the words in <mark>); each result names the attachments whose text holds the words searched for (inAttachments: their place among the message\'s attachments and file name); recorded in the ledger',
    query: z.strictObject({
      q: z.string().min(1).max(MAX_REQUEST_QUERY), grant: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).max(100_000).default(0),
      sort: z.enum(SEARCH_SORTS).default('newest'), snippets: z.enum(['0', '1']).default('0'),
    }),
    handler: async (req, _reply, { query, p }) => {
      const snippets = query.snippets === '1';
      // A snippet reads the message's text: a page of them at most.
      if (snippets && query.limit > MAX_SNIPPETS) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `snippets come with at most ${MAX_SNIPPETS} results a page (limit)`);
      const r = await s.content.search(actorContext(req, p), p.user, { query: query.q, grantId: query.grant, limit: query.limit, offset: query.offset, sort: query.sort, snippets });
      return {
        query: r.query, grant: r.grantId, total: r.total, ...(r.totalIsLowerBound ? { totalIsLowerBound: true } : {}), ...(r.rankedNewest ? { rankedNewest: r.rankedNewest } : {}), offset: query.offset, sort: r.sort,
        results: r.hits.map((h) => ({ ...hitJson(h), ...(r.snippets ? { snippet: r.snippets.get(h.sha256) ?? '' } : {}), inAttachments: r.inAttachments.get(h.sha256) ?? [] })),
      };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256/thread', tag: 'content', auth: { scope: 'content' },
    summary: "the messages of a message's conversation (by Message-ID, In-Reply-To and References) that are in your scope, oldest first; a listing like a search (the search permission), recorded in the ledger",
    query: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, _reply, { query, p }) => {
      const digest = param(req.params);
      const r = await s.content.thread(actorContext(req, p), p.user, digest, query.grant);
      return { sha256: digest, grant: r.grantId, position: r.hits.findIndex((h) => h.sha256 === digest), messages: r.hits.map(hitJson) };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256', tag: 'content', auth: { scope: 'content' },
    summary: 'one message: headers, envelopes (Bcc marked), verdicts at receipt, attachments; recorded in the ledger',
    query: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, _reply, { query, p }) => {
      return s.content.view(actorContext(req, p), p.user, param(req.params), query.grant);
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256/raw', tag: 'content', auth: { scope: 'content' },
    summary: 'the exact stored bytes as message/rfc822; recorded in the ledger',
    query: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, reply, { query, p }) => {
      const digest = param(req.params);
      const bytes = await s.content.raw(actorContext(req, p), p.user, digest, query.grant);
      reply.type('message/rfc822').header('content-disposition', `attachment; filename="${digest}.eml"`);
      return bytes;
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256/body', tag: 'content', auth: { scope: 'content' },
    summary: "the message's body as the web viewer's sandboxed document: HTML sanitised (DOMPurify), cid: images inline, plain text otherwise; its CSP runs no script and loads nothing remote unless remote= names this user's recorded remote-content read (POST …/remote-content); its Server-Timing header gives the viewer the document's kind, remote references and size to fit the frame; recorded in the ledger",
    query: z.strictObject({ grant: z.string().optional(), remote: z.coerce.number().int().min(0).optional() }),
    handler: async (req, reply, { query, p }) => {
      const digest = param(req.params);
      const doc = await s.content.derived(actorContext(req, p), p.user, digest, query.grant, 'body', async (raw) => {
        // Checked after the access decision, before anything is served: no recorded request, no remote content.
        if (query.remote !== undefined && !await s.content.remoteContentRecorded(p.user, digest, query.grant, query.remote, s.clock.now(), REMOTE_CONTENT_WINDOW_MS)) {
          throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `ledger entry ${query.remote} is not your recorded remote-content read of this message (within ${REMOTE_CONTENT_WINDOW_MS / 60_000} minutes)`);
        }
        const value = await renderMessageDocument(raw, { remote: query.remote !== undefined });
        return { value, parameters: { kind: value.kind, remoteContent: query.remote ?? null } };
      });
      // Framed by the app's own pages only; the document's CSP is its own (see message-document.ts).
      reply.type('text/html; charset=utf-8').header('content-security-policy', doc.csp).header('x-frame-options', 'SAMEORIGIN')
        .header('x-dns-prefetch-control', 'off').header('x-sealbox-remote-references', String(doc.remoteReferences))
        .header('server-timing', bodyServerTiming(doc));
      return doc.html;
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256/attachments/:attachment/text', tag: 'content', auth: { scope: 'content' },
    summary: "the text inside one of a message's attachments (by its place among the attachments the message lists, 0 first), read again from the stored bytes by the extractor: attachment, filename, contentType, size, extraction (ok | truncated: reason | encrypted | failed: reason; null when its kind is not read) and text; recorded in the ledger (attachment-text)",
    query: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, _reply, { query, p }) => {
      const raw = (req.params as { attachment: string }).attachment;
      if (!/^\d{1,4}$/.test(raw)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the attachment is its place among the message\'s attachments: 0, 1, 2, …');
      return s.content.attachmentText(actorContext(req, p), p.user, param(req.params), Number(raw), query.grant);
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/messages/:sha256/remote-content', tag: 'content', auth: { scope: 'content' },
    summary: "record that the viewer loads this message's remote content (it tells the sender the message was read) before anything remote is fetched; answers the entry's index for GET …/body?remote=",
    body: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, _reply, { body, p }) => {
      const digest = param(req.params);
      const r = await s.content.remoteContent(actorContext(req, p), p.user, digest, body.grant);
      return { ledgerIndex: r.ledgerIndex, validUntil: new Date(s.clock.now() + REMOTE_CONTENT_WINDOW_MS).toISOString() };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/messages/:sha256/evidence', tag: 'content', auth: { scope: 'content' },
    summary: 'the evidence for a message: sha256, every capture with its ledger entry (leaf) and RFC 9162 inclusion proof, and the signed checkpoint they verify against (its signature checked); recorded in the ledger',
    query: z.strictObject({ grant: z.string().optional() }),
    handler: async (req, _reply, { query, p }) => {
      const evidence = await s.content.evidence(actorContext(req, p), p.user, param(req.params), query.grant);
      let signatureValid = false;
      if (evidence.checkpoint) {
        try {
          const parsed = verifyCheckpoint(evidence.checkpoint.note, verifierKey, { origin: s.ledger.origin });
          signatureValid = parsed.size === evidence.checkpoint.size && Buffer.from(parsed.rootHash).toString('base64') === evidence.checkpoint.rootHash;
        } catch {
          signatureValid = false;
        }
      }
      return { ...evidence, checkpoint: evidence.checkpoint && { ...evidence.checkpoint, signatureValid }, verifierKey };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/export', tag: 'content', auth: { scope: 'content' }, queryLanguage: ['q'],
    summary: 'the messages a search finds, newest first, up to limit, as an mboxrd file (needs the export permission, or own mailboxes); x-sealbox-messages says how many it holds, x-sealbox-total how many the search found; recorded in the ledger',
    query: z.strictObject({ q: z.string().min(1).max(MAX_REQUEST_QUERY), grant: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
    handler: async (req, reply, { query, p }) => {
      const { mbox, count, total } = await s.content.export(actorContext(req, p), p.user, { query: query.q, grantId: query.grant, limit: query.limit });
      reply.type('application/mbox').header('content-disposition', 'attachment; filename="sealbox-export.mbox"').header('x-sealbox-messages', String(count)).header('x-sealbox-total', String(total));
      return mbox;
    },
  });
}

function hitJson(h: SearchHit) {
  return { ...h, date: h.date === null ? null : new Date(h.date).toISOString() };
}

function param(params: unknown): string {
  const value = (params as { sha256: string }).sha256;
  if (!/^[0-9a-f]{64}$/.test(value)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the message id is a sha256 of 64 lowercase hex digits');
  return value;
}

export { sha };
