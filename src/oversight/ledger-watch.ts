import type { SettingStore } from '../access/setting-store.ts';
import type { Clock } from '../core/clock.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { LedgerRow, LedgerStore, TreeNode } from '../ledger/ledger.ts';
import { LeafCheck, checkCheckpoint, leafVersion, missingEntries } from '../ledger/ledger-checks.ts';
import { MerkleFrontier, nodeHash } from '../ledger/merkle-tree.ts';
import type { Subtree } from '../ledger/merkle-tree.ts';
import { KEPT_LEVEL, StoredTree, keptRootsOf } from '../ledger/stored-tree.ts';

// 65,536 entries: about a second of work on this project's 2-core machine.
const SLICE_LEVEL = 16;
const CHECKED_TO = 'oversight.ledgerCheckedTo';
const YIELD_EVERY = 256;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface LedgerWatchOptions {
  meta: Transactions & LedgerStore & SettingStore;
  verifierKey: string;
  origin: string;
  clock: Clock;
  everyMinutes: number;   // how often check() runs (oversight.verifyEveryMinutes)
  roundDays: number;      // every entry re-hashed at least this often (oversight.ledgerRoundDays)
  sliceLevel?: number;    // slices of 2^sliceLevel entries (tests make them small)
}

export interface LedgerWatchReport {
  problems: string[];
  size: number;           // the ledger's size when the check began
  slices: number[];       // the slices re-hashed, in order
}

// The server's background check of the ledger (every oversight.verifyEveryMinutes), at a cost
// that does not grow with the ledger's age: `sealbox verify` re-hashes every entry, which at a
// year of a 5,000-person company (200 million entries, ~16 µs each) is longer than the hour
// between checks, on the thread that serves everything.
//
// The ledger is cut into slices of 2^16 entries, each the leaves of one kept subtree root
// (stored-tree.ts). Each check:
// - proves the stored tree above the slices against the newest signed checkpoint: its root made
//   from the kept roots must be the signed one, and every kept root above a slice must be the hash
//   of its two halves. So no kept root of a slice or above can change unseen for an hour;
// - re-hashes the slices that hold what was written since the last check, and a share of the
//   older ones, so that every slice is re-hashed about once every `roundDays`. A slice's leaves
//   are re-hashed and each checked as verify checks it (ledger-checks.ts), its kept roots made
//   again from them and compared, and the checkpoints signed inside it checked against the tree.
//
// Which older slices a check takes follows from the clock alone (the check's number since the
// epoch), so nobody steers the round by editing a setting; what the last check reached is kept
// (a setting) only to find the new slices, and a setting moved forward merely leaves those slices
// to the round. A changed leaf is thus named within roundDays (by the next check if it is new), a
// changed kept root or checkpoint and entries removed from the end by the next check.
export class LedgerWatch {
  readonly #o: LedgerWatchOptions;
  readonly #level: number;

  constructor(options: LedgerWatchOptions) {
    this.#o = options;
    this.#level = options.sliceLevel ?? SLICE_LEVEL;
    if (this.#level < KEPT_LEVEL) throw new Error(`a slice must be a kept subtree (level ${KEPT_LEVEL} or more)`);
  }

  async check(): Promise<LedgerWatchReport> {
    const { meta } = this.#o;
    const problems: string[] = [];
    const tree = new StoredTree(meta);
    const { size, checkedTo } = await meta.read(async (tx) => {
      const size = await meta.ledgerSize(tx);
      await this.#top(tx, tree, size, problems);
      const saved = await meta.getSetting(tx, CHECKED_TO);
      return { size, checkedTo: saved === null ? null : Number(saved) };
    });
    if (checkedTo !== null && checkedTo > size) problems.push(`the ledger holds ${size} entries, ${checkedTo} when last checked (entries removed)`);
    const slices = this.slicesFor(size, checkedTo);
    for (const slice of slices) problems.push(...await meta.read((tx) => this.#slice(tx, tree, slice, size)));
    await meta.write((tx) => meta.setSetting(tx, CHECKED_TO, String(Math.max(size, checkedTo ?? 0))));
    return { problems, size, slices };
  }

  // The slices this check re-hashes: those holding entries from `checkedTo` on (only the last one
  // on the first check), then this check's share of the complete ones, in the order of the round.
  slicesFor(size: number, checkedTo: number | null): number[] {
    const width = 2 ** this.#level;
    const count = Math.ceil(size / width);
    const out = new Set<number>();
    const from = checkedTo === null ? size - 1 : Math.min(checkedTo, size);
    for (let s = Math.floor(Math.max(0, from) / width); s < count; s++) out.add(s);
    const complete = Math.floor(size / width);
    if (complete > 0) {
      const checksPerRound = Math.max(1, Math.floor(this.#o.roundDays * 1440 / this.#o.everyMinutes));
      const share = Math.ceil(complete / checksPerRound);
      const checkNumber = Math.floor(this.#o.clock.now() / (this.#o.everyMinutes * 60_000));
      for (let i = 0; i < Math.min(share, complete); i++) out.add((checkNumber * share + i) % complete);
    }
    return [...out];
  }

  // The newest signed checkpoint against the tree as stored, and every kept root above the slices
  // against its halves.
  async #top(tx: Tx, tree: StoredTree, size: number, problems: string[]): Promise<void> {
    const { meta } = this.#o;
    const latest = await meta.latestCheckpoint(tx);
    if (!latest) problems.push('no signed checkpoint exists');
    else if (latest.size > size) problems.push(`checkpoint ${latest.size}: the ledger holds only ${size} entries (entries removed)`);
    else {
      try {
        checkCheckpoint(latest, (await tree.roots(tx, [latest.size]))[0]!, this.#o, problems);
      } catch (err) {
        problems.push(`checkpoint ${latest.size}: its root could not be made from the ledger: ${(err as Error).message}`);
      }
    }
    const above: Subtree[] = [];
    for (let level = this.#level + 1; 2 ** level <= size; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= size; index++) above.push({ level, index });
    }
    if (above.length === 0) return;
    const halves = above.flatMap((s) => [{ level: s.level - 1, index: 2 * s.index }, { level: s.level - 1, index: 2 * s.index + 1 }]);
    const [stored, halfRoots] = [await meta.treeNodes(tx, above), await meta.treeNodes(tx, halves)];
    above.forEach((s, i) => {
      const [left, right, root] = [halfRoots[2 * i], halfRoots[2 * i + 1], stored[i]];
      // One not kept (an archive begun before they were: filled as a writer opens it) is made
      // from its halves wherever it is used; nothing to compare.
      if (root && left && right && !root.equals(nodeHash(left, right))) problems.push(`ledger tree: the stored root of entries ${span(s)} is not the hash of its two halves (changed)`);
    });
  }

  // One slice's entries re-hashed and checked, its kept roots made again and compared, and the
  // checkpoints signed inside it checked against the tree.
  async #slice(tx: Tx, tree: StoredTree, slice: number, size: number): Promise<string[]> {
    const { meta } = this.#o;
    const problems: string[] = [];
    const lo = slice * 2 ** this.#level;
    const hi = Math.min(size, lo + 2 ** this.#level);
    const before = lo > 0 ? await this.#row(tx, lo - 1) : null;
    const leaves = new LeafCheck(before && leafVersion(before.leaf) === 2 ? lo - 1 : null);
    const frontier = new MerkleFrontier();
    const kept: TreeNode[] = [];
    let next = lo;
    for await (const row of meta.ledgerRows(tx, lo, hi)) {
      if ((row.index - lo + 1) % YIELD_EVERY === 0) await turn();
      if (row.index !== next) problems.push(missingEntries(next, row.index));
      next = row.index + 1;
      const { hash, payloadMissing } = leaves.check(row, problems);
      if (payloadMissing && !(await this.#erasedBy(tx, row.index, row.erasedBy))) problems.push(`ledger entry ${row.index}: its personal payload is missing and no erasure entry names it (removed)`);
      // The slice's own tree: its nodes' positions are relative to its first leaf.
      for (const n of keptRootsOf(frontier, hash)) kept.push({ ...n, index: n.index + lo / 2 ** n.level });
      frontier.append(hash);
    }
    if (next < hi) problems.push(missingEntries(next, hi));
    const stored = kept.length ? await meta.treeNodes(tx, kept) : [];
    kept.forEach((n, i) => {
      if (stored[i] && !stored[i]!.equals(n.hash)) problems.push(`ledger tree: the stored root of entries ${span(n)} is not theirs (changed)`);
    });
    for (let after = lo === 0 ? -1 : lo; ;) {
      const page = (await meta.checkpointsAfter(tx, after, 100)).filter((cp) => cp.size <= hi);
      if (page.length === 0) break;
      try {
        const roots = await tree.roots(tx, page.map((cp) => cp.size));
        page.forEach((cp, i) => checkCheckpoint(cp, roots[i]!, this.#o, problems));
      } catch (err) {
        problems.push(`checkpoints ${page[0]!.size}–${page.at(-1)!.size}: their roots could not be made from the ledger: ${(err as Error).message}`);
      }
      after = page.at(-1)!.size;
    }
    return problems;
  }

  // Whether the entry the payload's row names as its eraser is one whose leaf says it erased it.
  async #erasedBy(tx: Tx, index: number, erasedBy: number | null): Promise<boolean> {
    if (erasedBy === null || erasedBy <= index) return false;
    const eraser = await this.#row(tx, erasedBy);
    if (!eraser) return false;
    try {
      return ((JSON.parse(eraser.leaf.toString('utf8')) as { erases?: number[] }).erases ?? []).includes(index);
    } catch {
      return false;
    }
  }

  async #row(tx: Tx, index: number): Promise<LedgerRow | null> {
    for await (const row of this.#o.meta.ledgerRows(tx, index, index + 1)) return row;
    return null;
  }
}

function span(s: Subtree): string {
  return `${s.index * 2 ** s.level}–${(s.index + 1) * 2 ** s.level - 1}`;
}
