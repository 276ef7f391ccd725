import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AttachmentFile } from './extract-text.ts';
import { EXTRACT_LIMITS } from './extraction-run.ts';
import type { Extraction } from './extraction-run.ts';

export interface ExtractorPoolOptions {
  log: Logger;
  processes?: number;        // attachments read at once
  heapMb?: number;           // each process's heap
  jobSeconds?: number;       // an attachment that takes longer ends its process
  ocr?: string | null;       // OCR's languages (index.ocrLanguages), or null: pictures are not read
  nice?: number;             // the processes' niceness (and their tools'), 0–19; default 0
}

interface Job extends AttachmentFile {
  id: number;
  done(result: { text: string; extraction: Extraction }): void;
}

interface Slot {
  child: ChildProcess | null;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  stderr: string;
}

const STOPPED = { text: '', extraction: 'failed: the extractor was stopped' } as const;

// An attachment goes to its process in pieces of this size, each sent once the one before has
// been written: sent whole, the channel's serialized copy of a 24 MB attachment sat beside the
// attachment itself in Sealbox's memory until the process had read it.
const PIECE_BYTES = 1024 * 1024;

// What the process is sent: the job with the first piece of its content, then the other pieces
// (extract-worker.ts puts them together). Most attachments are one piece: sent at once, as a whole.
export type ExtractorMessage =
  | { id: number; size: number; contentType: string | null; filename: string | null; ocr: string | null; piece: Uint8Array }
  | { id: number; piece: Uint8Array };

// Attachments are read in processes of their own (extract-worker.ts), each with a bounded heap,
// and one that takes too long, runs out of memory or crashes ends: the attachment is recorded as
// failed with the reason, and the next one gets a new process. Processes rather than threads:
// V8 ends a whole process when one allocation overshoots a heap limit by more than it can
// absorb, and that must be the extractor's process, never Sealbox's. Idle processes do not keep
// Sealbox running.
export class ExtractorPool {
  readonly #log: Logger;
  readonly #heapMb: number;
  readonly #jobMs: number;
  readonly #ocr: string | null;
  readonly #nice: number;
  readonly #slots: Slot[];
  readonly #queue: Job[] = [];
  #next = 1;
  #closed = false;

  constructor(o: ExtractorPoolOptions) {
    this.#log = o.log;
    this.#heapMb = o.heapMb ?? 128;
    // The run's own deadline (EXTRACT_LIMITS.seconds) ends a well-behaved read first, with what it found.
    this.#jobMs = (o.jobSeconds ?? 2 * EXTRACT_LIMITS.seconds) * 1000;
    this.#ocr = o.ocr ?? null;
    this.#nice = o.nice ?? 0;
    this.#slots = Array.from({ length: o.processes ?? 1 }, () => ({ child: null, job: null, timer: null, stderr: '' }));
  }

  extract(file: AttachmentFile): Promise<{ text: string; extraction: Extraction }> {
    if (this.#closed) return Promise.resolve(STOPPED);
    return new Promise((done) => {
      this.#queue.push({ ...file, id: this.#next++, done });
      this.#dispatch();
    });
  }

  close(): void {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.done(STOPPED);
    for (const s of this.#slots) {
      const child = s.child;
      s.child = null;
      child?.kill('SIGKILL');
      if (s.job) this.#finish(s, STOPPED);
    }
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      const child = slot.child ?? this.#spawn(slot);
      slot.job = job;
      child.ref();
      child.channel?.ref();
      // The verdict waits for the event loop's next turn: a host thread kept busy past the deadline
      // (a long index batch) may have the answer waiting in the channel, read in the poll phase
      // that comes between the timers and setImmediate; it would otherwise be taken for a hang.
      slot.timer = setTimeout(() => setImmediate(() => {
        if (slot.job === job) this.#fail(slot, `not read within ${this.#jobMs / 1000} s`);
      }), this.#jobMs);
      this.#send(slot, child, job);
    }
  }

  #send(slot: Slot, child: ChildProcess, job: Job): void {
    const { id, content, contentType, filename } = job;
    const messages = function* (ocr: string | null): Generator<ExtractorMessage> {
      yield { id, size: content.byteLength, contentType, filename, ocr, piece: content.subarray(0, PIECE_BYTES) };
      for (let at = PIECE_BYTES; at < content.byteLength; at += PIECE_BYTES) yield { id, piece: content.subarray(at, at + PIECE_BYTES) };
    }(this.#ocr);
    const next = (err?: Error | null): void => {
      // Failed, timed out or stopped meanwhile: the rest is not needed.
      if (slot.child !== child || slot.job !== job) return;
      if (err) return this.#fail(slot, `the extractor could not be sent the attachment: ${err.message}`);
      const m = messages.next();
      if (!m.done) child.send(m.value, next);
    };
    next();
  }

  #spawn(slot: Slot): ChildProcess {
    const child = fork(new URL('./extract-worker.ts', import.meta.url), [], {
      execArgv: [`--max-old-space-size=${this.#heapMb}`, '--max-semi-space-size=8'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    slot.child = child;
    slot.stderr = '';
    // Niceness is inherited by the tools it runs. A process already gone is the exit handler's.
    if (this.#nice > 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, this.#nice);
      } catch {
        // gone already
      }
    }
    // What it said last says why it ended (V8's out-of-memory message); the pipe alone keeps nothing running.
    child.stderr!.on('data', (chunk: Buffer) => { slot.stderr = (slot.stderr + chunk.toString()).slice(-4096); });
    (child.stderr as Socket).unref();
    child.on('message', (m: { id: number; text: string; extraction: Extraction }) => {
      if (slot.child === child && slot.job?.id === m.id) this.#finish(slot, { text: m.text, extraction: m.extraction });
    });
    child.on('error', (err) => {
      if (slot.child === child) this.#fail(slot, `the extractor failed: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      if (slot.child !== child) return;
      this.#fail(slot, /heap out of memory|Allocation failed/.test(slot.stderr)
        ? `more than ${this.#heapMb} MB of memory needed`
        : `the extractor stopped (${signal ?? `exit code ${code}`})`);
    });
    return child;
  }

  // The job fails and its process is ended; the next job gets a new one.
  #fail(slot: Slot, reason: string): void {
    const child = slot.child;
    slot.child = null;
    child?.kill('SIGKILL');
    if (slot.job) {
      this.#log.warn({ contentType: slot.job.contentType, reason }, 'attachment text extraction failed');
      this.#finish(slot, { text: '', extraction: `failed: ${reason}` });
    }
  }

  #finish(slot: Slot, result: { text: string; extraction: Extraction }): void {
    const job = slot.job!;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.child?.unref();
    slot.child?.channel?.unref();
    job.done(result);
    if (!this.#closed) this.#dispatch();
  }
}
