// A unit of work on the metadata store. Every repository call takes the transaction it runs in,
// so the same caller works over an embedded database (SQLite) or a client that answers later
// (PostgreSQL): the backend hands out the handle and owns what it means.
export interface Tx {
  readonly mode: 'read' | 'write';
  // Undoes what the work changed in memory (the ledger's tree), should the transaction not
  // commit; run in reverse order of registration.
  onRollback(undo: () => void): void;
}

// What a transaction undoes in memory should it not commit (Tx.onRollback), for the backends.
export class Undos {
  readonly #undo: (() => void)[] = [];

  add(undo: () => void): void {
    this.#undo.push(undo);
  }

  // Runs every undo, the last registered first, and returns those that failed (memory may then
  // disagree with the database).
  run(): unknown[] {
    const failed: unknown[] = [];
    for (const undo of this.#undo.reverse()) {
      try {
        undo();
      } catch (err) {
        failed.push(err);
      }
    }
    return failed;
  }
}

export interface Transactions {
  // All or nothing: what `work` wrote commits when it resolves and is rolled back when it throws.
  // One at a time; opening one inside another is a programming error and throws (pass the tx on).
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  // A consistent view of what has committed; writing in it is refused.
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

// A write whose COMMIT got no answer (the connection was lost on the way, the server killed): it
// may have committed, on the server's disk or on a synchronous standby a failover promotes, so
// what it wrote outside the database (blob bytes) must stay where its rows may point. Thrown by a
// backend whose commit can end so (PostgreSQL); it reaches the sender as any fault, a 4xx.
export class CommitUnconfirmed extends Error {
  constructor(cause: unknown) {
    super('the COMMIT got no answer: the transaction may have committed', { cause });
    this.name = 'CommitUnconfirmed';
  }
}

// Whether a failed write may have committed all the same (also when undoing it failed too).
export function mayHaveCommitted(err: unknown): boolean {
  return err instanceof CommitUnconfirmed || (err instanceof AggregateError && err.errors[0] instanceof CommitUnconfirmed);
}
