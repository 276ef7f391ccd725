import type { Tx } from '../core/transactions.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import type { LedgerStore, StoredCheckpoint } from './ledger.ts';
import { StoredTree } from './stored-tree.ts';

export interface CheckpointStatus {
  size: number;
  createdAt: string;
  rootHash: string;            // base64, as stored
  note: string;
  signatureValid: boolean;     // signed by the verifier key, for this log's origin
  consistent: boolean;         // its root is the root of the ledger's first `size` entries now
  problem: string | null;
}

// Signed checkpoints (a page of them), each with its verdict against the ledger as it is now: each one's root
// rebuilt from the tree as stored (its kept subtree roots and a few leaf hashes, stored-tree.ts)
// and compared. A checkpoint that no longer matches means entries were changed, removed or
// reordered after it was signed. `sealbox verify` goes further: it rehashes every leaf and checks
// the kept roots (the background check, oversight/ledger-watch.ts, a share of them each time).
export async function checkpointHistory(tx: Tx, store: Pick<LedgerStore, 'ledgerSize' | 'leafHashes' | 'treeNodes'>, checkpoints: readonly StoredCheckpoint[], options: { verifierKey: string; origin: string }): Promise<CheckpointStatus[]> {
  const size = await store.ledgerSize(tx);
  const held = checkpoints.filter((c) => c.size <= size).map((c) => c.size);
  const rebuilt = await new StoredTree(store).roots(tx, held);
  const roots = new Map(held.map((s, i) => [s, rebuilt[i]!]));
  return checkpoints.map((c) => {
    const problems: string[] = [];
    let signatureValid = false;
    try {
      const parsed = verifyCheckpoint(c.note, options.verifierKey, { origin: options.origin });
      signatureValid = parsed.size === c.size && Buffer.from(parsed.rootHash).equals(c.root);
      if (!signatureValid) problems.push('the signed note does not say this size and root');
    } catch (err) {
      problems.push(`signature invalid: ${(err as Error).message}`);
    }
    const now = roots.get(c.size);
    const consistent = now !== undefined && now.equals(c.root);
    if (now === undefined) problems.push(`the ledger holds only ${size} entries (entries removed)`);
    else if (!consistent) problems.push(`its root is not the root of the ledger's first ${c.size} entries (entries changed, removed or reordered)`);
    return {
      size: c.size, createdAt: new Date(c.createdAt).toISOString(), rootHash: c.root.toString('base64'), note: c.note,
      signatureValid, consistent, problem: problems.length ? problems.join('; ') : null,
    };
  });
}
