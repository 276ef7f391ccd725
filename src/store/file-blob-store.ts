import { closeSync, constants, createReadStream, createWriteStream, fdatasync, fstatSync, fsync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobMark, BlobRef, BlobStore, LargeBlobWriter } from './blob-store.ts';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

const SEGMENT_BYTES = 1024 * 1024 * 1024;
const SHARED_SEGMENT = /^\d{8}\.seg$/;

// Blobs on the local file system: small ones appended to segment files (one flush makes a whole
// batch durable), large ones streamed to a file of their own. Segments are written at explicit
// offsets (pwrite), never in append mode, so the offset a reference records is always where its
// bytes went, whatever an earlier failed write left behind. A failed batch is cut back off
// (rollback); bytes that stay behind after a crash are unreachable garbage, never a half-message.
export class FileBlobStore implements BlobStore {
  readonly #root: string;
  #segment!: { name: string; fd: number; size: number };
  #dirty = new Set<number>();
  #pendingDirs = new Set<string>();   // directories with new entries to make durable
  #retired: number[] = [];
  #unsettled: BlobMark | null = null;   // a rollback that has not yet succeeded
  // Read-only descriptors of segment files, kept open: a segment holds many small blobs.
  #readFds = new Map<string, number>();
  readonly #prefix: string;

  // A second process writing at the same time as the server (an importer) names a prefix: it
  // appends to segment files of its own, since each writer keeps the end of its segment in memory.
  constructor(root: string, options: { segmentPrefix?: string } = {}) {
    this.#root = root;
    this.#prefix = options.segmentPrefix ?? '';
    mkdirSync(join(root, 'segments'), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, 'large'), { recursive: true, mode: 0o700 });
    const last = this.#prefix ? undefined : readdirSync(join(root, 'segments')).filter((n) => SHARED_SEGMENT.test(n)).sort().at(-1);
    this.#openSegment(last ?? `${this.#prefix}00000001.seg`);
  }

  #openSegment(name: string): void {
    const fd = openSync(join(this.#root, 'segments', name), constants.O_RDWR | constants.O_CREAT, 0o600);
    this.#segment = { name, fd, size: fstatSync(fd).size };
    if (this.#segment.size === 0) this.#pendingDirs.add(join(this.#root, 'segments')); // perhaps a new directory entry
  }

  mark(): BlobMark {
    if (this.#unsettled) this.rollback(this.#unsettled);
    return { file: this.#segment.name, size: this.#segment.size };
  }

  rollback(mark: BlobMark): void {
    // Until this succeeds the store takes no new bytes: the next batch tries it again first.
    this.#unsettled = mark;
    this.#dirty.clear();
    for (const fd of this.#retired.splice(0)) closeQuietly(fd);
    const current = this.#segment.name;
    if (this.#segment.fd >= 0) closeQuietly(this.#segment.fd);
    this.#segment.fd = -1;
    // A segment begun during the failed batch holds nothing committed.
    if (current !== mark.file) rmSync(join(this.#root, 'segments', current), { force: true });
    this.#openSegment(mark.file);
    if (this.#segment.size > mark.size) ftruncateSync(this.#segment.fd, mark.size);
    this.#segment.size = fstatSync(this.#segment.fd).size;
    if (this.#segment.size < mark.size) throw new Error(`segment ${mark.file} is ${this.#segment.size} bytes, shorter than the ${mark.size} it held before the batch`);
    this.#unsettled = null;
  }

  append(data: Buffer): BlobRef {
    if (this.#unsettled) this.rollback(this.#unsettled);
    if (this.#segment.size + data.length > SEGMENT_BYTES && this.#segment.size > 0) {
      // The old segment still needs its flush; it is closed after the next sync().
      this.#retired.push(this.#segment.fd);
      const next = this.#prefix + String(Number.parseInt(this.#segment.name.slice(this.#prefix.length), 10) + 1).padStart(8, '0') + '.seg';
      this.#openSegment(next);
    }
    const seg = this.#segment;
    const offset = seg.size;
    this.#dirty.add(seg.fd);
    let written = 0;
    while (written < data.length) {
      const n = writeSync(seg.fd, data, written, data.length - written, offset + written);
      if (n <= 0) throw new Error(`short write to segments/${seg.name} at ${offset + written}`);
      written += n;
    }
    seg.size = offset + data.length;
    return { file: `segments/${seg.name}`, offset, length: data.length };
  }

  // The stream flushes its file before it closes (flush: true), so a large blob is durable once
  // sealed; sync() then makes its directory entry durable.
  createLarge(): LargeBlobWriter {
    const name = `large/${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.blob`;
    const path = join(this.#root, name);
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o600, flush: true });
    return {
      stream,
      close: (length) => {
        this.#pendingDirs.add(join(this.#root, 'large'));
        return { file: name, offset: 0, length };
      },
      discard: async () => {
        // The file is opened asynchronously: remove it only once the stream has closed, or an
        // open still under way would create it again after the removal.
        if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()).destroy());
        rmSync(path, { force: true });
      },
    };
  }

  async sync(): Promise<void> {
    const fds = [...this.#dirty];
    this.#dirty.clear();
    const dirs = [...this.#pendingDirs];
    this.#pendingDirs.clear();
    const retired = this.#retired.splice(0);
    try {
      await Promise.all(fds.map((fd) => fdatasyncAsync(fd)));
      for (const dir of dirs) {
        const fd = openSync(dir, 'r');
        try {
          await fsyncAsync(fd);
        } finally {
          closeSync(fd);
        }
      }
    } catch (err) {
      for (const dir of dirs) this.#pendingDirs.add(dir);
      throw err;
    } finally {
      for (const fd of retired) closeQuietly(fd);
    }
  }

  // A segment's range is overwritten with zeros in place (the blobs around it keep their
  // offsets); a large blob's file is removed.
  async erase(ref: BlobRef): Promise<boolean> {
    const path = join(this.#root, ref.file);
    if (ref.file.startsWith('large/')) {
      rmSync(path, { force: true });
      const dir = openSync(join(this.#root, 'large'), 'r');
      try {
        await fsyncAsync(dir);
      } finally {
        closeSync(dir);
      }
      return true;
    }
    const fd = openSync(path, 'r+');
    try {
      const zeros = Buffer.alloc(Math.min(ref.length, 1024 * 1024));
      for (let done = 0; done < ref.length;) {
        const n = writeSync(fd, zeros, 0, Math.min(zeros.length, ref.length - done), ref.offset + done);
        if (n <= 0) throw new Error(`short write erasing ${ref.file} at ${ref.offset + done}`);
        done += n;
      }
      await fdatasyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  read(ref: BlobRef): Readable {
    if (ref.length === 0) return createReadStream('/dev/null');
    return createReadStream(join(this.#root, ref.file), { start: ref.offset, end: ref.offset + ref.length - 1 });
  }

  // Asynchronous to the caller (other stores read over a network), but a local small blob is read
  // with one synchronous pread on a kept descriptor: a page-cache copy costs less than the
  // thread-pool round trip an asynchronous read would take, and the indexer reads thousands.
  async readBuffer(ref: BlobRef): Promise<Buffer> {
    const out = Buffer.allocUnsafe(ref.length);
    if (ref.length === 0) return out;
    const segment = ref.file.startsWith('segments/');
    let fd = segment ? this.#readFds.get(ref.file) : undefined;
    if (fd === undefined) {
      fd = openSync(join(this.#root, ref.file), 'r');
      if (segment) this.#readFds.set(ref.file, fd);
    }
    try {
      let read = 0;
      while (read < ref.length) {
        const n = readSync(fd, out, read, ref.length - read, ref.offset + read);
        if (n === 0) throw new Error(`blob ${ref.file} at ${ref.offset} is truncated (${read} of ${ref.length} bytes)`);
        read += n;
      }
    } finally {
      if (!segment) closeSync(fd);
    }
    return out;
  }

  async *list(): AsyncIterable<string> {
    for (const dir of ['segments', 'large']) for (const n of readdirSync(join(this.#root, dir)).sort()) yield `${dir}/${n}`;
  }

  close(): void {
    if (this.#segment.fd >= 0) closeSync(this.#segment.fd);
    for (const fd of this.#retired) closeSync(fd);
    for (const fd of this.#readFds.values()) closeSync(fd);
    this.#readFds.clear();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already gone: nothing of it is needed
  }
}
