import type { Readable, Writable } from 'node:stream';

// Where sealed bytes live. Writes become durable only at sync(), so a caller can make many
// messages durable with one flush (group commit).
export interface BlobRef {
  file: string;   // path relative to the store root
  offset: number;
  length: number;
}

export interface LargeBlobWriter {
  readonly stream: Writable;
  // After the stream has finished: the blob's reference (durable after the next sync()).
  close(length: number): BlobRef;
  discard(): Promise<void>;
}

// Where the store stood before a batch: rollback() returns it there.
export interface BlobMark {
  readonly file: string;
  readonly size: number;
}

export interface BlobStore {
  // Writes at the recorded end of the current segment; the reference names exactly the bytes
  // written. Throws on any short or failed write.
  append(data: Buffer): BlobRef;
  mark(): BlobMark;
  // After a failed batch: cut away everything appended since the mark, so the segment is as it
  // was before the batch, and re-open it so no stale descriptor state carries over.
  rollback(mark: BlobMark): void;
  createLarge(): LargeBlobWriter;
  sync(): Promise<void>;
  read(ref: BlobRef): Readable;
  // The whole blob at once, for small blobs read in bulk (the indexer): no stream per blob.
  readSync(ref: BlobRef): Buffer;
  // For verification and repair tools: every blob file the store holds.
  files(): string[];
  close(): void;
}
