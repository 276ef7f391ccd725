import { Buffer, isUtf8 } from 'node:buffer';
import { Inflate } from 'fflate';

// A ZIP archive read from its central directory (as every unzip does), its members inflated one
// at a time and never past a cap: the sizes an archive declares may lie, so what inflating
// really yields is counted as it comes (fflate's streaming inflater, fed a small piece at a time,
// yields at most about a thousand times that piece). Office Open XML and OpenDocument files are
// ZIP archives too.

export interface ZipMember {
  name: string;
  encrypted: boolean;
  method: number;            // 0 stored, 8 deflated; others are not read
  compressedSize: number;
  size: number;              // as declared
  localOffset: number;
}

export class ZipError extends Error {}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const FEED = 16 * 1024;

export class ZipArchive {
  readonly members: ZipMember[];
  // More members than were listed (maxMembers).
  readonly more: boolean;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  // At most maxMembers of its members are listed (the rest are not read: `more`).
  constructor(bytes: Uint8Array, maxMembers: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.members = [];
    const { count, offset } = this.#directory();
    let p = offset;
    for (let i = 0; i < Math.min(count, maxMembers); i++) {
      if (p + 46 > bytes.length || this.#u32(p) !== CENTRAL) throw new ZipError('its central directory is damaged');
      const flags = this.#u16(p + 8);
      const nameLength = this.#u16(p + 28);
      const extraLength = this.#u16(p + 30);
      const raw = bytes.subarray(p + 46, p + 46 + nameLength);
      const member: ZipMember = {
        // Bit 11: UTF-8; else the name is in the writer's code page, read as Latin-1 unless it is UTF-8 anyway.
        name: Buffer.from(raw).toString(flags & 0x800 || isUtf8(raw) ? 'utf8' : 'latin1'),
        encrypted: (flags & 1) !== 0 || this.#u16(p + 10) === 99,
        method: this.#u16(p + 10),
        compressedSize: this.#u32(p + 20),
        size: this.#u32(p + 24),
        localOffset: this.#u32(p + 42),
      };
      if (member.size === 0xffffffff || member.compressedSize === 0xffffffff || member.localOffset === 0xffffffff) {
        this.#zip64Sizes(member, bytes.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
      }
      this.members.push(member);
      p += 46 + nameLength + extraLength + this.#u16(p + 32);
    }
    this.more = count > maxMembers;
  }

  // The member's bytes, inflated up to `cap` bytes; `complete` is false when there was more.
  read(member: ZipMember, cap: number): { bytes: Uint8Array; complete: boolean } {
    const p = member.localOffset;
    if (p + 30 > this.#bytes.length || this.#u32(p) !== LOCAL) throw new ZipError(`the entry of "${member.name}" is missing`);
    const start = p + 30 + this.#u16(p + 26) + this.#u16(p + 28);
    const data = this.#bytes.subarray(start, start + member.compressedSize);
    if (data.length < member.compressedSize) throw new ZipError(`"${member.name}" is cut short`);
    if (member.method === 0) return { bytes: data.subarray(0, cap), complete: data.length <= cap };
    if (member.method !== 8) throw new ZipError(`"${member.name}" is compressed in a way not read here (method ${member.method})`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    let complete = true;
    const inflate = new Inflate((chunk) => {
      if (!complete) return;
      if (total + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - total));
        total = cap;
        complete = false;
      } else {
        chunks.push(chunk);
        total += chunk.length;
      }
    });
    try {
      for (let i = 0; i < data.length && complete; i += FEED) inflate.push(data.subarray(i, i + FEED), i + FEED >= data.length);
    } catch (err) {
      throw new ZipError(`"${member.name}" cannot be inflated (${(err as Error).message})`);
    }
    return { bytes: Buffer.concat(chunks, total), complete };
  }

  // The end of central directory record (searched for from the end: a comment may follow it),
  // or its ZIP64 form.
  #directory(): { count: number; offset: number } {
    const b = this.#bytes;
    for (let p = b.length - 22; p >= Math.max(0, b.length - 22 - 0xffff); p--) {
      if (this.#u32(p) !== EOCD) continue;
      let count = this.#u16(p + 10);
      let offset = this.#u32(p + 16);
      if ((count === 0xffff || offset === 0xffffffff) && p >= 20 && this.#u32(p - 20) === EOCD64_LOCATOR) {
        const q = Number(this.#view.getBigUint64(p - 12, true));
        if (q + 56 > b.length || this.#u32(q) !== EOCD64) throw new ZipError('its ZIP64 directory is damaged');
        count = Number(this.#view.getBigUint64(q + 32, true));
        offset = Number(this.#view.getBigUint64(q + 48, true));
      }
      if (offset > b.length) throw new ZipError('its central directory lies outside the file (cut short?)');
      return { count, offset };
    }
    throw new ZipError('not a complete ZIP archive (no end of central directory: cut short?)');
  }

  // The ZIP64 extra field holds, in this order, whichever of the sizes and offset did not fit.
  #zip64Sizes(m: ZipMember, extra: Uint8Array): void {
    const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
    for (let p = 0; p + 4 <= extra.length; p += 4 + v.getUint16(p + 2, true)) {
      if (v.getUint16(p, true) !== 1) continue;
      let q = p + 4;
      const next = () => { const n = q + 8 <= extra.length ? Number(v.getBigUint64(q, true)) : -1; q += 8; return n; };
      if (m.size === 0xffffffff) m.size = next();
      if (m.compressedSize === 0xffffffff) m.compressedSize = next();
      if (m.localOffset === 0xffffffff) m.localOffset = next();
      return;
    }
  }

  #u16(p: number): number {
    return p + 2 <= this.#bytes.length ? this.#view.getUint16(p, true) : 0;
  }

  #u32(p: number): number {
    return p + 4 <= this.#bytes.length ? this.#view.getUint32(p, true) : 0;
  }
}
