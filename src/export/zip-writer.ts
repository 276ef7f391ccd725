import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';

// A zip file written front to back (APPNOTE 6.3.x): each entry's local header with its sizes and
// CRC known (the file is read whole and deflated first, so no data descriptors), deflate only
// where it makes the entry smaller, stored otherwise; ZIP64 fields where a size or an offset
// passes 4 GiB or the entries pass 65,535. Names are UTF-8 (flag bit 11), times are DOS times
// in UTC: the same entries make the same bytes on any machine, whatever its time zone, which a
// resumed export job relies on. yazl (the maintained npm library that writes ZIP64) was tried
// first: it writes DOS times in local time and data descriptors, streams every small file
// through a file stream and a deflate stream of its own (some 20 % more CPU on a package's
// 18,000 files), and its sizes are known only once written; this is some 120 lines.
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

interface Entry {
  name: Buffer;
  crc: number;
  method: number;
  compressed: number;
  size: number;
  offset: number;
  time: number;
  date: number;
}

export class ZipWriter {
  readonly #out: Writable;
  readonly #hash: Hash = createHash('sha256');
  readonly #entries: Entry[] = [];
  #offset = 0;

  constructor(out: Writable) {
    this.#out = out;
  }

  // Bytes written so far, and their SHA-256 once ended.
  get size(): number {
    return this.#offset;
  }

  async add(name: string, data: Buffer, mtime: Date): Promise<void> {
    const deflated = data.length > 0 ? deflateRawSync(data) : data;
    const method = deflated.length < data.length ? 8 : 0;
    const body = method === 8 ? deflated : data;
    const e: Entry = { name: Buffer.from(name, 'utf8'), crc: crc32(data), method, compressed: body.length, size: data.length, offset: this.#offset, ...dosTime(mtime) };
    const zip64 = e.size >= MAX32 || e.compressed >= MAX32;
    const extra = zip64 ? u16s(0x0001, 16).concat(u64(e.size), u64(e.compressed)) : [];
    const header = Buffer.concat([
      u32(0x04034b50), u16(zip64 ? 45 : 20), u16(0x0800), u16(method), u16(e.time), u16(e.date), u32(e.crc),
      u32(zip64 ? MAX32 : e.compressed), u32(zip64 ? MAX32 : e.size), u16(e.name.length), u16(extra.reduce((n, b) => n + b.length, 0)), e.name, ...extra,
    ]);
    this.#entries.push(e);
    await this.#write(header);
    await this.#write(body);
  }

  // The central directory and the end records; returns the file's size and SHA-256.
  async end(): Promise<{ size: number; sha256: string }> {
    const start = this.#offset;
    for (const e of this.#entries) {
      const big = { size: e.size >= MAX32, compressed: e.compressed >= MAX32, offset: e.offset >= MAX32 };
      const fields = [...(big.size ? [u64(e.size)] : []), ...(big.compressed ? [u64(e.compressed)] : []), ...(big.offset ? [u64(e.offset)] : [])];
      const extra = fields.length > 0 ? [u16(0x0001), u16(fields.length * 8), ...fields] : [];
      const zip64 = fields.length > 0;
      await this.#write(Buffer.concat([
        u32(0x02014b50), u16(0x0300 | (zip64 ? 45 : 20)), u16(zip64 ? 45 : 20), u16(0x0800), u16(e.method), u16(e.time), u16(e.date), u32(e.crc),
        u32(big.compressed ? MAX32 : e.compressed), u32(big.size ? MAX32 : e.size), u16(e.name.length), u16(extra.reduce((n, b) => n + b.length, 0)), u16(0),
        u16(0), u16(0), u32((0o100644 << 16) >>> 0), u32(big.offset ? MAX32 : e.offset), e.name, ...extra,
      ]));
    }
    const cdSize = this.#offset - start;
    const count = this.#entries.length;
    if (count >= MAX16 || cdSize >= MAX32 || start >= MAX32) {
      const record = this.#offset;
      await this.#write(Buffer.concat([u32(0x06064b50), u64(44), u16(0x0300 | 45), u16(45), u32(0), u32(0), u64(count), u64(count), u64(cdSize), u64(start)]));
      await this.#write(Buffer.concat([u32(0x07064b50), u32(0), u64(record), u32(1)]));
    }
    await this.#write(Buffer.concat([
      u32(0x06054b50), u16(0), u16(0), u16(Math.min(count, MAX16)), u16(Math.min(count, MAX16)), u32(Math.min(cdSize, MAX32)), u32(Math.min(start, MAX32)), u16(0),
    ]));
    this.#out.end();
    await once(this.#out, 'finish');
    return { size: this.#offset, sha256: this.#hash.digest('hex') };
  }

  async #write(b: Buffer): Promise<void> {
    this.#hash.update(b);
    this.#offset += b.length;
    if (!this.#out.write(b)) await once(this.#out, 'drain');
  }
}

// MS-DOS date and time (two-second steps, 1980 to 2107), of the UTC time.
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u16s(...ns: number[]): Buffer[] {
  return ns.map(u16);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
