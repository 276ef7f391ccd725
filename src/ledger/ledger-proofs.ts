import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerStore, StoredCheckpoint } from './ledger.ts';
import { StoredTree } from './stored-tree.ts';

// Proofs against signed checkpoints, each answered with the checkpoint(s) it verifies against,
// as the CLI and the HTTP API hand them out.

export async function checkpointAt(tx: Tx, store: Pick<LedgerStore, 'latestCheckpoint' | 'checkpointAt'>, size?: number): Promise<StoredCheckpoint> {
  const found = size === undefined ? await store.latestCheckpoint(tx) : await store.checkpointAt(tx, size);
  if (!found) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', size === undefined ? 'no checkpoint has been signed yet' : `no signed checkpoint has size ${size}`);
  return found;
}

export async function proveInclusion(tx: Tx, store: LedgerStore, index: number, size?: number) {
  const checkpoint = await checkpointAt(tx, store, size);
  if (!Number.isInteger(index) || index < 0 || index >= checkpoint.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `entry ${index} is not in the checkpoint of size ${checkpoint.size}`);
  const [leafHash] = await store.leafHashes(tx, index, index + 1);
  const proof = await new StoredTree(store).inclusionProof(tx, index, checkpoint.size);
  return { index, size: checkpoint.size, leafHash: leafHash!.toString('base64'), proof: proof.map((h) => h.toString('base64')), checkpoint: checkpoint.note };
}

export async function proveConsistency(tx: Tx, store: LedgerStore, oldSize: number, newSize?: number) {
  const older = await checkpointAt(tx, store, oldSize);
  const newer = await checkpointAt(tx, store, newSize);
  if (older.size > newer.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `old size ${older.size} is larger than new size ${newer.size}`);
  const proof = await new StoredTree(store).consistencyProof(tx, older.size, newer.size);
  return { oldSize: older.size, newSize: newer.size, proof: proof.map((h) => h.toString('base64')), oldCheckpoint: older.note, newCheckpoint: newer.note };
}
