import type { LedgerEntry } from '../core/types.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import type { LedgerRow, StoredCheckpoint } from './ledger.ts';
import { commitmentOf, entryOf } from './ledger-entry.ts';
import { leafHash } from './merkle-tree.ts';

export interface CheckedLeaf {
  hash: Buffer;                 // the leaf's hash, made again from its bytes
  entry: LedgerEntry | null;    // null: the leaf is not a valid entry (named)
  erases: number[];             // the earlier entries whose payload this one erased
  payloadMissing: boolean;      // a version-2 entry without its payload: an erasure entry must name it
}

// One ledger row as `sealbox verify` and the background check (ledger-watch.ts) read it: its bytes
// against their stored hash, its personal payload against the leaf's commitment, its index, and
// the version rule (version 2 begins with the upgrade entry, and no version-1 leaf follows it).
// Rows are given in index order; `version2From` is where version 2 began before the first.
export class LeafCheck {
  #version2From: number | null;

  constructor(version2From: number | null = null) {
    this.#version2From = version2From;
  }

  check(row: LedgerRow, problems: string[]): CheckedLeaf {
    const hash = leafHash(row.leaf);
    if (!hash.equals(row.leafHash)) problems.push(`ledger entry ${row.index}: leaf bytes do not match their stored hash (entry changed)`);
    try {
      const leaf = JSON.parse(row.leaf.toString('utf8')) as { v?: number; operation?: string; commitment?: string; erases?: number[] };
      const v2 = leaf.v === 2;
      if (v2 && this.#version2From === null) {
        this.#version2From = row.index;
        if (leaf.operation !== 'ledger.upgrade' && row.index > 0) problems.push(`ledger entry ${row.index}: the first version-2 entry after version-1 ones is not the upgrade entry`);
      }
      if (!v2 && this.#version2From !== null) problems.push(`ledger entry ${row.index}: a version-1 leaf after version-2 entry ${this.#version2From} (personal data written in plain)`);
      const payload = v2 ? row.payload : null;
      if (v2 && payload !== null && (row.salt === null || commitmentOf(row.salt, payload) !== leaf.commitment)) {
        problems.push(`ledger entry ${row.index}: its personal payload does not match the leaf's commitment (changed)`);
      }
      const entry = entryOf(leaf as Parameters<typeof entryOf>[0], payload);
      if (entry.index !== row.index) problems.push(`ledger entry ${row.index}: leaf says index ${entry.index} (moved)`);
      return { hash, entry, erases: v2 ? (leaf.erases ?? []).filter((e) => e < row.index) : [], payloadMissing: v2 && payload === null };
    } catch {
      problems.push(`ledger entry ${row.index}: leaf is not a valid entry`);
      return { hash, entry: null, erases: [], payloadMissing: false };
    }
  }
}

// The problem of a gap in the ledger: entries `from` up to `to` (not included) are not there.
export function missingEntries(from: number, to: number): string {
  return `ledger entries ${from}${to - 1 > from ? `–${to - 1}` : ''} are missing`;
}

// A signed checkpoint against the root of the ledger's first `size` entries as rebuilt or stored.
export function checkCheckpoint(cp: StoredCheckpoint, root: Buffer, key: { verifierKey: string; origin: string }, problems: string[]): void {
  try {
    const parsed = verifyCheckpoint(cp.note, key.verifierKey, { origin: key.origin });
    if (parsed.size !== cp.size) problems.push(`checkpoint ${cp.size}: signed note says size ${parsed.size}`);
    if (!Buffer.from(parsed.rootHash).equals(root)) problems.push(`checkpoint ${cp.size}: signed root does not match the ledger's first ${cp.size} entries (entries changed, removed or reordered)`);
  } catch (err) {
    problems.push(`checkpoint ${cp.size}: signature invalid: ${(err as Error).message}`);
  }
}

// The version of a leaf as stored (1 for anything that does not say 2).
export function leafVersion(leaf: Buffer): 1 | 2 {
  try {
    return (JSON.parse(leaf.toString('utf8')) as { v?: number }).v === 2 ? 2 : 1;
  } catch {
    return 1;
  }
}
