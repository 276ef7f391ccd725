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
  getSetting(key: string): string | null;
  setSetting(key: string, value: string): void;

  // False when an alert with this id was raised before.
  addAlert(alert: Alert, at: number): boolean;
  hasAlert(id: string): boolean;
  // Alerts raised in [from, to), counted per rule, by rule.
  alertCounts(from: number, to: number): { rule: string; n: number }[];
  // Notes these messages as read under the grant; returns how many distinct ones it has read.
  addMessagesRead(grantId: string, sha256s: string[]): number;

  // Approved grants that have closed (revoked, or run out by now) and were not drawn yet, by id.
  closedGrantsNotDrawn(now: number, limit: number): { id: string; requesterId: number }[];
  recordDraw(grantId: string, sampled: boolean, at: number): void;
  // The request this one extends, if any.
  extendsOf(grantId: string): string | null;

  mailbox(name: string): OversightMailbox | null;
  mailboxes(): OversightMailbox[];
  // Whether `manager` is the manager on a mailbox `person` owns.
  manages(manager: string, person: string): boolean;
  // API tokens not revoked nor expired at `at`, of people not disabled.
  liveTokens(at: number): LiveToken[];
}
