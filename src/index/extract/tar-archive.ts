import { createGunzip } from 'node:zlib';

// TAR archives (POSIX ustar, pax and GNU long names) and gzip, read in Sealbox: a TAR is a run of
// 512-byte headers each followed by its member's bytes, so listing it is walking the headers and
// a member is a view of the bytes, never a copy. gzip is inflated by node:zlib as a stream that is
// stopped at a cap, whatever the stream says it holds (a gzip bomb yields its cap, no more).

export interface TarMember {
  name: string;
  directory: boolean;
  bytes: Uint8Array;
}

export class TarError extends Error {}

const BLOCK = 512;

export function isTar(bytes: Uint8Array): boolean {
  // ustar's magic, or (a pre-POSIX archive) a first header whose checksum holds.
  return bytes.length >= BLOCK && (ascii(bytes, 257, 5) === 'ustar' || (bytes[0] !== 0 && checksumOk(bytes.subarray(0, BLOCK))));
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 10 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8;
}

// The members of a TAR, at most maxMembers (`more` when there were others). Links, devices and
// the like are listed by name with no bytes.
export function readTar(bytes: Uint8Array, maxMembers: number): { members: TarMember[]; more: boolean } {
  const members: TarMember[] = [];
  let longName: string | null = null;
  let p = 0;
  while (p + BLOCK <= bytes.length) {
    const header = bytes.subarray(p, p + BLOCK);
    if (header.every((b) => b === 0)) break;   // the end: two zero blocks (one is enough to stop)
    if (!checksumOk(header)) throw new TarError(members.length === 0 ? 'not a TAR archive (its first header\'s checksum is wrong)' : `the header after "${members.at(-1)!.name}" is damaged`);
    const size = number(header.subarray(124, 136));
    const type = String.fromCharCode(header[156]!);
    const start = p + BLOCK;
    if (size < 0 || start + size > bytes.length) throw new TarError(`"${name(header)}" is cut short`);
    const body = bytes.subarray(start, start + size);
    p = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {                 // GNU: the next member's long name
      longName = text(body);
      continue;
    }
    if (type === 'x') {                 // pax: the next member's attributes, "len key=value\n"
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(body))?.[1] ?? longName;
      continue;
    }
    if (type === 'g' || type === 'K') continue;
    if (members.length >= maxMembers) return { members, more: true };
    const fullName = longName ?? name(header);
    longName = null;
    const regular = type === '0' || type === '\0' || type === '7';
    members.push({ name: fullName, directory: type === '5' || fullName.endsWith('/'), bytes: regular ? body : new Uint8Array(0) });
  }
  return { members, more: false };
}

// The inflated bytes of a gzip stream (members one after another, as gunzip reads them), at most
// `cap`; `complete` is false when there was more.
export function gunzip(bytes: Uint8Array, cap: number): Promise<{ bytes: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const z = createGunzip();
    const finish = (complete: boolean) => {
      if (done) return;
      done = true;
      z.destroy();
      resolve({ bytes: Buffer.concat(chunks, total), complete });
    };
    z.on('data', (chunk: Buffer) => {
      if (done) return;
      if (total + chunk.length > cap) {
        chunks.push(chunk.subarray(0, cap - total));
        total = cap;
        finish(false);
        return;
      }
      chunks.push(chunk);
      total += chunk.length;
    });
    z.on('end', () => finish(true));
    z.on('error', (err) => {
      if (done) return;
      done = true;
      reject(new TarError(`it cannot be inflated (${err.message})`));
    });
    z.end(bytes);
  });
}

function checksumOk(header: Uint8Array): boolean {
  const stored = number(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return stored === sum;
}

// ustar: the prefix, a slash, the name.
function name(header: Uint8Array): string {
  const own = text(header.subarray(0, 100));
  const prefix = ascii(header, 257, 5) === 'ustar' ? text(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${own}` : own;
}

// An octal number in ASCII, or (GNU, for large sizes) base-256 with the top bit set.
function number(field: Uint8Array): number {
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return Number.isSafeInteger(n) ? n : -1;
  }
  const s = text(field).trim();
  return s === '' ? 0 : /^[0-7]+$/.test(s) ? parseInt(s, 8) : -1;
}

function text(field: Uint8Array): string {
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}
