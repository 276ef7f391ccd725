import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CaptureRecord } from '../../core/types.ts';
import { newId } from '../../core/ids.ts';
import type { IncomingMessage } from '../capture-writer.ts';
import { outcomeFacts } from '../capture-writer.ts';

// Commits running at once from the spool (the archive writer batches them into shared flushes).
const COMMIT_CONCURRENCY = 16;
// A failed commit is retried after 1 s, then twice as long each time, up to this.
const MAX_RETRY_MS = 60_000;
const READ_CHUNK_BYTES = 64 * 1024;

export interface SpoolDeps {
  // The way into the archive for a spooled message (its journal report unwrapped as the live path would).
  begin(capture: CaptureRecord): IncomingMessage;
  isCommitted(captureId: string): Promise<boolean>;
  log: Logger;
}

// Observe mode's durable spool. A message is written to <name>.eml as it arrives; at end of
// message the file is flushed and its capture record (envelope and all) written to <name>.json
// with a flushed rename, and only then does the MTA get its answer. The .json is the mark of a
// complete message. The spool then commits it to the archive in the background and deletes
// both files; whatever is left after a crash is committed at the next start.
export class MilterSpool {
  readonly dir: string;
  readonly #deps: SpoolDeps;
  readonly #queue: { name: string; capture: CaptureRecord; attempts: number }[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(dir: string, deps: SpoolDeps) {
    this.dir = dir;
    this.#deps = deps;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  create(): SpoolFile {
    return new SpoolFile(this.dir, newId('spool'));
  }

  // Queue a sealed spool file for its commit.
  enqueue(name: string, capture: CaptureRecord): void {
    this.#queue.push({ name, capture, attempts: 0 });
    this.#pump();
  }

  // The spool files a previous run left: complete ones are committed (unless that commit already
  // happened and only the deletion was lost), incomplete ones were never answered and go.
  async recover(): Promise<number> {
    const names = await readdir(this.dir);
    const complete = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    let queued = 0;
    for (const file of names) {
      if (file.endsWith('.tmp') || (file.endsWith('.eml') && !complete.has(file.slice(0, -4)))) {
        await rm(join(this.dir, file), { force: true });
        continue;
      }
      if (!file.endsWith('.json')) continue;
      const name = file.slice(0, -5);
      let capture: CaptureRecord;
      try {
        capture = JSON.parse(await readFile(join(this.dir, file), 'utf8')) as CaptureRecord;
      } catch (err) {
        this.#deps.log.error({ err, file: join(this.dir, file) }, 'unreadable milter spool record left in place');
        continue;
      }
      if (await this.#deps.isCommitted(capture.id)) {
        await this.#remove(name);
        continue;
      }
      this.enqueue(name, capture);
      queued += 1;
    }
    if (queued > 0) this.#deps.log.info({ spooled: queued }, 'committing milter spool left by a previous run');
    return queued;
  }

  // Stop retrying; commits under way finish. What is left stays on disk for the next start.
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.all([...this.#running]);
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < COMMIT_CONCURRENCY && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      const run: Promise<void> = this.#commit(job.name, job.capture).then(
        () => {},
        (err) => {
          job.attempts += 1;
          const delay = Math.min(1000 * 2 ** (job.attempts - 1), MAX_RETRY_MS);
          this.#deps.log.error({ err, captureId: job.capture.id, attempts: job.attempts, retryInMs: delay }, 'milter spool commit failed; will retry');
          if (this.#closed) return;
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            this.#queue.push(job);
            this.#pump();
          }, delay);
          this.#timers.add(timer);
        },
      ).finally(() => {
        this.#running.delete(run);
        this.#pump();
      });
      this.#running.add(run);
    }
  }

  async #commit(name: string, capture: CaptureRecord): Promise<void> {
    const message = this.#deps.begin(capture);
    try {
      for await (const chunk of createReadStream(join(this.dir, `${name}.eml`), { highWaterMark: READ_CHUNK_BYTES })) {
        await message.write(chunk as Buffer);
      }
    } catch (err) {
      await message.discard();
      throw err;
    }
    const outcome = await message.commit(capture);
    this.#deps.log.info({ ...outcomeFacts(outcome), size: message.size, spool: name }, 'captured');
    await this.#remove(name);
  }

  async #remove(name: string): Promise<void> {
    // The record first: an .eml without its .json is an incomplete file, never committed twice.
    await rm(join(this.dir, `${name}.json`), { force: true });
    await rm(join(this.dir, `${name}.eml`), { force: true });
  }
}

// One message being spooled.
export class SpoolFile {
  readonly name: string;
  readonly #dir: string;
  #handle: FileHandle | null = null;
  #done = false;

  constructor(dir: string, name: string) {
    this.#dir = dir;
    this.name = name;
  }

  async write(bytes: Buffer): Promise<void> {
    this.#handle ??= await open(join(this.#dir, `${this.name}.eml`), 'wx', 0o600);
    let written = 0;
    while (written < bytes.length) written += (await this.#handle.write(bytes, written, bytes.length - written)).bytesWritten;
  }

  // Durable: the bytes, then the record, then the directory entries.
  async seal(capture: CaptureRecord): Promise<void> {
    this.#handle ??= await open(join(this.#dir, `${this.name}.eml`), 'wx', 0o600);
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = null;
    const tmp = join(this.#dir, `${this.name}.json.tmp`);
    const record = await open(tmp, 'wx', 0o600);
    try {
      await record.writeFile(JSON.stringify(capture));
      await record.sync();
    } finally {
      await record.close();
    }
    await rename(tmp, join(this.#dir, `${this.name}.json`));
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.#done = true;
  }

  async discard(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#handle?.close().catch(() => {});
    this.#handle = null;
    // seal() may have failed after its rename (the directory flush): that record was never
    // answered, and without its .eml it would be retried for ever. The record goes first.
    await rm(join(this.#dir, `${this.name}.json`), { force: true });
    await rm(join(this.#dir, `${this.name}.json.tmp`), { force: true });
    await rm(join(this.#dir, `${this.name}.eml`), { force: true });
  }
}
