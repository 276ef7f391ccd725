import type { Logger } from 'pino';
import { ExtractorPool } from './extract/extractor-pool.ts';
import { FollowUpQueue } from './follow-up-queue.ts';
import { formatOf, readable } from './extract/formats.ts';
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
  ocr: boolean;              // whether pictures are read (the pool's OCR languages)
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

// What the extractor reads, as a number recorded with each document it read (attachments_read):
// raised whenever it learns to read more kinds of file, so that `sealbox reindex --attachments`
// reads again the mail an older one could not read whole.
// 1: the first kinds; 2: TNEF, TAR, gzip, 7z (and RAR where 7-Zip reads it).
export const EXTRACTOR_VERSION = 2;

// What is recorded as having read a document's attachments: the version, and whether OCR read
// its pictures (odd), so that turning OCR on makes reindex --attachments read them again.
export function extractorVersion(ocr: boolean): number {
  return EXTRACTOR_VERSION * 2 + (ocr ? 1 : 0);
}

// Attachment text kept per message, all its attachments together (each has its own limit too).
const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;

// Whether an attachment's text is read: it is of a kind the extractor reads (extract/formats.ts),
// pictures only with OCR. Its first bytes tell (parseMessage's keepByHead).
export function extractable(ocr: boolean): (a: AttachmentInfo, content: Uint8Array) => boolean {
  return (a, content) => readable(formatOf(a.contentType, a.filename, content), ocr);
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
export class AttachmentExtractor extends FollowUpQueue<Pending, Done> {
  readonly #pool: ExtractorPool;

  constructor(o: AttachmentExtractorOptions) {
    const pool = o.pool ?? new ExtractorPool({ log: o.log });
    super({
      what: 'reading attachments', log: o.log, concurrency: o.concurrency ?? 2, handoffBytes: o.handoffBytes ?? 32 * 1024 * 1024, flushCount: 50,
      keyOf: (p) => p.docId,
      bytesOf: (p) => (p.work ? workBytes(p.work) : 0),
      lighten: (p) => ({ ...p, work: null }),
      queued: async (after, limit) => (await o.index.read((tx) => o.index.pendingExtraction(tx, after, limit))).map((r) => ({ docId: r.id, sha256: r.sha256, work: null })),
      run: (p) => extract(p, o, pool),
      // Never expected (a fault reading is an attachment's outcome): the document keeps its text.
      failed: (p) => ({ docId: p.docId, text: null, outcomes: [] }),
      store: (done) => o.index.write(async (tx) => {
        for (const d of done) await o.index.completeExtraction(tx, d.key, d.result.text, d.result.outcomes, extractorVersion(o.ocr));
      }),
    });
    this.#pool = pool;
  }

  // Stops reading: what is being read is left queued in the database, for the next start.
  override close(): void {
    super.close();
    this.#pool.close();
  }
}

async function extract(p: Pending, o: AttachmentExtractorOptions, pool: ExtractorPool): Promise<Done> {
  let work = p.work;
  if (!work && p.sha256 !== null) {
    try {
      work = extractionWork(await parseMessage(await o.read(p.sha256), { keep: extractable(o.ocr), keepByHead: true, consume: true }));
    } catch (err) {
      // Its text stays as indexed; the queue entry goes (a message that cannot be read was
      // recorded when it was indexed, or has been disposed of since).
      o.log.warn({ err, sha256: p.sha256 }, 'attachments could not be read: the message could not be read again');
    }
  }
  if (!work) return { docId: p.docId, text: null, outcomes: [] };
  const texts: string[] = [];
  const outcomes: AttachmentOutcome[] = [];
  let room = MAX_MESSAGE_CHARS;
  for (const f of work.files) {
    const full = `truncated: the message's attachments hold more than ${MAX_MESSAGE_CHARS} characters of text`;
    let { text, extraction } = room > 0 ? await pool.extract(f) : { text: '', extraction: full as string };
    if (text.length > room) {
      text = text.slice(0, room);
      if (extraction === 'ok') extraction = full;
    }
    room -= text.length;
    if (text) texts.push(text);
    outcomes.push({ attachment: f.attachment, extraction, text });
  }
  return { docId: p.docId, text: { ...work.text, attachments: texts.join('\n\n') }, outcomes };
}

function workBytes(work: ExtractionWork): number {
  return work.files.reduce((n, f) => n + f.content.byteLength, 0);
}
