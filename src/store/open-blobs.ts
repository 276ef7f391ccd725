import { createRequire } from 'node:module';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { FileKeyProvider } from './key-provider.ts';

// Where the blobs are (see blobSpec in open-stores.ts, which reads it from the configuration).
export interface BlobSpec {
  root: string;        // local segment files
  masterKey: string;   // the key file that unwraps the messages' keys
  s3: null | {
    endpoint: string; bucket: string; region: string; forcePathStyle: boolean; prefix: string;
    credentialsFile: string; partBytes: number; foreverLockDays: number;
  };
}

// Local segment files (the default), or segments and large blobs as objects in an S3 bucket with
// Object Lock, gathered in memory and put at each commit (SegmentedBlobStore).
// segmentPrefix: for a process that appends blobs while the server runs (see FileBlobStore).
export function openBlobs(spec: BlobSpec, segmentPrefix?: string): BlobStore {
  const { s3 } = spec;
  if (!s3) return new FileBlobStore(spec.root, { segmentPrefix });
  // The AWS SDK is loaded only for a bucket (~35 MB in each thread that would load it for nothing).
  const load = createRequire(import.meta.url);
  const { S3BlobDriver, readS3Credentials } = load('./s3-blob-driver.ts') as typeof import('./s3-blob-driver.ts');
  const { SegmentedBlobStore } = load('./segmented-blob-store.ts') as typeof import('./segmented-blob-store.ts');
  const { credentialsFile, ...options } = s3;
  return new SegmentedBlobStore(new S3BlobDriver({ ...options, ...readS3Credentials(credentialsFile) }), { segmentPrefix });
}

// The blobs and the key that opens them, without the metadata: for a thread that only reads
// the messages it is handed (verify's blob checkers).
export function openBlobReading(spec: BlobSpec): { blobs: BlobStore; keys: FileKeyProvider } {
  return { blobs: openBlobs(spec), keys: FileKeyProvider.openOrCreate(spec.masterKey, { create: false }).provider };
}
