import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SealboxError } from '../core/errors.ts';

// A key kept in a file only its owner can read: made on first start (mode 0600, flushed), refused
// later if anyone else could read it. `what` names it in errors.
export function readOrCreateSecretFile(file: string, what: string, options: { create: boolean; make: () => string }): { content: string; created: boolean } {
  try {
    let created = false;
    try {
      statSync(file);
    } catch {
      if (!options.create) throw new SealboxError('SEALBOX_ERR_CONFIG', `${what} ${file} is missing`);
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, options.make());
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      created = true;
    }
    if ((statSync(file).mode & 0o077) !== 0) throw new SealboxError('SEALBOX_ERR_CONFIG', `${what} ${file} is readable by group or others (chmod 600 it)`);
    return { content: readFileSync(file, 'utf8'), created };
  } catch (err) {
    // A folder that cannot be made, a file that cannot be read: named, with its key, not a bare errno.
    if (err instanceof SealboxError) throw err;
    throw new SealboxError('SEALBOX_ERR_CONFIG', `${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}
