import type { FiledDecision } from '../access/four-eyes.ts';
import type { Tx } from '../core/transactions.ts';

// A mailbox marked as belonging to someone who left, as approved.
export interface LeaverState {
  mailboxId: number;
  mailbox: string;
  leftOn: number;               // ms epoch: the day they left (UTC midnight)
  disposeFrom: number;          // from when their mail goes (leftOn + retention.leaverMonths as filed)
  changeId: string;             // the approved change that set it
  exemption: { changeId: string; until: number | null; reason: string } | null;
}

export type LeaverChangeKind = 'leave' | 'return' | 'exempt';

// A leaving date, its withdrawal, or an exemption: filed by one person, decided by another.
export interface LeaverChange extends FiledDecision {
  mailboxId: number;
  mailbox: string;
  kind: LeaverChangeKind;
  leftOn: number | null;
  disposeFrom: number | null;
  exemptUntil: number | null;
  before: LeaverState | null;
  reason: string;
  source: 'api' | 'directory' | 'console';
}

export interface LeaverStore {
  // The leavers, by mailbox (all of them when `mailboxIds` is absent).
  states(tx: Tx, mailboxIds?: readonly number[]): Promise<LeaverState[]>;
  addChange(tx: Tx, c: Omit<LeaverChange, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void>;
  change(tx: Tx, id: string): Promise<LeaverChange | null>;
  changes(tx: Tx): Promise<LeaverChange[]>;                 // the latest 500, newest first
  filedBefore(tx: Tx, until: number): Promise<LeaverChange[]>;  // every change filed before `until`, oldest first
  pending(tx: Tx, mailboxId: number): Promise<LeaverChange[]>;
  decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  // Applying an approved change: the leaving date set (an exemption in force stays), withdrawn
  // (with any exemption), or an exemption put in force in place of the one before.
  setLeft(tx: Tx, mailboxId: number, s: { leftOn: number; disposeFrom: number; changeId: string }): Promise<void>;
  clearLeft(tx: Tx, mailboxId: number): Promise<void>;
  setExemption(tx: Tx, mailboxId: number, e: { changeId: string; until: number | null }): Promise<void>;
}
