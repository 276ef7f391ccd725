import type { Logger } from 'pino';

// What a follow-up needs done, item by item. An item is keyed by the row of its queue table in
// the index database (a capture, a document), written in the transaction that indexed it.
export interface FollowUp<P, R> {
  what: string;                                  // for the log: "authentication check", …
  log: Logger;
  concurrency: number;                           // items worked on at once
  handoffBytes: number;                          // bytes of items kept in memory; the rest read again
  flushCount: number;                            // results stored together at most
  keyOf(item: P): number;
  bytesOf(item: P): number;                      // what the item holds in memory (0: nothing)
  lighten(item: P): P;                           // the item without its bytes: read again in its turn
  // Items of the stored queue after the key `after`, ascending, at most `limit`, without bytes
  // (one whose row is gone is an item too: run answers it).
  queued(after: number, limit: number): Promise<P[]>;
  run(item: P): Promise<R>;
  failed(item: P, err: unknown): R;              // what a run that threw leaves as its result
  store(done: { key: number; result: R }[]): Promise<void>;   // one transaction; queue rows removed
}

// How long finished items wait to be stored together (one transaction for several).
const FLUSH_MS = 100;

// Work that follows the index instead of holding it back (authentication verdicts, the text
// inside attachments): the indexer queues each item in the transaction that indexes it and hands
// it over here with the bytes it read; this works on `concurrency` items at once and stores the
// results in small batches. Items kept in memory are bounded in bytes and in number; beyond
// that, and after a restart, the stored queue is the work list and the bytes are read again.
// A result that cannot be stored stays queued in the database and is worked on again.
export class FollowUpQueue<P, R> {
  readonly #f: FollowUp<P, R>;
  readonly #waiting: P[] = [];
  #waitingBytes = 0;
  readonly #known = new Set<number>();          // waiting or in flight
  #inFlight = 0;
  #done: { key: number; result: R }[] = [];
  #settled: (() => void) | null = null;
  // The stored queue may hold items not in #waiting (a restart, a full hand-over).
  #scanFrom: number | null = 0;
  #closed = false;

  constructor(f: FollowUp<P, R>) {
    this.#f = f;
  }

  // Items the indexer has just committed with their queue rows.
  offer(items: readonly P[]): void {
    for (const it of items) {
      const key = this.#f.keyOf(it);
      if (this.#known.has(key)) continue;
      if (this.#waiting.length >= this.#f.concurrency * 64) {
        this.#scanFrom ??= 0;
        continue;
      }
      const bytes = this.#f.bytesOf(it);
      const item = this.#waitingBytes + bytes <= this.#f.handoffBytes ? it : this.#f.lighten(it);
      this.#known.add(key);
      this.#waiting.push(item);
      this.#waitingBytes += this.#f.bytesOf(item);
    }
    this.#pump();
  }

  // Whether anything is waiting, being worked on or waiting to be stored.
  get busy(): boolean {
    return !this.#closed && (this.#waiting.length > 0 || this.#inFlight > 0 || this.#done.length > 0 || this.#scanFrom !== null);
  }

  // One step of the thread's loop: start items up to the limit, wait until one ends or FLUSH_MS
  // passed, store the results that are ready. Returns how many it stored.
  async step(): Promise<number> {
    await this.#refill();
    this.#pump();
    if (this.#inFlight > 0 && this.#done.length < this.#f.flushCount) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_MS);
        this.#settled = () => { clearTimeout(timer); resolve(); };
      });
      this.#settled = null;
    }
    return this.#flush();
  }

  // Everything queued worked on and stored (tests, repair commands, a stopping thread).
  async drain(): Promise<void> {
    while (this.busy) await this.step();
  }

  // Looks through the stored queue again at the next step: items other indexers queued without
  // handing them over (nodes without the duties), or a node that died left there.
  rescan(): void {
    this.#scanFrom ??= 0;
  }

  // Stops: what is in flight is left queued in the database, for the next start.
  close(): void {
    this.#closed = true;
  }

  async #refill(): Promise<void> {
    if (this.#scanFrom === null || this.#waiting.length >= this.#f.concurrency) return;
    const limit = this.#f.concurrency * 4;
    const items = await this.#f.queued(this.#scanFrom, limit);
    this.#scanFrom = items.length < limit ? null : this.#f.keyOf(items.at(-1)!);
    for (const item of items) {
      const key = this.#f.keyOf(item);
      if (this.#known.has(key)) continue;   // waiting, in flight, or handed over meanwhile
      this.#known.add(key);
      this.#waiting.push(item);
    }
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight < this.#f.concurrency && this.#waiting.length > 0) {
      const item = this.#waiting.shift()!;
      this.#waitingBytes -= this.#f.bytesOf(item);
      this.#inFlight++;
      void this.#f.run(item).catch((err: unknown) => {
        this.#f.log.warn({ err, key: this.#f.keyOf(item) }, `${this.#f.what} failed`);
        return this.#f.failed(item, err);
      }).then((result) => {
        this.#inFlight--;
        this.#done.push({ key: this.#f.keyOf(item), result });
        this.#pump();
        if (this.#done.length >= this.#f.flushCount || this.#inFlight === 0) this.#settled?.();
      });
    }
  }

  async #flush(): Promise<number> {
    if (this.#done.length === 0 || this.#closed) return 0;
    const done = this.#done;
    this.#done = [];
    try {
      await this.#f.store(done);
    } catch (err) {
      this.#f.log.error({ err, items: done.length }, `storing the results of ${this.#f.what} failed; they will be worked on again`);
      this.#scanFrom ??= 0;
    }
    for (const d of done) this.#known.delete(d.key);
    return done.length;
  }
}
