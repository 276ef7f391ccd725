// One command's work, loaded only when that command runs (see ../main.ts).
import { SealboxError } from '../../core/errors.ts';
import { proveConsistency, proveInclusion } from '../../ledger/ledger-proofs.ts';
import { openStores } from '../../store/open-stores.ts';
import { openOrCreateSigningKey } from '../../store/signing-key-file.ts';
import { configOf } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox ledger …`: the ledger's public parts.
export function exportLedger(o: CliOptions): void {
  const stores = openStores(configOf(o), { create: false });
  try {
    for (const r of stores.meta.ledgerRows()) process.stdout.write(JSON.stringify({ index: r.index, type: r.type, time: new Date(r.time).toISOString(), leaf: r.leaf.toString('base64') }) + '\n');
  } finally {
    stores.close();
  }
}

export function checkpoint(o: CliOptions): void {
  const stores = openStores(configOf(o), { create: false });
  try {
    const cp = stores.meta.latestCheckpoint();
    if (!cp) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no checkpoint has been signed yet (start the server once)');
    process.stdout.write(cp.note);
  } finally {
    stores.close();
  }
}

export function proof(index: number, o: CliOptions): void {
  const stores = openStores(configOf(o), { create: false });
  try {
    process.stdout.write(JSON.stringify(proveInclusion(stores.meta, index, o.size)) + '\n');
  } finally {
    stores.close();
  }
}

export function consistency(oldSize: number, newSize: number | undefined, o: CliOptions): void {
  const stores = openStores(configOf(o), { create: false });
  try {
    process.stdout.write(JSON.stringify(proveConsistency(stores.meta, oldSize, newSize)) + '\n');
  } finally {
    stores.close();
  }
}

export function publicKey(o: CliOptions): void {
  const config = configOf(o);
  const stores = openStores(config, { create: false });
  try {
    process.stdout.write(openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false }).key.verifierKey + '\n');
  } finally {
    stores.close();
  }
}
