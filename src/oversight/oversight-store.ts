import type { Tx } from '../core/transactions.ts';
import type { Alert } from './alert-rules.ts';

export interface OversightMailbox {
  id: number;
  name: string;
  owner: string | null;
  sensitivity: string | null;
  manager: string | null;
}

export interface LiveToken {
  id: string;
  user: string;
  scopes: string[];
  expiresAt: number;
}

// What the sweep keeps (its cursor and marks, the alerts, the messages read per grant, the
// grants drawn for the sample) and what oversight looks up in the tables access decides from.
export interface OversightStore {
  getSetting(tx: Tx, key: string): Promise<string | null>;
  setSetting(tx: Tx, key: string, value: string): Promise<void>;

  // False when an alert with this id was raised before.
  addAlert(tx: Tx, alert: Alert, at: number): Promise<boolean>;
  hasAlert(tx: Tx, id: string): Promise<boolean>;
  // Alerts raised in [from, to), counted per rule, by rule.
  alertCounts(tx: Tx, from: number, to: number): Promise<{ rule: string; n: number }[]>;
  // Notes these messages as read under the grant; returns how many distinct ones it has read.
  addMessagesRead(tx: Tx, grantId: string, sha256s: string[]): Promise<number>;

  // Approved grants that have closed (revoked, or run out by now) and were not drawn yet, by id.
  closedGrantsNotDrawn(tx: Tx, now: number, limit: number): Promise<{ id: string; requesterId: number }[]>;
  recordDraw(tx: Tx, grantId: string, sampled: boolean, at: number): Promise<void>;
  // The request this one extends, if any.
  extendsOf(tx: Tx, grantId: string): Promise<string | null>;

  mailbox(tx: Tx, name: string): Promise<OversightMailbox | null>;
  mailboxes(tx: Tx): Promise<OversightMailbox[]>;
  // Whether `manager` is the manager on a mailbox `person` owns.
  manages(tx: Tx, manager: string, person: string): Promise<boolean>;
  // API tokens not revoked nor expired at `at`, of people not disabled.
  liveTokens(tx: Tx, at: number): Promise<LiveToken[]>;
}
