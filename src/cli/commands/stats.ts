// One command's work, loaded only when that command runs (see ../main.ts).
import { openStores } from '../../store/open-stores.ts';
import { configOf, openSearch } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export function stats(o: CliOptions): void {
  const stores = openStores(configOf(o), { create: false });
  try {
    const counts = stores.meta.counts();
    const search = openSearch(stores);
    const cursor = search.cursor();
    const last = stores.meta.lastCaptureRowId();
    const stats = { ...counts, ledgerEntries: stores.meta.ledgerSize(), indexLag: { captures: last - cursor }, indexFailures: search.failures(5), ratio: counts.rawBytes ? counts.blobBytes / counts.rawBytes : null };
    process.stdout.write(o.json ? JSON.stringify(stats) + '\n' : Object.entries(stats).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  } finally {
    stores.close();
  }
}
