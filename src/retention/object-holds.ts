import type { Clock } from '../core/clock.ts';
import type { Transactions } from '../core/transactions.ts';
import type { SearchIndex } from '../index/search-index.ts';
import type { LegalHolds } from './legal-holds.ts';
import type { ObjectHoldStore } from './object-hold-store.ts';

const PAGE = 500;
// A whole pass asks each hold what it covers in windows of this many message row ids.
const WINDOW = 50_000;
const WHOLE_PASS_MS = 60 * 60_000;

export interface ObjectHoldDeps {
  db: Transactions;
  store: ObjectHoldStore;
  holds: LegalHolds;
  search: Pick<SearchIndex, 'inScope' | 'inScopeBetween' | 'cursor'>;
  // The blob store's legal hold on an object (S3 PutObjectLegalHold on its archived version).
  legalHold(file: string, on: boolean): Promise<void>;
  clock: Clock;
}

// Legal holds carried down to object storage: every object holding a message that a hold in force
// covers (judged as disposal judges it, on the index by the hold's scope) gets an S3 legal hold,
// so that not even the bucket's owner can delete it through S3 while the case runs, whatever its
// Object Lock date; an object no hold covers any more has it taken off. A hold covers mail that
// arrives after it was placed too, so the server runs this every blobs.s3.holdSyncSeconds. S3 is
// changed before the record of it, so a crash between the two is put right by the next run.
export class ObjectHolds {
  readonly #d: ObjectHoldDeps;
  // What the last run saw: the holds in force, the index's cursor, when it last passed over all.
  #last: { holds: string; through: number; wholeAt: number } | null = null;

  constructor(d: ObjectHoldDeps) {
    this.#d = d;
  }

  // A whole pass over what the holds in force cover when they change (and at the first run),
  // asked of each hold's scope a window of ids at a time: it reads what the holds cover, not the
  // whole archive. Otherwise only the mail received since the last run that the index has covered
  // since (a new receipt is what brings a message into a hold, or a message archived again under a
  // new object), and a whole pass again every WHOLE_PASS_MS for what else brings mail into a
  // hold (text read later from attachments, an address added to a custodian's mailbox).
  async sync(): Promise<{ held: number; placed: number; removed: number }> {
    const { db, store, holds, search, clock } = this.#d;
    // The index's cursor first: whatever it then says of a message covers at least those receipts.
    const through = await search.cursor();
    const { inForce, held } = await db.read(async (tx) => ({ inForce: await holds.inForce(tx, search), held: new Set(await store.held(tx)) }));
    const key = inForce.ids.join(' ');
    const last = this.#last;
    const whole = last === null || last.holds !== key || clock.now() - last.wholeAt >= WHOLE_PASS_MS;
    const covered = new Set<string>();
    if (inForce.ids.length > 0 && whole) {
      const end = await db.read((tx) => store.lastMessageId(tx));
      for (let after = 0; after < end; after += WINDOW) {
        const ids = await inForce.coveredBetween(after, Math.min(after + WINDOW, end));
        if (ids.size === 0) continue;
        for (const m of await db.read((tx) => store.objectsOf(tx, [...ids]))) covered.add(m.file);
      }
    } else if (inForce.ids.length > 0) {
      for (let after = last!.through; after < through;) {
        const page = await db.read((tx) => store.received(tx, after, through, PAGE));
        if (page.length === 0) break;
        after = page.at(-1)!.capture;
        const by = await inForce.covering(page.filter((m) => !covered.has(m.file) && !held.has(m.file)).map((m) => m.sha256));
        for (const m of page) if (by.has(m.sha256)) covered.add(m.file);
      }
    }
    let placed = 0;
    let removed = 0;
    for (const file of covered) {
      if (held.has(file)) continue;
      await this.#d.legalHold(file, true);
      await db.write((tx) => store.markHeld(tx, file, clock.now()));
      placed++;
    }
    for (const file of whole ? held : []) {
      if (covered.has(file)) continue;
      await this.#d.legalHold(file, false);
      await db.write((tx) => store.unmarkHeld(tx, file));
      removed++;
    }
    this.#last = { holds: key, through: Math.max(through, last?.through ?? 0), wholeAt: whole ? clock.now() : last!.wholeAt };
    return { held: whole ? covered.size : held.size + placed, placed, removed };
  }
}
