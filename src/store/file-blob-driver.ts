import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SealboxError } from '../core/errors.ts';
import type { BlobDriver } from './blob-store.ts';

// Objects as files under one folder, with the guarantees an object store gives: a put is durable
// when it resolves (file and directory entry flushed) and appears whole or not at all (written
// aside, then linked into place, which also refuses to overwrite).
export class FileBlobDriver implements BlobDriver {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  #path(name: string): string {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(name) || name.split('/').includes('..')) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `blob name "${name}" is not a plain relative path`);
    return join(this.#root, name);
  }

  async put(name: string, body: Buffer | Readable): Promise<void> {
    const path = this.#path(name);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const aside = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(aside, { flags: 'wx', mode: 0o600, flush: true }));
      await link(aside, path).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new SealboxError('SEALBOX_ERR_CONFLICT', `blob ${name} exists; objects are never overwritten`) : err;
      });
    } finally {
      await rm(aside, { force: true });
    }
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  get(name: string, range?: { offset: number; length: number }): Readable {
    if (range && range.length === 0) return Readable.from([]);
    return createReadStream(this.#path(name), range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    if (length === 0) return out;
    const file = await open(this.#path(name), 'r');
    try {
      let read = 0;
      while (read < length) {
        const { bytesRead } = await file.read(out, read, length - read, offset + read);
        if (bytesRead === 0) throw new Error(`blob ${name} at ${offset} is truncated (${read} of ${length} bytes)`);
        read += bytesRead;
      }
    } finally {
      await file.close();
    }
    return out;
  }

  async delete(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    const walk = async function* (root: string, dir: string): AsyncIterable<string> {
      const entries = await readdir(join(root, dir), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const name = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory()) yield* walk(root, name);
        else if (!e.name.endsWith('.part')) yield name;
      }
    };
    for await (const name of walk(this.#root, '')) if (name.startsWith(prefix)) yield name;
  }
}
