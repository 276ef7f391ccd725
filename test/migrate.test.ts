// `sealbox migrate --to CONFIG`: an embedded archive of real corpus mail (received over SMTP, with
// people, a token and recorded reads) copied into PostgreSQL, and the copy proved: the command's
// own proof (same ledger size and root, verify green on the target, one document per message),
// then the target served: the same token finds and shows the same mail, bit-exact, and the
// verdicts at receipt are the source's. A second migration into the same target is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { loadConfig } from '../src/core/config.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { readAs, readerToken } from './support/reader.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { toCrlf } from './support/smtp-client.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres(); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('migrate copies an embedded archive of the corpus into PostgreSQL and proves the copy', { timeout: 900_000 }, async (t) => {
  // The source: corpus mail over SMTP into the embedded default, a reader who searched it.
  const sourceConfig = testConfig();
  const source = await startSealbox({ args: ['--config', sourceConfig] });
  t.after(() => source.stop());
  const files = corpusFiles().filter((_, i) => i % 4 === 0);
  const messages = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'journal@ext.test', to: index % 3 ? [`user${index % 11}@corp.test`] : [`user${index % 11}@corp.test`, 'r@corp.test'] } }));
  for (const [, r] of await deliverAll(source.smtp.port, messages, { connections: 4 })) assert.equal(r.code, 250, r.text);
  await waitForIndex(source.data);
  const token = await readerToken(source.data, ['r@corp.test'], { config: sourceConfig });
  const mine = messages.filter((m) => m.envelope.to.includes('r@corp.test'));
  const before = await readAs(token, ['search', '--data', source.data, '--config', sourceConfig, '--limit', '1000', 'bcc:r@corp.test'], { expectFound: true });
  assert.equal(before.code, 0, before.stderr);
  await source.stop();
  const sourceStats = JSON.parse((await sealbox(['stats', '--data', source.data, '--config', sourceConfig, '--json'])).stdout.toString());

  // The target: PostgreSQL, a data folder of its own (keys and blobs are copied there).
  const { store, url: full } = await postgresStore(cluster, 'migrated');
  const targetConfig = testConfig({ data: join(tempDataDir(), 'data'), store });
  const targetData = loadConfig(targetConfig, {}, {}).data;

  const run = await sealbox(['migrate', '--data', source.data, '--config', sourceConfig, '--to', targetConfig, '--json'], { timeoutMs: 600_000 });
  assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
  const report = JSON.parse(run.stdout.toString());
  assert.deepEqual(report.problems, []);
  assert.equal(report.ledger.size, sourceStats.ledgerEntries, 'the same ledger size');
  assert.equal(report.verified.messages, sourceStats.messages, 'every message verified on the target');
  assert.equal(report.index.documents, sourceStats.messages, 'one document per message');
  assert.equal(report.blobs.target, 'files');
  assert.ok(report.tables.find((r: any) => r.name === 'capture').rows === sourceStats.captures);
  // The verdicts at receipt are the source's, row for row.
  const index = new DatabaseSync(join(source.data, 'index.db'), { readOnly: true });
  const verdicts = index.prepare('SELECT capture_row, verdicts FROM capture_auth ORDER BY capture_row').all() as { capture_row: number; verdicts: string }[];
  index.close();
  assert.ok(verdicts.length === sourceStats.captures, 'every capture was checked at receipt');
  const client = new pg.Client({ connectionString: full });
  await client.connect();
  try {
    const copied = (await client.query('SELECT capture_row, verdicts FROM capture_auth ORDER BY capture_row')).rows.map((r) => ({ capture_row: Number(r.capture_row), verdicts: r.verdicts }));
    assert.deepEqual(copied, verdicts.map((v) => ({ capture_row: Number(v.capture_row), verdicts: v.verdicts })));
  } finally {
    await client.end();
  }
  // The ledger root the command compared, from the source's own checkpoint command too.
  assert.ok(!existsSync(join(targetData, 'sealbox.db')), 'no SQLite database on the target');

  // The target served: the same token reads the same mail.
  const target = await startSealbox({ data: targetData, args: ['--config', targetConfig] });
  t.after(() => target.stop());
  const after = await readAs(token, ['search', '--config', targetConfig, '--limit', '1000', 'bcc:r@corp.test'], { expectFound: true });
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout.toString().trim().split('\n').length, mine.length, 'the reader finds each of their messages');
  assert.deepEqual(after.stdout.toString().trim().split('\n').sort(), before.stdout.toString().trim().split('\n').sort(), 'the same results as before the migration');
  const raw = await readAs(token, ['show', '--config', targetConfig, '--raw', sha(mine[0]!.data)]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(raw.stdout.equals(mine[0]!.data), 'bit-exact on the target');
  const verified = await sealbox(['verify', '--config', targetConfig]);
  assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
  await target.stop();

  // A second migration into the same archive is refused, and changes nothing there.
  const again = await sealbox(['migrate', '--data', source.data, '--config', sourceConfig, '--to', targetConfig]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /the target archive \(schema public\) is not empty/);
  const stats = JSON.parse((await sealbox(['stats', '--config', targetConfig, '--json'])).stdout.toString());
  assert.deepEqual([stats.messages, stats.captures], [sourceStats.messages, sourceStats.captures]);
});
