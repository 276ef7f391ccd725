// The ledger tree's kept subtree roots (ledger/stored-tree.ts) as the commands meet them: proofs
// made from them are the proofs of the leaves themselves, `verify` names a changed one, and an
// archive without them (begun before they were kept) still proves right and gets them back when
// a writer opens it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { verifyCheckpoint } from '../src/ledger/checkpoint.ts';
import { inclusionProof, verifyInclusion } from '../src/ledger/merkle-tree.ts';
import { testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const eml = (n: number) => Buffer.from(`From: alice@example.test\r\nTo: carol@example.test\r\nSubject: tree ${n}\r\nMessage-ID: <tree-${n}@example.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nbody ${n}\r\n`);

function sql<T>(data: string, run: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(data, 'sealbox.db'));
  try {
    return run(db);
  } finally {
    db.close();
  }
}

const nodeCount = (data: string) => sql(data, (db) => Number((db.prepare('SELECT count(*) AS n FROM ledger_node').get() as { n: number }).n));

async function cli(args: string[]): Promise<{ code: number | null; text: string; stdout: string }> {
  const r = await sealbox(args);
  return { code: r.code, stdout: r.stdout.toString(), text: r.stdout.toString() + r.stderr.toString() };
}

// `sealbox ledger proof` for one entry, checked against the signed checkpoint it comes with and
// against the proof made from every leaf hash.
async function provesRight(data: string, index: number): Promise<void> {
  const key = (await cli(['ledger', 'public-key', '--data', data])).stdout.trim();
  const r = await cli(['ledger', 'proof', String(index), '--data', data]);
  assert.equal(r.code, 0, r.text);
  const proven = JSON.parse(r.stdout) as { size: number; leafHash: string; proof: string[]; checkpoint: string };
  const signed = verifyCheckpoint(proven.checkpoint, key, {});
  const proof = proven.proof.map((h) => Buffer.from(h, 'base64'));
  assert.ok(verifyInclusion(index, proven.size, Buffer.from(proven.leafHash, 'base64'), proof, signed.rootHash), `entry ${index}: the proof leads to the signed root`);
  const leaves = sql(data, (db) => (db.prepare('SELECT leaf_hash FROM ledger WHERE idx < ? ORDER BY idx').all(proven.size) as { leaf_hash: Uint8Array }[]).map((r) => Buffer.from(r.leaf_hash)));
  assert.deepEqual(proof, inclusionProof(index, leaves), `entry ${index}: the proof of the leaves themselves`);
}

test('proofs come from the kept subtree roots; verify names a changed one; an archive without them proves right and gets them back', { timeout: 300_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig();
  const imported = async (from: number, to: number) => {
    const folder = join(dir, `eml-${from}`);
    mkdirSync(folder);
    for (let n = from; n < to; n++) writeFileSync(join(folder, `m${n}.eml`), eml(n));
    const r = await runImport(['eml', '--data', data, '--config', config, folder], join(dir, `report-${from}.json`));
    assert.equal(r.code, 0, r.stderr.toString());
    return r.stderr.toString();
  };
  await imported(0, 150);
  const size = sql(data, (db) => Number((db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n));
  assert.ok(size >= 150, `${size} entries`);
  // Every subtree of 64 leaves or more: ⌊size/64⌋ + ⌊size/128⌋ + …
  let expected = 0;
  for (let w = 64; w <= size; w *= 2) expected += Math.floor(size / w);
  assert.equal(nodeCount(data), expected, 'a kept root for every completed subtree of 64 leaves or more');
  const clean = await cli(['verify', '--data', data]);
  assert.equal(clean.code, 0, clean.text);
  for (const index of [0, 63, 64, 100, size - 1]) await provesRight(data, index);

  // A kept root changed in the database: verify names it.
  const changed = join(dir, 'changed');
  execFileSync('cp', ['-a', data, changed]);
  sql(changed, (db) => assert.equal(Number(db.prepare('UPDATE ledger_node SET hash = zeroblob(32) WHERE level = 6 AND idx = 1').run().changes), 1));
  const named = await cli(['verify', '--data', changed]);
  assert.equal(named.code, 1, named.text);
  assert.match(named.text, /ledger tree: the stored root of entries 64–127 is not theirs \(changed\)/);

  // An archive from before they were kept: proofs rebuild them from the leaves, verify says so,
  // and the next entry keeps them all.
  sql(data, (db) => db.exec('DELETE FROM ledger_node'));
  for (const index of [0, 100, size - 1]) await provesRight(data, index);
  const noted = await cli(['verify', '--data', data]);
  assert.equal(noted.code, 0, noted.text);
  assert.match(noted.text, new RegExp(`note ${expected} of the tree's kept subtree roots are not stored yet`));
  // The importer, a writer, keeps them as it opens, before its first entry.
  assert.match(await imported(150, 151), new RegExp(`kept the ledger tree's ${expected} subtree roots`));
  const grown = sql(data, (db) => Number((db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n));
  let now = 0;
  for (let w = 64; w <= grown; w *= 2) now += Math.floor(grown / w);
  assert.equal(nodeCount(data), now, 'filled in, and kept by the next entry');
  const again = await cli(['verify', '--data', data]);
  assert.equal(again.code, 0, again.text);
  assert.doesNotMatch(again.text, /kept subtree roots/);
});
