import type { Readable } from 'node:stream';
import { SealboxError } from '../core/errors.ts';
import type { BlobStore } from './blob-store.ts';
import type { KeyProvider } from './key-provider.ts';
import { openSealed } from './sealed-blob.ts';
import type { MessageRow, SqliteMetadataStore } from './sqlite/metadata-store.ts';

// Raw bytes back out of the archive. Callers that serve people must go through access first:
// this class decides nothing.
export class ArchiveReader {
  readonly #meta: SqliteMetadataStore;
  readonly #blobs: BlobStore;
  readonly #keys: KeyProvider;

  constructor(meta: SqliteMetadataStore, blobs: BlobStore, keys: KeyProvider) {
    this.#meta = meta;
    this.#blobs = blobs;
    this.#keys = keys;
  }

  message(sha256: string): MessageRow {
    const row = this.#meta.getMessage(sha256);
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no message with sha256 ${sha256}`);
    return row;
  }

  stream(row: MessageRow): Readable {
    if (!row.seal.wrappedKey) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `message ${row.sha256} was deleted by retention (its key is destroyed)`);
    return openSealed(this.#blobs.read(row.blobRef), row.seal, this.#keys);
  }

  async buffer(row: MessageRow): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream(row)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
