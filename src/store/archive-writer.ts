import type { Logger } from 'pino';
import { SealboxError } from '../core/errors.ts';
import type { CaptureRecord } from '../core/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { CaptureRetention } from '../retention/capture-retention.ts';
import type { CaptureTerms } from '../retention/retention-policy.ts';
import { mayHaveCommitted } from '../core/transactions.ts';
import type { Tx } from '../core/transactions.ts';
import type { BlobRef, BlobStore } from './blob-store.ts';
import type { SealMeta } from './sealed-blob.ts';
import type { MetadataStore, NewMessage } from './metadata-store.ts';

export interface PendingCapture {
  capture: CaptureRecord;
  seal: SealMeta;
  inline: Buffer | null;                       // sealed bytes still to be written
  large: { ref: BlobRef; discard(): Promise<void> } | null; // sealed bytes already in a file of their own
}

export interface CommitResult {
  sha256: string;
  captureId: string;
  ledgerIndex: number;
  duplicate: boolean;  // the bytes were already archived: one more capture record, no new blob
}

const GATHER_MS = 2;

// Whether a lock until `locked` keeps what must be kept until `needed` (null: for ever).
function covers(locked: number | null, needed: number | null): boolean {
  return locked === null || (needed !== null && needed <= locked);
}

interface Waiting {
  pending: PendingCapture;
  resolve(result: CommitResult): void;
  reject(err: unknown): void;
}

// The one door into the archive. A capture is acknowledged only after its blob has been flushed
// and the transaction holding its message row, capture row and ledger entry has committed.
// Captures arriving while one flush runs wait for the next: one fsync pair serves many messages.
export class ArchiveWriter {
  readonly #meta: MetadataStore;
  readonly #blobs: BlobStore;
  readonly #ledger: Ledger;
  readonly #log: Logger;
  readonly #retention: CaptureRetention;
  readonly #maxBatch: number;
  #queue: Waiting[] = [];
  #flushing: Promise<void> | null = null;
  #open = new Set<string>();        // transactions under way that will commit soon
  #gather: NodeJS.Timeout | null = null;
  #afterCommit: (() => void) | null = null;

  constructor(options: { meta: MetadataStore; blobs: BlobStore; ledger: Ledger; log: Logger; maxBatch: number; retention: CaptureRetention }) {
    this.#meta = options.meta;
    this.#retention = options.retention;
    this.#blobs = options.blobs;
    this.#ledger = options.ledger;
    this.#log = options.log;
    this.#maxBatch = options.maxBatch;
  }

  // Called after every successful commit (e.g. to wake the indexer).
  onCommit(fn: () => void): void {
    this.#afterCommit = fn;
  }

  // A receiver announces a transaction (from MAIL FROM) so that the next flush can wait a moment
  // for it: one flush for all the connections in step costs one fsync pair instead of several.
  open(key: string): void {
    this.#open.add(key);
  }

  close(key: string): void {
    this.#open.delete(key);
    this.#kick();
  }

  commit(pending: PendingCapture, key?: string): Promise<CommitResult> {
    if (key) this.#open.delete(key);
    return new Promise((resolve, reject) => {
      this.#queue.push({ pending, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    if (this.#open.size > 0 && this.#queue.length < this.#maxBatch) {
      // Others are mid-transaction: wait for them, but never longer than GATHER_MS.
      this.#gather ??= setTimeout(() => {
        this.#gather = null;
        this.#start();
      }, GATHER_MS);
      return;
    }
    this.#start();
  }

  #start(): void {
    if (this.#gather) {
      clearTimeout(this.#gather);
      this.#gather = null;
    }
    if (this.#flushing || this.#queue.length === 0) return;
    this.#flushing = new Promise<void>((done) => setImmediate(() => this.#flush().finally(done)));
    this.#flushing.then(() => {
      this.#flushing = null;
      this.#kick();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch);
    let results: CommitResult[];
    let refs: Map<string, BlobRef>;
    try {
      ({ results, refs } = await this.#commitBatch(batch));
    } catch (err) {
      this.#log.error({ err, batch: batch.length }, 'commit failed; the batch is answered with a temporary failure');
      // A commit that may have happened keeps its large blobs: its rows may point at them.
      const keep = mayHaveCommitted(err);
      for (const w of batch) {
        w.reject(err);
        if (!keep) await w.pending.large?.discard().catch(() => {});
      }
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
    for (const { pending } of batch) {
      // A large blob that lost the race to identical bytes is not referenced: remove it.
      if (pending.large && refs.get(pending.seal.sha256) !== pending.large.ref) await pending.large.discard().catch(() => {});
    }
    try {
      this.#afterCommit?.();
    } catch (err) {
      this.#log.error({ err }, 'after-commit hook failed');
    }
  }

  // Blobs flushed, then one transaction for their rows and ledger entries. On any fault nothing
  // of the batch remains: the transaction is rolled back (and with it the ledger's frontier) and
  // the blob store cut back to where it stood, so no later batch can inherit a stale offset;
  // only a COMMIT that got no answer leaves the bytes, which its rows may point at.
  // A store with Object Lock is told each capture's keep-until before the sync, so the object
  // holding its bytes (new, or a duplicate's older one) is locked at least that long before the
  // capture is acknowledged.
  async #commitBatch(batch: Waiting[]): Promise<{ results: CommitResult[]; refs: Map<string, BlobRef> }> {
    const blobMark = this.#blobs.mark();
    const refs = new Map<string, BlobRef>();   // sha256 → blob written in this batch
    const lock = this.#blobs.lock?.bind(this.#blobs);
    try {
      const { known, locked } = await this.#meta.read(async (tx) => {
        const ids = new Map<string, BlobRef | null>();
        for (const sha of (await this.#meta.findMessageIds(tx, batch.map((w) => w.pending.seal.sha256))).keys()) {
          ids.set(sha, lock ? (await this.#meta.getMessage(tx, sha))?.blobRef ?? null : null);
        }
        return { known: ids, locked: lock ? await this.#retention.forBatch(tx, batch.map((w) => w.pending.capture)) : null };
      });
      for (const [i, { pending }] of batch.entries()) {
        const sha = pending.seal.sha256;
        if (!refs.has(sha) && !known.has(sha)) refs.set(sha, pending.large ? pending.large.ref : this.#blobs.append(pending.inline!));
        const ref = refs.get(sha) ?? known.get(sha);
        if (lock && locked && ref) lock(ref, locked[i]!.keepUntil);
      }
      await this.#blobs.sync();
      const results = await this.#meta.write(async (tx) => {
        await this.#ledger.catchUp(tx);
        // Retention is fixed here, from the rules as they are in this transaction.
        const retention = await this.#retention.forBatch(tx, batch.map((w) => w.pending.capture));
        // A rule changed since the locks were set may keep a capture longer than its object is
        // locked: the batch is refused (451) and its retry is locked by the rules as they are now.
        if (locked) {
          for (const [i, terms] of retention.entries()) {
            if (!covers(locked[i]!.keepUntil, terms.keepUntil)) throw new SealboxError('SEALBOX_ERR_STORE_UNAVAILABLE', 'retention rules changed while the batch was being stored; please retry');
          }
        }
        // Every message row first, then the ledger entries and captures, each kind one multi-row
        // insert where the backend can (PostgreSQL: one round trip a batch, not one each).
        const messages = await this.#messages(tx, batch.map((w) => w.pending), refs);
        const results: CommitResult[] = [];
        for (const [i, { pending }] of batch.entries()) results.push(await this.#record(tx, pending, messages[i]!, retention[i]!));
        return results;
      });
      return { results, refs };
    } catch (err) {
      // A COMMIT that got no answer may have committed (on a standby a failover promotes): its
      // bytes stay, unreferenced if it did not, and the sender's retry finds the message there.
      if (mayHaveCommitted(err)) throw err;
      try {
        this.#blobs.rollback(blobMark);
      } catch (rollbackErr) {
        // The store retries the rollback before it takes any more bytes.
        this.#log.error({ err: rollbackErr }, 'blob store could not be cut back after a failed batch');
      }
      throw err;
    }
  }

  // Each capture's message row: archived before (a duplicate, also of an earlier capture in this
  // batch) or added now, all the new ones at once.
  async #messages(tx: Tx, batch: readonly PendingCapture[], refs: Map<string, BlobRef>): Promise<{ rowId: number; duplicate: boolean }[]> {
    const archived = await this.#meta.findMessageIds(tx, batch.map((p) => p.seal.sha256));
    const fresh = new Map<string, NewMessage>();
    for (const { capture, seal } of batch) {
      if (archived.has(seal.sha256) || fresh.has(seal.sha256)) continue;
      // Archived between the look before the blobs were written and now (another process): the
      // blob just written is not referenced, and the writer discards it like any lost race.
      const ref = refs.get(seal.sha256);
      if (!ref) throw new Error(`no blob for ${seal.sha256}`);
      fresh.set(seal.sha256, { seal, ref, firstSeen: capture.receivedAt });
    }
    const ids = await this.#meta.insertMessages(tx, [...fresh.values()]);
    const added = new Map([...fresh.keys()].map((sha256, i) => [sha256, ids[i]!]));
    return batch.map(({ seal }) => {
      const rowId = added.get(seal.sha256);
      if (rowId === undefined) return { rowId: archived.get(seal.sha256)!, duplicate: true };
      added.delete(seal.sha256);    // the batch's later captures of it are duplicates
      archived.set(seal.sha256, rowId);
      return { rowId, duplicate: false };
    });
  }

  async #record(tx: Tx, pending: PendingCapture, message: { rowId: number; duplicate: boolean }, retention: CaptureTerms): Promise<CommitResult> {
    const { capture, seal } = pending;
    const duplicate = message.duplicate;
    const entry = await this.#ledger.append(tx, {
      type: 'capture', actor: `capture:${capture.source}`, actorRoles: [], logonType: 'system', sessionId: null,
      clientIp: capture.envelope?.transport.address ?? null, operation: 'capture',
      objects: { mailboxes: [], messages: [seal.sha256] }, grantId: null, result: 'success',
      parameters: { captureId: capture.id, source: capture.source, size: seal.size, receivedAt: capture.receivedAt, envelope: capture.envelope, provenance: capture.provenance, duplicate,
        // what was promised: a later rule change cannot quietly shorten it (verify compares the row)
        retainUntil: retention.retainUntil, retentionRule: retention.ruleId, keepUntil: retention.keepUntil, keepRule: retention.keepRule },
    });
    await this.#meta.insertCapture(tx, capture, message.rowId, entry.index, retention);
    return { sha256: seal.sha256, captureId: capture.id, ledgerIndex: entry.index, duplicate };
  }

  // Whether a capture with this id is in the archive (a spool replaying after a crash asks).
  isCommitted(captureId: string): Promise<boolean> {
    return this.#meta.read((tx) => this.#meta.hasCapture(tx, captureId));
  }

  // Waits until everything queued has been committed or failed.
  async drain(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      this.#start();
      await this.#flushing;
    }
  }
}
