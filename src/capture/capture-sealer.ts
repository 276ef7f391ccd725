import type { CaptureRecord } from '../core/types.ts';
import { SealboxError } from '../core/errors.ts';
import type { ArchiveWriter, CommitResult } from '../store/archive-writer.ts';
import type { BlobStore, LargeBlobWriter } from '../store/blob-store.ts';
import type { KeyProvider } from '../store/key-provider.ts';
import { SealingStream, sealBuffer } from '../store/sealed-blob.ts';

export interface CaptureSealerDeps {
  writer: ArchiveWriter;
  blobs: BlobStore;
  keys: KeyProvider;
  inlineBlobBytes: number;   // up to this many bytes are held in memory and sealed in one piece
  maxMessageBytes: number;   // more than this is refused (SEALBOX_ERR_MESSAGE_TOO_LARGE)
}

// One message's raw bytes on their way into the archive, written in pieces as they arrive. Small
// messages are held and sealed whole; once a message outgrows inlineBlobBytes the rest streams
// into a sealed blob file of its own, so memory does not grow with the message.
export class CaptureSealer {
  readonly #deps: CaptureSealerDeps;
  #chunks: Buffer[] = [];
  #size = 0;
  #sealing: SealingStream | null = null;
  #large: LargeBlobWriter | null = null;
  #done = false;

  constructor(deps: CaptureSealerDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#size;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#done) throw new Error('CaptureSealer: write after commit or discard');
    if (chunk.length === 0) return;
    this.#size += chunk.length;
    if (this.#size > this.#deps.maxMessageBytes) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE');
    if (this.#sealing) return this.#sealing.write(chunk);
    this.#chunks.push(chunk);
    if (this.#size > this.#deps.inlineBlobBytes) {
      this.#large = this.#deps.blobs.createLarge();
      this.#sealing = new SealingStream(this.#deps.keys, this.#large.stream);
      for (const c of this.#chunks.splice(0)) await this.#sealing.write(c);
    }
  }

  // Resolves only once blob, message row, capture row and ledger entry are durable.
  async commit(capture: CaptureRecord, key?: string): Promise<CommitResult> {
    if (this.#done) throw new Error('CaptureSealer: commit after commit or discard');
    this.#done = true;
    const { writer } = this.#deps;
    try {
      if (this.#sealing && this.#large) {
        const seal = await this.#sealing.finish();
        const ref = this.#large.close(seal.sealedLength);
        return await writer.commit({ capture, seal, inline: null, large: { ref, discard: this.#large.discard } }, key);
      }
      const { sealed, meta } = await sealBuffer(Buffer.concat(this.#chunks, this.#size), this.#deps.keys);
      this.#chunks = [];
      return await writer.commit({ capture, seal: meta, inline: sealed, large: null }, key);
    } catch (err) {
      // The writer discards a large blob of a failed batch itself; one that never reached it is ours.
      this.#sealing?.abort();
      await this.#large?.discard().catch(() => {});
      throw err;
    }
  }

  async discard(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    this.#sealing?.abort();
    await this.#large?.discard().catch(() => {});
  }
}
