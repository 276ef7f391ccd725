import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { CaptureRecord, Envelope } from '../core/types.ts';
import { newId } from '../core/ids.ts';
import type { CommitResult } from '../store/archive-writer.ts';
import { CaptureSealer } from './capture-sealer.ts';
import type { CaptureSealerDeps } from './capture-sealer.ts';
import { JOURNAL_REPORT_HEADER, parseJournalReport } from './journal-report.ts';
import type { JournalReport } from './journal-report.ts';
import { MimeBoundaryScanner } from './mime-boundary-scanner.ts';
import type { ScanEvent } from './mime-boundary-scanner.ts';
import { findHeaderEnd, parseMimeHeader } from './mime-header.ts';
import type { MimeHeader } from './mime-header.ts';
import { TransferDecodeError, transferDecoder } from './transfer-decoder.ts';
import type { TransferDecoder } from './transfer-decoder.ts';

// Limits on what is held in memory while a report streams past (the attached message is not).
export const MAX_REPORT_HEADER_BYTES = 1024 * 1024;
export const MAX_PART_HEADER_BYTES = 64 * 1024;
export const MAX_REPORT_TEXT_BYTES = 16 * 1024 * 1024;

type State = 'header' | 'not-report' | 'stopped' | 'preamble' | 'part' | 'epilogue';

interface Part {
  index: number;
  head: Buffer[];            // header bytes while its end has not been seen
  headSize: number;
  headerDone: boolean;
  role: 'report' | 'original' | null;
  decoder: TransferDecoder | null;
  charset: string;
  text: Buffer[];            // the report part's body (still transfer-encoded)
  textSize: number;
}

export interface JournalCommit {
  report: CommitResult;
  original: CommitResult | null;
}

// An Exchange / Microsoft 365 envelope journal report on its way in (a message whose header has
// X-MS-Journal-Report): multipart/mixed, a text/plain part with the report (journal-report.ts),
// then the original message as message/rfc822, embedded unaltered. Fed the report's bytes as
// they arrive, it streams the original — transfer-decoded if the part is encoded — into a
// sealer of its own, so the original is archived as its own message with the envelope the
// report gives, and the report is archived as received. Anything malformed stops the unwrapping
// and is recorded; the report itself is never dropped.
export class JournalUnwrapper {
  readonly #deps: CaptureSealerDeps;
  readonly #refusal: string | null;
  #state: State = 'header';
  #head: Buffer[] = [];
  #headSize = 0;
  #isReport = false;
  #error: string | null = null;
  #reportHash: Hash | null = null;
  #scanner: MimeBoundaryScanner | null = null;
  #parts = 0;
  #part: Part | null = null;
  #closed = false;
  #reportText: string | null = null;
  #report: JournalReport | null = null;
  #original: CaptureSealer | null = null;
  #originalHash = createHash('sha256');
  #originalSize = 0;
  #originalEncoding: string | null = null;

  // refusal: why reports from this client are recognised but not unwrapped (null: unwrap them).
  constructor(deps: CaptureSealerDeps, options: { refusal: string | null }) {
    this.#deps = deps;
    this.#refusal = options.refusal;
  }

  // Known once the message's header has been read (at the latest after end()).
  get isReport(): boolean {
    return this.#isReport;
  }

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    switch (this.#state) {
      case 'not-report':
      case 'stopped':
        return;
      case 'header':
        return this.#header(chunk);
      default:
        this.#reportHash!.update(chunk);
        return this.#body(chunk);
    }
  }

  // The whole report has been written.
  async end(): Promise<void> {
    if (this.#state === 'header') {
      const buf = Buffer.concat(this.#head);
      await this.#decide(buf, findHeaderEnd(buf), 'the report has no body');
    }
    if (this.#scanner && (this.#state === 'preamble' || this.#state === 'part' || this.#state === 'epilogue')) {
      await this.#events(this.#scanner.end());
    }
    if (!this.#isReport || this.#stopped()) return;
    if (!this.#closed) return this.#stop('the report ends before its closing boundary');
    if (this.#parts < 2) return this.#stop('the report has no attached message (message/rfc822 part)');
    const verdict = parseJournalReport(this.#reportText ?? '');
    if (!verdict.ok) return this.#stop(verdict.error);
    if (this.#originalSize === 0) return this.#stop('the attached message is empty');
    this.#report = verdict.report;
  }

  // Commits the report as received (through commitReport, which seals the bytes it was written)
  // and, when it was unwrapped, the original with the report's envelope. Resolves only when both
  // are durable; either failing fails the whole (the sender retries, and identical bytes only
  // gain a capture).
  async commit(capture: CaptureRecord, commitReport: (capture: CaptureRecord) => Promise<CommitResult>): Promise<JournalCommit> {
    const report = this.#report;
    const sealer = this.#original;
    if (!report || !sealer || !capture.envelope) {
      await this.discard();
      const provenance = { journal: { role: 'report', unwrapped: false, error: this.#error, originalSha256: null, originalCaptureId: null } };
      return { report: await commitReport({ ...capture, source: 'exchange-journal', provenance }), original: null };
    }
    const originalSha256 = this.#originalHash.digest('hex');
    const reportSha256 = this.#reportHash!.digest('hex');
    const original: CaptureRecord = {
      id: newId('cap', capture.receivedAt),
      source: 'exchange-journal',
      receivedAt: capture.receivedAt,
      envelope: envelopeFromReport(report, capture.envelope),
      provenance: {
        journal: {
          role: 'original', reportSha256, reportCaptureId: capture.id, transferEncoding: this.#originalEncoding,
          sender: report.sender, onBehalfOf: report.onBehalfOf, subject: report.subject, messageId: report.messageId,
          recipients: report.recipients,
        },
      },
    };
    const provenance = { journal: { role: 'report', unwrapped: true, error: null, originalSha256, originalCaptureId: original.id } };
    this.#original = null;
    const [r, o] = await Promise.allSettled([commitReport({ ...capture, source: 'exchange-journal', provenance }), sealer.commit(original)]);
    if (r.status === 'rejected') throw r.reason;
    if (o.status === 'rejected') throw o.reason;
    if (r.value.sha256 !== reportSha256) throw new Error(`journal report hashed ${reportSha256} while unwrapping but sealed as ${r.value.sha256}`);
    return { report: r.value, original: o.value };
  }

  // Drops what was written for the original (a failed or refused receipt).
  async discard(): Promise<void> {
    const sealer = this.#original;
    this.#original = null;
    await sealer?.discard();
  }

  async #header(chunk: Buffer): Promise<void> {
    this.#head.push(chunk);
    this.#headSize += chunk.length;
    const buf = this.#head.length === 1 ? chunk : Buffer.concat(this.#head, this.#headSize);
    this.#head = [buf];
    const end = findHeaderEnd(buf);
    if (end === -1 && this.#headSize <= MAX_REPORT_HEADER_BYTES) return;
    await this.#decide(buf, end, `the header is longer than ${MAX_REPORT_HEADER_BYTES} bytes`);
  }

  // buf: everything so far; end: where the header ends in it (-1: not found, for the reason given).
  async #decide(buf: Buffer, end: number, noEnd: string): Promise<void> {
    this.#head = [];
    const header = parseMimeHeader(end === -1 ? buf : buf.subarray(0, end));
    if (!header.fields.has(JOURNAL_REPORT_HEADER)) {
      this.#state = 'not-report';
      return;
    }
    this.#isReport = true;
    if (this.#refusal) return this.#stop(this.#refusal);
    if (end === -1) return this.#stop(noEnd);
    const type = header.contentType;
    if (type?.type !== 'multipart/mixed' || !type.params.boundary) return this.#stop(`the report is ${type ? type.type : 'without a Content-Type'}, not multipart/mixed with a boundary`);
    this.#reportHash = createHash('sha256').update(buf);
    this.#scanner = new MimeBoundaryScanner(type.params.boundary);
    this.#state = 'preamble';
    await this.#body(buf.subarray(end));
  }

  async #body(bytes: Buffer): Promise<void> {
    await this.#events(this.#scanner!.push(bytes));
  }

  async #events(events: ScanEvent[]): Promise<void> {
    for (const ev of events) {
      if (this.#stopped() || this.#state === 'epilogue') return;
      if (ev.kind === 'data') {
        if (this.#state === 'part') await this.#partData(ev.bytes);
        continue;
      }
      if (this.#state === 'part') await this.#endPart();
      if (this.#stopped()) return;
      if (ev.last) {
        if (this.#parts === 0) return this.#stop('the report has no parts');
        this.#closed = true;
        this.#state = 'epilogue';
        this.#scanner = null;
        return;
      }
      if (this.#parts === 2) return this.#stop('the report has more than two parts');
      this.#part = { index: this.#parts++, head: [], headSize: 0, headerDone: false, role: null, decoder: null, charset: 'us-ascii', text: [], textSize: 0 };
      this.#state = 'part';
    }
  }

  async #partData(bytes: Buffer): Promise<void> {
    const part = this.#part!;
    if (!part.headerDone) {
      part.head.push(bytes);
      part.headSize += bytes.length;
      const buf = Buffer.concat(part.head, part.headSize);
      part.head = [buf];
      const end = findHeaderEnd(buf);
      if (end === -1) {
        if (part.headSize > MAX_PART_HEADER_BYTES) await this.#stop(`part ${part.index + 1}: header longer than ${MAX_PART_HEADER_BYTES} bytes`);
        return;
      }
      part.head = [];
      part.headerDone = true;
      await this.#startPart(part, parseMimeHeader(buf.subarray(0, end)));
      bytes = buf.subarray(end);
      if (this.#stopped() || bytes.length === 0) return;
    }
    if (part.role === 'report') {
      part.textSize += bytes.length;
      if (part.textSize > MAX_REPORT_TEXT_BYTES) return this.#stop(`the report text is longer than ${MAX_REPORT_TEXT_BYTES} bytes`);
      part.text.push(Buffer.from(bytes));
      return;
    }
    let decoded: Buffer;
    try {
      decoded = part.decoder!.write(bytes);
    } catch (err) {
      if (err instanceof TransferDecodeError) return this.#stop(`the attached message: ${err.message}`);
      throw err;
    }
    await this.#writeOriginal(decoded);
  }

  async #startPart(part: Part, header: MimeHeader): Promise<void> {
    const where = `part ${part.index + 1}`;
    if (header.malformed !== null) return this.#stop(`${where}: malformed header line "${header.malformed.slice(0, 80)}"`);
    if (header.fields.has('content-type') && !header.contentType) return this.#stop(`${where}: unreadable Content-Type`);
    const type = header.contentType?.type ?? 'text/plain';
    const decoder = transferDecoder(header.transferEncoding);
    if (!decoder) return this.#stop(`${where}: unknown Content-Transfer-Encoding "${header.transferEncoding}"`);
    part.decoder = decoder;
    if (part.index === 0) {
      if (type !== 'text/plain') return this.#stop(`${where} is ${type}, not the text/plain report`);
      part.role = 'report';
      part.charset = header.contentType?.params.charset ?? 'us-ascii';
      return;
    }
    if (type !== 'message/rfc822') return this.#stop(`${where} is ${type}, not the attached message (message/rfc822)`);
    part.role = 'original';
    this.#originalEncoding = header.transferEncoding;
    this.#original = new CaptureSealer(this.#deps);
  }

  async #endPart(): Promise<void> {
    const part = this.#part!;
    this.#part = null;
    if (!part.headerDone) {
      // The part ended inside its header: a header and no body.
      part.headerDone = true;
      await this.#startPart(part, parseMimeHeader(Buffer.concat(part.head)));
      if (this.#stopped()) return;
    }
    try {
      if (part.role === 'report') {
        const encoded = Buffer.concat(part.text, part.textSize);
        const bytes = Buffer.concat([part.decoder!.write(encoded), part.decoder!.end()]);
        let decoder;
        try {
          decoder = new TextDecoder(part.charset, { fatal: true });
        } catch {
          return this.#stop(`the report text has an unknown charset "${part.charset}"`);
        }
        try {
          this.#reportText = decoder.decode(bytes);
        } catch {
          return this.#stop(`the report text is not valid ${part.charset}`);
        }
      } else {
        await this.#writeOriginal(part.decoder!.end());
      }
    } catch (err) {
      if (err instanceof TransferDecodeError) return this.#stop(`part ${part.index + 1}: ${err.message}`);
      throw err;
    }
  }

  async #writeOriginal(bytes: Buffer): Promise<void> {
    if (bytes.length === 0 || !this.#original) return;
    this.#originalHash.update(bytes);
    this.#originalSize += bytes.length;
    await this.#original.write(bytes);
  }

  // A method, so that the compiler does not narrow the state across awaits that may stop.
  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  async #stop(error: string): Promise<void> {
    this.#error = error;
    this.#state = 'stopped';
    this.#scanner = null;
    this.#part = null;
    this.#reportHash = null;
    await this.discard();
  }
}

// The envelope of the original as the report states it. Where it came from is not known: the
// client fields stay empty; the hop that delivered the report is the transport.
function envelopeFromReport(report: JournalReport, hop: Envelope): Envelope {
  return {
    mailFrom: report.sender,
    mailFromArgs: {},
    rcptTo: report.recipients.map((r) => ({
      address: r.address,
      args: { TYPE: r.type, ...(r.expanded ? { EXPANDED: r.expanded.join(', ') } : {}), ...(r.forwarded ? { FORWARDED: r.forwarded } : {}) },
    })),
    clientAddress: null,
    clientPort: null,
    clientHelo: null,
    clientName: null,
    authUser: null,
    queueId: null,
    protocol: null,
    tls: null,
    transport: hop.transport,
    xforward: {},
  };
}
