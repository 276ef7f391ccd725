import type { Worker } from 'node:worker_threads';
import { unpooled } from '../core/bytes.ts';
import { startThread } from '../core/threads.ts';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { ArchivedObject } from '../store/blob-store.ts';

// The indexer's heap is bounded so that memory stays flat whatever the mail; a message too big
// to index within it is cut (MAX_PARSE_BYTES), never the thread's reason to grow.
const HEAP_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16 };
const MAX_BACKOFF_MS = 60_000;

// Runs the indexer on its own thread and restarts it if it dies: indexing may fall behind
// (stats show the lag) but never stops for good, and captures are never affected.
export class IndexerThread {
  readonly #config: Config;
  readonly #log: Logger;
  #worker: Worker | null = null;
  #stopping = false;
  #failures = 0;
  #restart: NodeJS.Timeout | null = null;
  #duties: boolean;

  // duties: whether this node holds the archive's duties (index-worker.ts: what the thread does
  // beyond indexing new captures); a node with one server always does.
  constructor(config: Config, log: Logger, options: { duties?: boolean } = {}) {
    this.#config = config;
    this.#log = log;
    this.#duties = options.duties ?? true;
    this.#start();
  }

  #start(): void {
    const worker = startThread(new URL('./index-worker.ts', import.meta.url), { config: this.#config, duties: this.#duties }, { resourceLimits: HEAP_LIMITS });
    this.#worker = worker;
    worker.on('message', (m) => {
      if (typeof m === 'object' && m && 'cursor' in m) this.#failures = 0;
    });
    worker.on('error', (err) => this.#log.error({ err }, 'indexer thread failed'));
    worker.on('exit', (code) => {
      this.#worker = null;
      if (this.#stopping) return;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#failures++);
      this.#log.error({ code, delay }, 'indexer thread exited; restarting');
      this.#restart = setTimeout(() => this.#start(), delay);
    });
  }

  wake(): void {
    this.#worker?.postMessage('wake');
  }

  // A segment the receiving thread just put to object storage, for the thread's own reads of it
  // (its bytes alone: see unpooled).
  seed(object: ArchivedObject): void {
    const bytes = unpooled(object.bytes);
    this.#worker?.postMessage({ seed: { ...object, bytes } }, [bytes.buffer]);
  }

  // This node took the archive's duties, or lost them; a restarted thread starts with the latest.
  setDuties(held: boolean): void {
    this.#duties = held;
    this.#worker?.postMessage({ duties: held });
  }

  // Lets the current batch finish (its cursor commits with it), then ends the thread.
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restart) clearTimeout(this.#restart);
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      worker.on('message', (m) => m === 'stopped' && resolve());
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
    });
    await worker.terminate();
  }
}
