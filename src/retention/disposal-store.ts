import type { Tx } from '../core/transactions.ts';
import type { BlobRef } from '../store/blob-store.ts';

// A disposed message's bytes and index rows, waiting to be removed.
export interface QueuedErasure {
  id: number;
  messageRowId: number;
  blobRef: BlobRef;
  captureRowIds: number[];
  stillDisposed: boolean;        // false: the same bytes arrived again meanwhile (the message is back)
}

// What disposal needs from the metadata store, inside its transactions.
export interface DisposalStore {
  // Destroys the data keys of these live messages (crypto-shredding), marks them disposed under
  // the ledger entry at `ledgerIndex`, and queues their bytes and index rows for removal.
  // Returns the sha256s disposed (those not archived, or disposed before, are left out).
  markDisposed(tx: Tx, sha256s: readonly string[], d: { at: number; ledgerIndex: number; policy: string }): Promise<string[]>;
  queuedErasures(tx: Tx, limit: number): Promise<QueuedErasure[]>;
  erasureDone(tx: Tx, id: number): Promise<void>;
  // After a run: the destroyed keys are gone from the store's files too; false if a reader
  // kept that from finishing (the next run tries again).
  purgeRemoved(): Promise<boolean>;
}
