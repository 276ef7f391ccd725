import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { SealboxError } from '../../core/errors.ts';
import type { CaptureSource } from '../../core/types.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import type { CaptureWriter } from '../capture-writer.ts';
import type { ImportProgress } from './import-progress.ts';

// Where a message came from, for the error report: the fields that apply to its format.
export interface ImportLocation {
  file?: string;
  offset?: number;
  entry?: string;        // zip entry, Maildir file name
  folder?: string;       // IMAP or PST folder, Maildir folder
  uidValidity?: string;
  uid?: number;
  node?: number;         // PST descriptor node id
}

export interface ImportItem {
  at: ImportLocation;
  // The message's identity in its source. The capture id is derived from it, so a message that
  // was committed once is recognised by the capture row itself (atomic with the commit): a
  // resumed or repeated import skips it, and nothing but that row needs to be durable.
  key: string;
  provenance: Record<string, unknown>;
  raw: Buffer | null;
  open?: () => AsyncIterable<Buffer>;   // when raw is null: the bytes, streamed (large messages)
}

export interface ImportContext {
  readonly signal: AbortSignal;
  isImported(key: string): Promise<boolean>;
  skipped(count?: number): void;                  // the source skipped messages it knew were done
  failed(at: ImportLocation, err: unknown): void; // a message that could not even be read
  note(text: string): void;                       // something the operator should know, in the report
  advance(units: number): void;                   // progress, in the unit of survey()'s total
  settle(): Promise<void>;                        // waits for every commit under way
  state: { get(name: string): Promise<unknown>; set(name: string, value: unknown): Promise<void> };
}

export interface ImportSource {
  readonly source: CaptureSource;                 // import:mbox, import:imap …
  survey(): Promise<{ total: number; unit: 'messages' | 'bytes' }>;
  items(ctx: ImportContext): AsyncIterable<ImportItem>;
}

export interface ImportError extends ImportLocation {
  error: string;
  code: string;
}

export interface ImportReport {
  source: CaptureSource;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  messages: number;        // seen: imported + skipped + failed
  imported: number;        // new captures
  alreadyArchived: number; // of those, bytes the archive already held (one more capture, no new blob)
  skipped: number;         // imported by an earlier run
  failed: number;
  interrupted: boolean;
  notes: string[];
  errors: ImportError[];
}

export interface ImportRunnerDeps {
  meta: MetadataStore;
  capture: CaptureWriter;
  clock: Clock;
  progress: ImportProgress | null;
  concurrency?: number;        // commits in flight: group commit shares one fsync among them
  maxBytesInFlight?: number;
}

const CONCURRENCY = 256;
// Reading and sealing are synchronous: yield to the event loop this often so that the writer's
// flush (fsync) of the messages already sealed overlaps with sealing the next ones.
const YIELD_EVERY_MS = 4;
const MAX_BYTES_IN_FLIGHT = 128 * 1024 * 1024;
const STATE_PREFIX = 'import-state:';

// The capture id of an imported message: a function of its source and its key.
export function importCaptureId(source: CaptureSource, key: string): string {
  return `imp_${createHash('sha256').update(`${source}\0${key}`).digest('hex').slice(0, 40)}`;
}

export function errorText(err: unknown): { error: string; code: string } {
  if (err instanceof SealboxError) return { error: err.message, code: err.code };
  const e = err as { message?: string; code?: unknown };
  return { error: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : 'SEALBOX_ERR_IMPORT' };
}

// Drives one import: takes a source's messages in order, skips those already imported, seals the
// others and keeps many commits in flight so that they share flushes (group commit). Each
// message is acknowledged to the report only once its capture is durable.
export class ImportRunner {
  readonly #deps: ImportRunnerDeps;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #inFlightIds = new Set<string>();
  #bytesInFlight = 0;
  #units = 0;
  #lastYield = 0;
  readonly #report: Omit<ImportReport, 'source' | 'finishedAt' | 'seconds' | 'messages'> = {
    startedAt: '', imported: 0, alreadyArchived: 0, skipped: 0, failed: 0, interrupted: false, notes: [], errors: [],
  };

  constructor(deps: ImportRunnerDeps) {
    this.#deps = deps;
  }

  // Stops taking new messages; those under way are committed. run() then resolves.
  interrupt(): void {
    this.#report.interrupted = true;
    this.#abort.abort();
  }

  // plan: what source.survey() answered (called first, before the archive is opened).
  async run(source: ImportSource, plan: { total: number; unit: 'messages' | 'bytes' }): Promise<ImportReport> {
    const { clock, progress } = this.#deps;
    const started = performance.now();
    this.#report.startedAt = new Date(clock.now()).toISOString();
    progress?.start(plan.total, plan.unit);
    const ctx = this.#context(source);
    try {
      for await (const item of source.items(ctx)) {
        if (this.#abort.signal.aborted) break;
        await this.#take(source.source, item);
      }
    } catch (err) {
      // A source that cannot go on (a server that hung up, an unreadable file): what was
      // committed stays, the rest is for the next run.
      this.#report.notes.push(`stopped early: ${errorText(err).error}`);
      this.#failed({}, err);
    } finally {
      await this.#settle();
      progress?.stop();
    }
    const r = this.#report;
    return {
      source: source.source, ...r, finishedAt: new Date(clock.now()).toISOString(),
      seconds: (performance.now() - started) / 1000, messages: r.imported + r.skipped + r.failed,
    };
  }

  #context(source: ImportSource): ImportContext {
    const { meta } = this.#deps;
    const stateKey = (name: string) => `${STATE_PREFIX}${source.source}:${name}`;
    return {
      signal: this.#abort.signal,
      isImported: (key) => this.#imported(importCaptureId(source.source, key)),
      skipped: (count = 1) => {
        this.#report.skipped += count;
        this.#tick();
      },
      failed: (at, err) => this.#failed(at, err),
      note: (text) => { this.#report.notes.push(text); },
      advance: (units) => {
        this.#units += units;
        this.#tick();
      },
      settle: () => this.#settle(),
      state: {
        get: async (name) => {
          const value = await meta.read((tx) => meta.getSetting(tx, stateKey(name)));
          return value === null ? undefined : JSON.parse(value);
        },
        set: (name, value) => meta.write((tx) => meta.setSetting(tx, stateKey(name), JSON.stringify(value))),
      },
    };
  }

  async #take(source: CaptureSource, item: ImportItem): Promise<void> {
    const { clock } = this.#deps;
    const id = importCaptureId(source, item.key);
    if (this.#inFlightIds.has(id) || await this.#imported(id)) {
      this.#report.skipped++;
      this.#tick();
      return;
    }
    if (performance.now() - this.#lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.#lastYield = performance.now();
    }
    while (this.#inFlight.size >= (this.#deps.concurrency ?? CONCURRENCY) || this.#bytesInFlight > (this.#deps.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT)) {
      await Promise.race(this.#inFlight);
    }
    // Imported messages carry no envelope a journal report could be checked against: kept as read.
    const sealer = this.#deps.capture.begin({ journal: 'off' });
    try {
      if (item.raw) await sealer.write(item.raw);
      else for await (const chunk of item.open!()) await sealer.write(chunk);
    } catch (err) {
      await sealer.discard();
      this.#failed(item.at, err);
      return;
    }
    const size = sealer.size;
    const capture = { id, source, receivedAt: clock.now(), envelope: null, provenance: item.provenance };
    this.#inFlightIds.add(id);
    this.#bytesInFlight += size;
    const done: Promise<void> = sealer.commit(capture).then(
      ({ result }) => {
        this.#report.imported++;
        if (result.duplicate) this.#report.alreadyArchived++;
      },
      async (err) => {
        // Committed by another run of the same import at the same moment: not a failure.
        if (await this.#imported(id).catch(() => false)) this.#report.skipped++;
        else this.#failed(item.at, err);
      },
    ).finally(() => {
      this.#inFlight.delete(done);
      this.#inFlightIds.delete(id);
      this.#bytesInFlight -= size;
      this.#tick();
    });
    this.#inFlight.add(done);
  }

  #imported(captureId: string): Promise<boolean> {
    const { meta } = this.#deps;
    return meta.read((tx) => meta.hasCapture(tx, captureId));
  }

  async #settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #failed(at: ImportLocation, err: unknown): void {
    this.#report.failed++;
    this.#report.errors.push({ ...at, ...errorText(err) });
    this.#tick();
  }

  #tick(): void {
    const r = this.#report;
    this.#deps.progress?.update({ messages: r.imported + r.skipped + r.failed, done: this.#units });
  }
}
