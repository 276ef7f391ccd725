import { statfsSync } from 'node:fs';
import type { Logger } from 'pino';

export type SpaceState = 'ok' | 'low' | 'refusing';

export interface SpaceReading {
  state: SpaceState;
  path: string;          // the folder with the least free space
  freeBytes: number;
  totalBytes: number;
  at: number;            // ms since the epoch
}

export interface SpaceThresholds {
  warnFreeBytes: number;    // below this: said in the log and on the health page
  refuseFreeBytes: number;  // below this: listeners refuse new mail (452) before writing anything
}

const CHECK_EVERY_MS = 1000;

// Free space where Sealbox writes (the data folder, the blob store, the milter spool), read with
// statfs at most once a second. A full disk is still handled where it strikes (every write fails
// closed); this keeps mail out before it gets there, and tells someone while there is time.
export class DiskSpace {
  readonly #paths: string[];
  readonly #limits: SpaceThresholds;
  readonly #log: Logger | null;   // null: a reading only, nobody told of changes
  readonly #statfs: typeof statfsSync;
  #reading: SpaceReading | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(paths: string[], limits: SpaceThresholds, log: Logger | null, options: { statfs?: typeof statfsSync } = {}) {
    this.#paths = [...new Set(paths)];
    this.#limits = limits;
    this.#log = log;
    this.#statfs = options.statfs ?? statfsSync;
  }

  start(): void {
    this.check();
    this.#timer ??= setInterval(() => this.check(), CHECK_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  // The latest reading, refreshed if it is older than a second.
  get reading(): SpaceReading {
    if (!this.#reading || Date.now() - this.#reading.at >= CHECK_EVERY_MS) this.check();
    return this.#reading!;
  }

  get refusing(): boolean {
    return this.reading.state === 'refusing';
  }

  check(): SpaceReading {
    let least: Omit<SpaceReading, 'state' | 'at'> | null = null;
    for (const path of this.#paths) {
      try {
        const fs = this.#statfs(path);
        const free = fs.bavail * fs.bsize;
        if (!least || free < least.freeBytes) least = { path, freeBytes: free, totalBytes: fs.blocks * fs.bsize };
      } catch (err) {
        // A folder that cannot be examined is not known to have room: the writes decide.
        this.#log?.warn({ err, path }, 'could not read free disk space');
      }
    }
    const before = this.#reading?.state ?? 'ok';
    const freeBytes = least?.freeBytes ?? Number.POSITIVE_INFINITY;
    const state: SpaceState = freeBytes < this.#limits.refuseFreeBytes ? 'refusing' : freeBytes < this.#limits.warnFreeBytes ? 'low' : 'ok';
    this.#reading = { state, path: least?.path ?? this.#paths[0], freeBytes, totalBytes: least?.totalBytes ?? 0, at: Date.now() };
    if (state !== before && this.#log) {
      const facts = { path: this.#reading.path, freeBytes, warnFreeBytes: this.#limits.warnFreeBytes, refuseFreeBytes: this.#limits.refuseFreeBytes };
      if (state === 'refusing') this.#log.error(facts, 'disk space below storage.refuseFreeBytes: new mail is refused with 452 until space is freed');
      else if (state === 'low') this.#log.warn(facts, 'disk space below storage.warnFreeBytes');
      else this.#log.info(facts, 'disk space back above storage.warnFreeBytes');
    }
    return this.#reading;
  }
}
