import type { Tx } from '../core/transactions.ts';
import type { BlobRef } from '../store/blob-store.ts';
import type { ReceiptMinimum } from './kept-by-rule.ts';

// A disposed message's bytes and index rows, waiting to be removed.
export interface QueuedErasure {
  id: number;
  messageRowId: number;
  blobRef: BlobRef;
  captureRowIds: number[];
  stillDisposed: boolean;        // false: the same bytes arrived again meanwhile (the message is back)
}

// A message whose every receipt's retention has ended: the policies that gave them.
export interface ExpiredMessage {
  messageRowId: number;
  sha256: string;
  retainedUntil: number;        // the latest retain-until among its captures
  rules: (string | null)[];     // each capture's rule (null: the default)
}

// What disposal needs from the metadata store, inside its transactions.
export interface DisposalStore {
  // Destroys the data keys of these live messages (crypto-shredding), marks them disposed under
  // the ledger entry at `ledgerIndex`, and queues their bytes and index rows for removal.
  // Returns the sha256s disposed (those not archived, or disposed before, are left out).
  // With `expiredBy`, a message is disposed only if every capture of it is still retained until
  // then at the latest (a receipt that arrived since, retained longer, keeps it).
  // With `receivedThrough`, a message is disposed only if it has no receipt after that capture
  // row (one a leaver's plan did not see, which may name someone still there).
  markDisposed(tx: Tx, sha256s: readonly string[], d: { at: number; ledgerIndex: number; policy: string; expiredBy?: number; receivedThrough?: number }): Promise<string[]>;
  // The receipts of these messages, with their capture entries' indexes.
  capturesOf(tx: Tx, sha256s: readonly string[]): Promise<{ captureRowId: number; ledgerIndex: number }[]>;
  // A disposed message's receipts keep their id, source and time; who sent it to whom
  // (envelope, provenance) goes with it, where its ledger entry's payload is erased too.
  clearCaptureDetails(tx: Tx, captureRowIds: readonly number[]): Promise<void>;
  // The holds in force, by id: a run checks in its transaction that none was placed since it looked.
  activeHoldIds(tx: Tx): Promise<string[]>;
  // Each of these messages still live: the last capture row it was received in, and the minimum
  // each receipt was given (what keptByRule judges).
  minimaOf(tx: Tx, sha256s: readonly string[]): Promise<{ sha256: string; lastCaptureRowId: number; receipts: ReceiptMinimum[] }[]>;
  // Live messages every capture of which has a retain-until at or before `now` (one kept for
  // ever, or still retained by any capture, is not), the longest expired first; `after` the one
  // a page ended with (by retain-until, then row id), for the next page.
  expired(tx: Tx, now: number, limit: number, after?: ExpiredMessage | null): Promise<ExpiredMessage[]>;
  queuedErasures(tx: Tx, limit: number): Promise<QueuedErasure[]>;
  erasureDone(tx: Tx, id: number): Promise<void>;
  // After a run: the destroyed keys are gone from the store's files too; false if a reader
  // kept that from finishing (the next run tries again).
  purgeRemoved(): Promise<boolean>;
}
