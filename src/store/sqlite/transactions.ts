import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { Undos } from '../../core/transactions.ts';
import type { Transactions, Tx } from '../../core/transactions.ts';

// A transaction on one SQLite connection: the only way a repository reaches its statements, so
// a call made outside a transaction, or after it ended, fails instead of writing on its own.
export class SqliteTx implements Tx {
  readonly mode: 'read' | 'write';
  readonly #owner: SqliteTransactions;
  readonly #undo = new Undos();
  #open = true;

  constructor(mode: 'read' | 'write', owner: SqliteTransactions) {
    this.mode = mode;
    this.#owner = owner;
  }

  get open(): boolean {
    return this.#open;
  }

  // A cached statement (fixed SQL).
  prepare(sql: string): StatementSync {
    this.#live();
    return this.#owner.statement(sql);
  }

  // A statement built for one call (an IN list of varying length), not cached.
  prepareOnce(sql: string): StatementSync {
    this.#live();
    return this.#owner.db.prepare(sql);
  }

  // Rows of a walk, each checked against the transaction: a walk left unfinished cannot go on
  // reading after its transaction ended.
  *rows<T>(rows: Iterable<T>): Generator<T> {
    for (const row of rows) {
      this.#live();
      yield row;
    }
  }

  onRollback(undo: () => void): void {
    this.#undo.add(undo);
  }

  // Closes the handle; a transaction that did not commit runs every undo, and returns those
  // that failed (memory may then disagree with the database).
  end(committed: boolean): unknown[] {
    this.#open = false;
    return committed ? [] : this.#undo.run();
  }

  #live(): this {
    if (!this.#open) throw new Error('this transaction has ended; a repository call must run inside one');
    return this;
  }
}

// Between tries for another connection's lock: the first pause, doubled up to the longest.
const FIRST_PAUSE_MS = 1;
const LONGEST_PAUSE_MS = 50;

// SQLite's "database is locked" (SQLITE_BUSY and its extended codes).
function isBusy(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === 'ERR_SQLITE_ERROR' && (Number((err as { errcode?: unknown }).errcode) & 0xff) === 5;
}

// The SQLite side of a Tx handed to a repository.
export function on(tx: Tx): SqliteTx {
  if (!(tx instanceof SqliteTx)) throw new Error('not a SQLite transaction');
  return tx;
}

// Transactions on one connection, one at a time (a read must not see another's uncommitted rows
// on the shared connection): writes in the order asked for (SQLite has one writer), each read in
// its turn for the connection. A write waiting for another connection's lock (a console
// command's) holds no turn meanwhile, so reads run while it waits — a read sees what had
// committed when it began, as on PostgreSQL, not a write asked before it that has not begun. A
// transaction asked for inside another would wait for itself: it throws instead.
export class SqliteTransactions implements Transactions {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  readonly #current = new AsyncLocalStorage<SqliteTx>();
  #tail: Promise<void> = Promise.resolve();        // the connection's turns
  #writeTail: Promise<void> = Promise.resolve();   // the writes' order

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#run('write', work);
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#run('read', work);
  }

  statement(sql: string): StatementSync {
    let stmt = this.#stmts.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#stmts.set(sql, stmt);
    }
    return stmt;
  }

  get db(): DatabaseSync {
    return this.#db;
  }

  // The connection's next turn; call the function returned to hand it on.
  async #turn(): Promise<() => void> {
    const before = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((resolve) => (release = resolve));
    await before;
    return release;
  }

  // The write-ahead log checkpointed into the database and cut to nothing, so that no page
  // written before (a row since deleted) is left in it; false if a writer or reader in another
  // connection kept it from finishing for as long as the busy timeout. While it waits it holds no
  // turn: this process's reads and writes go on between its tries.
  async truncateLog(): Promise<boolean> {
    const outer = this.#current.getStore();
    if (outer?.open) throw new Error(`a log checkpoint was asked for inside a ${outer.mode} transaction`);
    let release = await this.#turn();
    try {
      return await this.#unblocked(() => Number((this.statement('PRAGMA main.wal_checkpoint(TRUNCATE)').get() as { busy: number }).busy) === 0,
        { pause: () => release(), resume: async () => { release = await this.#turn(); } });
    } finally {
      release();
    }
  }

  // The one place this process waits for another connection's lock (a console command's write,
  // an import's). node:sqlite runs each statement on this thread, so SQLite's own busy handler
  // would sleep inside the statement with every listener frozen (SMTP, the milter, HTTP; Postfix
  // then gives up on the milter). Here `attempt` runs with that handler off, and while it meets
  // the lock (returns false, or throws "database is locked") it is tried again after a timer, 1
  // doubling to 50 ms, until the connection's busy timeout has gone by: the patience as before,
  // the event loop turning meanwhile. Then the last try's answer: false, or its error thrown.
  //
  // Only the statements that wait for another connection's transaction come here: BEGIN
  // IMMEDIATE and a TRUNCATE checkpoint. In WAL mode nothing else does: a write holds the lock
  // from BEGIN IMMEDIATE, so its statements and COMMIT wait for nothing, and the checkpoint at
  // COMMIT is PASSIVE, which never waits; a read waits only for another connection's recovery or
  // checkpoint step, which is brief, so SQLite's handler serves it. Opening a connection (its
  // migrations) waits inside SQLite too, before anything listens or on the indexer's thread.
  //
  // `between`: called before each pause (a write hands the connection's turn on, so that reads
  // run while it waits), and `resume` after it.
  async #unblocked(attempt: () => boolean, between?: { pause(): void; resume(): Promise<void> }): Promise<boolean> {
    const patience = Number((this.statement('PRAGMA busy_timeout').get() as { timeout: number }).timeout);
    const deadline = performance.now() + patience;
    for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(2 * pause, LONGEST_PAUSE_MS)) {
      let done = false;
      let locked: unknown = null;
      // Off and back on in the same turn: no other statement runs meanwhile.
      this.#db.exec('PRAGMA busy_timeout = 0');
      try {
        done = attempt();
      } catch (err) {
        if (!isBusy(err)) throw err;
        locked = err;
      } finally {
        this.#db.exec(`PRAGMA busy_timeout = ${patience}`);
      }
      const left = deadline - performance.now();
      if (done || left <= 0) {
        if (locked) throw locked;
        return done;
      }
      between?.pause();
      await sleep(Math.min(pause, left));
      await between?.resume();
    }
  }

  async #run<T>(mode: 'read' | 'write', work: (tx: Tx) => Promise<T>): Promise<T> {
    const outer = this.#current.getStore();
    if (outer?.open) throw new Error(`a ${mode} transaction was opened inside a ${outer.mode} transaction; pass its tx on instead`);
    let writeDone = () => {};
    if (mode === 'write') {
      const before = this.#writeTail;
      this.#writeTail = new Promise((resolve) => (writeDone = resolve));
      await before;
    }
    let release = () => {};
    const tx = new SqliteTx(mode, this);
    let committed = false;
    let undoFailed: unknown[] = [];
    try {
      release = await this.#turn();
      if (mode === 'write') {
        await this.#unblocked(() => {
          this.#db.exec('BEGIN IMMEDIATE');
          return true;
        }, { pause: () => release(), resume: async () => { release = await this.#turn(); } });
      } else {
        this.#db.exec('BEGIN');
      }
      if (mode === 'read') this.#db.exec('PRAGMA query_only = ON');
      const result = await this.#current.run(tx, () => work(tx));
      this.#db.exec('COMMIT');
      committed = true;
      return result;
    } catch (err) {
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } finally {
        undoFailed = tx.end(false);
      }
      if (undoFailed.length > 0) throw new AggregateError([err, ...undoFailed], 'a transaction rolled back and undoing what it changed in memory failed');
      throw err;
    } finally {
      try {
        if (mode === 'read') this.#db.exec('PRAGMA query_only = OFF');
      } finally {
        if (committed) tx.end(true);
        release();
        writeDone();
      }
    }
  }
}
