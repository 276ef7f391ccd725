import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerFilter, LedgerStore } from '../ledger/ledger.ts';
import { StoredTree } from '../ledger/stored-tree.ts';

// What was disposed, provable without Sealbox: each dispose entry's exact leaf, the payload and
// salt its commitment is over (the policy), and its RFC 9162 inclusion proof in one signed
// checkpoint, with that checkpoint. scripts/verify-disposal-certificate.mjs checks it all with
// nothing but Node's crypto: the signature against the archive's verifier key (take that key
// from where the witnesses keep it, not from the certificate), every proof, every commitment,
// and that the messages listed are exactly those the leaves name.
export const CERTIFICATE_FORMAT = 'sealbox-disposal-certificate/1';

export interface DisposalCertificate {
  format: typeof CERTIFICATE_FORMAT;
  origin: string;
  verifierKey: string;
  issuedAt: string;
  period: { since: string | null; until: string | null };
  disposed: { messages: number; entries: number; policies: string[]; sha256: string[] };
  entries: { index: number; time: string; leaf: string; salt: string | null; payload: string | null; proof: string[] }[];
  checkpoint: string;
}

// The dispose entries made in [since, until) — all of them without bounds — under the latest
// signed checkpoint, which must contain them all.
export async function disposalCertificate(tx: Tx, store: LedgerStore, o: { origin: string; verifierKey: string; since?: number; until?: number; now: number }): Promise<DisposalCertificate> {
  const checkpoint = await store.latestCheckpoint(tx);
  const filter: LedgerFilter = { operation: 'dispose', result: 'success', since: o.since, until: o.until };
  const entries = await store.entries(tx, filter);
  if (entries.length === 0) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no messages were disposed in that period');
  const last = entries.at(-1)!.entry.index;
  if (!checkpoint || checkpoint.size <= last) {
    throw new SealboxError('SEALBOX_ERR_CONFLICT', `dispose entry ${last} is not yet in a signed checkpoint (the server signs one every ledger.checkpointEverySeconds); ask again after it`);
  }
  const tree = new StoredTree(store);
  const proofs: Buffer[][] = [];
  for (const e of entries) proofs.push(await tree.inclusionProof(tx, e.entry.index, checkpoint.size));
  const sha256 = [...new Set(entries.flatMap((e) => e.entry.objects.messages))];
  return {
    format: CERTIFICATE_FORMAT, origin: o.origin, verifierKey: o.verifierKey, issuedAt: new Date(o.now).toISOString(),
    period: { since: o.since === undefined ? null : new Date(o.since).toISOString(), until: o.until === undefined ? null : new Date(o.until).toISOString() },
    disposed: {
      messages: sha256.length, entries: entries.length, sha256,
      policies: [...new Set(entries.map((e) => String(e.entry.parameters.policy ?? '(erased)')))],
    },
    entries: entries.map((e, i) => ({
      index: e.entry.index, time: new Date(e.entry.time).toISOString(), leaf: e.leaf.toString('base64'),
      salt: e.salt?.toString('base64') ?? null, payload: e.payload?.toString('base64') ?? null,
      proof: proofs[i]!.map((h) => h.toString('base64')),
    })),
    checkpoint: checkpoint.note,
  };
}
