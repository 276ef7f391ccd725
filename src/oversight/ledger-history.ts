import type { LedgerEntry } from '../core/types.ts';

// Reads the ledger back for oversight: entries by time (reports, past inventories), after an
// index (the sweep), or by grant (a review). The ledger is the record; oversight only reads it.
export interface LedgerHistory {
  entryAt(index: number): LedgerEntry | null;
  // Entries written in [from, until), in ledger order; from may be -Infinity.
  entriesBetween(from: number, until: number): Iterable<LedgerEntry>;
  entriesAfter(index: number, limit: number): LedgerEntry[];
  // Entries linked to the grant, in ledger order.
  entriesOfGrant(grantId: string): LedgerEntry[];
}

export function userOf(actor: string): string | null {
  return actor.startsWith('user:') ? actor.slice(5) : null;
}
