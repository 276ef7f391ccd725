import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SealboxError } from '../core/errors.ts';
import { generateSigningKey, signingKeyFromPem } from '../ledger/checkpoint.ts';
import type { SigningKey } from '../ledger/checkpoint.ts';

// The ledger's Ed25519 checkpoint key, a PEM file readable only by its owner, made on first start.
export function openOrCreateSigningKey(file: string, name: string, options: { create: boolean }): { key: SigningKey; created: boolean } {
  let created = false;
  try {
    statSync(file);
  } catch {
    if (!options.create) throw new SealboxError('SEALBOX_ERR_CONFIG', `ledger signing key ${file} is missing`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, generateSigningKey(name).privateKeyPem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    created = true;
  }
  if ((statSync(file).mode & 0o077) !== 0) throw new SealboxError('SEALBOX_ERR_CONFIG', `ledger signing key ${file} is readable by group or others (chmod 600 it)`);
  return { key: signingKeyFromPem(name, readFileSync(file, 'utf8')), created };
}
