import { parentPort, workerData } from 'node:worker_threads';
import { ArchiveReader } from './archive-reader.ts';
import { rehash } from './blob-check.ts';
import type { BlobOutcome } from './blob-check.ts';
import { openBlobReading } from './open-blobs.ts';
import type { BlobSpec } from './open-blobs.ts';
import type { MessageRow } from './metadata-store.ts';

// One of verify's blob checkers (see BlobCheckPool): rows in, outcomes out. It reads no
// metadata; the rows come from the verifying thread's transaction.
// Opened at the first batch: a pool is started before the archive is known to exist, and
// starting it must not make folders.
let reader: ArchiveReader | null = null;
const WINDOW = 16;   // reads in flight (the blob store may be remote)

parentPort!.on('message', async ({ id, rows }: { id: number; rows: MessageRow[] }) => {
  if (!reader) {
    const { blobs, keys } = openBlobReading(workerData.spec as BlobSpec);
    reader = new ArchiveReader({ getMessage: async () => null }, blobs, keys);
  }
  const outcomes: Promise<BlobOutcome>[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (i >= WINDOW) await outcomes[i - WINDOW];
    outcomes.push(rehash(reader, asBuffers(rows[i]!)));
  }
  parentPort!.postMessage({ id, outcomes: await Promise.all(outcomes) });
});

// A row's binary fields arrive as Uint8Arrays (structured clone); the seal code takes Buffers.
function asBuffers(m: MessageRow): MessageRow {
  const b = (u: Uint8Array | null) => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : (u as unknown as Buffer));
  return { ...m, seal: { ...m.seal, nonce: b(m.seal.nonce), tag: b(m.seal.tag), wrappedKey: b(m.seal.wrappedKey) } };
}
