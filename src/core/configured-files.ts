import { readFileSync } from 'node:fs';
import { SealboxError } from './errors.ts';

// A file a configuration key names (a TLS key, a DNS zone, a webhook secret), read at start-up.
// A missing, unreadable or empty one stops start-up with an error that names the key, instead
// of a bare ENOENT from whichever thread first touches it.
export function readConfiguredFile(key: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.trim() === '') throw new SealboxError('SEALBOX_ERR_CONFIG', `${key}: ${path} is empty`);
  return text;
}
