import { createHash, hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SMALL_MESSAGE_BYTES } from './archive-reader.ts';
import { unpackBatch } from './blob-batch.ts';
import type { BlobBatch, BlobToCheck } from './blob-batch.ts';
import type { BlobOutcome } from './blob-check.ts';
import type { BlobRef, BlobSource } from './blob-store.ts';
import type { KeyProvider } from './key-provider.ts';
import { openBlobReading } from './open-blobs.ts';
import type { BlobSpec } from './open-blobs.ts';
import { openSealed, openSealedBuffer } from './sealed-blob.ts';

// One of verify's blob checkers (see BlobCheckPool): rows in, outcomes out. It reads no
// metadata; the rows come from the verifying thread's transaction, without disposed messages.
// It imports only what reads blobs: a thread that loaded the stores and the configuration
// took longer to start than it then took to hash a thousand messages.
// Opened at the first batch: a pool is started before the archive is known to exist, and
// starting it must not make folders.
let opened: { blobs: BlobSource; keys: KeyProvider } | null = null;

// Small blobs lie one after another in a segment, in the order their rows are handed over: a
// run of them is read with one read (one GET from a bucket) instead of one each. A read costs
// more than the 2 KB a message takes there, on a virtual machine several times more.
const SPAN_GAP = 64 * 1024;           // bytes skipped between two blobs of a span at most
const SPAN_BYTES = 8 * 1024 * 1024;

parentPort!.on('message', async ({ id, batch }: { id: number; batch: BlobBatch }) => {
  opened ??= openBlobReading(workerData.spec as BlobSpec);
  parentPort!.postMessage({ id, outcomes: await check(opened.blobs, opened.keys, unpackBatch(batch)) });
});

// Each message decrypted, decompressed and hashed as the readers do it: the small ones of a
// batch at once (openSealedBuffer), then the large ones one at a time (openSealed's stream), so
// that a thread holds the buffers of a few large streams, not of a batch of them.
async function check(blobs: BlobSource, keys: KeyProvider, rows: BlobToCheck[]): Promise<BlobOutcome[]> {
  const outcome = (work: () => Promise<{ sha: string; size: number }>) => work().catch((err: Error): BlobOutcome => ({ error: err.message }));
  const small = rows.filter((m) => m.size <= SMALL_MESSAGE_BYTES);
  const sealed = new Map<BlobToCheck, Buffer | Error>();
  await Promise.all(spans(small).map(async (span) => {
    const read = await readSpan(blobs, span.map((m) => m.blobRef));
    span.forEach((m, i) => sealed.set(m, read[i]!));
  }));
  const outcomes = await Promise.all(rows.map((m) => (m.size > SMALL_MESSAGE_BYTES ? null : outcome(async () => {
    const bytes = sealed.get(m)!;
    if (bytes instanceof Error) throw bytes;
    const raw = await openSealedBuffer(bytes, m.seal, keys);
    return { sha: hash('sha256', raw), size: raw.length };
  }))));
  for (const [i, m] of rows.entries()) {
    outcomes[i] ??= await outcome(async () => {
      const sha = createHash('sha256');
      let size = 0;
      for await (const chunk of openSealed(blobs.read(m.blobRef), m.seal, keys)) {
        sha.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      return { sha: sha.digest('hex'), size };
    });
  }
  return outcomes as BlobOutcome[];
}

// Runs of rows whose blobs follow one another in one file.
function spans(rows: BlobToCheck[]): BlobToCheck[][] {
  const out: BlobToCheck[][] = [];
  for (const m of rows) {
    const span = out.at(-1);
    const first = span?.[0]!.blobRef;
    const last = span?.at(-1)!.blobRef;
    const r = m.blobRef;
    const joins = first && last && r.file === first.file && r.offset >= last.offset + last.length
      && r.offset - (last.offset + last.length) <= SPAN_GAP && r.offset + r.length - first.offset <= SPAN_BYTES;
    if (joins) span!.push(m);
    else out.push([m]);
  }
  return out;
}

// The blobs of one span, each on its own if the span cannot be read whole (a blob cut short names
// only itself).
async function readSpan(blobs: BlobSource, refs: BlobRef[]): Promise<(Buffer | Error)[]> {
  const start = refs[0]!.offset;
  const end = refs.at(-1)!.offset + refs.at(-1)!.length;
  try {
    const bytes = refs.length === 1 ? null : await blobs.readBuffer({ file: refs[0]!.file, offset: start, length: end - start });
    if (bytes) return refs.map((r) => bytes.subarray(r.offset - start, r.offset - start + r.length));
  } catch {
    // read below, one by one
  }
  return Promise.all(refs.map((r) => blobs.readBuffer(r).catch((err: Error) => err)));
}
