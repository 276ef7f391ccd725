// A unit of work on the metadata store. Every repository call takes the transaction it runs in,
// so the same caller works over an embedded database (SQLite) or a client that answers later
// (PostgreSQL): the backend hands out the handle and owns what it means.
export interface Tx {
  readonly mode: 'read' | 'write';
  // Undoes what the work changed in memory (the ledger's tree), should the transaction not
  // commit; run in reverse order of registration.
  onRollback(undo: () => void): void;
}

export interface Transactions {
  // All or nothing: what `work` wrote commits when it resolves and is rolled back when it throws.
  // One at a time; opening one inside another is a programming error and throws (pass the tx on).
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  // A consistent view of what has committed; writing in it is refused.
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}
