import type { Logger } from 'pino';
import type { Envelope } from '../core/types.ts';
import { SMALL_MESSAGE_BYTES } from '../store/archive-reader.ts';
import type { ArchiveReader } from '../store/archive-reader.ts';
import type { MessageRow } from '../store/sqlite/metadata-store.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import { AttachmentExtractor, extractable, extractionWork, extractorVersion } from './attachment-extractor.ts';
import type { ExtractionWork } from './attachment-extractor.ts';
import { AuthChecker } from './auth-checker.ts';
import { ExtractorPool } from './extract/extractor-pool.ts';
import type { CaptureQueue, QueuedCapture } from './capture-queue.ts';
import type { Resolver } from './dns-resolver.ts';
import { display, fullTextOf } from './full-text.ts';
import type { FullText, IndexClaim, IndexStore } from './index-store.ts';
import { MAX_PARSE_BYTES, parseMessage } from './parse-message.ts';
import type { ParsedMessage } from './parse-message.ts';
import type { AddressRole } from './search-query.ts';

// A batch holds every message it read until it commits: past this many bytes it takes no more
// captures, so a run of large messages cannot outgrow the indexer's bounded heap.
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

export interface IndexerOptions {
  captures: CaptureQueue;      // read: the capture queue; write: automatic mailboxes
  index: IndexStore;
  reader: ArchiveReader;
  meta: Transactions;            // where the reader finds a message's row
  log: Logger;
  batch: number;
  internalDomains: string[];
  auth: { resolver: Resolver; mta: string } | null;
  // Whether the text inside attachments is read after the document (AttachmentExtractor).
  attachmentText: boolean;
  // Attachments read at once, each in an extractor process of its own (default 1: the server's
  // indexer shares the machine with ingest; a repair command may use more).
  extractorProcesses?: number;
  // OCR's languages (index.ocrLanguages) when pictures and scans are read (index.ocr), else null.
  ocr?: string | null;
}

// A message's participants as the envelope step needs them: addresses named as recipient
// (to, cc, bcc), as From, and in any role, as stored (trimmed, lowercased).
interface Named {
  recipients: Set<string>;
  from: Set<string>;
  all: Set<string>;
}

// The envelope's addresses as participation stores them.
function envelopeAddresses(env: Envelope): string[] {
  return [...env.rcptTo.map((r) => r.address), env.mailFrom ?? ''].map((a) => a.trim().toLowerCase()).filter(Boolean);
}

// The queue after the commit: captures claimed a batch at a time (IndexStore.claim: on SQLite the
// captures after the cursor, on PostgreSQL rows of a queue that several nodes' indexers share),
// the claim committed in the same transaction as the rows it covers, so a crash re-runs exactly
// the unfinished captures and nothing is indexed twice.
export class Indexer {
  readonly #o: IndexerOptions;
  readonly #internal: Set<string>;
  #more = false;
  // Authentication verdicts come after the document (see AuthChecker); null: not checked.
  readonly auth: AuthChecker | null;
  // So does the text inside attachments (see AttachmentExtractor); null: not read.
  readonly extraction: AttachmentExtractor | null;
  // Whether what a batch queued for the checker and the extractor is handed to them with the bytes
  // read. Off on a node without the archive's duties (index-worker.ts): its follow-ups are the
  // duty holder's, which finds them in the stored queues.
  handOver = true;

  constructor(options: IndexerOptions) {
    this.#o = options;
    this.#internal = new Set(options.internalDomains.map((d) => d.toLowerCase()));
    this.auth = options.auth && new AuthChecker({
      index: options.index, captures: options.captures, resolver: options.auth.resolver, mta: options.auth.mta, log: options.log,
      read: async (sha256) => (await this.#raw(sha256)).raw,
    });
    this.extraction = options.attachmentText ? new AttachmentExtractor({
      index: options.index, log: options.log, read: async (sha256) => (await this.#raw(sha256)).raw,
      // Niced: on a busy machine reading attachments yields the CPU to receiving and indexing mail;
      // the extraction queue catches up when it is idle (npm run bench attachments).
      pool: new ExtractorPool({ log: options.log, processes: options.extractorProcesses ?? 1, ocr: options.ocr ?? null, nice: 10 }),
      ocr: (options.ocr ?? null) !== null,
      concurrency: Math.max(2, options.extractorProcesses ?? 1),
    }) : null;
  }

  cursor(): Promise<number> {
    const { index } = this.#o;
    return index.read((tx) => index.cursor(tx));
  }

  // Whether the last batch left captures behind (it was full, or reached MAX_BATCH_BYTES).
  get more(): boolean {
    return this.#more;
  }

  // Indexes the next batch; returns how many captures it covered (0: nothing to do).
  async runOnce(): Promise<number> {
    this.#more = false;
    const { index, captures, batch } = this.#o;
    const { covered, committed, claimed } = await index.claim(batch, async (claim) => {
      const claimed = claim.rowIds.length;
      if (claimed === 0) return { covered: 0, committed: () => {}, claimed };
      const rows = await captures.capturesByRowIds(claim.rowIds);
      if (rows.length === 0) {
        // Rows gone (never expected): not claimed for ever.
        await claim.write((tx) => claim.done(tx, claim.rowIds));
        return { covered: claimed, committed: () => {}, claimed };
      }
      // Another indexer may make the document of a message this batch parsed as new (another
      // capture of it) while the batch was read: then it is read again, holding the write lock
      // this time, so that the second reading is the last.
      for (let attempt = 1; ; attempt++) {
        try {
          const { count, committed } = await this.#index(rows, claim);
          // Those of the claim up to the last row indexed (a gone row among them too).
          const last = rows[count - 1]!.rowId;
          return { covered: count === rows.length ? claimed : claim.rowIds.filter((id) => id <= last).length, committed, claimed };
        } catch (err) {
          if (!(err instanceof IndexedMeanwhile) || attempt === 3) throw err;
          this.#o.log.debug({ captures: rows.length }, 'a message of this batch was indexed by another indexer meanwhile; reading the batch again');
        }
      }
    });
    committed();
    this.#more = covered < claimed || claimed === batch;
    return covered;
  }

  // Tries the captures that failed before once more (their blob may be back, the fault gone).
  async retryFailures(limit = this.#o.batch): Promise<{ retried: number; stillFailing: number }> {
    const { index } = this.#o;
    const ids = await index.read((tx) => index.failedCaptures(tx, limit));
    if (ids.length === 0) return { retried: 0, stillFailing: 0 };
    const rows = await this.#o.captures.capturesByRowIds(ids);
    // A capture row that is gone (never expected) is not retried for ever.
    const present = new Set(rows.map((r) => r.rowId));
    const gone = ids.filter((id) => !present.has(id));
    if (gone.length > 0) await index.write(async (tx) => { for (const id of gone) await index.clearFailure(tx, id); });
    (await this.#index(rows, null)).committed();
    return { retried: rows.length, stillFailing: await index.read((tx) => index.failureCount(tx)) };
  }

  // Messages indexed before the index kept threads are put in theirs, a batch at a time, read
  // again from the archive (the index keeps no headers to rebuild them from). Returns how many;
  // a message that cannot be read stays a thread of its own, keyed by its identity.
  async backfillThreads(limit = this.#o.batch): Promise<number> {
    const { index } = this.#o;
    const docs = await index.read((tx) => index.unthreaded(tx, limit));
    if (docs.length === 0) return 0;
    const found: { id: number; messageId: string | null; refersTo: string[] }[] = [];
    for (const d of docs) {
      try {
        const parsed = await parseMessage((await this.#raw(d.sha256)).raw);
        found.push({ id: d.id, messageId: parsed.messageId, refersTo: refersTo(parsed) });
      } catch (err) {
        this.#o.log.warn({ sha256: d.sha256, err: (err as Error).message }, 'thread of an earlier message could not be read; it stays a thread of its own');
        found.push({ id: d.id, messageId: null, refersTo: [] });
      }
    }
    await index.write(async (tx) => {
      for (const f of found) await index.setThread(tx, f.id, f.messageId, f.refersTo);
    });
    return docs.length;
  }

  // One transaction for the rows (in receipt order); a capture that cannot be read or indexed is
  // recorded as failed and the others still go in.
  // claim: the claim the rows are, committed with them (null: failures retried, nothing claimed).
  async #index(rows: QueuedCapture[], claim: IndexClaim | null): Promise<{ count: number; committed(): void }> {
    const { index, log } = this.#o;
    const parsedInBatch = new Set<number>();
    // A message newer than every indexed one needs no lookup: most captures are of new messages.
    // A later capture of an indexed message whose envelope names someone new (a Bcc of another
    // copy) makes its full-text row be written again (its scope tokens change), from the message
    // parsed once more: those are found here, before the write.
    const { maxDocId, indexed, rescope } = await index.read(async (tx) => {
      const maxDocId = await index.lastDocumentId(tx);
      const indexed = new Set<number>();
      const rescope = new Set<number>();
      for (const r of rows) {
        if (r.messageRowId > maxDocId || !await index.hasDocument(tx, r.messageRowId)) continue;
        indexed.add(r.messageRowId);
        if (r.envelope === null || rescope.has(r.messageRowId)) continue;
        const { all } = await index.namedAddresses(tx, r.messageRowId);
        if (envelopeAddresses(r.envelope).some((a) => !all.has(a))) rescope.add(r.messageRowId);
      }
      return { maxDocId, indexed, rescope };
    });
    // The messages parsed in this batch, for their full text (made when it is written: a batch's
    // texts held together would outgrow the thread's heap).
    const parsedIn = new Map<number, { parsed: ParsedMessage; extraction: ExtractionWork | null }>();
    const textOf = (docId: number): FullText | undefined => {
      const p = parsedIn.get(docId);
      return p && (p.extraction?.text ?? fullTextOf(p.parsed));
    };
    // auth: 'queued' for the checker (with the bytes read, if any), or a verdict stored at once.
    // extraction: its attachments to read, queued for the extractor.
    const work: { row: (typeof rows)[number]; parsed: ParsedMessage | null; reparsed?: true; auth: null | { queued: Buffer | null } | { verdict: unknown }; extraction?: ExtractionWork | null; error: string | null; disposed?: true }[] = [];
    let bytes = 0;
    // A message's bytes are read while the one before it is parsed: reads are asynchronous (the
    // blob store may be remote), parsing is not.
    // Where each message's sealed bytes are: one read transaction for the batch.
    const messageRows = await this.#o.meta.read(async (tx) => {
      const found = new Map<string, MessageRow>();
      for (const r of rows) {
        // One not found here is looked up again with its bytes, and fails alone.
        if (!found.has(r.sha256)) await this.#o.reader.message(tx, r.sha256).then((m) => found.set(r.sha256, m), () => {});
      }
      return found;
    });
    const reads = new Map<number, Promise<{ raw: Buffer; truncated: boolean }>>();
    const readAt = (i: number) => {
      let read = reads.get(i);
      if (!read) {
        read = this.#raw(rows[i]!.sha256, messageRows.get(rows[i]!.sha256));
        read.catch(() => {}); // awaited, and its error recorded, when its row comes
        reads.set(i, read);
      }
      return read;
    };
    for (const [i, row] of rows.entries()) {
      if (bytes >= MAX_BATCH_BYTES) break;
      // Destroyed by retention before it was indexed (or before a retry): nothing to index.
      if (messageRows.get(row.sha256)?.disposed) {
        work.push({ row, parsed: null, auth: null, error: null, disposed: true });
        continue;
      }
      let parsed: ParsedMessage | null = null;
      let raw: { raw: Buffer; truncated: boolean } | null = null;
      const needsDoc = !parsedInBatch.has(row.messageRowId) && (!indexed.has(row.messageRowId) || rescope.has(row.messageRowId));
      const needsAuth = this.auth !== null && row.envelope !== null;
      try {
        if (needsDoc) {
          raw = await readAt(i);
          // Held no longer than this message needs it (its parse, or the checker's hand-over).
          reads.delete(i);
          bytes += raw.raw.length;
          // Not read ahead when the batch is full: it would be held, unused, until the batch ends.
          if (bytes < MAX_BATCH_BYTES && i + 1 < rows.length && rows[i + 1]!.messageRowId > maxDocId) void readAt(i + 1);
        }
        if (needsDoc) {
          // Attachments whose text is read keep their bytes, for the extractor.
          // The bytes are given up to the parse unless the checker is handed them after it.
          const consume = raw!.truncated || !needsAuth;
          parsed = await parseMessage(raw!.raw, this.extraction ? { keep: extractable((this.#o.ocr ?? null) !== null), keepByHead: true, consume } : { consume });
          if (raw!.truncated) parsed = { ...parsed, parseError: `only the first ${MAX_PARSE_BYTES} bytes were indexed${parsed.parseError ? `; ${parsed.parseError}` : ''}` };
          parsedInBatch.add(row.messageRowId);
        }
      } catch (err) {
        work.push({ row, parsed: null, auth: null, error: (err as Error).message || String(err) });
        continue;
      }
      // A signature covers the whole message: a truncated copy would look altered, so it is not judged.
      const auth = !needsAuth ? null : raw?.truncated ? { verdict: { error: `larger than ${MAX_PARSE_BYTES} bytes: not verified` } } : { queued: raw?.raw ?? null };
      const extraction = parsed && this.extraction ? extractionWork(parsed) : null;
      if (parsed) parsedIn.set(row.messageRowId, { parsed, extraction });
      if (parsed && indexed.has(row.messageRowId)) work.push({ row, parsed: null, reparsed: true, auth, extraction, error: null });
      else work.push({ row, parsed, auth, extraction, error: null });
    }

    const internal = new Set<string>();
    // Per message of this batch: who is named, kept up to date as rows are added, so the
    // envelope step does not read back what this batch wrote.
    const named = new Map<number, Named>();
    const namedIn = async (tx: Tx, docId: number): Promise<Named> => {
      let n = named.get(docId);
      if (!n) {
        n = await index.namedAddresses(tx, docId);
        named.set(docId, n);
      }
      return n;
    };
    // Whether the address is new to the message.
    const part = async (tx: Tx, docId: number, role: AddressRole, address: string, name: string | null, n: Named): Promise<boolean> => {
      const a = address.trim().toLowerCase();
      if (!a) return false;
      const domain = a.slice(a.lastIndexOf('@') + 1);
      if (this.#internal.has(domain)) internal.add(a);
      await index.addParticipation(tx, docId, { role, address: a, domain, name: name ? name.toLowerCase() : null });
      if (role === 'from') n.from.add(a);
      else if (role === 'to' || role === 'cc' || role === 'bcc') n.recipients.add(a);
      if (n.all.has(a)) return false;
      n.all.add(a);
      return true;
    };
    const now = Date.now();
    let failures = 0;

    // isolated: each capture in a savepoint of its own, so that one that fails is recorded and
    // the rest go in. A savepoint makes FTS5 write out the words it holds in memory, so every
    // document became a segment of its own (75 % more time in the full-text inserts); the batch is
    // therefore first written without them, and written again isolated only if a capture fails.
    const write = claim ? claim.write : index.write.bind(index);
    const writeBatch = (isolated: boolean) => write(async (tx) => {
      // Several indexers: a message parsed here as new may have been indexed since, from another
      // of its captures. Checked under the write lock, before anything is written.
      const newest = await index.lastDocumentId(tx);
      for (const w of work) {
        if (w.parsed && w.row.messageRowId <= newest && await index.hasDocument(tx, w.row.messageRowId)) throw new IndexedMeanwhile();
      }
      for (const w of work) {
        const { row, parsed } = w;
        const docId = row.messageRowId;
        if (w.disposed) {
          await index.clearFailure(tx, row.rowId);
          continue;
        }
        if (w.error === null) {
          const one = async () => {
            await this.#indexOne(tx, row, parsed, w.reparsed === true, w.auth, w.extraction ?? null, { namedIn, part, named, textOf });
            await index.clearFailure(tx, row.rowId);
          };
          if (!isolated) {
            await one().catch((err) => { throw new CaptureFailed(err); });
            continue;
          }
          try {
            await index.savepoint(tx, one);
            continue;
          } catch (err) {
            named.delete(docId);
            w.error = (err as Error).message || String(err);
          }
        }
        failures++;
        await index.recordFailure(tx, row.rowId, row.sha256, w.error, now);
        log.error({ captureId: row.id, sha256: row.sha256, err: w.error }, 'capture could not be indexed; recorded, the rest of the batch goes on');
      }
      // Before the claim commits: if this fails, the whole batch is retried.
      if (internal.size > 0) await this.#o.captures.addAutoMailboxes([...internal]);
      if (claim) await claim.done(tx, work.length === rows.length ? claim.rowIds : claim.rowIds.filter((id) => id <= work.at(-1)!.row.rowId));
    });
    try {
      await writeBatch(false);
    } catch (err) {
      if (!(err instanceof CaptureFailed)) throw err;
      // Rolled back whole: forget what the attempt learnt, and go one capture at a time.
      named.clear();
      internal.clear();
      failures = 0;
      await writeBatch(true);
    }
    // Once committed (a claim commits after this returns): the follow-ups are handed over and the
    // batch is logged.
    const committed = () => {
      // Committed with their queue rows: the checker takes them with the bytes already read.
      if (this.handOver) this.auth?.offer(work.flatMap((w) => (w.error === null && w.auth && 'queued' in w.auth ? [{ rowId: w.row.rowId, sha256: w.row.sha256, envelope: w.row.envelope!, raw: w.auth.queued }] : [])));
      if (this.handOver) this.extraction?.offer(work.flatMap((w) => (w.error === null && w.extraction ? [{ docId: w.row.messageRowId, sha256: w.row.sha256, work: w.extraction }] : [])));
      // Which captures: where several nodes index one archive, each node's log names its batches.
      log.debug({ captures: work.length, failures, rows: claim ? ranges(work.map((w) => w.row.rowId)) : undefined }, 'indexed');
    };
    return { count: work.length, committed };
  }

  // parsed: the message, parsed for its first capture; reparsed: parsed again because this
  // capture names someone new (its extraction work, if any, is queued again after the rewrite).
  async #indexOne(tx: Tx, row: QueuedCapture, parsed: ParsedMessage | null, reparsed: boolean, auth: null | { queued: Buffer | null } | { verdict: unknown }, extraction: ExtractionWork | null, h: {
    namedIn(tx: Tx, docId: number): Promise<Named>;
    part(tx: Tx, docId: number, role: AddressRole, address: string, name: string | null, n: Named): Promise<boolean>;
    named: Map<number, Named>;
    textOf(docId: number): FullText | undefined;
  }): Promise<void> {
    const { index } = this.#o;
    const docId = row.messageRowId;
    const env = row.envelope;
    if (parsed) {
      const p = parsed;
      const n: Named = { recipients: new Set(), from: new Set(), all: new Set() };
      h.named.set(docId, n);
      await index.addDocument(tx, { id: docId, sha256: row.sha256, messageId: p.messageId, date: p.date ?? row.receivedAt,
        fromText: p.from.map(display).join(', ') || null, subject: p.subject, hasAttachment: p.attachments.length > 0, parseError: p.parseError,
        refersTo: refersTo(p) });
      for (const [role, list] of [['from', p.from], ['sender', p.sender], ['to', p.to], ['cc', p.cc], ['bcc', p.bcc]] as const) {
        for (const a of list) await h.part(tx, docId, role, a.address, a.name || null, n);
      }
      for (const a of p.attachments) await index.addAttachment(tx, docId, a);
      if (extraction) await index.queueExtraction(tx, docId);
      else if (this.extraction && p.attachments.length > 0) await index.markAttachmentsRead(tx, docId, extractorVersion((this.#o.ocr ?? null) !== null));
    } else if (!await index.hasDocument(tx, docId)) {
      // Its message could not be read in this batch: nothing to link the envelope to yet.
      throw new Error('the message of this capture is not indexed');
    }
    // The envelope of every receipt: a recipient that no header names was Bcc'd.
    let added = false;
    if (env) {
      const n = await h.namedIn(tx, docId);
      for (const r of env.rcptTo) if (!n.recipients.has(r.address.toLowerCase())) added = await h.part(tx, docId, 'bcc', r.address, null, n) || added;
      if (env.mailFrom && !n.from.has(env.mailFrom.toLowerCase())) added = await h.part(tx, docId, 'sender', env.mailFrom, null, n) || added;
    }
    // The full text after the participants: the index keeps a token for each beside the words.
    if (parsed) await index.addFullText(tx, docId, h.textOf(docId)!);
    else if (added) {
      const text = h.textOf(docId);
      // Not expected: the batch parses every indexed message whose envelope names someone new.
      if (text === undefined) throw new Error('this capture names a new participant of a message not parsed in its batch');
      await index.replaceFullText(tx, docId, text);
      if (reparsed && extraction) await index.queueExtraction(tx, docId);
    }
    if (auth && 'verdict' in auth) await index.setAuthVerdicts(tx, row.rowId, auth.verdict);
    else if (auth) await index.queueAuth(tx, row.rowId);
  }

  async #raw(sha256: string, known?: MessageRow): Promise<{ raw: Buffer; truncated: boolean }> {
    const row = known ?? await this.#o.meta.read((tx) => this.#o.reader.message(tx, sha256));
    if (row.size <= SMALL_MESSAGE_BYTES) return { raw: await this.#o.reader.readSmall(row), truncated: false };
    // Into one buffer of its own, sized once: gathering the pieces and joining them held the
    // message twice, and a buffer that is all of its ArrayBuffer is parsed without a copy
    // (parseMessage). allocUnsafeSlow: never a slice of the shared pool.
    const raw = Buffer.allocUnsafeSlow(Math.min(row.size, MAX_PARSE_BYTES));
    let size = 0;
    const stream = this.#o.reader.stream(row);
    for await (const chunk of stream) {
      size += (chunk as Buffer).copy(raw, size);
      if (size === raw.length) {
        stream.destroy();
        break;
      }
    }
    if (size !== raw.length) throw new Error(`message ${row.sha256}: read ${size} of its ${row.size} bytes`);
    return { raw, truncated: row.size > MAX_PARSE_BYTES };
  }

}

// A message a batch read as new was indexed by another indexer meanwhile (see Indexer.runOnce).
class IndexedMeanwhile extends Error {
  constructor() {
    super('a message of this batch was indexed by another indexer while the batch was read');
  }
}

// Ascending row ids as runs, [first, last] each: a batch's captures in a log line.
function ranges(ids: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const id of ids) {
    const last = out.at(-1);
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

// A capture's writes failed in a batch written without savepoints (see Indexer.#index).
class CaptureFailed extends Error {
  constructor(cause: unknown) {
    super('a capture could not be indexed', { cause });
  }
}

// The Message-IDs a message refers to, lowercased: References (root first), then In-Reply-To.
function refersTo(p: ParsedMessage): string[] {
  return [...new Set([...p.references, ...p.inReplyTo].map((id) => id.toLowerCase()))];
}
