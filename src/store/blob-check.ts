import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../core/threads.ts';
import type { Config } from '../core/config.ts';
import { blobSpec } from './open-stores.ts';
import { packBatch } from './blob-batch.ts';
import type { BlobToCheck } from './blob-batch.ts';

// What re-reading one message found: the sha256 and size of the bytes it decrypted to, or why it
// could not be read (a damaged blob, a tag that does not match, a key that is not loaded).
export type BlobOutcome = { sha: string; size: number } | { error: string };

// Every message decrypted, decompressed and hashed on all cores. Each message costs two cipher
// set-ups (its data key unwrapped, its blob decrypted) and a zstd frame, and it is those, not
// the bytes, that bound the rate on small mail. So each thread opens the blob store and the key
// itself and is handed batches of rows (see blob-check-worker.ts), while the calling thread goes
// on with the ledger.
export class BlobCheckPool {
  readonly #workers: { worker: Worker; busy: number }[] = [];
  readonly #waiting = new Map<number, { resolve(outcomes: BlobOutcome[]): void; reject(err: Error): void; worker: number }>();
  #next = 0;
  #failed: Error | null = null;

  constructor(config: Config, threads = Math.max(1, Math.min(availableParallelism(), 4))) {
    for (let i = 0; i < threads; i++) {
      const worker = startThread(new URL('./blob-check-worker.ts', import.meta.url), { spec: blobSpec(config) });
      worker.on('message', ({ id, outcomes }: { id: number; outcomes: BlobOutcome[] }) => {
        const waiting = this.#waiting.get(id);
        if (!waiting) return;
        this.#waiting.delete(id);
        this.#workers[waiting.worker]!.busy--;
        waiting.resolve(outcomes);
      });
      const fail = (err: Error) => {
        this.#failed ??= err;
        for (const [id, w] of this.#waiting) if (w.worker === i) {
          this.#waiting.delete(id);
          w.reject(err);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => { if (code !== 0) fail(new Error(`a blob checker thread stopped (exit ${code})`)); });
      this.#workers.push({ worker, busy: 0 });
    }
  }

  get threads(): number {
    return this.#workers.length;
  }

  // The outcomes of these rows, in their order, from the least busy thread.
  check(rows: BlobToCheck[]): Promise<BlobOutcome[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    const at = this.#workers.reduce((best, w, i) => (w.busy < this.#workers[best]!.busy ? i : best), 0);
    const id = this.#next++;
    this.#workers[at]!.busy++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, worker: at });
      const batch = packBatch(rows);
      this.#workers[at]!.worker.postMessage({ id, batch }, [batch.seals.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
