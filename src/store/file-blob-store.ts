import { closeSync, createReadStream, createWriteStream, fdatasync, fstatSync, fsync, mkdirSync, openSync, readSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobRef, BlobStore, LargeBlobWriter } from './blob-store.ts';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

const SEGMENT_BYTES = 1024 * 1024 * 1024;
const SHARED_SEGMENT = /^\d{8}\.seg$/;

// Blobs on the local file system: small ones appended to segment files (one flush makes a whole
// batch durable), large ones streamed to a file of their own. Files are only ever appended to;
// bytes written but never committed are unreachable garbage, never a half-message.
export class FileBlobStore implements BlobStore {
  readonly #root: string;
  #segment!: { name: string; fd: number; size: number };
  #dirty = new Set<number>();
  #pendingLarge: string[] = [];
  #retired: number[] = [];
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
    const fd = openSync(join(this.#root, 'segments', name), 'a+', 0o600);
    this.#segment = { name, fd, size: fstatSync(fd).size };
  }

  append(data: Buffer): BlobRef {
    if (this.#segment.size + data.length > SEGMENT_BYTES && this.#segment.size > 0) {
      // The old segment still needs its flush; it is closed after the next sync().
      this.#retired.push(this.#segment.fd);
      const next = this.#prefix + String(Number.parseInt(this.#segment.name.slice(this.#prefix.length), 10) + 1).padStart(8, '0') + '.seg';
      this.#openSegment(next);
      this.#pendingLarge.push(join(this.#root, 'segments')); // new directory entry
    }
    const seg = this.#segment;
    const offset = seg.size;
    let written = 0;
    while (written < data.length) written += writeSync(seg.fd, data, written, data.length - written);
    seg.size += data.length;
    this.#dirty.add(seg.fd);
    return { file: `segments/${seg.name}`, offset, length: data.length };
  }

  createLarge(): LargeBlobWriter {
    const name = `large/${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.blob`;
    const path = join(this.#root, name);
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    return {
      stream,
      close: (length) => {
        this.#pendingLarge.push(path, join(this.#root, 'large'));
        return { file: name, offset: 0, length };
      },
      discard: async () => {
        stream.destroy();
        rmSync(path, { force: true });
      },
    };
  }

  async sync(): Promise<void> {
    const fds = [...this.#dirty];
    this.#dirty.clear();
    const paths = [...new Set(this.#pendingLarge)];
    this.#pendingLarge = [];
    const retired = this.#retired;
    this.#retired = [];
    await Promise.all(fds.map((fd) => fdatasyncAsync(fd)));
    for (const path of paths) {
      const fd = openSync(path, 'r');
      try {
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const fd of retired) closeSync(fd);
  }

  read(ref: BlobRef): Readable {
    if (ref.length === 0) return createReadStream('/dev/null');
    return createReadStream(join(this.#root, ref.file), { start: ref.offset, end: ref.offset + ref.length - 1 });
  }

  readSync(ref: BlobRef): Buffer {
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

  files(): string[] {
    const list = (dir: string) => readdirSync(join(this.#root, dir)).map((n) => relative(this.#root, join(this.#root, dir, n)));
    return [...list('segments'), ...list('large')];
  }

  close(): void {
    closeSync(this.#segment.fd);
    for (const fd of this.#retired) closeSync(fd);
    for (const fd of this.#readFds.values()) closeSync(fd);
    this.#readFds.clear();
  }
}
