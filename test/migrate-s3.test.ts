// `sealbox migrate --to CONFIG` into PostgreSQL with the blobs in S3, on a private Ceph RADOS
// Gateway: an embedded archive of real corpus mail (and one message large enough to be a blob file
// of its own) received over SMTP is copied, and the copy proved. A first attempt that PostgreSQL
// fails after the objects are in the bucket commits no metadata and leaves them locked; once the
// fault is gone the migration is run again and takes them as they are, their locks extended. The
// bucket then holds exactly the source's blob files, one version each, byte for byte under the
// same names, each locked in COMPLIANCE mode until the latest keep-until of what it holds (the
// corpus is kept for ever by a rule: blobs.s3.foreverLockDays; the large message 2000 days, the
// default); the bucket owner's own keys cannot delete the archived version. Then the copy is
// served: the same reader finds and shows the same mail bit-exact, and `verify` on the target is
// green.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DeleteObjectCommand, GetObjectCommand, GetObjectRetentionCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { loadConfig } from '../src/core/config.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { startCephRgw } from './support/ceph-rgw.ts';
import type { CephRgw } from './support/ceph-rgw.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { readAs, readerToken } from './support/reader.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { toCrlf } from './support/smtp-client.ts';

const DAY = 86_400_000;
const BUCKET = 'migrated';
let cluster: Postgres | undefined;
let rgw: CephRgw | undefined;

// Both servers start side by side; whichever started is stopped (by its PIDs) even if the other
// did not.
before(async () => {
  const [pgStarted, rgwStarted] = await Promise.allSettled([startPostgres(), startCephRgw()]);
  if (pgStarted.status === 'fulfilled') cluster = pgStarted.value;
  if (rgwStarted.status === 'fulfilled') rgw = rgwStarted.value;
  for (const s of [pgStarted, rgwStarted]) if (s.status === 'rejected') throw s.reason;
  await rgw!.createBucket(BUCKET);
}, { timeout: 300_000 });
after(async () => { await Promise.all([cluster?.stop(), rgw?.stop()]); });

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// A message over commit.inlineBlobBytes (1 MiB) and over one 5 MiB upload part: a blob file of its
// own in the source, a multipart upload into the bucket.
function largeMessage(): Buffer {
  const body = randomBytes(4_800_000).toString('base64').match(/.{1,76}/g)!.join('\r\n');
  return Buffer.from(`From: scanner@scan.test\r\nTo: scans@corp.test\r\nSubject: the large scan\r\nMessage-ID: <large-${randomBytes(4).toString('hex')}@ext.test>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`);
}

test('migrate copies an embedded archive into PostgreSQL and an S3 bucket with Object Lock, and the copy serves', { timeout: 600_000 }, async (t) => {
  // The source: a thirtieth of the corpus and one large message over SMTP into the embedded
  // default. Mail matching no rule is kept 2000 days (the large message); a rule keeps the
  // journal's mail from ext.test for ever (the corpus).
  const sourceConfig = testConfig({ retention: { defaultDays: 2000 } });
  const source = await startSealbox({ args: ['--config', sourceConfig] });
  t.after(() => source.stop());
  const rule = await sealbox(['retention', 'set', '--data', source.data, '--config', sourceConfig, '--name', 'Journal', '--forever', '--domain', 'ext.test']);
  assert.match(rule.stdout.toString(), /^applied: /m, rule.stderr);
  const token = await readerToken(source.data, ['r@corp.test', 'scans@corp.test'], { config: sourceConfig });
  const files = corpusFiles().filter((_, i) => i % 30 === 0);
  const messages = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'journal@ext.test', to: index % 3 ? [`user${index % 11}@corp.test`] : [`user${index % 11}@corp.test`, 'r@corp.test'] } }));
  for (const [, r] of await deliverAll(source.smtp.port, messages, { connections: 4 })) assert.equal(r.code, 250, r.text);
  const large = { index: messages.length, data: largeMessage(), envelope: { from: 'scanner@scan.test', to: ['scans@corp.test'] } };
  const largeSent = [Date.now()];
  for (const [, r] of await deliverAll(source.smtp.port, [large])) assert.equal(r.code, 250, r.text);
  largeSent.push(Date.now());
  messages.push(large);
  await waitForIndex(source.data);
  const mine = messages.filter((m) => m.envelope.to.includes('r@corp.test'));
  const before = await readAs(token, ['search', '--data', source.data, '--config', sourceConfig, '--limit', '1000', 'bcc:r@corp.test'], { expectFound: true });
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stdout.toString().trim().split('\n').length, mine.length);
  await source.stop();
  const sourceStats = JSON.parse((await sealbox(['stats', '--data', source.data, '--config', sourceConfig, '--json'])).stdout.toString());
  assert.equal(sourceStats.messages, messages.length);

  // The source's blob files: what the bucket must hold, under the same names.
  const blobRoot = join(source.data, 'blobs');
  const blobFiles = (readdirSync(blobRoot, { recursive: true }) as string[]).filter((n) => statSync(join(blobRoot, n)).isFile()).sort();
  assert.ok(blobFiles.some((n) => n.startsWith('segments/')) && blobFiles.some((n) => n.startsWith('large/')), `segments and a large blob: ${blobFiles.join(', ')}`);

  // The target: a fresh PostgreSQL database and a fresh bucket with Object Lock.
  const { store, url: full } = await postgresStore(cluster!, 'migrated');
  const targetDir = join(tempDataDir(), 'data');
  const configWith = (s3: Record<string, unknown>) => testConfig({ data: targetDir, store, blobs: { kind: 's3', s3: { endpoint: rgw!.endpoint, bucket: BUCKET, credentialsFile: rgw!.credentialsFile, partMiB: 5, ...s3 } } });
  const targetConfig = configWith({});
  const targetData = loadConfig(targetConfig, {}, {}).data;

  const s3 = rgw!.client();
  t.after(() => s3.destroy());
  const bucket = async () => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET }));
    assert.equal(listed.IsTruncated, false);
    return { versions: (listed.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId! })), markers: (listed.DeleteMarkers ?? []).map((m) => m.Key!) };
  };
  const retention = async (key: string, id: string) => {
    const r = (await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: key, VersionId: id }))).Retention;
    return { mode: r?.Mode, until: r?.RetainUntilDate?.getTime() ?? 0 };
  };
  // What an object holds decides its lock: the segment holds the corpus, kept for ever, so it is
  // locked blobs.s3.foreverLockDays from the migration; the large blob holds the large message
  // alone, kept 2000 days from its receipt. RGW keeps the date to the second.
  const lockedFor = (until: number, days: number, from: number, to = Date.now()) => until >= from + days * DAY - 1000 && until <= to + days * DAY + 1000;
  const lockedAsItHolds = (key: string, until: number, foreverDays: number, from: number) => (key.startsWith('large/') ? lockedFor(until, 2000, largeSent[0]!, largeSent[1]!) : lockedFor(until, foreverDays, from));
  const migrate = (to = targetConfig) => sealbox(['migrate', '--data', source.data, '--config', sourceConfig, '--to', to, '--json'], { timeoutMs: 300_000 });

  // A first attempt that fails once its objects are in the bucket: PostgreSQL refuses the
  // captures (as a full disk would), the metadata is rolled back, and the objects stay, locked for
  // years (this attempt: 3000 days for what is kept for ever). The tables are made beforehand,
  // as the migration makes them, to hang the fault on.
  const schema = new PostgresMetadataStore({ url: full });
  await schema.ready();
  await schema.close();
  const db = new pg.Client({ connectionString: full });
  await db.connect();
  t.after(() => db.end());

  // A source this build cannot take (a table the target's schema lacks, as from a newer build)
  // is refused before anything is put: nothing could take a locked object out of the bucket.
  const sqlite = new DatabaseSync(join(source.data, 'sealbox.db'));
  sqlite.exec('CREATE TABLE local_notes (id INTEGER PRIMARY KEY, note TEXT)');
  const refused = await migrate();
  sqlite.exec('DROP TABLE local_notes');
  sqlite.close();
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /the source's table local_notes has no counterpart in the target's schema/);
  assert.deepEqual((await bucket()).versions, [], 'nothing put into the bucket');

  await db.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END$$`);
  await db.query('CREATE TRIGGER disk_full BEFORE INSERT ON capture FOR EACH STATEMENT EXECUTE FUNCTION refuse()');
  const firstStarted = Date.now();
  const failed = await migrate(configWith({ foreverLockDays: 3000 }));
  assert.notEqual(failed.code, 0, `${failed.stdout}${failed.stderr}`);
  assert.match(failed.stderr, /No space left on device/);
  const left = await bucket();
  assert.deepEqual(left.versions.map((v) => v.key).sort(), blobFiles, 'the objects were in the bucket before PostgreSQL failed');
  for (const { key, id } of left.versions) {
    const r = await retention(key, id);
    assert.ok(r.mode === 'COMPLIANCE' && lockedAsItHolds(key, r.until, 3000, firstStarted), `${key}: locked by the first attempt (${new Date(r.until).toISOString()})`);
  }
  assert.deepEqual((await db.query('SELECT (SELECT count(*) FROM message) + (SELECT count(*) FROM ledger) AS n')).rows[0].n, '0', 'no metadata committed');
  await db.query('DROP TRIGGER disk_full ON capture');

  // Once the fault is gone the migration is run again (foreverLockDays back to its default,
  // 3650): the objects already there hold the same bytes under the same names, and are taken as
  // they are (as the blob folder's files are), the segment's lock extended.
  const started = Date.now();
  const run = await migrate();
  assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
  const report = JSON.parse(run.stdout.toString());
  assert.deepEqual(report.problems, []);
  assert.equal(report.blobs.target, 's3');
  assert.equal(report.blobs.files, blobFiles.length, 'every blob file copied');
  assert.equal(report.blobs.bytes, blobFiles.reduce((n, f) => n + statSync(join(blobRoot, f)).size, 0));
  assert.equal(report.ledger.size, sourceStats.ledgerEntries, 'the same ledger size');
  assert.equal(report.verified.messages, sourceStats.messages, 'every message verified on the target, read back from the bucket');
  assert.equal(report.index.documents, sourceStats.messages, 'one document per message');
  assert.equal(report.tables.find((r: { name: string }) => r.name === 'capture').rows, sourceStats.captures);
  assert.ok(!existsSync(join(targetData, 'sealbox.db')), 'no SQLite database on the target');
  const local = join(targetData, 'blobs');
  assert.ok(!existsSync(local) || (readdirSync(local, { recursive: true }) as string[]).every((n) => !statSync(join(local, n)).isFile()), 'no blob file in the target\'s data folder');

  // The bucket: exactly the source's blob files, one version each, byte for byte, locked.
  const { versions, markers } = await bucket();
  assert.deepEqual(markers, [], 'no delete markers');
  assert.deepEqual(versions.map((v) => v.key).sort(), blobFiles, 'the bucket holds exactly the source\'s blob files, one version each');
  assert.deepEqual(versions, left.versions, 'the versions the first attempt put');
  const bytesOf = async (key: string, id: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: id }))).Body!.transformToByteArray());
  for (const { key, id } of versions) {
    assert.ok((await bytesOf(key, id)).equals(readFileSync(join(blobRoot, key))), `${key}: the source's bytes`);
    const r = await retention(key, id);
    assert.equal(r.mode, 'COMPLIANCE', `${key}: Object Lock in compliance mode`);
    assert.ok(r.until > Date.now() + DAY, `${key}: locked past tomorrow (${new Date(r.until).toISOString()})`);
    assert.ok(lockedAsItHolds(key, r.until, 3650, started), `${key}: locked until the latest keep-until it holds, the first attempt's lock extended to this one's foreverLockDays (${new Date(r.until).toISOString()})`);
  }
  // The bucket owner's own keys cannot delete an archived version, and it still reads.
  for (const { key, id } of versions) {
    await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: id })), (err: Error) => err.name === 'AccessDenied', `${key}: the delete is refused`);
    assert.ok((await bytesOf(key, id)).equals(readFileSync(join(blobRoot, key))), `${key}: still there after the refused delete`);
  }

  // The target served: the same reader finds the same mail and reads it bit-exact from the bucket.
  const target = await startSealbox({ data: targetData, args: ['--config', targetConfig] });
  t.after(() => target.stop());
  const after = await readAs(token, ['search', '--config', targetConfig, '--limit', '1000', 'bcc:r@corp.test'], { expectFound: true });
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(after.stdout.toString().trim().split('\n').sort(), before.stdout.toString().trim().split('\n').sort(), 'the same results as before the migration');
  for (const m of [mine[0]!, mine[1]!, large]) {
    const raw = await readAs(token, ['show', '--config', targetConfig, '--raw', sha(m.data)]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.equals(m.data), `bit-exact on the target: ${sha(m.data)} (${m.data.length} bytes)`);
  }
  const verified = await sealbox(['verify', '--config', targetConfig]);
  assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
  await target.stop();
});
