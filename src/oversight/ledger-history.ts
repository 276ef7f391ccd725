import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';

// Reads the ledger back for oversight: entries by time (reports, past inventories), after an
// index (the sweep), or by grant (a review). The ledger is the record; oversight only reads it.
export interface LedgerHistory {
  entryAt(tx: Tx, index: number): Promise<LedgerEntry | null>;
  // Entries written in [from, until), in ledger order, but the captures: from may be -Infinity.
  // A capture (mail archived) is most of a ledger and nothing that a report, a digest or a
  // replay of access counts; read with the rest, a month's report parsed a month's mail.
  actionsBetween(tx: Tx, from: number, until: number): AsyncIterable<LedgerEntry>;
  entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]>;
  // Entries linked to the grant, in ledger order.
  entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]>;
}

export function userOf(actor: string): string | null {
  return actor.startsWith('user:') ? actor.slice(5) : null;
}

// What is rebuilt from the ledger alone by reading it forward: each successful entry in turn.
export interface LedgerReplay<T> {
  apply(e: LedgerEntry): void;
  result(): T;
}

// Reads the entries written up to `at` once, handing each success to every replay, so that
// several states are rebuilt in one pass over a long ledger.
export async function replayLedger(tx: Tx, history: LedgerHistory, at: number, replays: readonly LedgerReplay<unknown>[]): Promise<void> {
  for await (const e of history.actionsBetween(tx, -Infinity, at + 1)) {
    if (e.result === 'success') for (const r of replays) r.apply(e);
  }
}
