// `verify` reads the small blobs of a segment a run at a time; a damaged blob must still be named
// for itself, and only it: a flipped byte, and a segment cut short in the middle of a blob.
import assert from 'node:assert/strict';
import { mkdirSync, openSync, readSync, truncateSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const eml = (n: number) => Buffer.from(`From: alice@example.test\r\nTo: carol@example.test\r\nSubject: blob ${n}\r\nMessage-ID: <blob-${n}@example.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nbody ${n}\r\n`);

test('verify names each damaged blob of a segment, and only those', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig();
  mkdirSync(join(dir, 'eml'));
  for (let n = 1; n <= 8; n++) writeFileSync(join(dir, 'eml', `m${n}.eml`), eml(n));
  assert.equal((await runImport(['eml', '--data', data, '--config', config, join(dir, 'eml')], join(dir, 'report.json'))).code, 0);
  const verify = async () => {
    const r = await sealbox(['verify', '--data', data, '--config', config]);
    return { code: r.code, fails: r.stdout.toString().split('\n').filter((l) => l.startsWith('FAIL ')) };
  };
  assert.deepEqual(await verify(), { code: 0, fails: [] });

  const db = new DatabaseSync(join(data, 'sealbox.db'), { readOnly: true });
  const rows = db.prepare('SELECT sha256, blob_file, blob_offset, blob_length FROM message ORDER BY id').all() as { sha256: string; blob_file: string; blob_offset: number; blob_length: number }[];
  db.close();
  assert.equal(rows.length, 8);
  assert.ok(rows.every((r) => r.blob_file === rows[0]!.blob_file), 'all in one segment');
  const path = join(data, 'blobs', rows[0]!.blob_file);

  // One flipped byte in the second blob: its tag fails, the blobs read with it are fine.
  const at = rows[1]!.blob_offset + Math.floor(rows[1]!.blob_length / 2);
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, at);
  writeSync(fd, Buffer.of(byte[0]! ^ 0x01), 0, 1, at);
  closeSync(fd);
  let r = await verify();
  assert.equal(r.code, 1);
  assert.equal(r.fails.length, 1, r.fails.join('\n'));
  assert.match(r.fails[0]!, new RegExp(`^FAIL message ${rows[1]!.sha256}: blob \\(${rows[1]!.blob_file} at ${rows[1]!.blob_offset}\\) is damaged`));

  // The segment cut in the middle of the seventh blob: the seventh and eighth are named (cut
  // short, missing), the six before them read whole.
  truncateSync(path, rows[6]!.blob_offset + 10);
  r = await verify();
  assert.equal(r.code, 1);
  assert.equal(r.fails.length, 3, r.fails.join('\n'));
  for (const i of [6, 7]) assert.ok(r.fails.some((f) => f.startsWith(`FAIL message ${rows[i]!.sha256}: blob (${rows[i]!.blob_file} at ${rows[i]!.blob_offset}) is damaged: blob ${rows[i]!.blob_file} at ${rows[i]!.blob_offset} is truncated`)), r.fails.join('\n'));
  assert.ok(r.fails.some((f) => f.startsWith(`FAIL message ${rows[1]!.sha256}:`)));
});
