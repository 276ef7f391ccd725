import type { Tx } from '../core/transactions.ts';

// What ObjectHolds keeps: the objects it gave an S3 legal hold, and the messages each object holds.
export interface ObjectHoldStore {
  held(tx: Tx): Promise<string[]>;
  markHeld(tx: Tx, file: string, at: number): Promise<void>;
  unmarkHeld(tx: Tx, file: string): Promise<void>;
  // Messages not disposed, by row id after `afterId`, with the object holding each.
  messages(tx: Tx, afterId: number, limit: number): Promise<{ id: number; sha256: string; file: string }[]>;
  // The same for the messages received in captures after `afterCapture`, up to `upTo`, by capture
  // row id (`capture`: the one each came in).
  received(tx: Tx, afterCapture: number, upTo: number, limit: number): Promise<{ capture: number; sha256: string; file: string }[]>;
}
