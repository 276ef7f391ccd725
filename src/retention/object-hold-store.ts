import type { Tx } from '../core/transactions.ts';

// What ObjectHolds keeps: the objects it gave an S3 legal hold, and the messages each object holds.
export interface ObjectHoldStore {
  held(tx: Tx): Promise<string[]>;
  markHeld(tx: Tx, file: string, at: number): Promise<void>;
  unmarkHeld(tx: Tx, file: string): Promise<void>;
  // The archive's last message row id (0 when there is none).
  lastMessageId(tx: Tx): Promise<number>;
  // The object holding each of these messages (row ids) that is not disposed, by row id.
  objectsOf(tx: Tx, messageRowIds: readonly number[]): Promise<{ id: number; file: string }[]>;
  // The messages not disposed received in captures after `afterCapture`, up to `upTo`, by capture
  // row id (`capture`: the one each came in), with the object holding each.
  received(tx: Tx, afterCapture: number, upTo: number, limit: number): Promise<{ capture: number; sha256: string; file: string }[]>;
}
