import { extractText } from './extract-text.ts';
import type { AttachmentFile } from './extract-text.ts';
import type { ExtractorMessage } from './extractor-pool.ts';

// The extractor's process (ExtractorPool): one attachment at a time, under the heap limit the
// pool started it with. Whatever an attachment does to it ends here, not in Sealbox.

// The job comes first, then its content in pieces (ExtractorPool); it is read once all are here.
let job: { id: number; file: AttachmentFile; ocr: string | null; received: number } | null = null;
process.on('message', async (m: ExtractorMessage) => {
  if ('size' in m) job = { id: m.id, file: { content: Buffer.alloc(m.size), contentType: m.contentType, filename: m.filename }, ocr: m.ocr, received: 0 };
  if (job?.id === m.id) {
    job.file.content.set(m.piece, job.received);
    job.received += m.piece.byteLength;
  }
  if (!job || job.received < job.file.content.byteLength) return;
  const { id, file, ocr } = job;
  job = null;
  const { text, extraction } = await extractText(file, { ocr });
  process.send!({ id, text, extraction });
});
// Sealbox gone (stopped, or killed): nothing to read for.
process.on('disconnect', () => process.exit(0));
