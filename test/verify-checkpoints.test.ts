// verify reads the signed checkpoints a page at a time (a year of them is half a million notes):
// every one is still checked at its size, across pages, and every one past the ledger's end is
// named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { BlobCheckPool } from '../src/store/blob-check.ts';
import { verifyArchive } from '../src/store/verify-archive.ts';
import { openArchive, testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const eml = (n: number) => Buffer.from(`From: alice@example.test\r\nTo: carol@example.test\r\nSubject: checkpoints ${n}\r\nMessage-ID: <cp-${n}@example.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nbody ${n}\r\n`);

test('verify checks every checkpoint across pages, and names each one past the end', { timeout: 180_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig();
  // Each import signs a checkpoint at its end: several, a page of two at a time below.
  for (let n = 0; n < 5; n++) {
    const folder = join(dir, `eml-${n}`);
    mkdirSync(folder);
    writeFileSync(join(folder, 'm.eml'), eml(n));
    assert.equal((await runImport(['eml', '--data', data, '--config', config, folder], join(dir, `report-${n}.json`))).code, 0);
  }
  const verifierKey = (await sealbox(['ledger', 'public-key', '--data', data, '--config', config])).stdout.toString().trim();
  const rows = (path: string) => {
    const db = new DatabaseSync(join(path, 'sealbox.db'), { readOnly: true });
    try {
      return { checkpoints: (db.prepare('SELECT size, note FROM checkpoint ORDER BY size').all() as { size: number; note: string }[]).map((r) => ({ size: Number(r.size), note: r.note })) };
    } finally {
      db.close();
    }
  };
  const { checkpoints } = rows(data);
  assert.ok(checkpoints.length >= 5, `${checkpoints.length} checkpoints`);
  const origin = checkpoints[0]!.note.split('\n')[0]!;
  const verified = async (path: string) => {
    const archive = await openArchive(path);
    const blobCheck = new BlobCheckPool(archive.config);
    try {
      return await archive.read((tx) => verifyArchive(tx, archive.stores, { verifierKey, origin, blobCheck, checkpointPage: 2 }));
    } finally {
      await blobCheck.close();
      archive.close();
    }
  };
  const clean = await verified(data);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.checkpoints, checkpoints.length, 'every page read');

  // The newest entries removed: every checkpoint past the new end is named, on whichever page.
  const cut = join(dir, 'cut');
  execFileSync('cp', ['-a', data, cut]);
  const keep = checkpoints[1]!.size;
  const db = new DatabaseSync(join(cut, 'sealbox.db'));
  db.prepare('DELETE FROM ledger_payload WHERE idx >= ?').run(keep);
  db.prepare('DELETE FROM ledger WHERE idx >= ?').run(keep);
  // … and one checkpoint's note changed, on the second page: its signature fails at its size.
  db.prepare('UPDATE checkpoint SET note = replace(note, ?, ?) WHERE size = ?').run(`\n${checkpoints[1]!.size}\n`, `\n${checkpoints[1]!.size + 1}\n`, checkpoints[1]!.size);
  db.close();
  const named = await verified(cut);
  for (const c of checkpoints.slice(2)) assert.ok(named.problems.includes(`checkpoint ${c.size}: the ledger holds only ${keep} entries (entries removed)`), `checkpoint ${c.size} named: ${named.problems.join('\n')}`);
  assert.ok(named.problems.some((p) => p.startsWith(`checkpoint ${checkpoints[1]!.size}: signature invalid`)), named.problems.join('\n'));
  assert.equal(named.checkpoints, checkpoints.length);
});
