import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

// A finished package folder as zip files (deflate, ZIP64 where a file or the archive passes
// 4 GiB), split into volumes of at most `volumeBytes` each. Every volume is a whole zip of its
// own, readable alone by any zip tool (not a spanned archive, which Python's zipfile and Info-ZIP
// unzip cannot read): unzipped into one folder, the volumes are the package.
//
// yazl (3.x) writes them: maintained, no native code, ZIP64 when needed, and it streams each
// file from disk, so a large message is never held whole. The same folder makes the same bytes
// (a fixed time on every entry), so a job resumed in the middle of zipping writes it all again
// and gets what an uninterrupted run would have.
export interface ZipVolume {
  name: string;
  size: number;
  sha256: string;
  paths: string[];
  messages: string[];    // the messages whose files it holds
}

export const MIN_VOLUME_BYTES = 1024 * 1024;

// What one file may add to a volume at most: its data deflated (zlib's bound for data that does
// not compress, and some), and its local and central headers with ZIP64 fields and data
// descriptor. Counting this much keeps every volume within volumeBytes.
function bound(path: string, size: number): number {
  return size + Math.ceil(size / 2048) + 64 + 200 + 2 * Buffer.byteLength(path);
}
const END_RECORDS = 200;

const MESSAGE_FILE = /^(?:messages|text|evidence)\/([0-9a-f]{64})\.(?:eml|txt|json)$/;

// The package's files in volumes: first what is about all of it (README.txt, verify.py, the
// manifest, custody, the load files), then each message's three files together, in the
// manifest's order; a new volume starts where the next group would not fit. A group larger than
// a volume is a volume of its own.
export function planVolumes(files: { path: string; size: number }[], volumeBytes: number): { path: string; size: number }[][] {
  const groups: { path: string; size: number }[][] = [];
  const general = files.filter((f) => !MESSAGE_FILE.test(f.path));
  const bySha = new Map<string, { path: string; size: number }[]>();
  for (const f of files) {
    const sha = MESSAGE_FILE.exec(f.path)?.[1];
    if (sha) bySha.set(sha, [...(bySha.get(sha) ?? []), f]);
  }
  const order = (p: string) => ['README.txt', 'verify.py', 'manifest.json', 'manifest.sig'].indexOf(p);
  general.sort((a, b) => {
    const [x, y] = [order(a.path), order(b.path)];
    if (x !== y) return (x < 0 ? 99 : x) - (y < 0 ? 99 : y);
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
  // The mbox files (one a custodian, each as large as their mail) come after the messages.
  for (const f of general.filter((g) => !g.path.startsWith('mbox/'))) groups.push([f]);
  for (const group of bySha.values()) groups.push(group.sort((a, b) => (a.path < b.path ? -1 : 1)));
  for (const f of general.filter((g) => g.path.startsWith('mbox/'))) groups.push([f]);

  const volumes: { path: string; size: number }[][] = [];
  let current: { path: string; size: number }[] = [];
  let used = END_RECORDS;
  for (const group of groups) {
    const need = group.reduce((n, f) => n + bound(f.path, f.size), 0);
    if (current.length > 0 && used + need > volumeBytes) {
      volumes.push(current);
      current = [];
      used = END_RECORDS;
    }
    current.push(...group);
    used += need;
  }
  if (current.length > 0) volumes.push(current);
  return volumes;
}

export function volumeName(base: string, n: number, of: number): string {
  const width = String(of).length;
  return of === 1 ? `${base}.zip` : `${base}-${String(n).padStart(width, '0')}-of-${of}.zip`;
}

export async function writeZipVolumes(dir: string, files: { path: string; size: number }[], o: { out: string; base: string; volumeBytes: number; mtime: Date; stop?: () => boolean }): Promise<ZipVolume[] | null> {
  const plan = planVolumes(files, o.volumeBytes);
  const volumes: ZipVolume[] = [];
  for (const [i, paths] of plan.entries()) {
    if (o.stop?.()) return null;
    const name = volumeName(o.base, i + 1, plan.length);
    const zip = new ZipFile();
    // A file that cannot be read fails the volume (yazl says so on the ZipFile, not the stream).
    zip.on('error', (err: Error) => (zip.outputStream as unknown as { destroy(e: Error): void }).destroy(err));
    for (const f of paths) zip.addFile(join(dir, f.path), f.path, { mtime: o.mtime, mode: 0o100644, compress: true });
    zip.end();
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const target = join(o.out, name);
    try {
      await pipeline(zip.outputStream, count, createWriteStream(target, { mode: 0o600 }));
    } catch (err) {
      await rm(target, { force: true });
      throw err;
    }
    const messages = [...new Set(paths.map((f) => MESSAGE_FILE.exec(f.path)?.[1]).filter((s): s is string => s !== undefined))];
    volumes.push({ name, size, sha256: hash.digest('hex'), paths: paths.map((f) => f.path), messages });
  }
  return volumes;
}
