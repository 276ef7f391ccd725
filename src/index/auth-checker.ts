import type { Logger } from 'pino';
import type { Envelope } from '../core/types.ts';
import { authenticateMessage } from './authenticate-message.ts';
import type { CaptureQueue } from './capture-queue.ts';
import type { Resolver } from './dns-resolver.ts';
import type { IndexStore } from './index-store.ts';

export interface AuthCheckerOptions {
  index: IndexStore;
  captures: CaptureQueue;
  // A message's bytes as the indexer reads them (at most MAX_PARSE_BYTES; truncated ones are
  // judged by the indexer at once and never queued).
  read(sha256: string): Promise<Buffer>;
  resolver: Resolver;
  mta: string;
  log: Logger;
  concurrency?: number;      // messages checked at once
  handoffBytes?: number;     // bytes of messages kept in memory for the check; the rest re-read
}

interface Pending {
  rowId: number;
  envelope: Envelope;
  raw: Buffer | null;        // null: read again when its turn comes
  sha256: string;
}

// How long finished verdicts wait to be stored together (one transaction for many).
const FLUSH_MS = 100;
const FLUSH_COUNT = 200;

// The authentication verdicts (SPF, DKIM, ARC, DMARC) of captures the indexer has already made
// searchable. Their DNS lookups can take seconds, or hang until the timeout, and must not hold
// the index back; so the indexer queues each capture in the transaction that indexes it
// (auth_pending) and hands over the bytes it read, and this checks up to `concurrency` messages
// at once, storing verdicts in small batches, each with the time it was checked: still the
// verdict at receipt, give or take the lag the health page shows. A check that throws is a
// verdict too (its error). After a restart, or when the hand-over was full, the queue in the
// index database is the work list and the bytes are read again.
export class AuthChecker {
  readonly #o: AuthCheckerOptions;
  readonly #concurrency: number;
  readonly #handoffBytes: number;
  readonly #waiting: Pending[] = [];
  #waitingBytes = 0;
  readonly #known = new Set<number>();          // waiting or in flight
  #inFlight = 0;
  #done: { rowId: number; verdicts: unknown }[] = [];
  #settled: (() => void) | null = null;
  // The stored queue may hold captures not in #waiting (a restart, a full hand-over).
  #scanFrom: number | null = 0;

  constructor(o: AuthCheckerOptions) {
    this.#o = o;
    this.#concurrency = o.concurrency ?? 32;
    this.#handoffBytes = o.handoffBytes ?? 8 * 1024 * 1024;
  }

  // Captures the indexer has just committed with their queue rows: kept with their bytes while
  // there is room (else read again when their turn comes), and left to the stored queue when the
  // list in memory is long (a resolver that hangs while mail keeps coming).
  offer(items: readonly { rowId: number; sha256: string; envelope: Envelope; raw: Buffer | null }[]): void {
    for (const it of items) {
      if (this.#known.has(it.rowId)) continue;
      const raw = it.raw && this.#waitingBytes + it.raw.length <= this.#handoffBytes ? it.raw : null;
      if (this.#waiting.length >= this.#concurrency * 64) {
        this.#scanFrom ??= 0;
        continue;
      }
      this.#known.add(it.rowId);
      this.#waiting.push({ rowId: it.rowId, sha256: it.sha256, envelope: it.envelope, raw });
      if (raw) this.#waitingBytes += raw.length;
    }
    this.#pump();
  }

  // Whether anything is waiting, being checked or waiting to be stored.
  get busy(): boolean {
    return this.#waiting.length > 0 || this.#inFlight > 0 || this.#done.length > 0 || this.#scanFrom !== null;
  }

  // One step of the thread's loop: start checks up to the limit, wait until one ends or
  // FLUSH_MS passed, store the verdicts that are ready. Returns how many it stored.
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

  // Everything queued checked and stored (tests, repair commands, a stopping thread).
  async drain(): Promise<void> {
    while (this.busy) await this.step();
  }

  // Captures from the stored queue that are not here yet, while there is room to check them.
  async #refill(): Promise<void> {
    if (this.#scanFrom === null || this.#waiting.length >= this.#concurrency) return;
    const { index, captures } = this.#o;
    const ids = (await index.read((tx) => index.pendingAuth(tx, this.#scanFrom!, this.#concurrency * 4)));
    this.#scanFrom = ids.length < this.#concurrency * 4 ? null : ids.at(-1)!;
    const fresh = ids.filter((id) => !this.#known.has(id));
    if (fresh.length === 0) return;
    const rows = await captures.capturesByRowIds(fresh);
    const found = new Set(rows.map((r) => r.rowId));
    // A queued capture without its row or envelope has nothing to check: its verdict says so.
    for (const id of fresh) if (!found.has(id)) this.#done.push({ rowId: id, verdicts: { error: 'the capture is gone; not verified' } });
    for (const r of rows) {
      this.#known.add(r.rowId);
      if (r.envelope === null) this.#done.push({ rowId: r.rowId, verdicts: { error: 'no envelope; not verified' } });
      else this.#waiting.push({ rowId: r.rowId, sha256: r.sha256, envelope: r.envelope, raw: null });
    }
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#waiting.length > 0) {
      const p = this.#waiting.shift()!;
      if (p.raw) this.#waitingBytes -= p.raw.length;
      this.#inFlight++;
      void this.#check(p).then((verdicts) => {
        this.#inFlight--;
        this.#done.push({ rowId: p.rowId, verdicts });
        this.#pump();
        if (this.#done.length >= FLUSH_COUNT || this.#inFlight === 0) this.#settled?.();
      });
    }
  }

  async #check(p: Pending): Promise<unknown> {
    const { resolver, mta, log } = this.#o;
    const env = p.envelope;
    try {
      const raw = p.raw ?? await this.#o.read(p.sha256);
      const verdicts = await authenticateMessage(raw, { clientAddress: env.clientAddress, clientHelo: env.clientHelo, mailFrom: env.mailFrom, mta, resolver });
      return { ...verdicts, checkedAt: new Date().toISOString() };
    } catch (err) {
      // A fault in verification is recorded as the verdict; it does not come back.
      log.warn({ err, captureRow: p.rowId }, 'authentication check failed');
      return { error: (err as Error).message, checkedAt: new Date().toISOString() };
    }
  }

  async #flush(): Promise<number> {
    if (this.#done.length === 0) return 0;
    const done = this.#done;
    this.#done = [];
    const { index, log } = this.#o;
    try {
      await index.write(async (tx) => {
        for (const d of done) await index.completeAuth(tx, d.rowId, d.verdicts);
      });
    } catch (err) {
      // Still queued in the database: checked again from there.
      log.error({ err, verdicts: done.length }, 'storing authentication verdicts failed; they will be checked again');
      this.#scanFrom ??= 0;
    }
    for (const d of done) this.#known.delete(d.rowId);
    return done.length;
  }
}
