import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import { SealboxError } from '../../core/errors.ts';
import { CommitUnconfirmed, Undos } from '../../core/transactions.ts';
import type { Transactions, Tx } from '../../core/transactions.ts';

// A transaction on one client taken from the pool for its length: the only way a repository
// reaches PostgreSQL, so a call made outside a transaction, or after it ended, fails instead of
// writing on its own.
// A multi-row insert whose rows a write transaction gathers (PostgresTx.defer): `sql` gets the
// unnest(…) of one array per column, typed by `types`; `params` follow the arrays ($n+1, …).
export interface DeferredInsert {
  readonly types: readonly string[];
  sql(unnest: string): string;
  readonly params?: readonly unknown[];
}

export class PostgresTx implements Tx {
  readonly mode: 'read' | 'write';
  readonly #client: pg.PoolClient;
  readonly #undo = new Undos();
  // Rows deferred, column by column, per insert, in the order each insert was first deferred.
  readonly #deferred = new Map<DeferredInsert, unknown[][]>();
  #open = true;
  // A statement failed: PostgreSQL has aborted the transaction, and its COMMIT rolls back.
  #failed = false;

  constructor(mode: 'read' | 'write', client: pg.PoolClient) {
    this.mode = mode;
    this.#client = client;
  }

  get open(): boolean {
    return this.#open;
  }

  get failed(): boolean {
    return this.#failed;
  }

  async query<R extends Record<string, any> = Record<string, any>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.#send<R>(sql, params)).rows;
  }

  // A statement that changes rows: how many it changed.
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.#send(sql, params)).rowCount ?? 0;
  }

  // A row for a multi-row insert, sent with the others of its kind before this transaction's
  // next statement or its COMMIT: rows nothing reads back in the same transaction (the commit
  // path's ledger leaves and captures) then cost one round trip a batch, not one each. Whatever
  // the transaction sends next sees them; an insert that fails fails that statement, and so
  // the transaction.
  defer(insert: DeferredInsert, row: unknown[]): void {
    if (!this.#open) throw new Error('this transaction has ended; a repository call must run inside one');
    if (this.mode !== 'write') throw new Error('rows are deferred only in a write transaction');
    refuseNul(row);
    let columns = this.#deferred.get(insert);
    if (!columns) this.#deferred.set(insert, columns = insert.types.map(() => []));
    row.forEach((value, i) => columns[i]!.push(value));
  }

  // Sends the deferred rows (before COMMIT; every statement does it first).
  async flush(): Promise<void> {
    for (const [insert, columns] of this.#deferred) {
      this.#deferred.delete(insert);
      const unnest = `unnest(${insert.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
      await this.#send(insert.sql(unnest), [...columns, ...(insert.params ?? [])], false);
    }
  }

  async #send<R extends Record<string, any>>(sql: string, params: unknown[], flushFirst = true): Promise<pg.QueryResult<R>> {
    if (!this.#open) throw new Error('this transaction has ended; a repository call must run inside one');
    refuseNul(params);
    if (flushFirst && this.#deferred.size > 0) await this.flush();
    try {
      return await this.#client.query<R>(sql, params);
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  async one<R extends Record<string, any> = Record<string, any>>(sql: string, params: unknown[] = []): Promise<R | undefined> {
    return (await this.query<R>(sql, params))[0];
  }

  onRollback(undo: () => void): void {
    this.#undo.add(undo);
  }

  // No statement more: the work is done and its COMMIT is on its way.
  seal(): void {
    this.#open = false;
  }

  // Closes the handle; a transaction that did not commit runs every undo, and returns those
  // that failed (memory may then disagree with the database).
  end(committed: boolean): unknown[] {
    this.#open = false;
    return committed ? [] : this.#undo.run();
  }
}

// PostgreSQL's text cannot hold U+0000 (SQLite's can): a value holding it is refused by name
// here, as bad input, before the driver's "invalid byte sequence" would abort the transaction and
// surface as an internal error. The input edges refuse it first (the route table, envelope
// addresses); this is for whatever reaches past them.
function refuseNul(params: unknown[]): void {
  params.forEach((p, i) => {
    if ((Array.isArray(p) ? p : [p]).some((v) => typeof v === 'string' && v.includes('\0'))) {
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `text holding the character U+0000 (parameter $${i + 1}), which PostgreSQL cannot store`);
    }
  });
}

// The PostgreSQL side of a Tx handed to a repository.
export function on(tx: Tx): PostgresTx {
  if (!(tx instanceof PostgresTx)) throw new Error('not a PostgreSQL transaction');
  return tx;
}

// Every write of every node holding this lock takes it first, so writes run one at a time across
// the nodes too, as on SQLite: the ledger's next index, a four-eyes decision made again inside its
// transaction, never race. (Issue 17's several nodes will narrow it; one writer is the contract
// the repositories were written against.)
const WRITE_LOCK = 0x5ea1b0c5;

// Transactions on a pool, each on a client of its own from BEGIN to COMMIT (ROLLBACK when the
// work throws). Writes in this process run one at a time in the order asked for, and hold the
// write lock; reads are READ ONLY REPEATABLE READ, a consistent view of what had committed when
// they began, and run beside the writes on clients of their own. A transaction asked for inside
// another throws at once (pass its tx on instead).
export class PostgresTransactions implements Transactions {
  readonly #pool: pg.Pool;
  readonly #ready: () => Promise<void>;
  readonly #lock: number;
  readonly #timeoutMs: number;
  readonly #current = new AsyncLocalStorage<PostgresTx>();
  #tail: Promise<void> = Promise.resolve();

  // ready: awaited before the first statement of every transaction (the schema's migrations).
  // lock: the advisory lock every write takes (the search index's writes take one of their own,
  // so that the indexer's transaction never waits on a metadata write it is reading for).
  // timeoutMs: how long a write waits for a lock (lock_timeout) and for its COMMIT's answer. A
  // synchronous standby that stops confirming holds a COMMIT, and the lock with it, until it
  // comes back; bounded, each write fails instead (mail: 451) and the archive is not left silent.
  constructor(pool: pg.Pool, ready: () => Promise<void>, options: { lock?: number; timeoutMs?: number } = {}) {
    this.#pool = pool;
    this.#ready = ready;
    this.#lock = options.lock ?? WRITE_LOCK;
    this.#timeoutMs = Math.trunc(options.timeoutMs ?? 30_000);
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#run('write', work);
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#run('read', work);
  }

  // A write transaction that claims its work first and writes it later (the indexer's batch:
  // IndexStore.claim). `claim` runs at once, without the write lock: rows it locks (FOR UPDATE)
  // stay locked until the end. `work` then runs outside the transaction (what it reads are
  // transactions of their own, beside this one) and writes through `write`, which takes the write
  // lock the first time (in this process's order of writes) and runs each call in a savepoint, so
  // that a call that throws undoes only what it wrote. Commits when work returns; rolls back,
  // letting go of the claimed rows, if it throws or the connection ends.
  claim<C, T>(claim: (tx: Tx) => Promise<C>, work: (claimed: C, write: <R>(w: (tx: Tx) => Promise<R>) => Promise<R>) => Promise<T>): Promise<T> {
    return this.#run('write', async (tx, lock) => {
      const claimed = await claim(tx);
      const pg = on(tx);
      const write = async <R>(w: (tx: Tx) => Promise<R>): Promise<R> => {
        await lock();
        await pg.run('SAVEPOINT claimed_write');
        try {
          const result = await this.#current.run(pg, () => w(pg));
          await pg.run('RELEASE SAVEPOINT claimed_write');
          return result;
        } catch (err) {
          await pg.run('ROLLBACK TO SAVEPOINT claimed_write');
          throw err;
        }
      };
      return this.#current.exit(() => work(claimed, write));
    }, true);
  }

  // lockLater: the write lock (and this process's turn among its writes) is taken when the work
  // calls lock(), not at BEGIN.
  async #run<T>(mode: 'read' | 'write', work: (tx: Tx, lock: () => Promise<void>) => Promise<T>, lockLater = false): Promise<T> {
    const outer = this.#current.getStore();
    if (outer?.open) throw new Error(`a ${mode} transaction was opened inside a ${outer.mode} transaction; pass its tx on instead`);
    let release = () => {};
    const turn = async () => {
      const before = this.#tail;
      this.#tail = new Promise((resolve) => (release = resolve));
      await before;
    };
    if (mode === 'write' && !lockLater) await turn();
    try {
      await this.#ready();
      const client = await this.#pool.connect();
      let broken: unknown = null;
      // A connection that dies while checked out (the server shut down) emits 'error' on its
      // client as well as failing the query; unheard, that event would end the process. The
      // query's failure is what this transaction reports; the client is not handed out again.
      const lost = (err: unknown) => { broken = err; };
      client.on('error', lost);
      try {
        return await this.#on(client, mode, work, lockLater ? turn : null);
      } catch (err) {
        // A client whose ROLLBACK failed is not handed out again.
        if ((err as { [CLIENT_BROKEN]?: boolean })?.[CLIENT_BROKEN]) broken = err;
        throw unwrap(err);
      } finally {
        client.removeListener('error', lost);
        client.release(broken ? new Error('the connection failed') : undefined);
      }
    } finally {
      release();
    }
  }

  // later: the turn to wait for before the write lock, when the work takes it (lock()).
  async #on<T>(client: pg.PoolClient, mode: 'read' | 'write', work: (tx: Tx, lock: () => Promise<void>) => Promise<T>, later: (() => Promise<void>) | null): Promise<T> {
    const tx = new PostgresTx(mode, client);
    let committed = false;
    let unanswered = false;
    let locked: Promise<void> | null = null;
    const lock = () => (locked ??= (async () => {
      if (later) await later();
      await client.query('SELECT pg_advisory_xact_lock($1)', [this.#lock]);
    })());
    try {
      const begin = `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL lock_timeout = ${this.#timeoutMs}`;
      if (mode === 'write' && !later) {
        // A write's BEGIN and its lock in one round trip (the lock is a number of ours).
        await client.query(`${begin}; SELECT pg_advisory_xact_lock(${Math.trunc(this.#lock)})`);
        locked = Promise.resolve();
      } else await client.query(mode === 'write' ? begin : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await this.#current.run(tx, () => work(tx, lock));
      await tx.flush();
      tx.seal();
      const done = await answered(client.query('COMMIT'), this.#timeoutMs).catch((err: unknown) => {
        // Still waiting: the client is not used again (a ROLLBACK would queue behind the COMMIT).
        unanswered = err instanceof NoAnswer;
        throw new CommitUnconfirmed(err);
      });
      // A statement that failed aborted the transaction, and PostgreSQL answers its COMMIT with a
      // ROLLBACK: a write whose work carried on past the failure did not commit.
      if (done.command === 'ROLLBACK' && mode === 'write') {
        committed = false;
        throw new Error('a statement in this write transaction failed, so it was rolled back; nothing it wrote was committed');
      }
      committed = true;
      return result;
    } catch (err) {
      let rollbackFailed: unknown = null;
      if (!committed && !unanswered) {
        try {
          await client.query('ROLLBACK');
        } catch (e) {
          rollbackFailed = e;
        }
      }
      const undoFailed = tx.end(false);
      const failures = [...undoFailed, ...(rollbackFailed ? [rollbackFailed] : [])];
      const thrown = failures.length > 0 ? new AggregateError([err, ...failures], 'a transaction rolled back and undoing what it changed in memory failed') : err;
      throw rollbackFailed || unanswered ? new BrokenClient(thrown) : thrown;
    } finally {
      if (committed) tx.end(true);
    }
  }
}

class NoAnswer extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms (store.postgres.writeTimeoutMs)`);
    this.name = 'NoAnswer';
  }
}

// The query's answer, or NoAnswer after ms (the query is left to end as it will).
async function answered<T>(query: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new NoAnswer(ms)), ms); });
  try {
    return await Promise.race([query, late]);
  } catch (err) {
    if (err instanceof NoAnswer) query.catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const CLIENT_BROKEN = Symbol('client broken');

// What the work threw, carried out past the client's release.
class BrokenClient {
  readonly [CLIENT_BROKEN] = true;
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

function unwrap(err: unknown): unknown {
  return err instanceof BrokenClient ? err.error : err;
}
