// One command's work, loaded only when that command runs (see ../main.ts).
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export function stats(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ stores, services: { search } }) => {
    // The index's cursor first: captures committed meanwhile show as lag, never as a negative one.
    const cursor = await search.cursor();
    const indexFailures = await search.failures(5);
    const authPending = await search.pendingAuth();
    const indexCheck = await search.completeness();
    const extractionPending = await search.pendingExtraction();
    const mailboxIndexes = await search.mailboxIndexes();
    const { counts, last, ledgerEntries } = await stores.meta.read(async (tx) => ({
      counts: await stores.meta.counts(tx), last: await stores.meta.lastCaptureRowId(tx), ledgerEntries: await stores.meta.ledgerSize(tx),
    }));
    const stats = { ...counts, ledgerEntries, indexLag: { captures: last - cursor }, authPending, extractionPending, indexFailures, indexCheck, mailboxIndexes, ratio: counts.rawBytes ? counts.blobBytes / counts.rawBytes : null };
    process.stdout.write(o.json ? JSON.stringify(stats) + '\n' : Object.entries(stats).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  });
}
