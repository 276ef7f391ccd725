import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SealboxError } from '../../core/errors.ts';

// What the file-based importers share: the paths named on the command line resolved to files.

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// A path as it will be recorded: absolute and with symbolic links resolved, so that the same
// file named two ways is the same source (and a re-run recognises what it imported).
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

// Every regular file under dir, sorted so that runs take them in the same order.
export function* walkFiles(dir: string): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walkFiles(path);
    else if (e.isFile()) yield path;
    else if (e.isSymbolicLink()) {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isFile()) yield path;
    }
  }
}

export function startsWith(path: string, prefix: Buffer): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(prefix.length);
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.equals(prefix);
  } finally {
    closeSync(fd);
  }
}

// One message in a file of its own: read whole when small; a large one is hashed first and
// streamed again while it is sealed, so it is never held in memory.
export async function messageFile(path: string, inlineBytes: number): Promise<{ sha: string; size: number; raw: Buffer | null; open?: () => AsyncIterable<Buffer> }> {
  const size = statSync(path).size;
  if (size <= inlineBytes) {
    const raw = readFileSync(path);
    return { sha: sha256(raw), size: raw.length, raw };
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha: hash.digest('hex'), size, raw: null, open: () => createReadStream(path) as AsyncIterable<Buffer> };
}
