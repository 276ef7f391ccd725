import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { ObjectLockedError } from './blob-store.ts';
import type { ArchivedObject, BlobDriver, BlobMark, BlobRef, BlobStore, LargeBlobWriter } from './blob-store.ts';

// Blobs on an object store (BlobDriver): small blobs are gathered into the open segment in memory
// and at sync() the segment is sealed and put as one object, so a batch of messages costs one
// put; a large blob streams into an object of its own. An object is never written twice: each
// segment has a name of its own, and one that failed to be put is kept in memory to be put again.
// Over a driver with Object Lock, each segment is put locked until the latest keep-until of what it
// holds, and objects put before (a large blob, a duplicate's segment) have their lock extended at
// the sync that makes the batch durable, so a lock that cannot be set fails the commit.
export class SegmentedBlobStore implements BlobStore {
  readonly #driver: BlobDriver;
  readonly #prefix: string;
  // Segments not yet put, oldest first; the last is the one appended to.
  #pending: Segment[];
  #large: Promise<void>[] = [];
  // Objects put before this sync whose lock must reach at least this keep-until (null: for ever).
  #extend = new Map<string, number | null>();
  readonly lock?: (ref: BlobRef, keepUntil: number | null) => void;
  readonly legalHold?: (file: string, on: boolean) => Promise<void>;
  readonly onArchived?: (listener: (object: ArchivedObject) => void) => void;
  readonly seed?: (object: ArchivedObject) => void;

  // prefix: a writer of its own (an importer next to the server) names its segments apart.
  constructor(driver: BlobDriver, options: { segmentPrefix?: string } = {}) {
    this.#driver = driver;
    this.#prefix = options.segmentPrefix ?? '';
    this.#pending = [this.#newSegment()];
    if (driver.lock) this.lock = (ref, keepUntil) => this.#lock(ref, keepUntil);
    if (driver.legalHold) this.legalHold = (file, on) => driver.legalHold!(file, on);
    if ('onArchived' in driver) this.onArchived = (listener) => { driver.onArchived = listener; };
    if (driver.seed) this.seed = (object) => driver.seed!(object);
  }

  #lock(ref: BlobRef, keepUntil: number | null): void {
    const seg = this.#pending.find((s) => s.name === ref.file);
    if (seg) seg.keepUntil = latest(seg.keepUntil, keepUntil);
    else this.#extend.set(ref.file, latest(this.#extend.get(ref.file), keepUntil));
  }

  #newSegment(): Segment {
    return { name: `segments/${this.#prefix}${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.seg`, chunks: [], size: 0, keepUntil: undefined };
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
    this.#extend.clear();
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

  // A blob file of another store, put whole under its own name and locked; the same bytes put
  // before under that name (a migration retried) stand, their lock extended.
  async importObject(name: string, body: Readable, keepUntil: number | null, sha256: string): Promise<void> {
    if (!/^(segments|large)\/[\w.-]+$/.test(name)) throw new Error(`not a blob file name: ${name}`);
    await this.#driver.put(name, body, { keepUntil, sha256 });
  }

  // A large blob is an object of its own and goes, unless Object Lock or a legal hold keeps it
  // (its key is destroyed already; the object goes once its lock ends); a range of a segment
  // object cannot be cut out of an object written once: both wait for compaction.
  async erase(ref: BlobRef): Promise<boolean> {
    if (!ref.file.startsWith('large/')) return false;
    try {
      await this.#driver.delete(ref.file);
    } catch (err) {
      if (err instanceof ObjectLockedError) return false;
      throw err;
    }
    return true;
  }

  async sync(): Promise<void> {
    const extend = this.#extend;
    this.#extend = new Map();
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
        await this.#driver.put(seg.name, Buffer.concat(seg.chunks, seg.size), seg.keepUntil === undefined ? {} : { keepUntil: seg.keepUntil });
      } catch (err) {
        // Kept under their names (references to them exist): the next sync puts them again.
        this.#pending = [...toPut.slice(i), ...this.#pending];
        throw err;
      }
    }
    for (const [name, keepUntil] of extend) await this.#driver.lock!(name, keepUntil);
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

  close(): void {
    this.#driver.close?.();
  }
}

interface Segment {
  name: string;
  chunks: Buffer[];
  size: number;
  keepUntil: number | null | undefined;   // undefined: no lock asked for
}

// The later of two keep-untils, null (for ever) being the latest; undefined: none yet.
function latest(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined) return b;
  return a === null || b === null ? null : Math.max(a, b);
}
