import type { Tx } from '../core/transactions.ts';
import type { LedgerStore, TreeNode } from './ledger.ts';
import { MerkleFrontier, consistencyRanges, foldRoots, inclusionRanges, nodeHash, subtreeRoot, subtreesOf } from './merkle-tree.ts';
import type { LeafRange, Subtree } from './merkle-tree.ts';

// The ledger's tree as stored. Each perfect subtree of 2^KEPT_LEVEL leaves or more is kept as it
// completes (the Ledger saves its root with the leaf that completes it), so a root at any size,
// an inclusion proof or a consistency proof reads O(log n) kept roots and a few runs of at most
// 64 leaf hashes, not every leaf hash up to the size: the checkpoints page, a message's evidence,
// an export's receipts and the proof commands cost the same at 200 million entries as at 2,000.
// The kept roots are derived data: `sealbox verify` rebuilds the tree from the leaves and names
// any kept root that differs, and a proof made from a changed one fails its verifier's check.
// 64 leaves: one kept root for every 32 entries.
export const KEPT_LEVEL = 6;

const KEPT_WIDTH = 2 ** KEPT_LEVEL;

type TreeStore = Pick<LedgerStore, 'leafHashes' | 'treeNodes'>;

export class StoredTree {
  readonly #store: TreeStore;
  // Kept roots read (or rebuilt) so far: a perfect subtree's root is the same in every size of
  // tree that holds it, so one StoredTree serves many proofs and transactions.
  readonly #kept = new Map<string, Buffer>();

  constructor(store: TreeStore) {
    this.#store = store;
  }

  // MTH(D[size]) for each size.
  roots(tx: Tx, sizes: readonly number[]): Promise<Buffer[]> {
    return this.#rangeRoots(tx, sizes.map((size) => [0, size] as const));
  }

  // PATH(index, D[size]) of RFC 9162.
  inclusionProof(tx: Tx, index: number, size: number): Promise<Buffer[]> {
    return this.#rangeRoots(tx, inclusionRanges(index, size));
  }

  // PROOF(oldSize, D[newSize]) of RFC 9162.
  consistencyProof(tx: Tx, oldSize: number, newSize: number): Promise<Buffer[]> {
    return this.#rangeRoots(tx, consistencyRanges(oldSize, newSize));
  }

  async #rangeRoots(tx: Tx, ranges: readonly LeafRange[]): Promise<Buffer[]> {
    const pieces = ranges.map(([lo, hi]) => subtreesOf(lo, hi));
    const roots = await this.#subtreeRoots(tx, pieces.flat());
    return pieces.map((p) => foldRoots(p.map((s) => roots.get(keyOf(s))!)));
  }

  // Each subtree's root: a kept one from the store, a smaller one from its leaves (runs close to
  // each other read as one), and a kept one that is not there (a ledger begun before roots were
  // kept, until a writer opens it: Ledger.open) from its two halves.
  async #subtreeRoots(tx: Tx, wanted: readonly Subtree[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const kept = new Map<string, Subtree>();
    const small = new Map<string, Subtree>();
    for (const s of wanted) {
      const key = keyOf(s);
      const known = this.#kept.get(key);
      if (known) out.set(key, known);
      else (s.level >= KEPT_LEVEL ? kept : small).set(key, s);
    }
    for (const [key, root] of await this.#fromLeaves(tx, [...small.values()])) out.set(key, root);
    const asked = [...kept.values()];
    const stored = asked.length ? await this.#store.treeNodes(tx, asked) : [];
    const missing = asked.filter((s, i) => {
      if (stored[i]) this.#kept.set(keyOf(s), stored[i]!);
      return !stored[i];
    });
    const halves = missing.length === 0 ? new Map<string, Buffer>() : await this.#subtreeRoots(tx, missing.flatMap((s) => [{ level: s.level - 1, index: s.index * 2 }, { level: s.level - 1, index: s.index * 2 + 1 }]));
    for (const s of missing) {
      this.#kept.set(keyOf(s), nodeHash(halves.get(`${s.level - 1}:${s.index * 2}`)!, halves.get(`${s.level - 1}:${s.index * 2 + 1}`)!));
    }
    for (const [key] of kept) out.set(key, this.#kept.get(key)!);
    return out;
  }

  async #fromLeaves(tx: Tx, subtrees: Subtree[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const spans = subtrees.map((s) => ({ s, lo: s.index * 2 ** s.level, hi: (s.index + 1) * 2 ** s.level })).sort((a, b) => a.lo - b.lo);
    for (let i = 0; i < spans.length;) {
      let j = i + 1;
      let hi = spans[i]!.hi;
      while (j < spans.length && spans[j]!.lo - hi < KEPT_WIDTH) hi = Math.max(hi, spans[j++]!.hi);
      const lo = spans[i]!.lo;
      const hashes = await this.#store.leafHashes(tx, lo, hi);
      if (hashes.length !== hi - lo) throw new Error(`the ledger does not hold entries ${lo}–${hi - 1}`);
      for (; i < j; i++) out.set(keyOf(spans[i]!.s), subtreeRoot(hashes, spans[i]!.lo - lo, spans[i]!.hi - lo));
    }
    return out;
  }
}

// Keeps the roots of a ledger begun before they were kept, in the caller's write transaction:
// every subtree of KEPT_LEVEL or more that its leaves complete. Nothing if the last one is there
// (they are saved in order, with the leaves). Returns how many were saved.
export async function fillTreeNodes(tx: Tx, store: Pick<LedgerStore, 'ledgerSize' | 'leafHashes' | 'treeNodes' | 'saveTreeNodes'>): Promise<number> {
  if (await treeKept(tx, store)) return 0;
  const size = await store.ledgerSize(tx);
  const frontier = new MerkleFrontier();
  const CHUNK = 65_536;
  let saved = 0;
  for (let from = 0; from < size; from += CHUNK) {
    const hashes = await store.leafHashes(tx, from, Math.min(size, from + CHUNK));
    // A ledger with a gap has no tree to keep: proofs rebuild from the leaves, and verify names it.
    if (hashes.length !== Math.min(size, from + CHUNK) - from) break;
    const nodes: TreeNode[] = [];
    for (const hash of hashes) {
      nodes.push(...keptRootsOf(frontier, hash));
      frontier.append(hash);
    }
    await store.saveTreeNodes(tx, nodes);
    saved += nodes.length;
  }
  return saved;
}

// Whether the ledger's last complete block of leaves has its kept root (then all before it have).
export async function treeKept(tx: Tx, store: Pick<LedgerStore, 'ledgerSize' | 'treeNodes'>): Promise<boolean> {
  const blocks = Math.floor(await store.ledgerSize(tx) / KEPT_WIDTH);
  return blocks === 0 || (await store.treeNodes(tx, [{ level: KEPT_LEVEL, index: blocks - 1 }]))[0] !== null;
}

// The kept roots that appending this leaf hash to the frontier completes (most leaves: none).
export function keptRootsOf(frontier: MerkleFrontier, hash: Buffer): TreeNode[] {
  return (frontier.size + 1) % KEPT_WIDTH === 0 ? frontier.completedBy(hash).filter((n) => n.level >= KEPT_LEVEL) : [];
}

function keyOf(s: Subtree): string {
  return `${s.level}:${s.index}`;
}
