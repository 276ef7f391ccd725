import { SealboxError } from '../core/errors.ts';
import type { LedgerStore, StoredCheckpoint } from './ledger.ts';
import { consistencyProof, inclusionProof } from './merkle-tree.ts';

// Proofs against signed checkpoints, each answered with the checkpoint(s) it verifies against,
// as the CLI and the HTTP API hand them out.

export function checkpointAt(store: Pick<LedgerStore, 'latestCheckpoint' | 'checkpoints'>, size?: number): StoredCheckpoint {
  const found = size === undefined ? store.latestCheckpoint() : store.checkpoints().find((c) => c.size === size);
  if (!found) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', size === undefined ? 'no checkpoint has been signed yet' : `no signed checkpoint has size ${size}`);
  return found;
}

export function proveInclusion(store: LedgerStore, index: number, size?: number) {
  const checkpoint = checkpointAt(store, size);
  if (!Number.isInteger(index) || index < 0 || index >= checkpoint.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `entry ${index} is not in the checkpoint of size ${checkpoint.size}`);
  const hashes = store.leafHashes(0, checkpoint.size);
  return { index, size: checkpoint.size, leafHash: hashes[index].toString('base64'), proof: inclusionProof(index, hashes).map((h) => h.toString('base64')), checkpoint: checkpoint.note };
}

export function proveConsistency(store: LedgerStore, oldSize: number, newSize?: number) {
  const older = checkpointAt(store, oldSize);
  const newer = checkpointAt(store, newSize);
  if (older.size > newer.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `old size ${older.size} is larger than new size ${newer.size}`);
  const proof = consistencyProof(older.size, store.leafHashes(0, newer.size));
  return { oldSize: older.size, newSize: newer.size, proof: proof.map((h) => h.toString('base64')), oldCheckpoint: older.note, newCheckpoint: newer.note };
}
