// One command's work, loaded only when that command runs (see ../main.ts).
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export function stats(o: CliOptions): Promise<void> {
  return withArchive(o, ({ stores, services: { search } }) => {
    const counts = stores.meta.counts();
    const cursor = search.cursor();
    const last = stores.meta.lastCaptureRowId();
    const stats = { ...counts, ledgerEntries: stores.meta.ledgerSize(), indexLag: { captures: last - cursor }, indexFailures: search.failures(5), ratio: counts.rawBytes ? counts.blobBytes / counts.rawBytes : null };
    process.stdout.write(o.json ? JSON.stringify(stats) + '\n' : Object.entries(stats).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  });
}
