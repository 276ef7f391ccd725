import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

// Just enough of the ZIP format (APPNOTE 6.3) to read .eml files out of an archive: the central
// directory (with ZIP64 sizes and offsets), entries stored or deflated, CRC-32 checked.

export interface ZipEntry {
  name: string;
  method: number;          // 0 stored, 8 deflated
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  modified: string | null; // ISO time from the entry's MS-DOS date and time (no time zone: as written)
  directory: boolean;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

export class ZipReader {
  readonly #fd: number;
  readonly #size: number;
  readonly entries: ZipEntry[];

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
    try {
      this.#size = fstatSync(this.#fd).size;
      this.entries = this.#readDirectory();
    } catch (err) {
      closeSync(this.#fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }

  #read(position: number, length: number): Buffer {
    if (position < 0 || position + length > this.#size) throw new Error(`zip structure points outside the file (${position}+${length} of ${this.#size})`);
    const buf = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(this.#fd, buf, read, length - read, position + read);
      if (n === 0) throw new Error('zip file ended early');
      read += n;
    }
    return buf;
  }

  #readDirectory(): ZipEntry[] {
    const tailLength = Math.min(this.#size, 22 + MAX_COMMENT);
    const tail = this.#read(this.#size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new Error('not a zip file (no end of central directory record)');
    const eocdPos = this.#size - tailLength + at;
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locator = this.#read(eocdPos - 20, 20);
      if (locator.readUInt32LE(0) !== EOCD64_LOCATOR) throw new Error('ZIP64 end of central directory locator missing');
      const rec = this.#read(Number(locator.readBigUInt64LE(8)), 56);
      if (rec.readUInt32LE(0) !== EOCD64) throw new Error('ZIP64 end of central directory record missing');
      count = Number(rec.readBigUInt64LE(32));
      dirSize = Number(rec.readBigUInt64LE(40));
      dirOffset = Number(rec.readBigUInt64LE(48));
    }
    const dir = this.#read(dirOffset, dirSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw new Error(`central directory entry ${i} is damaged`);
      const flags = dir.readUInt16LE(p + 8);
      const method = dir.readUInt16LE(p + 10);
      const time = dir.readUInt16LE(p + 12);
      const date = dir.readUInt16LE(p + 14);
      const crc = dir.readUInt32LE(p + 16);
      let compressedSize = dir.readUInt32LE(p + 20);
      let size = dir.readUInt32LE(p + 24);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      let localHeaderOffset = dir.readUInt32LE(p + 42);
      const nameBytes = dir.subarray(p + 46, p + 46 + nameLength);
      // Bit 11: UTF-8 names; otherwise CP437, of which ASCII is the common part.
      const name = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
      const extra = dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
      for (let e = 0; e + 4 <= extra.length;) {
        const id = extra.readUInt16LE(e);
        const len = extra.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) { size = Number(extra.readBigUInt64LE(q)); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = Number(extra.readBigUInt64LE(q)); q += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = Number(extra.readBigUInt64LE(q)); q += 8; }
        }
        e += 4 + len;
      }
      entries.push({ name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset, modified: dosTime(date, time), directory: name.endsWith('/') });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  // The entry's bytes, checked against its CRC-32.
  read(entry: ZipEntry): Buffer {
    if (entry.flags & 0x1) throw new Error('entry is encrypted');
    const header = this.#read(entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL) throw new Error('local header missing');
    const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const data = this.#read(start, entry.compressedSize);
    let out: Buffer;
    if (entry.method === 0) out = data;
    else if (entry.method === 8) out = inflateRawSync(data, { maxOutputLength: Math.max(entry.size, 1) });
    else throw new Error(`compression method ${entry.method} is not supported (only stored and deflated)`);
    if (out.length !== entry.size) throw new Error(`entry holds ${out.length} bytes, its directory says ${entry.size}`);
    if (crc32(out) !== entry.crc32) throw new Error('CRC-32 mismatch: the entry is damaged');
    return out;
  }
}

function dosTime(date: number, time: number): string | null {
  const year = 1980 + (date >> 9);
  const month = (date >> 5) & 0xf;
  const day = date & 0x1f;
  if (month < 1 || month > 12 || day < 1) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${year}-${pad(month)}-${pad(day)}T${pad(time >> 11)}:${pad((time >> 5) & 0x3f)}:${pad((time & 0x1f) * 2)}`;
}
