import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import { verifyCheckpoint } from '../ledger/checkpoint.ts';
import { ownerMaySee } from '../access/transparency.ts';
import { renderMessageDocument } from './message-document.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const sha = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 of 64 lowercase hex digits');

// How long the viewer may use a recorded remote-content read to load that message's remote
// content (reloading the frame); after that it asks, and is recorded, again.
export const REMOTE_CONTENT_WINDOW_MS = 15 * 60 * 1000;

export function contentRoutes(routes: RouteTable, s: Services, verifierKey: string): void {
  routes.add({
    method: 'GET', url: '/api/v1/search', tag: 'content', auth: { scope: 'content' },
    summary: 'search your own mailboxes, or within an active grant (grant=ID); recorded in the ledger',
    query: z.strictObject({ q: z.string().min(1).max(2000), grant: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).max(100_000).default(0) }),
    handler: async (req, _reply, { query, p }) => {
      const r = await s.content.search(actorContext(req, p), p.user, { query: query.q, grantId: query.grant, limit: query.limit, offset: query.offset });
      return { query: r.query, grant: r.grantId, results: r.hits.map((h) => ({ ...h, date: h.date === null ? null : new Date(h.date).toISOString() })) };
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
    summary: "the message's body as the web viewer's sandboxed document: HTML sanitised (DOMPurify), cid: images inline, plain text otherwise; its CSP runs no script and loads nothing remote unless remote= names this user's recorded remote-content read (POST …/remote-content); recorded in the ledger",
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
        .header('x-dns-prefetch-control', 'off').header('x-sealbox-remote-references', String(doc.remoteReferences));
      return doc.html;
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
    method: 'GET', url: '/api/v1/export', tag: 'content', auth: { scope: 'content' },
    summary: 'the messages a search finds, as an mboxrd file (needs the export permission, or own mailboxes); recorded in the ledger',
    query: z.strictObject({ q: z.string().min(1).max(2000), grant: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
    handler: async (req, reply, { query, p }) => {
      const { mbox, count } = await s.content.export(actorContext(req, p), p.user, { query: query.q, grantId: query.grant, limit: query.limit });
      reply.type('application/mbox').header('content-disposition', 'attachment; filename="sealbox-export.mbox"').header('x-sealbox-messages', String(count));
      return mbox;
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/mailboxes/mine/accesses', tag: 'transparency', auth: { scope: 'content' },
    summary: "who accessed my mailboxes, when, how and under which request, as each mailbox's notification policy allows (my own reads are left out)",
    handler: async (_req, _reply, { p }) => {
      return s.db.read(async (tx) => {
        const owned = await s.people.ownedMailboxes(tx, p.user);
        if (owned.length === 0) return { mailboxes: [], accesses: [] };
        const policies = await s.notifier.policies(tx, owned.map((o) => o.id));
        const seen = new Set<number>();
        const now = s.clock.now();
        const accesses = [];
        for (const { entry: e } of await s.stores.meta.ofMailbox(tx, owned.map((m) => m.id), 1000)) {
          if (seen.has(e.index) || e.type !== 'access' || e.actor === `user:${p.user.name}`) continue;
          seen.add(e.index);
          const grant = e.grantId ? await s.grants.get(tx, e.grantId).catch(notFound) : null;
          // Each mailbox's notification policy says when its owner may learn of an access (delayed, or never with a legal basis).
          const shown = e.objects.mailboxes.filter((m) => owned.some((o) => o.name === m && ownerMaySee(policies.get(o.id)!, grant, now)));
          if (shown.length === 0) continue;
          accesses.push({
            index: e.index, time: new Date(e.time).toISOString(), actor: e.actor.replace(/^user:/, ''), operation: e.operation, result: e.result, logonType: e.logonType,
            mailboxes: shown, messages: e.objects.messages.length,
            request: grant ? { id: grant.id, purpose: grant.purpose, ticket: grant.ticket, justification: grant.justification, breakglass: grant.breakglass } : null,
          });
        }
        return { mailboxes: owned.map((m) => m.name), accesses };
      });
    },
  });
}

function param(params: unknown): string {
  const value = (params as { sha256: string }).sha256;
  if (!/^[0-9a-f]{64}$/.test(value)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the message id is a sha256 of 64 lowercase hex digits');
  return value;
}

// A grant an entry names that is not there (never expected) shows as no request; any other fault is thrown.
function notFound(err: unknown): null {
  if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_NOT_FOUND') return null;
  throw err;
}

export { sha };
