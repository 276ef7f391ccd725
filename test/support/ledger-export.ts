// `sealbox ledger export` read back as a test reads it: each line's leaf (the bytes hashed) with
// the payload it commits to (version 2), opened into the entry they say together.
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../../src/core/types.ts';
import { commitmentOf, openEntry } from '../../src/ledger/ledger-entry.ts';

export interface ExportedLine {
  index: number;
  type: string;
  time: string;
  leaf: string;        // base64
  salt?: string;       // base64, version 2 until erased
  payload?: string;    // base64
  erasedBy?: number;
}

export function exportedLines(stdout: string | Buffer): ExportedLine[] {
  return stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ExportedLine);
}

// The entry a line says; a payload that does not match its leaf's commitment fails the test.
export function exportedEntry(line: ExportedLine): LedgerEntry {
  const leaf = Buffer.from(line.leaf, 'base64');
  const payload = line.payload ? Buffer.from(line.payload, 'base64') : null;
  if (payload) assert.equal(commitmentOf(Buffer.from(line.salt!, 'base64'), payload), JSON.parse(leaf.toString('utf8')).commitment, `entry ${line.index}: payload and commitment agree`);
  return openEntry(leaf, payload);
}
