import type { Clock } from '../core/clock.ts';
import type { LedgerEntry, LedgerEntryType } from '../core/types.ts';
import { serializeEntry } from './ledger-entry.ts';
import { MerkleFrontier, leafHash } from './merkle-tree.ts';

// What the ledger needs from storage; the metadata store implements it inside its transactions.
export interface LedgerStore {
  ledgerSize(): number;
  appendLeaf(row: { index: number; type: string; time: number; leaf: Buffer; leafHash: Buffer }): void;
  leafHashes(from: number, to: number): Buffer[];
  latestCheckpoint(): StoredCheckpoint | null;
  checkpoints(): StoredCheckpoint[];
  saveCheckpoint(checkpoint: StoredCheckpoint): void;
  // Reading the ledger back, in index order; ofMailbox newest first, an entry that names
  // several of the mailboxes once for each.
  entry(index: number): StoredEntry | null;
  entries(filter: LedgerFilter): StoredEntry[];
  ofGrant(grantId: string): StoredEntry[];
  ofMailbox(mailboxIds: readonly number[], limit: number): StoredEntry[];
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
// Appends happen inside the caller's transaction; mark()/reset() undo the in-memory tree
// when that transaction rolls back, so memory never runs ahead of what is durable.
export class Ledger {
  readonly #store: LedgerStore;
  readonly #sign: CheckpointSigner;
  readonly #origin: string;
  readonly #clock: Clock;
  #frontier: MerkleFrontier;
  #lastCheckpointSize = 0;
  #lastCheckpointTime = 0;

  constructor(options: { store: LedgerStore; sign: CheckpointSigner; origin: string; clock: Clock }) {
    this.#store = options.store;
    this.#sign = options.sign;
    this.#origin = options.origin;
    this.#clock = options.clock;
    const latest = this.#store.latestCheckpoint();
    this.#frontier = latest ? MerkleFrontier.fromJSON(JSON.parse(latest.frontier)) : new MerkleFrontier();
    this.#lastCheckpointSize = latest?.size ?? 0;
    this.#lastCheckpointTime = latest?.createdAt ?? 0;
    const size = this.#store.ledgerSize();
    for (const hash of this.#store.leafHashes(this.#frontier.size, size)) this.#frontier.append(hash);
  }

  get size(): number {
    return this.#frontier.size;
  }

  get origin(): string {
    return this.#origin;
  }

  // Another process (a CLI command) may have appended since we last looked: only one writer
  // holds the database's write lock, so calling this inside the transaction keeps one sequence.
  catchUp(): void {
    const size = this.#store.ledgerSize();
    if (size <= this.#frontier.size) return;
    for (const hash of this.#store.leafHashes(this.#frontier.size, size)) this.#frontier.append(hash);
  }

  append(entry: NewLedgerEntry): LedgerEntry {
    const full: LedgerEntry = { ...entry, index: this.#frontier.size, time: entry.time ?? this.#clock.now() };
    const leaf = serializeEntry(full);
    const hash = Buffer.from(leafHash(leaf));
    this.#store.appendLeaf({ index: full.index, type: full.type, time: full.time, leaf, leafHash: hash });
    this.#frontier.append(hash);
    return full;
  }

  // The in-memory state a transaction may change: the tree, and the last checkpoint signed.
  mark(): unknown {
    return { frontier: this.#frontier.toJSON(), size: this.#lastCheckpointSize, time: this.#lastCheckpointTime };
  }

  reset(mark: unknown): void {
    const m = mark as { frontier: ReturnType<MerkleFrontier['toJSON']>; size: number; time: number };
    this.#frontier = MerkleFrontier.fromJSON(m.frontier);
    this.#lastCheckpointSize = m.size;
    this.#lastCheckpointTime = m.time;
  }

  root(): Buffer {
    return Buffer.from(this.#frontier.root());
  }

  due(everyEntries: number, everyMs: number): boolean {
    const pending = this.#frontier.size - this.#lastCheckpointSize;
    if (pending <= 0) return false;
    return pending >= everyEntries || this.#clock.now() - this.#lastCheckpointTime >= everyMs;
  }

  // Signs the current tree head. The caller persists it in a transaction of its own.
  checkpoint(): StoredCheckpoint | null {
    const size = this.#frontier.size;
    if (size === this.#lastCheckpointSize && size > 0) return null;
    const root = this.root();
    const note = this.#sign({ origin: this.#origin, size, rootHash: root });
    const checkpoint = { size, root, note, frontier: JSON.stringify(this.#frontier.toJSON()), createdAt: this.#clock.now() };
    this.#store.saveCheckpoint(checkpoint);
    this.#lastCheckpointSize = size;
    this.#lastCheckpointTime = checkpoint.createdAt;
    return checkpoint;
  }
}
