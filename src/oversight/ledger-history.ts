import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';

// Reads the ledger back for oversight: entries by time (reports, past inventories), after an
// index (the sweep), or by grant (a review). The ledger is the record; oversight only reads it.
export interface LedgerHistory {
  entryAt(tx: Tx, index: number): Promise<LedgerEntry | null>;
  // Entries written in [from, until), in ledger order; from may be -Infinity.
  entriesBetween(tx: Tx, from: number, until: number): AsyncIterable<LedgerEntry>;
  entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]>;
  // Entries linked to the grant, in ledger order.
  entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]>;
}

export function userOf(actor: string): string | null {
  return actor.startsWith('user:') ? actor.slice(5) : null;
}
