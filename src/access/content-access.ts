import type { LedgerOperation } from '../core/ledger-operations.ts';
import { SealboxError } from '../core/errors.ts';
import type { Envelope } from '../core/types.ts';
import { formatOf, readable } from '../index/extract/formats.ts';
import type { AttachmentHit, IndexedAttachment, Participant, SearchHit, SearchIndex, SearchResult, SearchSort } from '../index/search-index.ts';
import type { DisplayHeaders } from '../index/display-headers.ts';
import { parseQuery } from '../index/search-query.ts';
import type { StoredCheckpoint, StoredEntry } from '../ledger/ledger.ts';
import { StoredTree } from '../ledger/stored-tree.ts';
import type { Tx } from '../core/transactions.ts';
import { disposedError } from '../store/archive-reader.ts';
import type { ArchiveReader } from '../store/archive-reader.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { AccessDecision, Scope } from './access-decision.ts';
import type { Actor, Audit, AuditEvent } from './audit.ts';
import type { AccessRequest, Permission } from './grants.ts';
import type { People, User } from './people.ts';
import { isMainParty, subjectOfGrant } from './subject-access.ts';
import type { OtherParties } from './subject-access.ts';
import type { Hold } from '../retention/hold-store.ts';

export interface ContentDeps {
  decision: AccessDecision;
  audit: Audit;
  search: SearchIndex;
  reader: ArchiveReader;
  meta: MetadataStore;
  people: Pick<People, 'byId'>;
  // Reads the text inside one attachment (the indexer's extractor: bounded processes of its own).
  extract: (file: { content: Uint8Array; contentType: string | null; filename: string | null }) => Promise<{ text: string; extraction: string }>;
  ocr: boolean;   // whether the extractor reads pictures
}

export type ActorContext = Omit<Actor, 'user' | 'logonType'>;

export interface SearchInput {
  query: string;
  grantId?: string | null;
  limit: number;
  offset?: number;
  sort?: SearchSort;
  // Each hit with a passage of its text showing the words found (SearchIndex.snippets).
  snippets?: boolean;
  note?: string;
}

// A person's search counts its matches up to this many ("more than 10,000"); exports and
// evidence packages count them all.
export const SEARCH_COUNT_UP_TO = 10_000;
// A person's best-match-first search ranks the newest this many matches (then the older ones,
// newest first): ranking a common word's every match took seconds at millions of messages.
export const SEARCH_RANK_UP_TO = 5_000;

export interface SearchAnswer extends SearchResult {
  grantId: string | null;
  // The hits whose words were found inside attachments, with those attachments (SearchIndex.attachmentHits).
  inAttachments: Map<string, AttachmentHit[]>;
  snippets?: Map<string, string>;   // sha256 → escaped HTML with <mark>
}

// A message's text for its snippet is parsed from its first bytes only, and a message larger
// than SNIPPET_MESSAGE_BYTES has none.
const SNIPPET_PARSE_BYTES = 256 * 1024;
const SNIPPET_MESSAGE_BYTES = 4 * 1024 * 1024;

// The MIME parser (postal-mime) is loaded when a message is first parsed, not by a search that
// shows none (sealbox search: 13 modules fewer).
const parser = () => import('../index/parse-message.ts');

// Every read of archived content goes through here: decide, then serve and record in one
// transaction. A refusal is recorded too, and an out-of-scope message looks exactly like a
// missing one.
export class ContentAccess {
  readonly #d: ContentDeps;

  constructor(deps: ContentDeps) {
    this.#d = deps;
  }

  // The decision before the work: who reads under which scope. The work decides again inside
  // the transaction that records it (#served).
  async #scope(ctx: ActorContext, user: User, permission: Permission, grantId: string | null | undefined, operation: LedgerOperation, parameters: Record<string, unknown>): Promise<Scope> {
    try {
      return await this.#d.meta.read((tx) => this.#d.decision.decide(tx, user, permission, grantId));
    } catch (err) {
      if (err instanceof SealboxError) await this.#d.audit.denied({ ...ctx, user, logonType: grantId ? 'delegated' : 'owner' }, { operation, grantId: grantId ?? null, parameters }, err.message);
      throw err;
    }
  }

  // A query that does not parse reads nothing, but the attempt was put to the decision point
  // and is recorded like any refusal (a probe of the query language is evidence too).
  async #parse(ctx: ActorContext, user: User, scope: Scope, operation: LedgerOperation, parameters: Record<string, unknown>, query: string): Promise<void> {
    try {
      parseQuery(query);
    } catch (err) {
      if (err instanceof SealboxError) await this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { operation, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters }, err.message);
      throw err;
    }
  }

  async search(ctx: ActorContext, user: User, input: SearchInput): Promise<SearchAnswer> {
    const parameters = {
      query: input.query, limit: input.limit, offset: input.offset ?? 0, ...(input.sort && input.sort !== 'newest' ? { sort: input.sort } : {}),
      ...(input.snippets ? { snippets: true } : {}), ...(input.note ? { note: input.note } : {}),
    };
    const scope = await this.#scope(ctx, user, 'search', input.grantId, 'search', parameters);
    await this.#parse(ctx, user, scope, 'search', parameters, input.query);
    const actor = { ...ctx, user, logonType: scope.logonType };
    const refused = { operation: 'search' as const, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters };
    let found: SearchResult & { grantId: string | null; inAttachments: Map<string, AttachmentHit[]> };
    try {
      found = await this.#served(ctx, user, scope, 'search', refused,
        async (r: SearchResult) => ({
          operation: 'search', mailboxes: await this.#searched(scope, r.hits), messages: r.hits.map((h) => h.sha256), grantId: scope.grant?.id ?? null,
          parameters: { ...parameters, canonicalQuery: r.query, results: r.hits.length, total: r.total, ...(r.totalIsLowerBound ? { totalIsLowerBound: true } : {}), ...(r.rankedNewest ? { rankedNewest: r.rankedNewest } : {}) },
        }),
        async () => {
          const r = await this.#d.search.search(input.query, { ...searchOptions(scope, { limit: input.limit, offset: input.offset, sort: input.sort }), countUpTo: SEARCH_COUNT_UP_TO, rankUpTo: SEARCH_RANK_UP_TO });
          return { ...r, grantId: scope.grant?.id ?? null, inAttachments: await this.#d.search.attachmentHits(input.query, r.hits.map((h) => h.sha256)) };
        });
    } catch (err) {
      // A query the index refused after parsing: refused and recorded like one that did not parse.
      if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_QUERY') await this.#d.audit.denied(actor, refused, err.message);
      throw err;
    }
    if (!input.snippets) return found;
    // Each hit's passage with the words found, from the messages the entry above names: it was
    // recorded (snippets: true) before any of their text is read, and only they are read.
    return { ...found, snippets: await this.#snippets(input.query, found.hits) };
  }

  async #snippets(query: string, hits: readonly SearchHit[]): Promise<Map<string, string>> {
    const { parseMessage } = await parser();
    const texts = await Promise.all(hits.map(async (h) => {
      const row = await this.#d.meta.read((tx) => this.#d.reader.message(tx, h.sha256));
      // A message is authenticated only as a whole: a large one would be read whole for a line
      // of text, so it has no passage (it is opened to be read).
      if (row.size > SNIPPET_MESSAGE_BYTES) return { key: h.sha256, text: '' };
      const raw = await this.#d.reader.buffer(row);
      // The text of a message is at its start: a large attachment need not be parsed for it.
      return { key: h.sha256, text: (await parseMessage(raw.subarray(0, SNIPPET_PARSE_BYTES))).text };
    }));
    return this.#d.search.snippets(query, texts);
  }

  // The messages of a message's conversation that lie in the reader's scope, oldest first: a
  // listing like a search's (the search permission), recorded as one, naming each message it
  // shows. A message out of scope answers like a missing one; the others of its thread outside
  // the scope are neither listed nor counted.
  async thread(ctx: ActorContext, user: User, sha256: string, grantId?: string | null): Promise<{ hits: SearchHit[]; grantId: string | null }> {
    const parameters = { thread: sha256 };
    const scope = await this.#scope(ctx, user, 'search', grantId, 'search', parameters);
    const rowId = await this.#d.search.findInScope(sha256, scope);
    if (rowId === null) {
      await this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { operation: 'search', mailboxes: scope.mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters }, 'not in scope');
      throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no message ${sha256} in your scope`);
    }
    const refused = { operation: 'search' as const, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters };
    const hits = await this.#served(ctx, user, scope, 'search', refused,
      async (r: SearchHit[]) => ({
        operation: 'search', mailboxes: await this.#searched(scope, r), messages: r.map((h) => h.sha256), grantId: scope.grant?.id ?? null,
        parameters: { ...parameters, results: r.length },
      }),
      async () => this.#d.search.thread(rowId, scope));
    return { hits, grantId: scope.grant?.id ?? null };
  }

  // The message's metadata view (headers, envelopes, verdicts, participants): a read.
  async view(ctx: ActorContext, user: User, sha256: string, grantId?: string | null, note?: string): Promise<Record<string, unknown>> {
    const { scope, rowId, mailboxes } = await this.#inScope(ctx, user, sha256, grantId, 'view');
    const event = { operation: 'view' as const, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters: note ? { note } : {} };
    // The headers as written (names in their own case, To and Cc), read before the entry as raw() reads.
    const { displayHeaders } = await import('../index/display-headers.ts');
    const headers = await displayHeaders(await this.#bytes(sha256));
    return this.#served(ctx, user, scope, 'read', event, event, (tx) => messageView(this.#d, tx, sha256, rowId, scope, headers));
  }

  // The exact stored bytes. They are decrypted and authenticated before the entry is written,
  // so a damaged blob is an error, not a half-served message.
  async raw(ctx: ActorContext, user: User, sha256: string, grantId?: string | null, note?: string): Promise<Buffer> {
    const { scope, mailboxes } = await this.#inScope(ctx, user, sha256, grantId, 'raw');
    const bytes = await this.#bytes(sha256);
    const event = { operation: 'raw' as const, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters: { bytes: bytes.length, ...(note ? { note } : {}) } };
    return this.#served(ctx, user, scope, 'read', event, event, async () => bytes);
  }

  // A read derived from the stored bytes (the web viewer's body document): decided and scoped
  // like raw(), produced before its entry is written (a fault serves nothing), recorded under
  // its own operation with what was produced.
  async derived<T>(ctx: ActorContext, user: User, sha256: string, grantId: string | null | undefined, operation: LedgerOperation,
    produce: (raw: Buffer) => Promise<{ value: T; parameters: Record<string, unknown> }>): Promise<T> {
    const { scope, mailboxes } = await this.#inScope(ctx, user, sha256, grantId, operation);
    let made: { value: T; parameters: Record<string, unknown> };
    try {
      made = await produce(await this.#bytes(sha256));
    } catch (err) {
      // A refusal while producing (e.g. remote content nobody recorded asking for) is evidence too.
      if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_FORBIDDEN') {
        await this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { operation, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null }, err.message);
      }
      throw err;
    }
    const event = { operation, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null, parameters: made.parameters };
    return this.#served(ctx, user, scope, 'read', event, event, async () => made.value);
  }

  // The text inside one of a message's attachments (by its place among them, as the message view
  // lists them), read again from the stored bytes as the indexer read it (the index keeps no
  // text): a read of the message like its body, recorded as `attachment-text` with the
  // attachment's place and the length of what was shown.
  async attachmentText(ctx: ActorContext, user: User, sha256: string, attachment: number, grantId?: string | null): Promise<AttachmentText> {
    return this.derived(ctx, user, sha256, grantId, 'attachment-text', async (raw) => {
      let place = -1;
      // Only that attachment keeps its bytes; the others are hashed and dropped as they come.
      const { parseMessage, MAX_PARSE_BYTES } = await parser();
      const parsed = await parseMessage(raw.subarray(0, MAX_PARSE_BYTES), { keep: () => ++place === attachment });
      const a = parsed.attachments[attachment];
      if (!a) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `message ${sha256} has no attachment ${attachment} (it has ${parsed.attachments.length})`);
      const read = !readable(formatOf(a.contentType, a.filename, a.content ?? undefined), this.#d.ocr)
        ? { text: '', extraction: null }
        : await this.#d.extract({ content: a.content!, contentType: a.contentType, filename: a.filename });
      return {
        value: { attachment, filename: a.filename, contentType: a.contentType, size: a.size, extraction: read.extraction, text: read.text },
        parameters: { attachment, chars: read.text.length },
      };
    });
  }

  async #bytes(sha256: string): Promise<Buffer> {
    return this.#d.reader.buffer(await this.#d.meta.read((tx) => this.#d.reader.message(tx, sha256)));
  }

  // Every read is decided again inside the transaction that records it: a grant revoked or run
  // out, a role taken away or an account disabled since the first decision (or while the bytes
  // were being read) serves nothing, and that refusal is recorded too (as `refused`).
  async #served<T>(ctx: ActorContext, user: User, scope: Scope, permission: Permission, refused: AuditEvent, event: AuditEvent | ((result: T) => Promise<AuditEvent>), work: (tx: Tx) => Promise<T>): Promise<T> {
    const actor = { ...ctx, user, logonType: scope.logonType };
    try {
      return await this.#d.audit.record(actor, event, async (tx) => {
        await this.#d.decision.decide(tx, user, permission, scope.grant?.id);
        return work(tx);
      });
    } catch (err) {
      if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_FORBIDDEN') await this.#d.audit.denied(actor, refused, err.message);
      throw err;
    }
  }

  // Loading a message's remote content (images from the sender's servers) tells the sender it
  // was read, so it is a read of its own: recorded before the viewer may fetch anything. The
  // entry's index is the viewer's permission (see remoteContentRecorded).
  async remoteContent(ctx: ActorContext, user: User, sha256: string, grantId?: string | null): Promise<{ ledgerIndex: number }> {
    const { scope, mailboxes } = await this.#inScope(ctx, user, sha256, grantId, 'remote-content');
    const event = { operation: 'remote-content' as const, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null };
    // Inside the transaction, after the ledger caught up: the size is the index this entry gets.
    return this.#served(ctx, user, scope, 'read', event, event, async (tx) => ({ ledgerIndex: await this.#d.meta.ledgerSize(tx) }));
  }

  // Whether entry `index` is this user's successful remote-content read of this message, under
  // this grant (or none), written within `windowMs` before `now`.
  async remoteContentRecorded(user: User, sha256: string, grantId: string | null | undefined, index: number, now: number, windowMs: number): Promise<boolean> {
    const e = (await this.#d.meta.read((tx) => this.#d.meta.entry(tx, index)))?.entry;
    if (!e) return false;
    return e.type === 'access' && e.operation === 'remote-content' && e.result === 'success' && e.actor === `user:${user.name}`
      && e.objects.messages.length === 1 && e.objects.messages[0] === sha256 && e.grantId === (grantId || null)
      && e.time <= now && now - e.time <= windowMs;
  }

  // The evidence for a message: its identity, every capture with its ledger entry, and each
  // entry's RFC 9162 inclusion proof in the latest signed checkpoint (null while the entry is
  // newer than that checkpoint). A read like a view, recorded as 'evidence'.
  async evidence(ctx: ActorContext, user: User, sha256: string, grantId?: string | null): Promise<MessageEvidence> {
    const { scope, rowId, mailboxes } = await this.#inScope(ctx, user, sha256, grantId, 'evidence');
    const event = { operation: 'evidence' as const, mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null };
    return this.#served(ctx, user, scope, 'read', event, event, async (tx) => {
      const { meta } = this.#d;
      const message = await this.#d.reader.message(tx, sha256);
      const tree = await provingTree(meta, tx);
      const captures = await proven(meta, tx, tree, await receivedBy(this.#d, tx, scope, rowId, await meta.capturesOf(tx, message.id)));
      const { checkpoint } = tree;
      return {
        sha256, size: message.size,
        checkpoint: checkpoint ? { size: checkpoint.size, rootHash: checkpoint.root.toString('base64'), note: checkpoint.note, createdAt: new Date(checkpoint.createdAt).toISOString() } : null,
        captures: captures.map((c) => ({
          captureId: c.id, source: c.source, receivedAt: new Date(c.receivedAt).toISOString(), ledgerIndex: c.ledgerIndex,
          leaf: c.stored?.leaf.toString('base64') ?? null, leafHash: c.stored?.leafHash.toString('base64') ?? null,
          proof: c.proof?.map((h) => h.toString('base64')) ?? null,
        })),
      };
    });
  }

  // Export: the messages a search finds, as mboxrd, for a grant that carries the export permission
  // (or one's own mailboxes).
  async export(ctx: ActorContext, user: User, input: ExportInput): Promise<{ mbox: Buffer; count: number; total: number }> {
    const r = await this.#export(ctx, user, input, 'mbox', async (source) => {
      const parts: Buffer[] = [];
      for (const hit of source.hits) parts.push(mboxrdEntry(await source.bytes(hit.sha256), hit.date));
      const mbox = Buffer.concat(parts);
      return { value: mbox, parameters: { bytes: mbox.length } };
    });
    return { mbox: r.value, count: r.count, total: r.total };
  }

  // An evidence package (export/evidence-package.ts) is made only under a grant: it carries every
  // receipt's whole envelope and the ledger payloads that prove it, every recipient and Bcc
  // included, which an owner does not see of mail sent to them (recipientView). All its proofs go
  // to one checkpoint, the latest when it began.
  async exportEvidence<T>(ctx: ActorContext, user: User, input: ExportInput, write: (source: EvidenceSource) => Promise<ExportMade<T>>): Promise<ExportResult<T>> {
    return this.#export(ctx, user, input, 'evidence', async (source, scope) => {
      const tree = await this.#d.meta.read((tx) => provingTree(this.#d.meta, tx));
      return write(await this.#evidenceSource(scope, source, tree));
    });
  }

  async #evidenceSource(scope: Scope, source: Omit<ExportSource, 'hits'> & { hits: { sha256: string }[] }, tree: ProvingTree): Promise<EvidenceSource> {
    const { meta, search } = this.#d;
    const custody = await meta.read((tx) => this.#custody(tx, scope.grant!));
    const listed = new Set(source.hits.map((h) => h.sha256));
    const record = async (sha256: string): Promise<MessageRecord> => {
      if (!listed.has(sha256)) throw new Error(`${sha256} is not one of the messages this export found`);
      const rowId = await search.findInScope(sha256, scope);
      if (rowId === null) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `message ${sha256} left the scope while it was being exported`);
      return meta.read(async (tx) => {
        const message = await this.#d.reader.message(tx, sha256);
        const doc = await search.document(rowId);
        const captures = await proven(meta, tx, tree, await receivedBy(this.#d, tx, scope, rowId, await meta.capturesOf(tx, message.id)));
        return {
          sha256, size: message.size, messageId: doc?.message_id ?? null, subject: doc?.subject ?? null, parseError: doc?.parse_error ?? null,
          custodians: (await this.#holding(scope, [sha256])).map((m) => m.name),
          participants: await search.participants(rowId), attachments: await search.attachments(rowId),
          captures: await Promise.all(captures.map(async (c) => ({
            captureId: c.id, source: c.source, receivedAt: c.receivedAt, envelope: c.envelope, provenance: c.provenance,
            auth: await search.authVerdicts(c.rowId), ledgerIndex: c.ledgerIndex,
            leaf: c.stored?.leaf ?? null, payload: c.stored?.payload ?? null, salt: c.stored?.salt ?? null, proof: c.proof,
          }))),
        };
      });
    };
    const attachmentText = async (file: { content: Uint8Array; contentType: string | null; filename: string | null }) =>
      (readable(formatOf(file.contentType, file.filename, file.content), this.#d.ocr) ? (await this.#d.extract(file)).text : '');
    return { ...source, checkpoint: tree.checkpoint, custody, record, attachmentText };
  }

  // An export job (export/export-jobs.ts) starts like an evidence package: decided (a grant that
  // carries export), its query parsed and searched; then one entry (export.job) names what it
  // found, written in one transaction with the job (create), which fixes the messages and the
  // signed checkpoint the package will hold. The package itself is made later, by the server.
  async startExportJob<T>(ctx: ActorContext, user: User, input: ExportJobInput, create: (tx: Tx, found: ExportJobFound) => Promise<T>): Promise<T> {
    const parameters = { query: input.query, limit: input.limit, format: 'evidence', ...(input.note ? { note: input.note } : {}), ...(input.hold ? { hold: input.hold.id } : {}) };
    const narrow = input.hold ? this.#toHold(input.hold) : undefined;
    const { scope, actor, refused, found } = await this.#decideExport(ctx, user, input, 'export.job', parameters, true, narrow);
    const subject = subjectOfGrant(scope.grant!);
    if (input.otherParties && !subject) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'otherParties applies only to an export under a data subject\'s access grant (GDPR Art. 15)', { fields: ['otherParties'] });
    let hits = found.hits;
    let subjectAccess: ExportJobFound['subjectAccess'] = null;
    if (subject) {
      // Decided now, with the rest of what the job exports: the package leaves out what is
      // withheld, and says how many under which rule (never which).
      const otherParties = input.otherParties ?? input.otherPartiesDefault ?? 'withhold';
      const kept: SearchHit[] = [];
      for (const hit of hits) {
        const rowId = await this.#d.search.findInScope(hit.sha256, scope);
        if (otherParties === 'include' || (rowId !== null && isMainParty(subject, await this.#d.search.participants(rowId)))) kept.push(hit);
      }
      subjectAccess = { otherParties, withheld: hits.length - kept.length };
      hits = kept;
    }
    const event = {
      operation: 'export.job' as const, mailboxes: await this.#searched(scope, hits), messages: hits.map((h) => h.sha256), grantId: scope.grant!.id,
      parameters: { ...parameters, canonicalQuery: found.query, results: hits.length, total: found.total, ...(subjectAccess ? { subjectAccess } : {}) },
    };
    return this.#served(ctx, user, scope, 'export', refused, event, async (tx) => {
      const checkpoint = await this.#d.meta.latestCheckpoint(tx);
      if (!checkpoint) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'the ledger has no signed checkpoint yet to prove the messages against (the server signs one when it starts)');
      let bytes = 0;
      for (const h of hits) bytes += (await this.#d.reader.message(tx, h.sha256)).size;
      return create(tx, { sha256s: hits.map((h) => h.sha256), total: found.total, bytes, canonicalQuery: found.query, checkpointSize: checkpoint.size, ledgerIndex: await this.#d.meta.ledgerSize(tx), subjectAccess, mailboxes: event.mailboxes });
    });
  }

  // A case exported: the grant must cover the whole of the hold's scope (its custodians among the
  // grant's mailboxes, its window within the grant's, the grant's fixed query none or the hold's),
  // and the search is then held to the hold's scope: its custodians, its window, its query.
  #toHold(hold: Hold): (scope: Scope) => Scope | string {
    return (scope) => {
      const g = scope.grant!;
      const mine = new Set(g.mailboxes.map((m) => m.id));
      const outside = hold.custodians.filter((c) => !mine.has(c.id));
      // Counted, not named: who is under a hold is for those who keep holds to know, and the
      // refusal is answered to the caller and written in the ledger.
      if (outside.length > 0) return `grant ${g.id} does not cover legal hold ${hold.id}: ${outside.length} of its ${hold.custodians.length} custodians ${outside.length === 1 ? 'is' : 'are'} not among the grant's mailboxes`;
      if (g.dateFrom !== null && (hold.dateFrom === null || hold.dateFrom < g.dateFrom)) return `grant ${g.id} does not cover legal hold ${hold.id}: the hold's window starts before the grant's`;
      if (g.dateTo !== null && (hold.dateTo === null || hold.dateTo > g.dateTo)) return `grant ${g.id} does not cover legal hold ${hold.id}: the hold's window ends after the grant's`;
      if (g.fixedQuery !== null && g.fixedQuery !== hold.query) return `grant ${g.id} does not cover legal hold ${hold.id}: the grant is held to a query the hold is not`;
      return { ...scope, mailboxes: scope.mailboxes.filter((m) => hold.custodians.some((c) => c.id === m.id)), dateFrom: hold.dateFrom ?? scope.dateFrom, dateTo: hold.dateTo ?? scope.dateTo, fixedQuery: hold.query ?? scope.fixedQuery };
    };
  }

  // What a job's package is made from, each time it runs (a resumed job runs again): decided
  // again (the grant still active and carrying export), the messages and the checkpoint it was
  // started with. A refusal is recorded, and the job fails.
  async exportJobSource(ctx: ActorContext, user: User, job: ExportJobSpec): Promise<EvidenceSource> {
    const scope = await this.#scope(ctx, user, 'export', job.grantId, 'export', { job: job.id, query: job.query, format: 'evidence' });
    if (!scope.grant) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'an export job runs under a grant');
    const { meta } = this.#d;
    const tree = await meta.read(async (tx): Promise<ProvingTree> => {
      const checkpoint = await meta.checkpointAt(tx, job.checkpointSize);
      if (!checkpoint) throw new Error(`the checkpoint of size ${job.checkpointSize} this job's proofs lead to is not in the archive`);
      return { checkpoint, tree: new StoredTree(meta) };
    });
    const hits = job.sha256s.map((sha256) => ({ sha256 }));
    const listed = new Set(job.sha256s);
    return this.#evidenceSource(scope, {
      query: job.query, canonicalQuery: job.canonicalQuery, total: job.total, hits,
      bytes: async (sha256) => {
        if (!listed.has(sha256)) throw new Error(`${sha256} is not one of the messages this export found`);
        return this.#bytes(sha256);
      },
    }, tree);
  }

  // A job's package made: its export entry, like `sealbox export`'s (the manifest's SHA-256 in
  // its parameters), decided again and written in one transaction with the job's end (done).
  async finishExportJob<T>(ctx: ActorContext, user: User, job: ExportJobSpec, made: Record<string, unknown>, done: (tx: Tx, ledgerIndex: number) => Promise<T>): Promise<T> {
    const parameters = { query: job.query, limit: job.limit, format: 'evidence', ...(job.note ? { note: job.note } : {}), job: job.id };
    const scope = await this.#scope(ctx, user, 'export', job.grantId, 'export', parameters);
    const event = {
      operation: 'export' as const, mailboxes: await this.#searched(scope, job.sha256s.map((sha256) => ({ sha256 }))), messages: job.sha256s, grantId: scope.grant?.id ?? null,
      parameters: { ...parameters, canonicalQuery: job.canonicalQuery, results: job.sha256s.length, total: job.total, ...made },
    };
    const refused = { operation: 'export' as const, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters };
    return this.#served(ctx, user, scope, 'export', refused, event, async (tx) => done(tx, await this.#d.meta.ledgerSize(tx)));
  }

  // A job cancelled by the one who started it: one export.cancel entry, naming the mailboxes and
  // messages its start named and how far it got, written in one transaction with the job's end
  // (cancel: false when it had ended already, and then nothing is written). No decision: ending
  // one's own job reads nothing, and stays possible once the grant has ended.
  async cancelExportJob(ctx: ActorContext, user: User, job: ExportJobSpec & { mailboxes: { id: number; name: string }[]; startedEntry: number }, cancel: (tx: Tx) => Promise<Record<string, unknown> | null>): Promise<number> {
    const event = async (r: { progress: Record<string, unknown> }) => ({
      operation: 'export.cancel' as const, mailboxes: job.mailboxes, messages: job.sha256s, grantId: job.grantId,
      parameters: { job: job.id, query: job.query, startedEntry: job.startedEntry, ...r.progress, filesDelivered: 0 },
    });
    const r = await this.#d.audit.record({ ...ctx, user, logonType: 'delegated' }, event, async (tx) => {
      const index = await this.#d.meta.ledgerSize(tx);
      const progress = await cancel(tx);
      if (!progress) throw new SealboxError('SEALBOX_ERR_CONFLICT', `export job ${job.id} has ended already`);
      return { index, progress };
    });
    return r.index;
  }

  // A file of a finished job handed out: decided again (the grant still active and carrying
  // export: a package is no standing access), recorded (export.download, naming the messages the
  // file holds) before open() gives the bytes; a fault opening it records nothing.
  async deliverExportFile<T>(ctx: ActorContext, user: User, grantId: string, file: { job: string; name: string; size: number; sha256: string; messages: string[] }, open: () => Promise<T>): Promise<T> {
    const parameters = { job: file.job, file: file.name, bytes: file.size, sha256: file.sha256 };
    const scope = await this.#scope(ctx, user, 'export', grantId, 'export.download', parameters);
    const event = {
      operation: 'export.download' as const, mailboxes: await this.#searched(scope, file.messages.map((sha256) => ({ sha256 }))), messages: file.messages, grantId: scope.grant?.id ?? null, parameters,
    };
    const refused = { operation: 'export.download' as const, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters };
    return this.#served(ctx, user, scope, 'export', refused, event, async () => open());
  }

  // What an export (at once, or as a job) may take: decided for the grant, its query parsed and
  // searched in its scope; a refusal or a query that cannot be read is recorded as denied. An
  // evidence package is made only under a grant, never of one's own mailboxes.
  async #decideExport(ctx: ActorContext, user: User, input: ExportInput, operation: 'export' | 'export.job', parameters: Record<string, unknown>, needsGrant: boolean,
    narrow?: (scope: Scope) => Scope | string): Promise<{ scope: Scope; actor: ActorContext & { user: User }; refused: { operation: 'export' | 'export.job'; mailboxes: Scope['mailboxes']; grantId: string | null; parameters: Record<string, unknown> }; found: SearchResult }> {
    let scope = await this.#scope(ctx, user, 'export', input.grantId, operation, parameters);
    const actor = { ...ctx, user, logonType: scope.logonType };
    const refused = { operation, mailboxes: scope.mailboxes, grantId: scope.grant?.id ?? null, parameters };
    if (needsGrant && !scope.grant) {
      const why = 'an evidence package is made under an active grant that carries export (pass its id), not of one\'s own mailboxes';
      await this.#d.audit.denied(actor, refused, why);
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', why);
    }
    if (narrow) {
      const narrowed = narrow(scope);
      if (typeof narrowed === 'string') {
        await this.#d.audit.denied(actor, refused, narrowed);
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', narrowed);
      }
      scope = narrowed;
    }
    await this.#parse(ctx, user, scope, operation, parameters, input.query);
    try {
      return { scope, actor, refused, found: await this.#d.search.search(input.query, searchOptions(scope, { limit: input.limit })) };
    } catch (err) {
      if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_QUERY') await this.#d.audit.denied(actor, refused, err.message);
      throw err;
    }
  }

  // Decided, searched, written by `write` and recorded, in that order: the entry names what was
  // written (its parameters), and what is not recorded is not handed out (a writer that left
  // files behind takes them back). A fault while writing serves nothing and records nothing.
  async #export<T>(ctx: ActorContext, user: User, input: ExportInput, format: 'mbox' | 'evidence',
    write: (source: ExportSource, scope: Scope) => Promise<ExportMade<T>>): Promise<ExportResult<T>> {
    const parameters = { query: input.query, limit: input.limit, ...(format === 'mbox' ? {} : { format }), ...(input.note ? { note: input.note } : {}) };
    const { scope, actor, refused, found } = await this.#decideExport(ctx, user, input, 'export', parameters, format === 'evidence');
    const listed = new Set(found.hits.map((h) => h.sha256));
    const made = await write({
      query: input.query, canonicalQuery: found.query, total: found.total, hits: found.hits,
      // Decrypted and authenticated before the entry is written: a damaged blob fails the export.
      bytes: async (sha256) => {
        if (!listed.has(sha256)) throw new Error(`${sha256} is not one of the messages this export found`);
        return this.#bytes(sha256);
      },
    }, scope);
    const event = {
      operation: 'export' as const, mailboxes: await this.#searched(scope, found.hits), messages: found.hits.map((h) => h.sha256), grantId: scope.grant?.id ?? null,
      parameters: { ...parameters, canonicalQuery: found.query, results: found.hits.length, total: found.total, ...made.parameters },
    };
    let ledgerIndex: number;
    try {
      // Inside the transaction, after the ledger caught up: the size is the index this entry gets.
      ledgerIndex = await this.#served(ctx, user, scope, 'export', event, event, async (tx) => this.#d.meta.ledgerSize(tx));
    } catch (err) {
      await made.discard?.();
      throw err;
    }
    return { value: made.value, count: found.hits.length, total: found.total, ledgerIndex };
  }

  // The grant an evidence package is made under, as its chain of custody: who asked and who
  // approved (by name), and the ledger entries of its filing and decisions.
  async #custody(tx: Tx, grant: AccessRequest): Promise<GrantCustody> {
    const person = async (id: number) => {
      const u = await this.#d.people.byId(tx, id);
      return { name: u?.name ?? `#${id}`, displayName: u?.displayName ?? null };
    };
    return {
      grant, requester: await person(grant.requesterId),
      approvals: await Promise.all(grant.approvals.map(async (a) => ({ ...a, approver: await person(a.approverId) }))),
      entries: (await this.#d.meta.ofGrant(tx, grant.id)).filter((s) => CUSTODY_OPERATIONS.has(s.entry.operation))
        .map(({ entry: e }) => ({ index: e.index, time: e.time, operation: e.operation, actor: e.actor, result: e.result })),
    };
  }

  // A message in scope, with the scope's mailboxes that hold it: what reading it touches. Out of
  // scope, the refusal names the scope it was tried under (naming the message's own mailboxes
  // would tell the reader where a message they may not read lives).
  async #inScope(ctx: ActorContext, user: User, sha256: string, grantId: string | null | undefined, operation: LedgerOperation): Promise<{ scope: Scope; rowId: number; mailboxes: Scope['mailboxes'] }> {
    const scope = await this.#scope(ctx, user, 'read', grantId, operation, { sha256 });
    const rowId = await this.#d.search.findInScope(sha256, scope);
    if (rowId === null) {
      // A message destroyed by retention says so (when, under which policy), not "not found".
      const disposed = (await this.#d.meta.read((tx) => this.#d.meta.getMessage(tx, sha256)))?.disposed ?? null;
      await this.#d.audit.denied({ ...ctx, user, logonType: scope.logonType }, { operation, mailboxes: scope.mailboxes, messages: [sha256], grantId: scope.grant?.id ?? null }, disposed ? 'disposed' : 'not in scope');
      if (disposed) throw disposedError(sha256, disposed);
      throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no message ${sha256} in your scope`);
    }
    const held = await this.#holding(scope, [sha256]);
    // In scope means one of the scope's mailboxes holds it; were none found now (its addresses
    // changed between the two look-ups), the entry names the whole scope rather than nobody.
    return { scope, rowId, mailboxes: held.length > 0 ? held : scope.mailboxes };
  }

  // The scope's mailboxes that hold any of these messages. A read names these, not every mailbox
  // of the grant or every mailbox the owner owns: a mailbox's owner ("Who accessed my mailbox")
  // and oversight (the sensitive-mailbox alert and figure) then see only reads of mail that is in
  // it. The link is the one the scope is decided by, a participant's address, so an owner who
  // got a message by Bcc only is linked through their own envelope address and nobody else's.
  async #holding(scope: Scope, sha256s: readonly string[]): Promise<Scope['mailboxes']> {
    const held = await this.#d.search.mailboxesHolding(sha256s, scope.mailboxes.map((m) => m.id));
    return scope.mailboxes.filter((m) => held.has(m.id));
  }

  // A search or export names the mailboxes that hold the hits it returned. One with no hits names
  // the scope it searched: it read no mail, but it looked through those mailboxes and its query
  // says what for ("salary", found nowhere), which their owners are to see; naming nobody would
  // hide every fruitless search from every owner's page.
  async #searched(scope: Scope, hits: readonly { sha256: string }[]): Promise<Scope['mailboxes']> {
    return hits.length === 0 ? scope.mailboxes : this.#holding(scope, hits.map((h) => h.sha256));
  }
}

// The text inside one attachment, as the viewer shows it. extraction: what became of reading it
// (as the index records it); null when it is not a kind of file whose text is read.
export interface AttachmentText {
  attachment: number;
  filename: string | null;
  contentType: string;
  size: number;
  extraction: string | null;
  text: string;
}

export interface ExportInput {
  query: string;
  grantId?: string | null;
  limit: number;
  note?: string;
}

export interface ExportJobInput extends ExportInput {
  // Under a data subject's access grant: how mail of which others are the main party is treated
  // (subject-access.ts): as asked, else the configured default.
  otherParties?: OtherParties;
  otherPartiesDefault?: OtherParties;
  // A case (legal hold) exported: the search is held to its scope, which the grant must cover.
  hold?: Hold;
}

// What an export's writer made of its source, recorded with the export (parameters) before it
// is handed out. A writer that left files behind says how to take them back (discard) should
// the entry not be written.
export interface ExportMade<T> {
  value: T;
  parameters: Record<string, unknown>;
  discard?: () => Promise<void>;
}

// What an export job starts with, fixed in its row: the messages found and the checkpoint.
export interface ExportJobFound {
  sha256s: string[];
  total: number;
  bytes: number;         // the messages' own sizes, all told
  canonicalQuery: string;
  checkpointSize: number;
  ledgerIndex: number;   // the export.job entry
  // A subject-access job's treatment of others' mail, and how many messages it withheld.
  subjectAccess: { otherParties: OtherParties; withheld: number } | null;
  mailboxes: { id: number; name: string }[];   // those the entry names: the scope's holding the messages
}

export interface ExportJobSpec {
  id: string;
  grantId: string;
  query: string;
  canonicalQuery: string;
  limit: number;
  note: string | null;
  total: number;
  sha256s: string[];
  checkpointSize: number;
}

export interface ExportResult<T> {
  value: T;
  count: number;
  total: number;
  ledgerIndex: number;   // the export's own entry
}

// What an export's writer may read, and all it may: the messages the search found in the scope,
// in its order (newest first), each only if it is one of them.
export interface ExportSource {
  query: string;
  canonicalQuery: string;
  total: number;       // found in the scope; more than hits.length when the limit cut the export
  hits: SearchHit[];
  bytes(sha256: string): Promise<Buffer>;
}

// An evidence package's source: also what the archive knows of each message with the proofs of
// its receipts in one signed checkpoint, and the grant the package is made under.
export interface EvidenceSource extends Omit<ExportSource, 'hits'> {
  hits: { sha256: string }[];
  checkpoint: StoredCheckpoint | null;
  record(sha256: string): Promise<MessageRecord>;
  custody: GrantCustody;
  // The text inside one attachment, read again as the indexer's extractor read it ('' when it is
  // not a kind of file whose text is read).
  attachmentText?: (file: { content: Uint8Array; contentType: string | null; filename: string | null }) => Promise<string>;
}

export interface MessageRecord {
  sha256: string;
  size: number;
  messageId: string | null;
  subject: string | null;
  parseError: string | null;
  custodians: string[];          // the scope's mailboxes that hold it, by name
  participants: Participant[];   // from, sender, to, cc, and bcc (header and envelope-only)
  attachments: IndexedAttachment[];
  captures: ProvenCapture[];
}

// A receipt with its ledger entry as stored (payload and salt null: a version-1 leaf, or erased)
// and the entry's inclusion proof in the source's checkpoint (null: newer than it).
export interface ProvenCapture {
  captureId: string;
  source: string;
  receivedAt: number;
  envelope: Envelope | null;
  provenance: Record<string, unknown> | null;
  auth: unknown;                 // authentication verdicts at receipt
  ledgerIndex: number;
  leaf: Buffer | null;
  payload: Buffer | null;
  salt: Buffer | null;
  proof: Buffer[] | null;
}

export interface GrantCustody {
  grant: AccessRequest;
  requester: { name: string; displayName: string | null };
  approvals: (AccessRequest['approvals'][number] & { approver: { name: string; displayName: string | null } })[];
  entries: { index: number; time: number; operation: string; actor: string; result: string }[];
}

// The entries of a grant's history that made it: its filing and the decisions on it.
const CUSTODY_OPERATIONS = new Set<string>(['request.file', 'request.approve', 'request.deny', 'breakglass.open'] satisfies LedgerOperation[]);

export interface MessageEvidence {
  sha256: string;
  size: number;
  checkpoint: { size: number; rootHash: string; note: string; createdAt: string } | null;
  captures: { captureId: string; source: string; receivedAt: string; ledgerIndex: number; leaf: string | null; leafHash: string | null; proof: string[] | null }[];
}

// The message's metadata view for a reader in `scope`. Links to other messages (same Message-ID)
// name only messages in that scope; an owner sees the message as they received it (receivedBy).
export async function messageView(d: Pick<ContentDeps, 'search' | 'meta' | 'reader'>, tx: Tx, sha256: string, rowId: number, scope: Scope, headers: DisplayHeaders | null = null): Promise<Record<string, unknown>> {
  const message = await d.reader.message(tx, sha256);
  const doc = await d.search.document(rowId);
  const participants = await d.search.participants(rowId);
  const asReceived = await recipientView(d, tx, scope, rowId);
  return {
    sha256, size: message.size, firstSeen: new Date(message.firstSeen).toISOString(), indexed: doc !== null,
    messageId: doc?.message_id ?? null, date: doc?.date == null ? null : new Date(Number(doc.date)).toISOString(),
    from: doc?.from_text ?? null, to: headers?.to ?? null, cc: headers?.cc ?? null, subject: doc?.subject ?? null, parseError: doc?.parse_error ?? null,
    sameMessageId: doc?.message_id_lc ? await d.search.sameMessageId(doc.message_id_lc, rowId, scope) : [],
    captures: await Promise.all((await receivedBy(d, tx, scope, rowId, await d.meta.capturesOf(tx, message.id))).map(async (c) => ({
      captureId: c.id, source: c.source, receivedAt: new Date(c.receivedAt).toISOString(), ledgerIndex: c.ledgerIndex,
      envelope: c.envelope, provenance: c.provenance, auth: await d.search.authVerdicts(c.rowId),
      // fixed at capture; null: kept for ever
      retainUntil: c.retainUntil === null ? null : new Date(c.retainUntil).toISOString(),
      keepUntil: c.keepUntil === null ? null : new Date(c.keepUntil).toISOString(),
    }))),
    // The index keeps names lower-cased for search; the message's own spelling is shown.
    mailboxes: (asReceived ? participants.filter((p) => p.role !== 'bcc' || asReceived.own.has(p.address)) : participants)
      .map((p) => ({ ...p, name: headers?.names.get(p.address) ?? p.name })),
    attachments: await d.search.attachments(rowId),
  };
}

// The latest signed checkpoint and the tree it signs: what a receipt's entry is proven against.
interface ProvingTree {
  checkpoint: StoredCheckpoint | null;
  tree: StoredTree;
}

async function provingTree(meta: MetadataStore, tx: Tx): Promise<ProvingTree> {
  return { checkpoint: await meta.latestCheckpoint(tx), tree: new StoredTree(meta) };
}

// Each capture with its ledger entry as stored and the entry's RFC 9162 inclusion proof in the
// tree's checkpoint, null while the entry is newer than it: how a receipt is proven, in the
// evidence panel and in an evidence package alike.
async function proven<C extends { ledgerIndex: number }>(meta: MetadataStore, tx: Tx, { checkpoint, tree }: ProvingTree, captures: C[]): Promise<(C & { stored: StoredEntry | null; proof: Buffer[] | null })[]> {
  const out: (C & { stored: StoredEntry | null; proof: Buffer[] | null })[] = [];
  for (const c of captures) {
    const covered = checkpoint !== null && c.ledgerIndex < checkpoint.size;
    out.push({ ...c, stored: await meta.entry(tx, c.ledgerIndex), proof: covered ? await tree.inclusionProof(tx, c.ledgerIndex, checkpoint.size) : null });
  }
  return out;
}

// How the search/export of this scope compiles: an owner's bcc: and mailbox: terms see a Bcc only
// as they received the message (CompileOptions.envelopeOf).
function searchOptions(scope: Scope, page: { limit: number; offset?: number; sort?: SearchSort }) {
  return { ...page, scope, envelopeOf: scope.logonType === 'owner' ? scope.mailboxes.map((m) => m.id) : undefined };
}

// An owner reading their own mailbox who did not send the message (no From/Sender or envelope
// MAIL FROM of theirs) is one of its recipients, and sees it as received: recipients known only
// from the envelope (Bcc) are not theirs to see, except themselves. Null when the reader sees
// everything (the sender, or a grant holder, whose grant is the investigation).
async function recipientView(d: Pick<ContentDeps, 'search' | 'meta'>, tx: Tx, scope: Scope, rowId: number): Promise<{ own: Set<string> } | null> {
  if (scope.logonType !== 'owner') return null;
  const own = new Set(await d.meta.mailboxAddresses(tx, scope.mailboxes.map((m) => m.id)));
  const sent = (await d.search.participants(rowId)).some((p) => (p.role === 'from' || p.role === 'sender') && own.has(p.address));
  return sent ? null : { own };
}

// The receipts (captures) a reader may see, each as they may see it. A recipient-owner sees the
// receipts that delivered to them (or, if none names them, every receipt) with the envelope's
// recipients and a journal report's recipient list cut to their own addresses.
async function receivedBy<C extends { envelope: Envelope | null; provenance: Record<string, unknown> | null }>(
  d: Pick<ContentDeps, 'search' | 'meta'>, tx: Tx, scope: Scope, rowId: number, captures: C[]): Promise<C[]> {
  const view = await recipientView(d, tx, scope, rowId);
  if (!view) return captures;
  const mine = (a: string) => view.own.has(a.toLowerCase());
  const toMe = captures.filter((c) => !c.envelope || c.envelope.rcptTo.some((r) => mine(r.address)));
  return (toMe.length > 0 ? toMe : captures).map((c) => ({
    ...c,
    envelope: c.envelope && { ...c.envelope, rcptTo: c.envelope.rcptTo.filter((r) => mine(r.address)) },
    provenance: provenanceAsReceived(c.provenance, mine),
  }));
}

// A journal report's recipient list, and the receipts an imported evidence package states (another
// archive's envelopes, and their own journal lists), cut to the reader's own addresses like the envelope.
function provenanceAsReceived(provenance: Record<string, unknown> | null, mine: (address: string) => boolean): Record<string, unknown> | null {
  if (!provenance) return provenance;
  let p = provenance;
  const journal = (p.journal ?? null) as { recipients?: { address: string }[] } | null;
  if (Array.isArray(journal?.recipients)) p = { ...p, journal: { ...journal, recipients: journal.recipients.filter((r) => mine(r.address)) } };
  if (Array.isArray(p.receipts)) {
    p = {
      ...p,
      receipts: (p.receipts as { envelope?: { rcptTo?: { address: string }[] } | null; provenance?: Record<string, unknown> | null }[]).map((r) => ({
        ...r,
        envelope: r.envelope && { ...r.envelope, rcptTo: (r.envelope.rcptTo ?? []).filter((t) => mine(t.address)) },
        provenance: provenanceAsReceived(r.provenance ?? null, mine),
      })),
    };
  }
  return p;
}

// mboxrd: a "From " separator line, and every line that starts with ">*From " gets one more ">".
export function mboxrdEntry(raw: Buffer, date: number | null): Buffer {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
  const when = new Date(date ?? 0).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4');
  return Buffer.from(`From sealbox@localhost ${when}\n${text}${text.endsWith('\n') ? '' : '\n'}\n`, 'latin1');
}
