import type { Clock } from '../core/clock.ts';
import type { LedgerEntry, LedgerEntryType } from '../core/types.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import { LEDGER_VERSION, leafVersion, sealEntry } from './ledger-entry.ts';
import { MerkleFrontier, leafHash } from './merkle-tree.ts';
import type { Subtree } from './merkle-tree.ts';
import { fillTreeNodes, keptRootsOf, treeKept } from './stored-tree.ts';

// What the ledger needs from storage; the metadata store implements it inside its transactions.
// A leaf as stored, with its personal payload and salt beside it (version 2; null in version 1,
// and once erased).
export interface LedgerRow {
  index: number;
  type: string;
  time: number;
  leaf: Buffer;
  leafHash: Buffer;
  payload: Buffer | null;
  salt: Buffer | null;
}

export interface LedgerStore {
  ledgerSize(tx: Tx): Promise<number>;
  appendLeaf(tx: Tx, row: LedgerRow): Promise<void>;
  // Erases an entry's personal payload and salt, naming the erasure entry; false if there was
  // none to erase (a version-1 entry, or erased before).
  erasePayload(tx: Tx, index: number, erasedBy: number): Promise<boolean>;
  leafHashes(tx: Tx, from: number, to: number): Promise<Buffer[]>;
  // The tree's interior as it completes (stored-tree.ts): kept perfect subtrees, saved with the
  // leaf that completes them (one already there is left as it is), and read back by position,
  // null for one not there.
  saveTreeNodes(tx: Tx, nodes: readonly TreeNode[]): Promise<void>;
  treeNodes(tx: Tx, subtrees: readonly Subtree[]): Promise<(Buffer | null)[]>;
  latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | null>;
  checkpointAt(tx: Tx, size: number): Promise<StoredCheckpoint | null>;
  // A page of checkpoints, newest first: those smaller than `before` (all when null), and how
  // many there are in all.
  checkpointsBefore(tx: Tx, before: number | null, limit: number): Promise<StoredCheckpoint[]>;
  // And oldest first: those larger than `after` (verify reads them all so, a page at a time).
  checkpointsAfter(tx: Tx, after: number, limit: number): Promise<StoredCheckpoint[]>;
  checkpointCount(tx: Tx): Promise<number>;
  saveCheckpoint(tx: Tx, checkpoint: StoredCheckpoint): Promise<void>;
  // Reading the ledger back, in index order; ofMailbox newest first, an entry that names
  // several of the mailboxes once for each.
  entry(tx: Tx, index: number): Promise<StoredEntry | null>;
  entries(tx: Tx, filter: LedgerFilter): Promise<StoredEntry[]>;
  ofGrant(tx: Tx, grantId: string): Promise<StoredEntry[]>;
  ofMailbox(tx: Tx, mailboxIds: readonly number[], limit: number): Promise<StoredEntry[]>;
  // Entries that mention any of these strings (lowercase) where personal data is kept: a
  // version-2 entry's payload (erased ones left out), a version-1 entry's leaf.
  mentioning(tx: Tx, needles: readonly string[]): Promise<{ index: number; type: string; operation: string; version: 1 | 2 }[]>;
  // The rows from index `from` up to `to` (default: every row), in index order, for verification
  // and export.
  ledgerRows(tx: Tx, from?: number, to?: number): AsyncGenerator<LedgerRow & { erasedBy: number | null }>;
}

// An entry as stored: read back (leaf and payload), with the leaf it was hashed from, that hash,
// and the payload and salt the leaf commits to (version 2, until erased).
export interface StoredEntry {
  entry: LedgerEntry;
  leaf: Buffer;
  leafHash: Buffer;
  payload: Buffer | null;
  salt: Buffer | null;
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

// A kept subtree's root: the 2^level leaves from index · 2^level on.
export interface TreeNode extends Subtree {
  hash: Buffer;
}

// Whether a filter can match no capture: a capture's actor is capture:<source>, its operation
// `capture`, its result a success and it is under no grant (store/archive-writer.ts writes them
// all), so one that names another actor, operation or result, or any grant, reads the actions
// alone (each store keeps indexes on them that leave the captures, most of a ledger, out).
export function leavesCapturesOut(f: LedgerFilter): boolean {
  return (!!f.actor && !f.actor.startsWith('capture:')) || (!!f.operation && f.operation !== 'capture') || (!!f.result && f.result !== 'success') || !!f.grantId;
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  frontier: string;
  createdAt: number;
}

// What a LedgerStore throws when asked to keep a tree head of a size it holds with another root:
// two heads of one size that differ would mean two ledgers, and the first one stays.
export function forkedCheckpoint(size: number): Error {
  return new Error(`a checkpoint of size ${size} with another root is already stored; the ledger would fork, so this one is not kept`);
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
  // The leaf format of the last entry: 1 until this ledger's upgrade entry is written.
  #version: 1 | 2 = LEDGER_VERSION;
  #lastCheckpointSize = 0;
  #lastCheckpointTime = 0;
  #treeFilled = false;
  // Subtree roots this process kept as it opened (an upgraded ledger's, once).
  #keptOnOpen = 0;

  private constructor(options: { store: LedgerStore; sign: CheckpointSigner; origin: string; clock: Clock }) {
    this.#store = options.store;
    this.#sign = options.sign;
    this.#origin = options.origin;
    this.#clock = options.clock;
  }

  // Rebuilds the tree from the last checkpoint's frontier and the leaves after it. A writer (the
  // server, an importer) keeps the tree's interior of a ledger begun before it was kept as it
  // opens, before it takes anything in: otherwise the first entry's transaction would, with
  // captures waiting on it (7 s a million entries).
  static async open(options: { store: LedgerStore & Transactions; sign: CheckpointSigner; origin: string; clock: Clock; writer?: boolean }): Promise<Ledger> {
    const ledger = new Ledger(options);
    if (options.writer && !await options.store.read((tx) => treeKept(tx, options.store))) {
      ledger.#keptOnOpen = await options.store.write((tx) => fillTreeNodes(tx, options.store));
      ledger.#treeFilled = true;
    }
    await options.store.read(async (tx) => {
      const latest = await options.store.latestCheckpoint(tx);
      if (latest) ledger.#frontier = MerkleFrontier.fromJSON(JSON.parse(latest.frontier));
      ledger.#lastCheckpointSize = latest?.size ?? 0;
      ledger.#lastCheckpointTime = latest?.createdAt ?? 0;
      await ledger.catchUp(tx);
      await ledger.#readVersion(tx);
    });
    return ledger;
  }

  get keptOnOpen(): number {
    return this.#keptOnOpen;
  }

  get size(): number {
    return this.#frontier.size;
  }

  get origin(): string {
    return this.#origin;
  }

  // Another process (a CLI command, another node) may have appended since we last looked: only
  // one writer holds the database's write lock, so calling this inside the transaction keeps one
  // sequence. In a read (a timer's look) it only learns what is committed, which no rollback
  // takes back; a read and a write of this process may both be catching up (PostgreSQL runs them
  // side by side), so the leaves are added only if the tree is still where they were read from.
  async catchUp(tx: Tx): Promise<void> {
    for (;;) {
      const from = this.#frontier.size;
      const size = await this.#store.ledgerSize(tx);
      if (size <= from) return;
      const hashes = await this.#store.leafHashes(tx, from, size);
      if (this.#frontier.size !== from) continue;
      if (tx.mode === 'write') this.#remember(tx);
      for (const hash of hashes) this.#frontier.append(hash);
      return;
    }
  }

  // An entry that `erases` earlier ones (version 2 only) clears their personal payloads in the
  // same transaction; an index that has none to erase (version 1, erased before, not written
  // yet) refuses the whole entry.
  async append(tx: Tx, entry: NewLedgerEntry): Promise<LedgerEntry> {
    const appended = await this.#appendVersioned(tx, entry);
    for (const index of appended.erases ?? []) {
      if (index >= appended.index || !await this.#store.erasePayload(tx, index, appended.index)) {
        throw new Error(`ledger entry ${index} has no personal payload to erase (version 1, erased before, or not written yet)`);
      }
    }
    return appended;
  }

  async #appendVersioned(tx: Tx, entry: NewLedgerEntry): Promise<LedgerEntry> {
    this.#remember(tx);
    // A ledger begun before the tree's interior was kept, opened by no writer since (a console
    // command's first entry), gets it now.
    if (!this.#treeFilled) {
      const filled = await fillTreeNodes(tx, this.#store);
      this.#treeFilled = true;
      if (filled > 0) tx.onRollback(() => { this.#treeFilled = false; });
    }
    // A ledger begun before version 2 says where its version-2 entries begin, once: another
    // process may have written that entry meanwhile.
    if (this.#version === 1 && await this.#readVersion(tx) === 1) {
      await this.#appendAs(tx, 2, {
        type: 'system', actor: 'system:sealbox', actorRoles: [], logonType: 'system', sessionId: null, clientIp: null, operation: 'ledger.upgrade',
        objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { from: 1, to: 2 }, time: entry.time,
      });
      this.#version = 2;
    }
    return this.#appendAs(tx, this.#version, entry);
  }

  async #appendAs(tx: Tx, version: 1 | 2, entry: NewLedgerEntry): Promise<LedgerEntry> {
    const full: LedgerEntry = { ...entry, index: this.#frontier.size, time: entry.time ?? this.#clock.now() };
    const sealed = sealEntry(full, version);
    const hash = Buffer.from(leafHash(sealed.leaf));
    // Stored first: a refused write leaves the tree as it was, even if the work carries on.
    await this.#store.appendLeaf(tx, { index: full.index, type: full.type, time: full.time, leafHash: hash, ...sealed });
    const kept = keptRootsOf(this.#frontier, hash);
    if (kept.length > 0) await this.#store.saveTreeNodes(tx, kept);
    this.#frontier.append(hash);
    return full;
  }

  // The format of the newest leaf (an empty ledger starts in the current one).
  async #readVersion(tx: Tx): Promise<1 | 2> {
    const size = await this.#store.ledgerSize(tx);
    const last = size > 0 ? await this.#store.entry(tx, size - 1) : null;
    this.#version = last ? leafVersion(last.leaf) : LEDGER_VERSION;
    return this.#version;
  }

  // The first change in a transaction remembers the state before it, to go back to on rollback.
  #remember(tx: Tx): void {
    if (this.#marked.has(tx)) return;
    this.#marked.add(tx);
    const frontier = this.#frontier.toJSON();
    const size = this.#lastCheckpointSize;
    const time = this.#lastCheckpointTime;
    const version = this.#version;
    tx.onRollback(() => {
      this.#version = version;
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

  // Signs the current tree head and keeps it, in the caller's transaction (after catchUp). A
  // head another process signed meanwhile (an importer; the node that held the duties before)
  // is not signed again.
  async checkpoint(tx: Tx): Promise<StoredCheckpoint | null> {
    const size = this.#frontier.size;
    this.#remember(tx);
    const latest = await this.#store.latestCheckpoint(tx);
    if (latest && latest.size >= this.#lastCheckpointSize) {
      this.#lastCheckpointSize = latest.size;
      this.#lastCheckpointTime = latest.createdAt;
    }
    if (size <= this.#lastCheckpointSize && size > 0) return null;
    const root = this.root();
    const note = this.#sign({ origin: this.#origin, size, rootHash: root });
    const checkpoint = { size, root, note, frontier: JSON.stringify(this.#frontier.toJSON()), createdAt: this.#clock.now() };
    this.#lastCheckpointSize = size;
    this.#lastCheckpointTime = checkpoint.createdAt;
    await this.#store.saveCheckpoint(tx, checkpoint);
    return checkpoint;
  }
}
