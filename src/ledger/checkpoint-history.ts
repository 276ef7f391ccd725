import type { Tx } from '../core/transactions.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import type { LedgerStore } from './ledger.ts';
import { MerkleFrontier } from './merkle-tree.ts';

export interface CheckpointStatus {
  size: number;
  createdAt: string;
  rootHash: string;            // base64, as stored
  note: string;
  signatureValid: boolean;     // signed by the verifier key, for this log's origin
  consistent: boolean;         // its root is the root of the ledger's first `size` entries now
  problem: string | null;
}

// Every signed checkpoint with its verdict against the ledger as it is now: one pass over the
// leaf hashes, the tree rebuilt as it goes and compared at each checkpoint's size (as `sealbox
// verify` does, without the blobs). A checkpoint that no longer matches means entries were
// changed, removed or reordered after it was signed.
export async function checkpointHistory(tx: Tx, store: Pick<LedgerStore, 'checkpoints' | 'ledgerSize' | 'leafHashes'>, options: { verifierKey: string; origin: string }): Promise<CheckpointStatus[]> {
  const checkpoints = await store.checkpoints(tx);
  const size = await store.ledgerSize(tx);
  const frontier = new MerkleFrontier();
  const roots = new Map<number, Buffer>();
  const wanted = new Set(checkpoints.map((c) => c.size));
  if (wanted.has(0)) roots.set(0, Buffer.from(frontier.root()));
  const CHUNK = 65_536;
  for (let from = 0; from < size; from += CHUNK) {
    for (const hash of await store.leafHashes(tx, from, Math.min(size, from + CHUNK))) {
      frontier.append(hash);
      if (wanted.has(frontier.size)) roots.set(frontier.size, Buffer.from(frontier.root()));
    }
  }
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
