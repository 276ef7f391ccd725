import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';

// Reads the ledger back for oversight: entries by time (reports), of a few operations (a replay
// of access), after an index (the sweep), or by grant (a review). The ledger is the record;
// oversight only reads it.
export interface LedgerHistory {
  entryAt(tx: Tx, index: number): Promise<LedgerEntry | null>;
  // Entries written in [from, until), in ledger order, but the captures: from may be -Infinity.
  // A capture (mail archived) is most of a ledger and nothing that a report, a digest or a
  // replay of access counts; read with the rest, a month's report parsed a month's mail.
  actionsBetween(tx: Tx, from: number, until: number): AsyncIterable<LedgerEntry>;
  // The entries of these operations written before `until`, in ledger order, read by the index
  // on the operation: what changes who may read what is a few hundred entries of millions.
  actionsOf(tx: Tx, operations: readonly string[], until: number): AsyncIterable<LedgerEntry>;
  entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]>;
  // Entries linked to the grant, in ledger order.
  entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]>;
}

export function userOf(actor: string): string | null {
  return actor.startsWith('user:') ? actor.slice(5) : null;
}

// What is rebuilt from the ledger alone by reading it forward: each successful entry of the
// operations it names, in turn. An entry of any other operation is never handed to it.
export interface LedgerReplay<T> {
  readonly operations: readonly LedgerOperation[];
  apply(e: LedgerEntry): void;
  result(): T;
}

// Reads the entries written up to `at` of the operations the replays name once, handing each
// success to the replays that name its operation, so that several states are rebuilt in one
// pass. Only those entries are read, by their index: not the searches, views and exports that
// are most of a ledger's actions (the server replays every hour: access-state-check.ts).
export async function replayLedger(tx: Tx, history: LedgerHistory, at: number, replays: readonly LedgerReplay<unknown>[]): Promise<void> {
  const operations = [...new Set(replays.flatMap((r) => r.operations))];
  for await (const e of history.actionsOf(tx, operations, at + 1)) {
    if (e.result !== 'success') continue;
    for (const r of replays) if ((r.operations as readonly string[]).includes(e.operation)) r.apply(e);
  }
}
