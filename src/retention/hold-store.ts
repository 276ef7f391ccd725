import type { FiledDecision } from '../access/four-eyes.ts';
import type { Tx } from '../core/transactions.ts';

// A legal hold: its custodians' mail within the window (and matching the query, if any) is
// kept whatever retention says, until a release is approved.
export interface Hold {
  id: string;
  name: string;
  matter: string;
  custodians: { id: number; name: string }[];
  dateFrom: number | null;
  dateTo: number | null;
  query: string | null;
  placedBy: number | null;
  placedByLabel: string;
  placedAt: number;
  releasedAt: number | null;
}

export interface HoldRelease extends FiledDecision {
  holdId: string;
  reason: string;
}

export interface HoldNotice {
  holdId: string;
  mailboxId: number;
  owner: string;
  notifiedAt: number;
  acknowledgedAt: number | null;
}

export interface HoldStore {
  addHold(tx: Tx, h: Omit<Hold, 'releasedAt'>): Promise<void>;
  hold(tx: Tx, id: string): Promise<Hold | null>;
  holds(tx: Tx): Promise<Hold[]>;                       // newest first
  activeHolds(tx: Tx): Promise<Hold[]>;
  addRelease(tx: Tx, r: Omit<HoldRelease, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void>;
  release(tx: Tx, id: string): Promise<HoldRelease | null>;
  releases(tx: Tx, holdId?: string): Promise<HoldRelease[]>;
  decideRelease(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  // The hold is released by the approved release `releaseId`.
  endHold(tx: Tx, holdId: string, releaseId: string, at: number): Promise<void>;
  addNotice(tx: Tx, n: Omit<HoldNotice, 'acknowledgedAt'>): Promise<void>;
  notices(tx: Tx, holdId: string): Promise<HoldNotice[]>;
  noticesTo(tx: Tx, owner: string): Promise<HoldNotice[]>;   // every notice sent to this user
  // False when there is no notice to this owner for this hold, or it was acknowledged before.
  acknowledge(tx: Tx, holdId: string, owner: string, at: number): Promise<boolean>;
}
