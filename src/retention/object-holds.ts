import type { Clock } from '../core/clock.ts';
import type { Transactions } from '../core/transactions.ts';
import type { SearchIndex } from '../index/search-index.ts';
import type { LegalHolds } from './legal-holds.ts';
import type { ObjectHoldStore } from './object-hold-store.ts';

const PAGE = 500;

export interface ObjectHoldDeps {
  db: Transactions;
  store: ObjectHoldStore;
  holds: LegalHolds;
  search: Pick<SearchIndex, 'inScope'>;
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

  constructor(d: ObjectHoldDeps) {
    this.#d = d;
  }

  async sync(): Promise<{ held: number; placed: number; removed: number }> {
    const { db, store, holds, search, clock } = this.#d;
    const { inForce, held } = await db.read(async (tx) => ({ inForce: await holds.inForce(tx, search), held: new Set(await store.held(tx)) }));
    const covered = new Set<string>();
    if (inForce.ids.length > 0) {
      for (let after = 0; ;) {
        const page = await db.read((tx) => store.messages(tx, after, PAGE));
        if (page.length === 0) break;
        after = page.at(-1)!.id;
        const by = await inForce.covering(page.filter((m) => !covered.has(m.file)).map((m) => m.sha256));
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
    for (const file of held) {
      if (covered.has(file)) continue;
      await this.#d.legalHold(file, false);
      await db.write((tx) => store.unmarkHeld(tx, file));
      removed++;
    }
    return { held: covered.size, placed, removed };
  }
}
