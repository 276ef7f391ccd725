import type { DatabaseSync } from 'node:sqlite';
import { SealboxError } from '../core/errors.ts';
import type { SearchHit, SearchIndex } from '../index/search-index.ts';
import { parseQuery } from '../index/search-query.ts';
import type { ArchiveReader } from '../store/archive-reader.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
import type { AccessDecision, Scope } from './access-decision.ts';
import { scopeCondition } from './access-decision.ts';
import type { Actor, Audit } from './audit.ts';
import type { Permission } from './grants.ts';
import type { User } from './people.ts';

export interface ContentDeps {
  decision: AccessDecision;
  audit: Audit;
  search: SearchIndex;
  indexDb: DatabaseSync;
  reader: ArchiveReader;
  meta: SqliteMetadataStore;
}

export type ActorContext = Omit<Actor, 'user' | 'logonType'>;

// Every read of archived content goes through here: decide, then serve and record in one
// transaction. A refusal is recorded too, and an out-of-scope message looks exactly like a
// missing one.
export class ContentAccess {
  readonly #d: ContentDeps;

  constructor(deps: ContentDeps) {
    this.#d = deps;
  }

  #scope(ctx: ActorContext, user: User, permission: Permission, grantId: string | null | undefined, operation: string, parameters: Record<string, unknown>): Scope {
    try {
      return this.#d.decision.decide(user, permission, grantId);
    } catch (err) {
      if (err instanceof SealboxError) this.#d.audit.denied({ ...ctx, user, logonType: grantId ? 'delegated' : 'owner' }, { type: 'access', operation, grantId: grantId ?? null, parameters }, err.message);
      throw err;
    }
  }

  // A query that does not parse reads nothing, but the attempt was put to the decision point
  // and is recorded like any refusal (a probe of the query language is evidence too).
  #parse(ctx: ActorContext, user: User, scope: Scope, operation: string, parameters: Record<string, unknown>, query: string): void {
    try {
      parseQuery(query);
    } catch (err) {
      if (err instanceof SealboxError) this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { type: 'access', operation, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters }, err.message);
      throw err;
    }
  }

  search(ctx: ActorContext, user: User, input: { query: string; grantId?: string | null; limit: number; offset?: number; note?: string }): { query: string; hits: SearchHit[]; grantId: string | null } {
    const parameters = { query: input.query, limit: input.limit, offset: input.offset ?? 0, ...(input.note ? { note: input.note } : {}) };
    const scope = this.#scope(ctx, user, 'search', input.grantId, 'search', parameters);
    this.#parse(ctx, user, scope, 'search', parameters, input.query);
    return this.#d.audit.record({ ...ctx, user, logonType: scope.logonType },
      (r: { query: string; hits: SearchHit[] }) => ({
        type: 'access', operation: 'search', mailboxes: scope.mailboxes, messages: r.hits.map((h) => h.sha256), grantId: scope.grant?.id ?? null,
        parameters: { ...parameters, canonicalQuery: r.query, results: r.hits.length },
      }),
      () => ({ ...this.#d.search.search(input.query, { limit: input.limit, offset: input.offset, scope: scopeCondition(scope) }), grantId: scope.grant?.id ?? null }));
  }

  // The message's metadata view (headers, envelopes, verdicts, participants): a read.
  view(ctx: ActorContext, user: User, sha256: string, grantId?: string | null, note?: string): Record<string, unknown> {
    const { scope, rowId } = this.#inScope(ctx, user, sha256, grantId, 'view');
    return this.#d.audit.record({ ...ctx, user, logonType: scope.logonType },
      { type: 'access', operation: 'view', mailboxes: scope.mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters: note ? { note } : {} },
      () => messageView(this.#d, sha256, rowId));
  }

  // The exact stored bytes. They are decrypted and authenticated before the entry is written,
  // so a damaged blob is an error, not a half-served message.
  async raw(ctx: ActorContext, user: User, sha256: string, grantId?: string | null, note?: string): Promise<Buffer> {
    const { scope } = this.#inScope(ctx, user, sha256, grantId, 'raw');
    const bytes = await this.#d.reader.buffer(this.#d.reader.message(sha256));
    return this.#d.audit.record({ ...ctx, user, logonType: scope.logonType },
      { type: 'access', operation: 'raw', mailboxes: scope.mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters: { bytes: bytes.length, ...(note ? { note } : {}) } },
      () => bytes);
  }

  // Export: the messages a search finds, as mboxrd, for a grant that carries the export permission.
  // Every message is decrypted and checked before the entry is written and the file handed out.
  async export(ctx: ActorContext, user: User, input: { query: string; grantId?: string | null; limit: number }): Promise<{ mbox: Buffer; count: number }> {
    const parameters = { query: input.query, limit: input.limit };
    const scope = this.#scope(ctx, user, 'export', input.grantId, 'export', parameters);
    this.#parse(ctx, user, scope, 'export', parameters, input.query);
    const found = this.#d.search.search(input.query, { limit: input.limit, scope: scopeCondition(scope) });
    const parts: Buffer[] = [];
    for (const hit of found.hits) parts.push(mboxrdEntry(await this.#d.reader.buffer(this.#d.reader.message(hit.sha256)), hit.date));
    const mbox = Buffer.concat(parts);
    this.#d.audit.record({ ...ctx, user, logonType: scope.logonType },
      { type: 'access', operation: 'export', mailboxes: scope.mailboxes, messages: found.hits.map((h) => h.sha256), grantId: scope.grant?.id ?? null, parameters: { ...parameters, canonicalQuery: found.query, results: found.hits.length, bytes: mbox.length } },
      () => null);
    return { mbox, count: found.hits.length };
  }

  #inScope(ctx: ActorContext, user: User, sha256: string, grantId: string | null | undefined, operation: string): { scope: Scope; rowId: number } {
    const scope = this.#scope(ctx, user, 'read', grantId, operation, { sha256 });
    const cond = scopeCondition(scope);
    const row = this.#d.indexDb.prepare(`SELECT d.id FROM doc d WHERE d.sha256 = ? AND ${cond.where}`).get(sha256, ...cond.params) as { id: number } | undefined;
    if (!row) {
      this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { type: 'access', operation, mailboxes: scope.mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null }, 'not in scope');
      throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no message ${sha256} in your scope`);
    }
    return { scope, rowId: Number(row.id) };
  }
}

export function messageView(d: Pick<ContentDeps, 'search' | 'meta' | 'reader'>, sha256: string, rowId: number): Record<string, unknown> {
  const message = d.reader.message(sha256);
  const doc = d.search.document(rowId);
  return {
    sha256, size: message.size, firstSeen: new Date(message.firstSeen).toISOString(), indexed: doc !== null,
    messageId: doc?.message_id ?? null, date: doc?.date == null ? null : new Date(Number(doc.date)).toISOString(),
    from: doc?.from_text ?? null, subject: doc?.subject ?? null, parseError: doc?.parse_error ?? null,
    sameMessageId: doc?.message_id_lc ? d.search.sameMessageId(doc.message_id_lc, rowId) : [],
    captures: d.meta.capturesOf(message.id).map((c) => ({
      captureId: c.id, source: c.source, receivedAt: new Date(c.receivedAt).toISOString(), ledgerIndex: c.ledgerIndex,
      envelope: c.envelope, provenance: c.provenance, auth: d.search.authVerdicts(c.rowId),
    })),
    mailboxes: d.search.participants(rowId),
    attachments: d.search.attachments(rowId),
  };
}

// mboxrd: a "From " separator line, and every line that starts with ">*From " gets one more ">".
function mboxrdEntry(raw: Buffer, date: number | null): Buffer {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
  const when = new Date(date ?? 0).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4');
  return Buffer.from(`From sealbox@localhost ${when}\n${text}${text.endsWith('\n') ? '' : '\n'}\n`, 'latin1');
}
