import type { CaptureQueue } from './capture-queue.ts';
import type { IndexStore } from './index-store.ts';
import type { Indexer } from './indexer.ts';

// Whether the index holds exactly one document for every message it should by now, and nothing
// else: an archive whose search silently misses mail is worse than one that says so.
export interface IndexCompleteness {
  messages: number;          // live (not disposed) messages
  documents: number;
  missing: { id: number; sha256: string; firstCapture: number }[];   // the cursor passed them, no document, no failure recorded
  failing: number;           // the cursor passed them, no document: recorded as failing, retried by the indexer
  pending: number;           // received after the cursor: not indexed yet
  stray: number[];           // documents of no live message
  seconds: number;
}

// What the health page shows of the last check: counts, not the lists.
export interface CompletenessSummary {
  at: string;
  messages: number;
  documents: number;
  missing: number;
  failing: number;
  pending: number;
  stray: number;
  seconds: number;
}

export function summary(c: IndexCompleteness, at: number): CompletenessSummary {
  return { at: new Date(at).toISOString(), messages: c.messages, documents: c.documents, missing: c.missing.length, failing: c.failing, pending: c.pending, stray: c.stray.length, seconds: c.seconds };
}

// Stores a check's summary where the health page reads it (SearchIndex.completeness).
export async function recordCompleteness(index: IndexStore, found: IndexCompleteness, now: number): Promise<void> {
  await index.write((tx) => index.setCompleteness(tx, summary(found, now)));
}

// Message row ids a window: the check holds one window of each side at a time, not a list of
// every message (at a million messages that was 1.8 GB on the index thread, every hour).
const WINDOW = 10_000;

// The index's cursor and failures are read first, then window by window the index's documents
// and then the archive's messages: a message indexed in between is then neither missing nor stray
// (it is after the cursor the check read), and one disposed in between is at worst a stray
// document, which the repair removes. That holds however long the check waits between two
// windows, so the index thread takes one window at a time between its batches (step) and is never
// held back by more than one: at a million messages the whole check is ~2 s, at 200 M minutes.
export class CompletenessCheck {
  readonly #captures: CaptureQueue;
  readonly #index: IndexStore;
  readonly #cursor: number;
  readonly #failed: Set<number>;
  readonly #end: number;
  readonly #out: IndexCompleteness = { messages: 0, documents: 0, missing: [], failing: 0, pending: 0, stray: [], seconds: 0 };
  #after = 0;

  private constructor(captures: CaptureQueue, index: IndexStore, start: { cursor: number; failed: Set<number>; end: number }) {
    this.#captures = captures;
    this.#index = index;
    this.#cursor = start.cursor;
    this.#failed = start.failed;
    this.#end = start.end;
  }

  static async start(captures: CaptureQueue, index: IndexStore): Promise<CompletenessCheck> {
    const started = performance.now();
    const { cursor, failed, lastDoc } = await index.read(async (tx) => ({
      cursor: await index.cursor(tx), failed: new Set(await index.failedCaptures(tx, Number.MAX_SAFE_INTEGER)), lastDoc: await index.lastDocumentId(tx),
    }));
    const check = new CompletenessCheck(captures, index, { cursor, failed, end: Math.max(lastDoc, await captures.lastMessageId()) });
    check.#out.seconds = (performance.now() - started) / 1000;
    return check;
  }

  // Checks the next window; the whole finding once the last is checked, else null. `seconds` is
  // the time the check itself took, without the waits between windows.
  async step(): Promise<IndexCompleteness | null> {
    if (this.#after >= this.#end) return this.#out;
    const started = performance.now();
    const out = this.#out;
    const after = this.#after;
    const docs = await this.#index.read((tx) => this.#index.documentIds(tx, after, after + WINDOW));
    const live = await this.#captures.liveMessages(after, after + WINDOW);
    out.documents += docs.length;
    out.messages += live.length;
    let d = 0;
    for (const m of live) {
      while (d < docs.length && docs[d]! < m.id) out.stray.push(docs[d++]!);
      if (d < docs.length && docs[d] === m.id) {
        d++;
        continue;
      }
      if (m.firstCapture > this.#cursor) out.pending++;
      else if (this.#failed.has(m.firstCapture)) out.failing++;
      else out.missing.push(m);
    }
    while (d < docs.length) out.stray.push(docs[d++]!);
    this.#after = after + WINDOW;
    out.seconds += (performance.now() - started) / 1000;
    return this.#after >= this.#end ? out : null;
  }
}

// The whole check at once (`sealbox verify --index`, `sealbox reindex`).
export async function checkIndex(captures: CaptureQueue, index: IndexStore): Promise<IndexCompleteness> {
  const check = await CompletenessCheck.start(captures, index);
  for (;;) {
    const found = await check.step();
    if (found) return found;
  }
}

// Puts right what checkIndex found: each missing message queued as a failed capture and indexed
// again now (it stays queued if it fails again: the indexer retries it), each stray document removed.
export async function repairIndex(found: IndexCompleteness, index: IndexStore, indexer: Indexer, now: number): Promise<{ reindexed: number; stillFailing: number; removed: number }> {
  if (found.missing.length > 0) {
    await index.write(async (tx) => {
      for (const m of found.missing) await index.recordFailure(tx, m.firstCapture, m.sha256, 'missing from the index (sealbox reindex)', now);
    });
  }
  if (found.stray.length > 0) await index.write(async (tx) => { for (const id of found.stray) await index.removeDocument(tx, id, []); });
  let stillFailing = 0;
  // Each round retries the longest-failed batch; as many rounds as it takes to try each once.
  const failingBefore = await index.read((tx) => index.failureCount(tx));
  for (let tried = 0; tried < failingBefore;) {
    const r = await indexer.retryFailures();
    if (r.retried === 0) break;
    tried += r.retried;
    stillFailing = r.stillFailing;
  }
  return { reindexed: found.missing.length, stillFailing, removed: found.stray.length };
}
