import type { Logger } from 'pino';
import { ExtractorPool } from './extract/extractor-pool.ts';
import { formatOf } from './extract/formats.ts';
import { fullTextOf } from './full-text.ts';
import type { AttachmentOutcome, FullText, IndexStore } from './index-store.ts';
import { parseMessage } from './parse-message.ts';
import type { AttachmentInfo, ParsedMessage } from './parse-message.ts';

export interface AttachmentExtractorOptions {
  index: IndexStore;
  // A message's bytes as the indexer reads them (the same first MAX_PARSE_BYTES).
  read(sha256: string): Promise<Buffer>;
  log: Logger;
  pool?: ExtractorPool;      // default: one process of its own
  concurrency?: number;      // documents read at once
  handoffBytes?: number;     // attachment bytes kept in memory for reading; the rest are read again
}

// What reading a document's attachments needs: its full text as indexed, and the attachments
// whose text is read, by their place among its attachments.
export interface ExtractionWork {
  text: FullText;
  files: { attachment: number; contentType: string; filename: string | null; content: Uint8Array }[];
}

interface Pending {
  docId: number;
  sha256: string | null;     // null: the document is gone; nothing to read
  work: ExtractionWork | null;   // null: read the message again when its turn comes
}

interface Done {
  docId: number;
  text: FullText | null;
  outcomes: AttachmentOutcome[];
}

// Attachment text kept per message, all its attachments together (each has its own limit too).
const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;
// How long finished documents wait to be stored together (one transaction for several).
const FLUSH_MS = 100;
const FLUSH_COUNT = 50;

// Whether an attachment's text is read: it is of a kind the extractor reads (extract/formats.ts).
export function extractable(a: AttachmentInfo, content: Uint8Array): boolean {
  return formatOf(a.contentType, a.filename, content) !== null;
}

// The work for a message parsed with `keep: extractable`, or null when none of its attachments is read.
export function extractionWork(parsed: ParsedMessage): ExtractionWork | null {
  const files = parsed.attachments.flatMap((a, attachment) => (a.content ? [{ attachment, contentType: a.contentType, filename: a.filename, content: a.content }] : []));
  return files.length === 0 ? null : { text: fullTextOf(parsed), files };
}

// The text inside attachments, for documents the indexer has already made searchable by their
// own text. Reading a PDF or a spreadsheet takes far longer than indexing a message and must not
// hold the index back; so the indexer queues each document that has such attachments in the
// transaction that indexes it (extraction_pending) and hands over their bytes, and this reads
// them in the extractor's processes (ExtractorPool: bounded, a crash or a limit is that
// attachment's outcome) and then replaces the document's full text with the attachments' text
// added, recording each attachment's outcome, in small batches. After a restart, or when the
// hand-over was full, the queue in the index database is the work list and the messages are read
// and parsed again.
export class AttachmentExtractor {
  readonly #o: AttachmentExtractorOptions;
  readonly #pool: ExtractorPool;
  readonly #concurrency: number;
  readonly #handoffBytes: number;
  readonly #waiting: Pending[] = [];
  #waitingBytes = 0;
  readonly #known = new Set<number>();          // waiting or in flight
  #inFlight = 0;
  #done: Done[] = [];
  #settled: (() => void) | null = null;
  // The stored queue may hold documents not in #waiting (a restart, a full hand-over).
  #scanFrom: number | null = 0;
  #closed = false;

  constructor(o: AttachmentExtractorOptions) {
    this.#o = o;
    this.#pool = o.pool ?? new ExtractorPool({ log: o.log });
    this.#concurrency = o.concurrency ?? 2;
    this.#handoffBytes = o.handoffBytes ?? 32 * 1024 * 1024;
  }

  // Documents the indexer has just committed with their queue rows: kept with their attachments'
  // bytes while there is room (else read again when their turn comes), and left to the stored
  // queue when the list in memory is long.
  offer(items: readonly { docId: number; sha256: string; work: ExtractionWork }[]): void {
    for (const it of items) {
      if (this.#known.has(it.docId)) continue;
      if (this.#waiting.length >= this.#concurrency * 64) {
        this.#scanFrom ??= 0;
        continue;
      }
      const bytes = workBytes(it.work);
      const work = this.#waitingBytes + bytes <= this.#handoffBytes ? it.work : null;
      this.#known.add(it.docId);
      this.#waiting.push({ docId: it.docId, sha256: it.sha256, work });
      if (work) this.#waitingBytes += bytes;
    }
    this.#pump();
  }

  // Whether anything is waiting, being read or waiting to be stored.
  get busy(): boolean {
    return !this.#closed && (this.#waiting.length > 0 || this.#inFlight > 0 || this.#done.length > 0 || this.#scanFrom !== null);
  }

  // One step of the thread's loop: start documents up to the limit, wait until one ends or
  // FLUSH_MS passed, store what is ready. Returns how many documents it stored.
  async step(): Promise<number> {
    await this.#refill();
    this.#pump();
    if (this.#inFlight > 0 && this.#done.length < FLUSH_COUNT) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_MS);
        this.#settled = () => { clearTimeout(timer); resolve(); };
      });
      this.#settled = null;
    }
    return this.#flush();
  }

  // Everything queued read and stored (tests, a stopping thread).
  async drain(): Promise<void> {
    while (this.busy) await this.step();
  }

  // Stops reading: what is being read is left queued in the database, for the next start.
  close(): void {
    this.#closed = true;
    this.#pool.close();
  }

  async #refill(): Promise<void> {
    if (this.#scanFrom === null || this.#waiting.length >= this.#concurrency) return;
    const { index } = this.#o;
    const rows = await index.read((tx) => index.pendingExtraction(tx, this.#scanFrom!, this.#concurrency * 4));
    this.#scanFrom = rows.length < this.#concurrency * 4 ? null : rows.at(-1)!.id;
    for (const r of rows) {
      if (this.#known.has(r.id)) continue;
      this.#known.add(r.id);
      this.#waiting.push({ docId: r.id, sha256: r.sha256, work: null });
    }
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#waiting.length > 0) {
      const p = this.#waiting.shift()!;
      if (p.work) this.#waitingBytes -= workBytes(p.work);
      this.#inFlight++;
      void this.#extract(p).catch((err: unknown): Done => {
        // Never expected (a fault reading is an attachment's outcome): the document keeps its text.
        this.#o.log.error({ err, sha256: p.sha256 }, 'reading attachments failed');
        return { docId: p.docId, text: null, outcomes: [] };
      }).then((done) => {
        this.#inFlight--;
        this.#done.push(done);
        this.#pump();
        if (this.#done.length >= FLUSH_COUNT || this.#inFlight === 0) this.#settled?.();
      });
    }
  }

  async #extract(p: Pending): Promise<Done> {
    const { log } = this.#o;
    let work = p.work;
    if (!work && p.sha256 !== null) {
      try {
        work = extractionWork(await parseMessage(await this.#o.read(p.sha256), { keep: extractable }));
      } catch (err) {
        // Its text stays as indexed; the queue entry goes (a message that cannot be read was
        // recorded when it was indexed, or has been disposed of since).
        log.warn({ err, sha256: p.sha256 }, 'attachments could not be read: the message could not be read again');
      }
    }
    if (!work) return { docId: p.docId, text: null, outcomes: [] };
    const texts: string[] = [];
    const outcomes: AttachmentOutcome[] = [];
    let room = MAX_MESSAGE_CHARS;
    for (const f of work.files) {
      const full = `truncated: the message's attachments hold more than ${MAX_MESSAGE_CHARS} characters of text`;
      let { text, extraction } = room > 0 ? await this.#pool.extract(f) : { text: '', extraction: full as string };
      if (text.length > room) {
        text = text.slice(0, room);
        if (extraction === 'ok') extraction = full;
      }
      room -= text.length;
      if (text) texts.push(text);
      outcomes.push({ attachment: f.attachment, extraction });
    }
    return { docId: p.docId, text: { ...work.text, attachments: texts.join('\n\n') }, outcomes };
  }

  async #flush(): Promise<number> {
    if (this.#done.length === 0 || this.#closed) return 0;
    const done = this.#done;
    this.#done = [];
    const { index, log } = this.#o;
    try {
      await index.write(async (tx) => {
        for (const d of done) await index.completeExtraction(tx, d.docId, d.text, d.outcomes);
      });
    } catch (err) {
      // Still queued in the database: read again from there.
      log.error({ err, documents: done.length }, 'storing attachment text failed; the attachments will be read again');
      this.#scanFrom ??= 0;
    }
    for (const d of done) this.#known.delete(d.docId);
    return done.length;
  }
}

function workBytes(work: ExtractionWork): number {
  return work.files.reduce((n, f) => n + f.content.byteLength, 0);
}
