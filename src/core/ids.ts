import { freshBytes } from './random.ts';

// Time-ordered, url-safe ids: sortable by creation and unguessable.
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${freshBytes(8).toString('hex')}`;
}
