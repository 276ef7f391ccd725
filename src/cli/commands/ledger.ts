// One command's work, loaded only when that command runs (see ../main.ts).
import { SealboxError } from '../../core/errors.ts';
import { proveConsistency, proveInclusion } from '../../ledger/ledger-proofs.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox ledger …`: the ledger's public parts.
export function exportLedger(o: CliOptions): Promise<void> {
  return withArchive(o, ({ stores }) => stores.meta.read(async (tx) => {
    // A version-2 leaf commits to its payload with the salt: both go out with it (base64, the
    // exact bytes), until erased.
    for await (const r of stores.meta.ledgerRows(tx)) {
      process.stdout.write(JSON.stringify({
        index: r.index, type: r.type, time: new Date(r.time).toISOString(), leaf: r.leaf.toString('base64'),
        ...(r.payload ? { salt: r.salt!.toString('base64'), payload: r.payload.toString('base64') } : {}),
        ...(r.erasedBy !== null ? { erasedBy: r.erasedBy } : {}),
      }) + '\n');
    }
  }));
}

export function checkpoint(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ stores }) => {
    const cp = await stores.meta.read((tx) => stores.meta.latestCheckpoint(tx));
    if (!cp) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no checkpoint has been signed yet (start the server once)');
    process.stdout.write(cp.note);
  });
}

export function proof(index: number, o: CliOptions): Promise<void> {
  return withArchive(o, async ({ stores }) => {
    const proven = await stores.meta.read((tx) => proveInclusion(tx, stores.meta, index, o.size));
    process.stdout.write(JSON.stringify(proven) + '\n');
  });
}

export function consistency(oldSize: number, newSize: number | undefined, o: CliOptions): Promise<void> {
  return withArchive(o, async ({ stores }) => {
    const proven = await stores.meta.read((tx) => proveConsistency(tx, stores.meta, oldSize, newSize));
    process.stdout.write(JSON.stringify(proven) + '\n');
  });
}

export function publicKey(o: CliOptions): Promise<void> {
  return withArchive(o, async (archive) => {
    process.stdout.write(archive.verifierKey + '\n');
  });
}
