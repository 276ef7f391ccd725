import type { NoticeText } from './archiving-notice.ts';

// The archiving notice in force and who acknowledged which version (src/access/archiving-notice.ts).
export interface NoticeStore {
  current(): NoticeText | null;
  save(notice: NoticeText): void;
  acknowledgedAt(userId: number, version: number): number | null;
  // A second acknowledgement of a version keeps the first one's time.
  acknowledge(userId: number, version: number, at: number): void;
  acknowledgements(version: number): number;
}
