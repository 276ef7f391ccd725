// The blob store's contract, run against every implementation: today the local segment files
// (the embedded default) and the segmented store over a BlobDriver (how object storage is used,
// over the folder driver and over S3 on a private Ceph RADOS Gateway, one bucket with Object Lock,
// each test's "storage" a key prefix of its own).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobDriver, BlobRef, BlobStore } from '../../src/store/blob-store.ts';
import { FileBlobStore } from '../../src/store/file-blob-store.ts';
import { FileBlobDriver } from '../../src/store/file-blob-driver.ts';
import { SegmentedBlobStore } from '../../src/store/segmented-blob-store.ts';
import { S3BlobDriver } from '../../src/store/s3-blob-driver.ts';
import { cephInstalled, startCephRgw } from '../support/ceph-rgw.ts';
import type { CephRgw } from '../support/ceph-rgw.ts';

let rgw: CephRgw | null = null;
const BUCKET = 'conformance';
before(async () => {
  if (!cephInstalled()) return;
  rgw = await startCephRgw();
  await rgw.createBucket(BUCKET);
}, { timeout: 300_000 });
after(async () => { await rgw?.stop(); });

// One folder, one key prefix: a second driver opened on the same folder sees the same objects.
function s3Driver(dir: string): S3BlobDriver {
  if (!rgw) throw new Error('Ceph RGW is not installed (scripts/install-peers.sh)');
  return new S3BlobDriver({
    endpoint: rgw.endpoint, bucket: BUCKET, region: 'us-east-1', ...rgw.credentials, forcePathStyle: true,
    prefix: `${basename(dir)}/`, partBytes: 5 * 1024 * 1024, foreverLockDays: 1,
  });
}

const STORES: { name: string; open(dir: string): BlobStore }[] = [
  { name: 'FileBlobStore (local segment files)', open: (dir) => new FileBlobStore(dir) },
  { name: 'SegmentedBlobStore over FileBlobDriver', open: (dir) => new SegmentedBlobStore(new FileBlobDriver(dir)) },
  { name: 'SegmentedBlobStore over S3BlobDriver (Ceph RGW)', open: (dir) => new SegmentedBlobStore(s3Driver(dir)) },
];

const DRIVERS: { name: string; open(dir: string): BlobDriver }[] = [
  { name: 'FileBlobDriver', open: (dir) => new FileBlobDriver(dir) },
  { name: 'S3BlobDriver (Ceph RGW)', open: (dir) => s3Driver(dir) },
];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function streamed(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function listed(store: { list(): AsyncIterable<string> }): Promise<string[]> {
  const names: string[] = [];
  for await (const n of store.list()) names.push(n);
  return names;
}

for (const impl of STORES) {
  describe(`BlobStore: ${impl.name}`, () => {
    test('appended blobs read back exactly, whole and as streams, after sync', async () => {
      const store = impl.open(tempDir());
      const blobs = [randomBytes(10), randomBytes(70_000), Buffer.alloc(0), randomBytes(1)];
      const refs = blobs.map((b) => store.append(b));
      await store.sync();
      for (const [i, ref] of refs.entries()) {
        assert.ok((await store.readBuffer(ref)).equals(blobs[i]!), `blob ${i} whole`);
        assert.ok((await streamed(store.read(ref))).equals(blobs[i]!), `blob ${i} streamed`);
      }
      const spans = refs.filter((r) => r.length > 0).map((r) => [r.file, r.offset, r.offset + r.length] as const);
      for (const a of spans) for (const b of spans) if (a !== b && a[0] === b[0]) assert.ok(a[2] <= b[1] || b[2] <= a[1], 'references do not overlap');
      store.close();
    });

    test('a rolled-back batch leaves the blobs before it intact and the next batch readable', async () => {
      const store = impl.open(tempDir());
      const before = randomBytes(500);
      const kept = store.append(before);
      await store.sync();
      const mark = store.mark();
      store.append(randomBytes(800));
      store.rollback(mark);
      const after = randomBytes(300);
      const next = store.append(after);
      await store.sync();
      assert.ok((await store.readBuffer(kept)).equals(before));
      assert.ok((await store.readBuffer(next)).equals(after));
      store.close();
    });

    test('a large blob streams into its own file and reads back after sync', async () => {
      const store = impl.open(tempDir());
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const large = store.createLarge();
      await new Promise<void>((resolve, reject) => {
        large.stream.on('error', reject);
        large.stream.end(data, resolve);
      });
      const ref = large.close(data.length);
      await store.sync();
      assert.ok((await streamed(store.read(ref))).equals(data));
      assert.ok((await listed(store)).includes(ref.file), 'listed');
      store.close();
    });

    test('erase: a large blob goes; a segment range is zeroed where the store can, its neighbours untouched', async () => {
      const dir = tempDir();
      const store = impl.open(dir);
      const blobs = [randomBytes(5000), randomBytes(7000), randomBytes(3000)];
      const refs = blobs.map((b) => store.append(b));
      const data = randomBytes(2 * 1024 * 1024);
      const large = store.createLarge();
      await new Promise<void>((resolve, reject) => {
        large.stream.on('error', reject);
        large.stream.end(data, resolve);
      });
      const largeRef = large.close(data.length);
      await store.sync();

      assert.equal(await store.erase(largeRef), true, 'a large blob is an object of its own');
      assert.ok(!(await listed(store)).includes(largeRef.file), 'and is no longer listed');
      const cut = await store.erase(refs[1]!);
      // Read back by a second instance: nothing of it is cached in the first.
      const other = impl.open(dir);
      if (cut) assert.ok((await other.readBuffer(refs[1]!)).equals(Buffer.alloc(blobs[1]!.length)), 'the range holds zeros');
      else assert.ok((await other.readBuffer(refs[1]!)).equals(blobs[1]!), 'a store that cannot cut a range says so, and changes nothing');
      assert.ok((await other.readBuffer(refs[0]!)).equals(blobs[0]!), 'the blob before is intact');
      assert.ok((await other.readBuffer(refs[2]!)).equals(blobs[2]!), 'the blob after is intact');
      assert.equal(cut, impl.name.startsWith('FileBlobStore'), 'local segment files are cut in place; object storage waits for compaction');
      other.close();
      store.close();
    });

    test('a discarded large blob leaves nothing behind', async () => {
      const store = impl.open(tempDir());
      const large = store.createLarge();
      large.stream.write(randomBytes(1000));
      await large.discard();
      await store.sync();
      assert.deepEqual((await listed(store)).filter((n) => n.startsWith('large/')), []);
      store.close();
    });

    test('another instance over the same storage reads what was synced, and lists it', async () => {
      const dir = tempDir();
      const first = impl.open(dir);
      const data = randomBytes(4096);
      const ref: BlobRef = first.append(data);
      await first.sync();
      first.close();
      const second = impl.open(dir);
      assert.ok((await second.readBuffer(ref)).equals(data));
      assert.ok((await listed(second)).includes(ref.file));
      second.close();
    });
  });
}

for (const impl of DRIVERS) {
  describe(`BlobDriver: ${impl.name}`, () => {
    test('put, get whole and by range, list by prefix, delete', async () => {
      const driver = impl.open(tempDir());
      const data = randomBytes(10_000);
      await driver.put('segments/a.seg', data);
      await driver.put('large/b.blob', Readable.from([data.subarray(0, 5000), data.subarray(5000)]));
      assert.ok((await streamed(driver.get('segments/a.seg'))).equals(data));
      assert.ok((await streamed(driver.get('segments/a.seg', { offset: 100, length: 900 }))).equals(data.subarray(100, 1000)));
      assert.ok((await driver.getRange('large/b.blob', 9000, 1000)).equals(data.subarray(9000)));
      const names: string[] = [];
      for await (const n of driver.list('segments/')) names.push(n);
      assert.deepEqual(names, ['segments/a.seg']);
      await driver.delete('segments/a.seg');
      await assert.rejects(driver.getRange('segments/a.seg', 0, 1));
    });

    test('an object is never overwritten, and a failed put leaves no object', async () => {
      const driver = impl.open(tempDir());
      const data = randomBytes(100);
      await driver.put('segments/x.seg', data);
      await assert.rejects(driver.put('segments/x.seg', randomBytes(100)), /never overwritten/);
      assert.ok((await driver.getRange('segments/x.seg', 0, 100)).equals(data), 'the first object is intact');
      const failing = new Readable({ read() { this.destroy(new Error('source failed')); } });
      await assert.rejects(driver.put('segments/y.seg', failing), /source failed/);
      const names: string[] = [];
      for await (const n of driver.list('')) names.push(n);
      assert.deepEqual(names, ['segments/x.seg']);
    });

    test('a stream longer than several upload parts reads back exactly, across part boundaries', async () => {
      const driver = impl.open(tempDir());
      const data = randomBytes(11 * 1024 * 1024 + 5);
      const chunks = Array.from({ length: Math.ceil(data.length / 65_536) }, (_, i) => data.subarray(i * 65_536, (i + 1) * 65_536));
      await driver.put('large/big.blob', Readable.from(chunks));
      assert.ok((await streamed(driver.get('large/big.blob'))).equals(data));
      const at = 5 * 1024 * 1024 - 10;
      assert.ok((await driver.getRange('large/big.blob', at, 5 * 1024 * 1024 + 20)).equals(data.subarray(at, at + 5 * 1024 * 1024 + 20)));
    });

    test('names that leave the store are refused', async () => {
      const driver = impl.open(tempDir());
      await assert.rejects(driver.put('../escape', Buffer.from('x')), /not a plain relative path/);
      await assert.rejects(driver.put('/etc/passwd', Buffer.from('x')), /not a plain relative path/);
    });
  });
}
