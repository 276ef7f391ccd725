import type { Tx } from '../core/transactions.ts';
import { verifyCheckpoint } from '../ledger/checkpoint.ts';
import { LeafCheck, checkCheckpoint, missingEntries } from '../ledger/ledger-checks.ts';
import { canonicalJson } from '../ledger/ledger-entry.ts';
import { MerkleFrontier } from '../ledger/merkle-tree.ts';
import type { StoredCheckpoint, TreeNode } from '../ledger/ledger.ts';
import { keptRootsOf } from '../ledger/stored-tree.ts';
import type { Stores } from './open-stores.ts';
import type { BlobCheckPool, BlobOutcome } from './blob-check.ts';
import type { MessageRow } from './metadata-store.ts';

const BATCH = 64;          // messages per hand-over to a checker thread
const YIELD_EVERY = 256;   // rows walked between turns of the event loop, so the checkers are fed
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface VerifyReport {
  problems: string[];
  notes: string[];
  entries: number;
  checkpoints: number;
  messages: number;
  bytes: number;        // raw bytes re-hashed
  seconds: number;
}

// Re-derives everything that can be re-derived and names every difference: each blob is
// decrypted and re-hashed, the tree is rebuilt from the leaves, every checkpoint signature and
// root is checked against it, and captures are matched to their ledger entries both ways.
export interface WitnessedCheckpoint {
  source: string;   // where the witness kept it (a file name)
  note: string;
}

export interface VerifyOptions {
  verifierKey: string;
  origin: string;
  witnessed?: WitnessedCheckpoint[];
  blobCheck: BlobCheckPool;        // the threads that re-hash the blobs
  checkpointPage?: number;         // checkpoints read at a time (default 1,000)
}

// The signed checkpoints in size order, read a page at a time: one is signed every
// ledger.checkpointEverySeconds while mail comes in, half a million notes (and frontiers) a year.
class CheckpointsInOrder {
  readonly #meta: Stores['meta'];
  readonly #tx: Tx;
  readonly #pageSize: number;
  #page: StoredCheckpoint[] = [];
  #at = 0;
  #more = true;
  count = 0;                                  // read so far
  last: StoredCheckpoint | null = null;       // the largest read so far

  constructor(meta: Stores['meta'], tx: Tx, pageSize: number) {
    this.#meta = meta;
    this.#tx = tx;
    this.#pageSize = pageSize;
  }

  // This page is checked, and another may follow: ready() reads it.
  get pageDone(): boolean {
    return this.#at === this.#page.length && this.#more;
  }

  // The next one not checked yet, reading the next page if this one is done; null after the last.
  async ready(): Promise<StoredCheckpoint | null> {
    if (this.pageDone) {
      this.#page = await this.#meta.checkpointsAfter(this.#tx, this.last?.size ?? -1, this.#pageSize);
      this.#at = 0;
      this.#more = this.#page.length === this.#pageSize;
      this.count += this.#page.length;
      this.last = this.#page.at(-1) ?? this.last;
    }
    return this.current();
  }

  // The next one on this page (null at its end: ready() first).
  current(): StoredCheckpoint | null {
    return this.#page[this.#at] ?? null;
  }

  // That one checked; the next on this page.
  take(): StoredCheckpoint | null {
    this.#at++;
    return this.current();
  }
}

// `witnessed`: checkpoints kept by outside witnesses. Each must verify with our key and be a
// prefix of the ledger as it is now; otherwise history was rewritten, even if every local
// checkpoint was re-signed to match. Everything is read in the caller's transaction, so the
// ledger, the captures and the messages are checked as of one moment.
export async function verifyArchive(tx: Tx, stores: Stores, options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const problems: string[] = [];
  const notes: string[] = [];
  const { meta } = stores;
  // Every blob is decrypted and re-hashed on the checkers' threads while this one rebuilds the tree.
  const blobStage = hashBlobs(tx, stores, options.blobCheck);
  blobStage.catch(() => {}); // awaited below

  // 1. The ledger, rebuilt leaf by leaf; checkpoints checked at their sizes on the way.
  const checkpoints = new CheckpointsInOrder(meta, tx, options.checkpointPage ?? 1000);
  await checkpoints.ready();
  const witnessed = new Map<number, { source: string; root: Buffer }[]>();
  for (const w of options.witnessed ?? []) {
    try {
      const parsed = verifyCheckpoint(w.note, options.verifierKey, { origin: options.origin });
      witnessed.set(parsed.size, [...(witnessed.get(parsed.size) ?? []), { source: w.source, root: Buffer.from(parsed.rootHash) }]);
    } catch (err) {
      problems.push(`witness checkpoint ${w.source}: ${(err as Error).message}`);
    }
  }
  let next = 0;
  const frontier = new MerkleFrontier();
  const captureEntries = new Map<string, { index: number; sha256: string; committed: Record<string, unknown> }>();
  // Capture entries whose payload (with the capture's id) was erased, by index.
  const erasedCaptures = new Map<number, string>();
  // Version-2 entries without their payload, and the indexes erasure entries name.
  const missingPayload: number[] = [];
  const erasedByEntry = new Map<number, number>();
  const leaves = new LeafCheck();
  // Dispose entries: the messages each names, by its index.
  const disposeEntries = new Map<number, Set<string>>();
  const checkAt = (size: number) => {
    for (const w of witnessed.get(size) ?? []) {
      if (!w.root.equals(frontier.root())) problems.push(`witness checkpoint ${w.source} (size ${size}) does not match this ledger's first ${size} entries: history was rewritten`);
    }
    witnessed.delete(size);
    for (let cp = checkpoints.current(); cp?.size === size; cp = checkpoints.take()) {
      checkCheckpoint(cp, frontier.root(), options, problems);
    }
  };
  checkAt(0);
  // The tree's kept subtree roots (ledger/stored-tree.ts), compared with the tree rebuilt here:
  // proofs and the checkpoints page are made from them.
  let kept: TreeNode[] = [];
  let keptMissing = 0;
  const checkKept = async () => {
    const stored = await meta.treeNodes(tx, kept);
    kept.forEach((node, i) => {
      if (!stored[i]) keptMissing++;
      else if (!stored[i]!.equals(node.hash)) problems.push(`ledger tree: the stored root of entries ${node.index * 2 ** node.level}–${(node.index + 1) * 2 ** node.level - 1} is not theirs (changed)`);
    });
    kept = [];
  };
  let walked = 0;
  for await (const row of meta.ledgerRows(tx)) {
    if (++walked % YIELD_EVERY === 0) await turn();
    if (row.index !== next) {
      problems.push(row.index > next ? missingEntries(next, row.index) : `ledger entry ${row.index} is out of order`);
      next = row.index;
    }
    const { hash, entry, erases, payloadMissing } = leaves.check(row, problems);
    if (payloadMissing) missingPayload.push(row.index);
    for (const erased of erases) erasedByEntry.set(erased, row.index);
    try {
      if (entry?.operation === 'dispose' && entry.result === 'success') disposeEntries.set(row.index, new Set(entry.objects.messages));
      if (entry?.type === 'capture' && entry.erased) erasedCaptures.set(row.index, entry.objects.messages[0]!);
      else if (entry?.type === 'capture') {
        const id = String(entry.parameters.captureId);
        captureEntries.set(id, { index: row.index, sha256: entry.objects.messages[0]!, committed: { ...entry.parameters, clientIp: entry.clientIp } });
      }
    } catch {
      // JSON that parses but is no entry (no objects, no parameters): named, and the walk goes on.
      problems.push(`ledger entry ${row.index}: leaf is not a valid entry`);
    }
    kept.push(...keptRootsOf(frontier, hash));
    if (kept.length >= 4096) await checkKept();
    frontier.append(hash);
    next = row.index + 1;
    if (checkpoints.pageDone) await checkpoints.ready();
    checkAt(frontier.size);
  }
  await checkKept();
  if (keptMissing > 0) notes.push(`${keptMissing} of the tree's kept subtree roots are not stored yet (proofs rebuild them from the leaves; the server or an importer stores them as it opens)`);
  for (const index of missingPayload) {
    if (!erasedByEntry.has(index)) problems.push(`ledger entry ${index}: its personal payload is missing and no erasure entry names it (removed)`);
  }
  for (const [size, ws] of witnessed) for (const w of ws) problems.push(`witness checkpoint ${w.source} has ${size} entries, this ledger only ${frontier.size}: entries were removed`);
  for (let cp = await checkpoints.ready(); cp; checkpoints.take(), cp = await checkpoints.ready()) problems.push(`checkpoint ${cp.size}: the ledger holds only ${frontier.size} entries (entries removed)`);
  const last = checkpoints.last;
  if (!last) problems.push('no signed checkpoint exists');
  else if (last.size < frontier.size) notes.push(`${frontier.size - last.size} newest ledger entries are not yet in a signed checkpoint`);

  // 2. Captures against the ledger: every field its entry committed to, as the database has it.
  const capturedShas = new Set<string>();
  for await (const cap of meta.allCaptures(tx)) {
    if (++walked % YIELD_EVERY === 0) await turn();
    const entry = captureEntries.get(cap.id);
    const erased = entry ? undefined : erasedCaptures.get(cap.ledgerIndex);
    if (erased !== undefined) {
      // Its entry's payload was erased: the message is all there is left to compare.
      if (erased !== cap.sha256) problems.push(`capture ${cap.id}: message ${cap.sha256} differs from the ledger's ${erased}`);
      erasedCaptures.delete(cap.ledgerIndex);
    } else if (!entry) problems.push(`capture ${cap.id}: no ledger entry records it`);
    else {
      if (entry.index !== cap.ledgerIndex) problems.push(`capture ${cap.id}: points at ledger entry ${cap.ledgerIndex}, recorded in ${entry.index}`);
      if (entry.sha256 !== cap.sha256) problems.push(`capture ${cap.id}: message ${cap.sha256} differs from the ledger's ${entry.sha256}`);
      const stored: Record<string, unknown> = {
        source: cap.source, receivedAt: cap.receivedAt, envelope: cap.envelope, provenance: cap.provenance, size: cap.size,
        clientIp: cap.envelope?.transport.address ?? null,
        // retention fixed at capture (entries from before retention name neither: null)
        retainUntil: cap.retainUntil, retentionRule: cap.retentionRule, keepUntil: cap.keepUntil, keepRule: cap.keepRule,
      };
      // An entry from before minimums names no keep-until: that capture is kept at least as long as its retention.
      const said = 'keepUntil' in entry.committed ? entry.committed : { ...entry.committed, keepUntil: entry.committed.retainUntil, keepRule: entry.committed.retentionRule };
      for (const [field, value] of Object.entries(stored)) {
        // Both sides are parsed JSON: structurally equal means canonically equal (the cheap test).
        const ours = value ?? null;
        const theirs = said[field] ?? null;
        if (sameJson(ours, theirs)) continue;
        const committed = canonicalJson(theirs);
        if (canonicalJson(ours) !== committed) problems.push(`capture ${cap.id}: ${field} in the database differs from ledger entry ${entry.index}: database ${canonicalJson(ours)}, ledger ${committed}`);
      }
      captureEntries.delete(cap.id);
    }
    if (cap.sha256) capturedShas.add(cap.sha256);
  }
  for (const [id, entry] of captureEntries) problems.push(`ledger entry ${entry.index}: capture ${id} of message ${entry.sha256} has no capture record (removed)`);

  // 3. What the blob checkers found, and each message against the ledger.
  const blobs = await blobStage;
  problems.push(...blobs.problems);
  for (const sha of blobs.shas) if (!capturedShas.has(sha)) problems.push(`message ${sha}: no capture record refers to it`);
  for (const m of blobs.gone) {
    // Destroyed by retention: nothing left to hash, but a dispose entry must name it.
    if (m.disposed) {
      const named = disposeEntries.get(m.disposed.ledgerIndex);
      if (!named?.has(m.sha256)) problems.push(`message ${m.sha256}: marked disposed by ledger entry ${m.disposed.ledgerIndex}, which is no dispose entry naming it`);
    } else problems.push(`message ${m.sha256}: its key is destroyed but no dispose entry says so (deleted outside retention)`);
  }
  return { problems, notes, entries: frontier.size, checkpoints: checkpoints.count, messages: blobs.shas.length, bytes: blobs.bytes, seconds: (performance.now() - started) / 1000 };
}

// Whether two parsed JSON values are equal, member by member. isDeepStrictEqual answers the same
// for these, at several times the cost (it handles prototypes, cycles and every built-in type).
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]));
}

// Walks the messages once: hands the live ones to the checker threads in batches, a few batches
// per thread in flight, and names every blob that is damaged or holds other bytes than its row
// says. Returns every message's sha256 and the rows of those with nothing left to hash, for the
// checks against the captures and the ledger once those are read.
async function hashBlobs(tx: Tx, stores: Stores, pool: BlobCheckPool): Promise<{ problems: string[]; bytes: number; shas: string[]; gone: MessageRow[] }> {
  const problems: string[] = [];
  const shas: string[] = [];
  const gone: MessageRow[] = [];
  let bytes = 0;
  const inFlight: { rows: MessageRow[]; done: Promise<BlobOutcome[]> }[] = [];
  const settle = async ({ rows, done }: (typeof inFlight)[number]) => {
    const outcomes = await done;
    rows.forEach((m, i) => {
      const o = outcomes[i]!;
      const where = `${m.blobRef.file} at ${m.blobRef.offset}`;
      if ('error' in o) problems.push(`message ${m.sha256}: blob (${where}) is damaged: ${o.error}`);
      else if (o.sha !== m.sha256) problems.push(`message ${m.sha256}: blob (${where}) holds different bytes (sha256 ${o.sha})`);
      else if (o.size !== m.size) problems.push(`message ${m.sha256}: size ${o.size}, recorded ${m.size}`);
      else bytes += o.size;
    });
  };
  const send = (rows: MessageRow[]) => {
    const done = pool.check(rows);
    done.catch(() => {}); // settled in order below
    inFlight.push({ rows, done });
  };
  let batch: MessageRow[] = [];
  for await (const m of stores.meta.allMessages(tx)) {
    shas.push(m.sha256);
    if (m.disposed || !m.seal.wrappedKey) {
      gone.push(m); // nothing to hash: checked against the ledger
      continue;
    }
    batch.push(m);
    if (batch.length < BATCH) continue;
    send(batch);
    batch = [];
    if (inFlight.length >= pool.threads * 3) await settle(inFlight.shift()!);
  }
  if (batch.length) send(batch);
  while (inFlight.length > 0) await settle(inFlight.shift()!);
  return { problems, bytes, shas, gone };
}
