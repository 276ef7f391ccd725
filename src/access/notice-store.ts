import type { Tx } from '../core/transactions.ts';
import type { NoticeText } from './archiving-notice.ts';

// The archiving notice in force and who acknowledged which version (src/access/archiving-notice.ts).
export interface NoticeStore {
  current(tx: Tx): Promise<NoticeText | null>;
  save(tx: Tx, notice: NoticeText): Promise<void>;
  acknowledgedAt(tx: Tx, userId: number, version: number): Promise<number | null>;
  // A second acknowledgement of a version keeps the first one's time.
  acknowledge(tx: Tx, userId: number, version: number, at: number): Promise<void>;
  acknowledgements(tx: Tx, version: number): Promise<number>;
}
