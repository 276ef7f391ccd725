// Object Lock for real, on a private Ceph RADOS Gateway: what Sealbox puts cannot be deleted,
// overwritten or have its lock shortened through S3 even with the bucket owner's own keys; what it
// reads is always the version it archived; legal holds follow the legal holds in force; and
// disposal still works on mail inside a locked object (its key destroyed, the object kept).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand, GetObjectLegalHoldCommand, GetObjectRetentionCommand, ListObjectVersionsCommand, PutObjectCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3BlobDriver } from '../src/store/s3-blob-driver.ts';
import type { S3Settings } from '../src/store/s3-blob-driver.ts';
import { SegmentedBlobStore } from '../src/store/segmented-blob-store.ts';
import { startCephRgw } from './support/ceph-rgw.ts';
import type { CephRgw } from './support/ceph-rgw.ts';
import { startInProcessWorld } from './support/in-process.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
let rgw: CephRgw;
let s3: S3Client;

before(async () => {
  rgw = await startCephRgw();
  await rgw.createBucket('locked');
  await rgw.createBucket('world');
  await rgw.createBucket('unlocked', { lock: false });
  s3 = rgw.client();
}, { timeout: 300_000 });
after(async () => {
  s3?.destroy();
  await rgw?.stop();
});

function driver(bucket = 'locked', more: Partial<S3Settings> = {}): S3BlobDriver {
  return new S3BlobDriver({
    endpoint: rgw.endpoint, bucket, region: 'us-east-1', ...rgw.credentials, forcePathStyle: true,
    prefix: '', partBytes: 5 * 1024 * 1024, foreverLockDays: 1, ...more,
  });
}

async function versionsOf(bucket: string, key: string): Promise<string[]> {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (r.Versions ?? []).filter((v) => v.Key === key).map((v) => v.VersionId!);
}

async function retentionOf(bucket: string, key: string, versionId?: string): Promise<{ mode?: string; until: number } | null> {
  const id = versionId ?? (await versionsOf(bucket, key)).at(-1);
  const r = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: id })).catch((err) => {
    if (err?.$metadata?.httpStatusCode === 404 || /NoSuchObjectLockConfiguration/.test(err?.name)) return null;
    throw err;
  });
  return r?.Retention ? { mode: r.Retention.Mode, until: r.Retention.RetainUntilDate!.getTime() } : null;
}

async function legalHoldOf(bucket: string, key: string): Promise<string> {
  const id = (await versionsOf(bucket, key)).at(-1);
  const r = await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: id })).catch((err) => {
    if (err?.$metadata?.httpStatusCode === 404 || /NoSuchObjectLockConfiguration/.test(err?.name)) return null;
    throw err;
  });
  return r?.LegalHold?.Status ?? 'OFF';
}

// RGW keeps retain-until dates to the second.
const near = (a: number, b: number) => Math.abs(a - b) < 1500;

test('a locked object cannot be deleted, overwritten or its lock shortened through S3, even by the bucket owner', { timeout: 120_000 }, async () => {
  const data = randomBytes(20_000);
  const keepUntil = Date.now() + 2 * HOUR;
  await driver().put('segments/a.seg', data, { keepUntil });
  const [archived] = await versionsOf('locked', 'segments/a.seg');
  const retention = await retentionOf('locked', 'segments/a.seg', archived);
  assert.equal(retention?.mode, 'COMPLIANCE');
  assert.ok(near(retention!.until, keepUntil), `locked until the keep-until given (${new Date(retention!.until).toISOString()})`);

  // The bucket owner's own keys, straight through the SDK.
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'segments/a.seg', VersionId: archived })), /AccessDenied|object lock/i);
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'segments/a.seg', VersionId: archived, BypassGovernanceRetention: true })), /AccessDenied|object lock/i, 'compliance mode knows no bypass');
  await assert.rejects(s3.send(new PutObjectRetentionCommand({ Bucket: 'locked', Key: 'segments/a.seg', VersionId: archived, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })), /AccessDenied|shorten/i);
  await assert.rejects(s3.send(new PutObjectRetentionCommand({ Bucket: 'locked', Key: 'segments/a.seg', VersionId: archived, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })), /AccessDenied|shorten|governance/i);
  // What S3 does allow changes nothing Sealbox reads: another version on top, a delete marker.
  await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'segments/a.seg', Body: Buffer.from('forged') }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'segments/a.seg' }));
  const fresh = driver();   // nothing cached from the put
  assert.ok((await fresh.getRange('segments/a.seg', 0, data.length)).equals(data), 'the archived version is what is read');
  const streamed: Buffer[] = [];
  for await (const c of fresh.get('segments/a.seg', { offset: 100, length: 1000 })) streamed.push(c as Buffer);
  assert.ok(Buffer.concat(streamed).equals(data.subarray(100, 1100)));
  const names: string[] = [];
  for await (const n of fresh.list('segments/')) names.push(n);
  assert.deepEqual(names, ['segments/a.seg'], 'a delete marker on top hides nothing');
  await assert.rejects(fresh.put('segments/a.seg', randomBytes(10)), /never overwritten/);
  assert.equal((await retentionOf('locked', 'segments/a.seg', archived))?.mode, 'COMPLIANCE', 'and the archived version is still locked');
  await assert.rejects(fresh.delete('segments/a.seg'), /Object Lock or a legal hold/);
  assert.ok((await driver().getRange('segments/a.seg', 0, data.length)).equals(data), 'a refused delete removes nothing');
});

test('a legal hold blocks deletion until it is removed', { timeout: 60_000 }, async () => {
  const d = driver();
  await d.put('large/held.blob', Readable.from([randomBytes(1000)]), { keepUntil: Date.now() - DAY });   // past: no lock
  assert.equal(await retentionOf('locked', 'large/held.blob'), null, 'a keep-until already past asks for no lock');
  await d.legalHold('large/held.blob', true);
  assert.equal(await legalHoldOf('locked', 'large/held.blob'), 'ON');
  const [id] = await versionsOf('locked', 'large/held.blob');
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'locked', Key: 'large/held.blob', VersionId: id })), /AccessDenied|object lock/i);
  await d.legalHold('large/held.blob', false);
  await d.delete('large/held.blob');
  assert.deepEqual(await versionsOf('locked', 'large/held.blob'), [], 'gone once the hold is off');
});

test('a bucket without Object Lock is refused before anything is put', async () => {
  await assert.rejects(driver('unlocked').put('segments/x.seg', randomBytes(10)), /does not have Object Lock enabled/);
  assert.deepEqual(await versionsOf('unlocked', 'segments/x.seg'), []);
});

test('segments are locked until the latest keep-until of what they hold; older objects are extended, never shortened', { timeout: 60_000 }, async () => {
  const store = new SegmentedBlobStore(driver('locked', { prefix: 'seg/' }));
  const t0 = Date.now();
  const a = store.append(randomBytes(100));
  store.lock!(a, t0 + 3 * HOUR);
  const b = store.append(randomBytes(100));
  store.lock!(b, t0 + 5 * HOUR);
  store.lock!(b, t0 + 4 * HOUR);
  await store.sync();
  assert.equal(a.file, b.file);
  assert.ok(near((await retentionOf('locked', `seg/${a.file}`))!.until, t0 + 5 * HOUR), 'the later of the two');

  // A duplicate kept longer arrives in a later batch: its older object's lock is extended.
  const c = store.append(randomBytes(100));
  store.lock!(c, null);
  store.lock!(a, t0 + 9 * HOUR);
  await store.sync();
  assert.notEqual(c.file, a.file);
  assert.ok(near((await retentionOf('locked', `seg/${a.file}`))!.until, t0 + 9 * HOUR), 'extended');
  const forever = (await retentionOf('locked', `seg/${c.file}`))!.until;
  assert.ok(forever > t0 + DAY - 60_000 && forever < Date.now() + DAY + 60_000, 'kept for ever: locked foreverLockDays');
  store.lock!(a, t0 + HOUR);
  await store.sync();
  assert.ok(near((await retentionOf('locked', `seg/${a.file}`))!.until, t0 + 9 * HOUR), 'an earlier keep-until shortens nothing');

  // A large blob under lock cannot be erased: its key goes (disposal), the object stays.
  const large = store.createLarge();
  const bytes = randomBytes(6 * 1024 * 1024);
  await new Promise<void>((resolve, reject) => {
    large.stream.on('error', reject);
    large.stream.end(bytes, resolve);
  });
  const ref = large.close(bytes.length);
  store.lock!(ref, t0 + 2 * HOUR);
  await store.sync();
  assert.ok(near((await retentionOf('locked', `seg/${ref.file}`))!.until, t0 + 2 * HOUR), 'a large blob is locked at the sync after its upload');
  assert.equal(await store.erase(ref), false, 'locked: kept, and erase says so');
  assert.ok((await store.readBuffer({ ...ref, offset: bytes.length - 10, length: 10 })).equals(bytes.subarray(-10)));
  store.close();
});

// The receiving thread's store tells of each segment it puts, and the index thread's is handed it,
// so the indexer reads what was just committed without a GET: a store that can reach no gateway
// reads a seeded segment's blobs all the same, the archived version's.
test('a segment put is handed over with its version, and a store seeded with it reads it without a GET', { timeout: 60_000 }, async () => {
  const writing = new SegmentedBlobStore(driver('locked', { prefix: 'seed/' }));
  const told: { name: string; versionId: string; bytes: Buffer }[] = [];
  writing.onArchived!((o) => told.push(o));
  const blobs = [randomBytes(300), randomBytes(500)];
  const refs = blobs.map((b) => writing.append(b));
  await writing.sync();
  assert.deepEqual(told.map((o) => [o.name, o.versionId]), [[refs[0]!.file, (await versionsOf('locked', `seed/${refs[0]!.file}`))[0]]]);
  assert.ok(told[0]!.bytes.equals(Buffer.concat(blobs)));
  const offline = new SegmentedBlobStore(driver('locked', { prefix: 'seed/', endpoint: 'http://127.0.0.1:9' }));
  await assert.rejects(offline.readBuffer(refs[0]!), 'unseeded, it must ask the gateway, which is not there');
  const seeded = new SegmentedBlobStore(driver('locked', { prefix: 'seed/', endpoint: 'http://127.0.0.1:9' }));
  seeded.seed!(told[0]!);
  for (const [i, ref] of refs.entries()) assert.ok((await seeded.readBuffer(ref)).equals(blobs[i]!));
  // A listener that fails fails no put: the hand-over is for the reader's sake only.
  writing.onArchived!(() => { throw new Error('the index thread is gone'); });
  const more = writing.append(randomBytes(50));
  await writing.sync();
  assert.equal((await writing.readBuffer(more)).length, 50);
  for (const s of [writing, offline, seeded]) s.close();
});

test('the archive: objects locked to their captures\' keep-until, legal holds follow holds in force, disposal works inside a locked object', { timeout: 240_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      lunch: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'lunch menu', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      merger: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], both: ['admin', 'approver'], appr: ['approver'] },
    config: {
      retention: { defaultDays: 30, disposeEveryHours: 0 },
      oversight: { auditorDigest: 'off', ownerDigest: 'off' },
      blobs: { kind: 's3', s3: { endpoint: rgw.endpoint, bucket: 'world', credentialsFile: rgw.credentialsFile, foreverLockDays: 1 } },
    },
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const { stores } = archive;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const where = (key: string) => stores.meta.read(async (tx) => {
    const m = (await stores.meta.getMessage(tx, sha[key]!))!;
    return { file: m.blobRef.file, keepUntil: (await stores.meta.capturesOf(tx, m.id)).map((c) => c.keepUntil) };
  });
  const lunch = await where('lunch');
  const merger = await where('merger');
  assert.notEqual(lunch.file, merger.file, 'one commit, one object');
  for (const o of [lunch, merger]) {
    const r = await retentionOf('world', o.file);
    assert.equal(r?.mode, 'COMPLIANCE');
    assert.ok(near(r!.until, o.keepUntil[0]!), 'locked until the capture\'s keep-until (30 days, retention.defaultDays)');
  }
  const objectHolds = archive.services.objectHolds!;
  assert.ok(objectHolds, 'S3 blobs come with legal holds');

  // A hold on olga's merger mail: its object gets an S3 legal hold, the lunch menu's does not.
  const hold = await call('both', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: 'merger' });
  assert.deepEqual(await objectHolds.sync(), { held: 1, placed: 1, removed: 0 });
  assert.equal(await legalHoldOf('world', merger.file), 'ON');
  assert.equal(await legalHoldOf('world', lunch.file), 'OFF');
  assert.deepEqual(await objectHolds.sync(), { held: 1, placed: 0, removed: 0 }, 'placed once');
  // While the holds stay as they are, a run reads only the mail received since the last one;
  // the first after a hold changes, and one an hour, read all of it.
  const walk = stores.repos.objectHolds.lastMessageId.bind(stores.repos.objectHolds);
  let walked = 0;
  stores.repos.objectHolds.lastMessageId = (...a) => { walked++; return walk(...a); };
  const mail = (subject: string) => Buffer.from(`From: x@ext.test\r\nTo: olga@corp.test\r\nSubject: ${subject}\r\nDate: Fri, 17 Jan 2025 10:00:00 +0000\r\nMessage-ID: <${randomBytes(6).toString('hex')}@ext.test>\r\n\r\n${subject}\r\n`);
  const later = { merger: mail('merger terms, revised'), lunch: mail('lunch menu, revised') };
  for (const raw of Object.values(later)) await world.deliver({ from: 'x@ext.test', to: ['olga@corp.test'] }, raw);
  const shaOf = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');
  const fileOf = (raw: Buffer) => stores.meta.read(async (tx) => (await stores.meta.getMessage(tx, shaOf(raw)))!.blobRef.file);
  assert.deepEqual(await objectHolds.sync(), { held: 2, placed: 1, removed: 0 }, 'the revised terms are held as they arrive');
  assert.equal(walked, 0, 'the new receipts only');
  assert.equal(await legalHoldOf('world', await fileOf(later.merger)), 'ON');
  assert.equal(await legalHoldOf('world', await fileOf(later.lunch)), 'OFF');
  clock.advance(HOUR);
  assert.deepEqual(await objectHolds.sync(), { held: 2, placed: 0, removed: 0 });
  assert.ok(walked > 0, 'a whole pass an hour');
  const release = await call('both', 'POST', `/api/v1/holds/${hold.id}/release`, { reason: 'settled' });
  await call('appr', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'the matter is settled' });
  assert.deepEqual(await objectHolds.sync(), { held: 0, placed: 0, removed: 2 });
  assert.equal(await legalHoldOf('world', merger.file), 'OFF', 'no hold covers it any more');

  // 31 days on (the archive's clock; S3's is the wall clock, so the objects are still locked):
  // both messages are disposed of by key destruction, their objects kept for compaction.
  clock.advance(31 * DAY);
  const run = await archive.services.disposal.run();
  assert.deepEqual(run.plan.due.map((d) => d.sha256).sort(), [sha.lunch, sha.merger, shaOf(later.merger), shaOf(later.lunch)].sort());
  assert.equal(run.outcomes.flatMap((o) => o.failed).length, 0, JSON.stringify(run.outcomes));
  assert.equal(run.outcomes.reduce((n, o) => n + o.bytesKept, 0), 4, 'the bytes stay in their locked objects');
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'world', Key: lunch.file, VersionId: (await versionsOf('world', lunch.file))[0] })), /AccessDenied|object lock/i);
  const report = await world.verify();
  assert.deepEqual(report.problems, [], 'verify is green with the disposed messages in locked objects');
});
