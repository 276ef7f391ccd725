import type { CaptureRecord } from '../core/types.ts';

// A capture as the indexer takes it: its record, its place in the queue and its message.
export interface QueuedCapture extends CaptureRecord {
  rowId: number;
  messageRowId: number;
  sha256: string;
}

// What the indexer reads and writes in the metadata store: the captures it claimed
// (IndexStore.claim), and a mailbox for each internal address the directory does not know. Each call is a
// transaction of its own.
export interface CaptureQueue {
  capturesByRowIds(rowIds: readonly number[]): Promise<QueuedCapture[]>;
  // Gives each address a mailbox of its own (marked automatic) unless one maps it already; all
  // of them or, on a fault, none.
  addAutoMailboxes(addresses: readonly string[]): Promise<void>;
  // The messages that should be in the index (not disposed) with a row id in (after, upTo], in
  // order, each with its first capture (the index covers it once its cursor has passed that
  // capture); read a window at a time (index-completeness.ts), never the whole archive at once.
  liveMessages(after: number, upTo: number): Promise<{ id: number; sha256: string; firstCapture: number }[]>;
  // The largest message row id (0 for none).
  lastMessageId(): Promise<number>;
}
