import type { Clock } from '../core/clock.ts';
import type { LedgerEntry, LedgerEntryType } from '../core/types.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import { serializeEntry } from './ledger-entry.ts';
import { MerkleFrontier, leafHash } from './merkle-tree.ts';

// What the ledger needs from storage; the metadata store implements it inside its transactions.
export interface LedgerStore {
  ledgerSize(tx: Tx): Promise<number>;
  appendLeaf(tx: Tx, row: { index: number; type: string; time: number; leaf: Buffer; leafHash: Buffer }): Promise<void>;
  leafHashes(tx: Tx, from: number, to: number): Promise<Buffer[]>;
  latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | null>;
  checkpoints(tx: Tx): Promise<StoredCheckpoint[]>;
  saveCheckpoint(tx: Tx, checkpoint: StoredCheckpoint): Promise<void>;
  // Reading the ledger back, in index order; ofMailbox newest first, an entry that names
  // several of the mailboxes once for each.
  entry(tx: Tx, index: number): Promise<StoredEntry | null>;
  entries(tx: Tx, filter: LedgerFilter): Promise<StoredEntry[]>;
  ofGrant(tx: Tx, grantId: string): Promise<StoredEntry[]>;
  ofMailbox(tx: Tx, mailboxIds: readonly number[], limit: number): Promise<StoredEntry[]>;
  // Every row in index order, for verification and export.
  ledgerRows(tx: Tx): AsyncGenerator<{ index: number; type: string; time: number; leaf: Buffer; leafHash: Buffer }>;
}

// An entry as stored: parsed, with the leaf it was hashed from and that hash.
export interface StoredEntry {
  entry: LedgerEntry;
  leaf: Buffer;
  leafHash: Buffer;
}

// Every field narrows; none given means the whole ledger in index order.
export interface LedgerFilter {
  from?: number;               // index >= from
  to?: number;                 // index < to
  since?: number;              // time >= since (ms)
  until?: number;              // time < until
  type?: LedgerEntryType;
  actor?: string;              // as recorded: user:<name>, system:…
  operation?: string;
  result?: LedgerEntry['result'];
  grantId?: string;
  mailbox?: string;            // a mailbox name among the entry's objects
  order?: 'asc' | 'desc';      // by index
  limit?: number;
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  frontier: string;
  createdAt: number;
}

export type CheckpointSigner = (body: { origin: string; size: number; rootHash: Uint8Array }) => string;

export type NewLedgerEntry = Omit<LedgerEntry, 'index' | 'time'> & { time?: number };

// The sequencer: numbers entries, hashes them into the tree, signs checkpoints.
// Appends happen inside the caller's transaction, which undoes the in-memory tree should it not
// commit, so memory never runs ahead of what is durable. Transactions run one at a time, so
// the tree has one writer.
export class Ledger {
  readonly #store: LedgerStore;
  readonly #sign: CheckpointSigner;
  readonly #origin: string;
  readonly #clock: Clock;
  readonly #marked = new WeakSet<Tx>();
  #frontier = new MerkleFrontier();
  #lastCheckpointSize = 0;
  #lastCheckpointTime = 0;

  private constructor(options: { store: LedgerStore; sign: CheckpointSigner; origin: string; clock: Clock }) {
    this.#store = options.store;
    this.#sign = options.sign;
    this.#origin = options.origin;
    this.#clock = options.clock;
  }

  // Rebuilds the tree from the last checkpoint's frontier and the leaves after it.
  static async open(options: { store: LedgerStore & Transactions; sign: CheckpointSigner; origin: string; clock: Clock }): Promise<Ledger> {
    const ledger = new Ledger(options);
    await options.store.read(async (tx) => {
      const latest = await options.store.latestCheckpoint(tx);
      if (latest) ledger.#frontier = MerkleFrontier.fromJSON(JSON.parse(latest.frontier));
      ledger.#lastCheckpointSize = latest?.size ?? 0;
      ledger.#lastCheckpointTime = latest?.createdAt ?? 0;
      await ledger.catchUp(tx);
    });
    return ledger;
  }

  get size(): number {
    return this.#frontier.size;
  }

  get origin(): string {
    return this.#origin;
  }

  // Another process (a CLI command) may have appended since we last looked: only one writer
  // holds the database's write lock, so calling this inside the transaction keeps one sequence.
  async catchUp(tx: Tx): Promise<void> {
    const size = await this.#store.ledgerSize(tx);
    if (size <= this.#frontier.size) return;
    this.#remember(tx);
    for (const hash of await this.#store.leafHashes(tx, this.#frontier.size, size)) this.#frontier.append(hash);
  }

  async append(tx: Tx, entry: NewLedgerEntry): Promise<LedgerEntry> {
    this.#remember(tx);
    const full: LedgerEntry = { ...entry, index: this.#frontier.size, time: entry.time ?? this.#clock.now() };
    const leaf = serializeEntry(full);
    const hash = Buffer.from(leafHash(leaf));
    // Stored first: a refused write leaves the tree as it was, even if the work carries on.
    await this.#store.appendLeaf(tx, { index: full.index, type: full.type, time: full.time, leaf, leafHash: hash });
    this.#frontier.append(hash);
    return full;
  }

  // The first change in a transaction remembers the state before it, to go back to on rollback.
  #remember(tx: Tx): void {
    if (this.#marked.has(tx)) return;
    this.#marked.add(tx);
    const frontier = this.#frontier.toJSON();
    const size = this.#lastCheckpointSize;
    const time = this.#lastCheckpointTime;
    tx.onRollback(() => {
      this.#frontier = MerkleFrontier.fromJSON(frontier);
      this.#lastCheckpointSize = size;
      this.#lastCheckpointTime = time;
    });
  }

  root(): Buffer {
    return Buffer.from(this.#frontier.root());
  }

  due(everyEntries: number, everyMs: number): boolean {
    const pending = this.#frontier.size - this.#lastCheckpointSize;
    if (pending <= 0) return false;
    return pending >= everyEntries || this.#clock.now() - this.#lastCheckpointTime >= everyMs;
  }

  // Signs the current tree head and keeps it, in the caller's transaction.
  async checkpoint(tx: Tx): Promise<StoredCheckpoint | null> {
    const size = this.#frontier.size;
    if (size === this.#lastCheckpointSize && size > 0) return null;
    this.#remember(tx);
    const root = this.root();
    const note = this.#sign({ origin: this.#origin, size, rootHash: root });
    const checkpoint = { size, root, note, frontier: JSON.stringify(this.#frontier.toJSON()), createdAt: this.#clock.now() };
    this.#lastCheckpointSize = size;
    this.#lastCheckpointTime = checkpoint.createdAt;
    await this.#store.saveCheckpoint(tx, checkpoint);
    return checkpoint;
  }
}
