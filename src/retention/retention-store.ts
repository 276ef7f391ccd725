import type { FiledDecision } from '../access/four-eyes.ts';
import type { Tx } from '../core/transactions.ts';

export const DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type Direction = (typeof DIRECTIONS)[number];

// How long the mail a rule matches is kept: at most `days` (then disposal takes it), and at
// least `minDays`, what the organisation must keep by law, before which neither the leaver
// schedule, an erasure nor an early disposal may take it. Within a kind the values are
// alternatives (any of these mailboxes); the kinds given must all match; an empty list places
// no condition.
export interface RetentionRule {
  id: string;
  name: string;
  mailboxes: string[];        // mailbox names
  sensitivities: string[];    // the mailbox.sensitivity directory attribute
  departments: string[];      // the mailbox.department directory attribute
  domains: string[];          // correspondent domains (lowercased)
  directions: Direction[];
  days: number | null;        // null: kept for ever
  minDays?: number;           // absent: as long as `days`
}

// A rule change waiting for someone else (it could shorten what some mail is given), or decided.
export interface RetentionChangeRecord extends FiledDecision {
  kind: 'set' | 'remove';
  ruleId: string;
  before: RetentionRule | null;   // the rule when the change was filed; null: a new rule
  after: RetentionRule | null;    // null: removal
  why: string;                    // why it needs approval
  note: string | null;            // the filer's reason
}

// A mailbox an address belongs to, as the writer judges a capture's envelope.
export interface AddressMailbox {
  address: string;            // lowercased
  mailbox: string;
  sensitivity: string | null;
  department: string | null;
}

// What retention needs from storage: the rules (with a version that changes whenever they do,
// so the archive writer re-reads them only then), the changes awaiting a decision, and the
// mailboxes of a batch's envelope addresses in one look.
export interface RetentionStore {
  version(tx: Tx): Promise<number>;
  rules(tx: Tx): Promise<RetentionRule[]>;
  rule(tx: Tx, id: string): Promise<RetentionRule | null>;
  putRule(tx: Tx, rule: RetentionRule, at: number): Promise<void>;     // adds or replaces; bumps the version
  removeRule(tx: Tx, id: string): Promise<boolean>;                    // bumps the version
  mailboxesOf(tx: Tx, addresses: readonly string[]): Promise<AddressMailbox[]>;
  addChange(tx: Tx, c: Omit<RetentionChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void>;
  decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  change(tx: Tx, id: string): Promise<RetentionChangeRecord | null>;
  changes(tx: Tx): Promise<RetentionChangeRecord[]>;                   // the latest 500, newest first
}
