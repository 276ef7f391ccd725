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

export interface BlobStore {
  append(data: Buffer): BlobRef;
  createLarge(): LargeBlobWriter;
  sync(): Promise<void>;
  read(ref: BlobRef): Readable;
  // The whole blob at once, for small blobs read in bulk (the indexer): no stream per blob.
  readSync(ref: BlobRef): Buffer;
  // For verification and repair tools: every blob file the store holds.
  files(): string[];
  close(): void;
}
