import { MemoryBlob } from '../memory-blob.ts';
import { extractText } from './extract-text.ts';
import type { AttachmentFile } from './extract-text.ts';

// The extractor's process (ExtractorPool): one attachment at a time, under the heap limit the
// pool started it with. Whatever an attachment does to it ends here, not in Sealbox.

// As on the indexer's thread: postal-mime, which reads attached messages, is faster with it.
globalThis.Blob = MemoryBlob;

process.on('message', async (job: AttachmentFile & { id: number; ocr: string | null }) => {
  const { text, extraction } = await extractText(job, { ocr: job.ocr });
  process.send!({ id: job.id, text, extraction });
});
// Sealbox gone (stopped, or killed): nothing to read for.
process.on('disconnect', () => process.exit(0));
