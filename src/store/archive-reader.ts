import type { Readable } from 'node:stream';
import { SealboxError } from '../core/errors.ts';
import type { BlobSource } from './blob-store.ts';
import type { KeyProvider } from './key-provider.ts';
import { openSealed, openSealedBuffer } from './sealed-blob.ts';
import type { MessageRow, MetadataStore } from './metadata-store.ts';
import type { Tx } from '../core/transactions.ts';

// Messages up to this size can be read whole (readSmall): one read, one decrypt, one
// decompress, with no stream machinery per message.
export const SMALL_MESSAGE_BYTES = 1024 * 1024;

// Raw bytes back out of the archive. Callers that serve people must go through access first:
// this class decides nothing.
export class ArchiveReader {
  readonly #meta: Pick<MetadataStore, 'getMessage'>;
  readonly #blobs: BlobSource;
  readonly #keys: KeyProvider;

  // meta: where message() finds a row; a reader handed its rows (verify's blob checkers) has none.
  constructor(meta: Pick<MetadataStore, 'getMessage'>, blobs: BlobSource, keys: KeyProvider) {
    this.#meta = meta;
    this.#blobs = blobs;
    this.#keys = keys;
  }

  async message(tx: Tx, sha256: string): Promise<MessageRow> {
    const row = await this.#meta.getMessage(tx, sha256);
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no message with sha256 ${sha256}`);
    return row;
  }

  stream(row: MessageRow): Readable {
    this.#checkKey(row);
    return openSealed(this.#blobs.read(row.blobRef), row.seal, this.#keys);
  }

  // The raw bytes of a message of at most SMALL_MESSAGE_BYTES; larger ones must be streamed.
  async readSmall(row: MessageRow): Promise<Buffer> {
    this.#checkKey(row);
    if (row.size > SMALL_MESSAGE_BYTES) throw new RangeError(`message ${row.sha256} has ${row.size} bytes; stream it`);
    return openSealedBuffer(await this.#blobs.readBuffer(row.blobRef), row.seal, this.#keys);
  }

  #checkKey(row: MessageRow): void {
    if (row.disposed) throw disposedError(row.sha256, row.disposed);
    if (!row.seal.wrappedKey) throw new SealboxError('SEALBOX_ERR_DISPOSED', `message ${row.sha256} was destroyed (its key is destroyed)`);
  }

  async buffer(row: MessageRow): Promise<Buffer> {
    if (row.size <= SMALL_MESSAGE_BYTES) return this.readSmall(row);
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream(row)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

// What a disposed message answers instead of its content: when and under which policy it went.
export function disposedError(sha256: string, disposed: NonNullable<MessageRow['disposed']>): SealboxError {
  return new SealboxError('SEALBOX_ERR_DISPOSED', `message ${sha256} was disposed on ${new Date(disposed.at).toISOString().slice(0, 10)} under policy ${disposed.policy} (ledger entry ${disposed.ledgerIndex})`);
}
