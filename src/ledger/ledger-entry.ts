import type { LedgerEntry } from '../core/types.ts';

// The canonical serialisation of an entry is the Merkle leaf: JSON with object keys sorted at
// every level and no white space, so the same entry always hashes the same.
export function serializeEntry(entry: LedgerEntry): Buffer {
  return Buffer.from(canonicalJson(entry), 'utf8');
}

export function parseEntry(leaf: Uint8Array): LedgerEntry {
  return JSON.parse(Buffer.from(leaf).toString('utf8')) as LedgerEntry;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('ledger entries hold finite numbers only');
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
