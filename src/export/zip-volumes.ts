import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipWriter } from './zip-writer.ts';

// A finished package folder as zip files (deflate, ZIP64 where a file or the archive passes
// 4 GiB), split into volumes of at most `volumeBytes` each. Every volume is a whole zip of its
// own, readable alone by any zip tool (not a spanned archive, which Python's zipfile and Info-ZIP
// unzip cannot read): unzipped into one folder, the volumes are the package.
//
// zip-writer.ts writes them, one file at a time. The same folder makes the same bytes (a fixed
// time on every entry), so a job resumed in the middle of zipping writes it all again and gets
// what an uninterrupted run would have.
export interface ZipVolume {
  name: string;
  size: number;
  sha256: string;
  paths: string[];
  messages: string[];    // the messages whose files it holds
}

export const MIN_VOLUME_BYTES = 1024 * 1024;

// What one file may add to a volume at most: its data (stored when deflate would not make it
// smaller, so never more than its size) and its local and central headers with ZIP64 fields,
// and some. Counting this much keeps every volume within volumeBytes.
function bound(path: string, size: number): number {
  return size + Math.ceil(size / 2048) + 64 + 200 + 2 * Buffer.byteLength(path);
}
const END_RECORDS = 200;

// text/<sha256>.<n>.txt: the text of a message's n-th attachment, with the message's files.
const MESSAGE_FILE = /^(?:messages|text|evidence)\/([0-9a-f]{64})(?:\.[1-9][0-9]*)?\.(?:eml|txt|json)$/;

// The package's files in volumes: first what is about all of it (README.txt, verify.py, the
// manifest, custody, the load files), then each message's files (its attachments' text too) together, in the
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
    const target = join(o.out, name);
    const out = createWriteStream(target, { mode: 0o600 });
    let made: { size: number; sha256: string };
    try {
      const zip = new ZipWriter(out);
      for (const f of paths) await zip.add(f.path, await readFile(join(dir, f.path)), o.mtime);
      made = await zip.end();
    } catch (err) {
      out.destroy();
      await rm(target, { force: true });
      throw err;
    }
    const messages = [...new Set(paths.map((f) => MESSAGE_FILE.exec(f.path)?.[1]).filter((s): s is string => s !== undefined))];
    volumes.push({ name, size: made.size, sha256: made.sha256, paths: paths.map((f) => f.path), messages });
  }
  return volumes;
}
