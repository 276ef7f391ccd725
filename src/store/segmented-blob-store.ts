import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type { BlobDriver, BlobMark, BlobRef, BlobStore, LargeBlobWriter } from './blob-store.ts';

// Blobs on an object store (BlobDriver): small blobs are gathered into the open segment in memory
// and at sync() the segment is sealed and put as one object, so a batch of messages costs one
// put; a large blob streams into an object of its own. An object is never written twice: each
// segment has a name of its own, and one that failed to be put is kept in memory to be put again.
export class SegmentedBlobStore implements BlobStore {
  readonly #driver: BlobDriver;
  readonly #prefix: string;
  // Segments not yet put, oldest first; the last is the one appended to.
  #pending: Segment[];
  #large: Promise<void>[] = [];

  // prefix: a writer of its own (an importer next to the server) names its segments apart.
  constructor(driver: BlobDriver, options: { segmentPrefix?: string } = {}) {
    this.#driver = driver;
    this.#prefix = options.segmentPrefix ?? '';
    this.#pending = [this.#newSegment()];
  }

  #newSegment(): Segment {
    return { name: `segments/${this.#prefix}${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.seg`, chunks: [], size: 0 };
  }

  get #open(): Segment {
    return this.#pending[this.#pending.length - 1]!;
  }

  append(data: Buffer): BlobRef {
    const seg = this.#open;
    const ref = { file: seg.name, offset: seg.size, length: data.length };
    seg.chunks.push(data);
    seg.size += data.length;
    return ref;
  }

  mark(): BlobMark {
    return { file: this.#open.name, size: this.#open.size };
  }

  // Cuts the marked segment back to its size at the mark; segments begun since are dropped (a
  // marked segment already put is durable, and the bytes of the failed batch in it unreachable).
  rollback(mark: BlobMark): void {
    const at = this.#pending.findIndex((seg) => seg.name === mark.file);
    if (at === -1) {
      this.#pending = [this.#newSegment()];
      return;
    }
    const seg = this.#pending[at]!;
    const whole = Buffer.concat(seg.chunks, seg.size).subarray(0, mark.size);
    seg.chunks = mark.size ? [whole] : [];
    seg.size = mark.size;
    this.#pending.length = at + 1;
  }

  createLarge(): LargeBlobWriter {
    const name = `large/${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.blob`;
    const stream = new PassThrough();
    const put = this.#driver.put(name, stream);
    put.catch(() => {}); // surfaced by sync()
    return {
      stream,
      close: (length) => {
        this.#large.push(put);
        return { file: name, offset: 0, length };
      },
      discard: async () => {
        stream.destroy();
        await put.catch(() => {});
        await this.#driver.delete(name);
      },
    };
  }

  // A large blob is an object of its own and goes; a range of a segment object cannot be cut
  // out of an object written once (compaction comes with the object-storage backend).
  async erase(ref: BlobRef): Promise<boolean> {
    if (!ref.file.startsWith('large/')) return false;
    await this.#driver.delete(ref.file);
    return true;
  }

  async sync(): Promise<void> {
    const large = this.#large.splice(0);
    try {
      await Promise.all(large);
    } catch (err) {
      this.#large.unshift(...large);
      throw err;
    }
    // Appends made while the puts run go to a new segment.
    const toPut = this.#pending;
    this.#pending = [this.#newSegment()];
    for (let i = 0; i < toPut.length; i++) {
      const seg = toPut[i]!;
      if (seg.size === 0) continue;
      try {
        await this.#driver.put(seg.name, Buffer.concat(seg.chunks, seg.size));
      } catch (err) {
        // Kept under their names (references to them exist): the next sync puts them again.
        this.#pending = [...toPut.slice(i), ...this.#pending];
        throw err;
      }
    }
  }

  read(ref: BlobRef): Readable {
    return this.#driver.get(ref.file, { offset: ref.offset, length: ref.length });
  }

  readBuffer(ref: BlobRef): Promise<Buffer> {
    return this.#driver.getRange(ref.file, ref.offset, ref.length);
  }

  async *list(): AsyncIterable<string> {
    yield* this.#driver.list('segments/');
    yield* this.#driver.list('large/');
  }

  close(): void {}
}

interface Segment {
  name: string;
  chunks: Buffer[];
  size: number;
}
