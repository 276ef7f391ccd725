// IndexStore.claim, run against both backends: the indexer takes the captures not yet indexed a
// batch at a time, and the claim commits with the documents written for it. On PostgreSQL, where
// several nodes index one archive, two indexers on two connections claim disjoint batches, the
// cursor stays below a batch still held, and when one indexer's connection ends in the middle of a
// batch the other indexes what it had claimed: every capture indexed once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { openArchive } from '../../src/archive.ts';
import type { Archive } from '../../src/archive.ts';
import { CaptureWriter } from '../../src/capture/capture-writer.ts';
import { loadConfig } from '../../src/core/config.ts';
import { newId } from '../../src/core/ids.ts';
import type { Config } from '../../src/core/config.ts';
import type { Envelope } from '../../src/core/types.ts';
import { Indexer } from '../../src/index/indexer.ts';
import type { CaptureQueue } from '../../src/index/capture-queue.ts';
import type { IndexStore } from '../../src/index/index-store.ts';
import { openIndex } from '../../src/index/open-index.ts';
import type { ArchiveReader } from '../../src/store/archive-reader.ts';
import { ArchiveWriter } from '../../src/store/archive-writer.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);
const log = pino({ level: 'silent' });

const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-claims-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

// An archive of the backend in a new folder (PostgreSQL: a schema of the suite's cluster, its
// password in a 0600 file as an operator keeps it).
function configFor(kind: 'sqlite' | 'postgres'): Config {
  const dir = mkdtempSync(join(ROOT, 'db-'));
  let store: Record<string, unknown> | undefined;
  if (kind === 'postgres') {
    const url = new URL(postgres.url());
    const passwordFile = join(dir, 'pg.password');
    writeFileSync(passwordFile, decodeURIComponent(url.password) + '\n', { mode: 0o600 });
    url.password = '';
    store = { kind: 'postgres', postgres: { url: url.toString(), passwordFile, schema: postgres.schemaFor(dir) } };
  }
  const file = join(dir, 'sealbox.json');
  writeFileSync(file, JSON.stringify(store ? { store } : {}));
  return loadConfig(file, { data: dir }, {});
}

// n messages, each captured once (or the same message n times, to these recipients in turn);
// their capture row ids, ascending.
async function capture(archive: Archive, n: number, tag: string, sameTo: string[] = []): Promise<number[]> {
  const { stores, config } = archive;
  const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger: archive.ledger, log, maxBatch: config.commit.maxBatch, retention: archive.retention });
  const capturer = new CaptureWriter({ writer, blobs: stores.blobs, keys: stores.keys, inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes });
  const before = await stores.meta.read((tx) => stores.meta.lastCaptureRowId(tx));
  for (let i = 0; i < n; i++) {
    const incoming = capturer.begin({ journal: 'off' });
    const k = sameTo.length > 0 ? 0 : i;
    await incoming.write(Buffer.from(`From: a${k}@example.org\r\nTo: b${k}@example.org\r\nSubject: claim ${tag} ${k}\r\nMessage-ID: <${tag}-${k}@claims.example>\r\n\r\nword${tag}${k}\r\n`));
    const envelope = sameTo.length > 0 ? envelopeTo(sameTo[i]!) : null;
    await incoming.commit({ id: newId('cap', Date.now()), source: envelope ? 'smtp' : 'import:claims', receivedAt: Date.now(), envelope, provenance: envelope ? null : { file: `${tag}-${i}.eml` } });
  }
  await writer.drain();
  const last = await stores.meta.read((tx) => stores.meta.lastCaptureRowId(tx));
  assert.equal(last - before, n, 'one capture row each');
  return Array.from({ length: n }, (_, i) => before + 1 + i);
}

function envelopeTo(address: string): Envelope {
  return {
    mailFrom: 'a0@example.org', mailFromArgs: {}, rcptTo: [{ address, args: {} }],
    clientAddress: '192.0.2.25', clientPort: 41000, clientHelo: 'mx.example', clientName: null, authUser: null, queueId: null,
    protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 2525, helo: 'mx.example' }, xforward: {},
  };
}

const indexerOf = (archive: Archive, index: IndexStore, captures: CaptureQueue = archive.stores.repos.captures, o: { batch?: number; reader?: ArchiveReader } = {}) => new Indexer({
  captures, index, reader: o.reader ?? archive.stores.reader, meta: archive.stores.meta, log, batch: o.batch ?? 4, internalDomains: [], auth: null, attachmentText: false,
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`IndexStore.claim: ${kind}`, () => {
    let archive: Archive;
    before(async () => {
      archive = await openArchive(configFor(kind), 'server', { log });
    });
    after(() => archive?.close());

    test('a claim is the next captures not yet indexed, ascending; done moves the cursor past those indexed', async () => {
      const store = archive.index.store;
      const rows = await capture(archive, 5, 'first');
      assert.deepEqual(await store.claim(3, async (c) => [...c.rowIds]), rows.slice(0, 3), 'the first three');
      // Two of the three indexed: the third is claimed again next time.
      await store.claim(3, (c) => c.write((tx) => c.done(tx, c.rowIds.slice(0, 2))));
      assert.equal(await store.read((tx) => store.cursor(tx)), rows[1]);
      assert.deepEqual(await store.claim(10, async (c) => [...c.rowIds]), rows.slice(2), 'the rest');
      // A write that throws commits nothing of the claim.
      await assert.rejects(store.claim(10, (c) => c.write(async (tx) => {
        await c.done(tx, c.rowIds);
        throw new Error('the batch fails');
      })), /the batch fails/);
      assert.equal(await store.read((tx) => store.cursor(tx)), rows[1], 'the cursor stays');
      assert.deepEqual(await store.claim(10, async (c) => [...c.rowIds]), rows.slice(2));
      // The indexer goes on from there, and then nothing is left.
      const indexer = indexerOf(archive, store);
      let indexed = 0;
      for (let n = await indexer.runOnce(); n > 0; n = await indexer.runOnce()) indexed += n;
      assert.equal(indexed, 3);
      assert.equal(await store.read((tx) => store.cursor(tx)), rows.at(-1));
      assert.deepEqual(await store.claim(10, async (c) => [...c.rowIds]), [], 'nothing left to claim');
    });
  });
}

describe('IndexStore.claim on PostgreSQL: two indexers share the queue', () => {
  let config: Config;
  let archive: Archive;
  let other: Archive;
  before(async () => {
    config = configFor('postgres');
    archive = await openArchive(config, 'server', { log });
    // A second process's connections to the same archive (another node's index thread).
    other = await openArchive(config, 'indexer', { log });
  });
  after(() => {
    archive?.close();
    other?.close();
  });

  test('claims are disjoint, the cursor stays below a batch held, and a batch whose connection ends is indexed by the other', { timeout: 120_000 }, async () => {
    const rows = await capture(archive, 10, 'shared');
    const a = openIndex(archive.stores);
    const b = openIndex(other.stores);
    // A's batch stops after its claim, until released: its transaction stays open, holding the rows.
    let claimedByA: readonly number[] = [];
    let held!: () => void;
    let release!: () => void;
    const claimedA = new Promise<void>((resolve) => (held = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const real = archive.stores.repos.captures;
    const stalling: CaptureQueue = {
      addAutoMailboxes: (addresses) => real.addAutoMailboxes(addresses),
      liveMessages: (after, upTo) => real.liveMessages(after, upTo),
      lastMessageId: () => real.lastMessageId(),
      capturesByRowIds: async (ids) => {
        claimedByA = ids;
        held();
        await gate;
        return real.capturesByRowIds(ids);
      },
    };
    const runA = indexerOf(archive, a.store, stalling).runOnce();
    runA.catch(() => {});
    await claimedA;
    assert.deepEqual(claimedByA, rows.slice(0, 4), 'A claims the first batch');

    const indexerB = indexerOf(other, b.store);
    assert.equal(await indexerB.runOnce(), 4, 'B indexes a batch beside it');
    const docs = async () => (await b.store.read((tx) => b.store.documentIds(tx, 0, Number.MAX_SAFE_INTEGER))).length;
    assert.equal(await docs(), 4);
    assert.equal(await b.store.read((tx) => b.store.cursor(tx)), 0, 'the cursor stays below A\'s batch, not yet indexed');

    // A's connection ends in the middle of its batch (its node killed, or cut off): the batch
    // fails, and nothing of it was written.
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    try {
      const ended = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE state = 'idle in transaction' AND query LIKE '%FROM index_queue%FOR UPDATE SKIP LOCKED%'`);
      assert.equal(ended.rows.length, 1, 'one connection holds a claim: A\'s');
    } finally {
      await admin.end();
    }
    release();
    await assert.rejects(runA);

    // B indexes the rest, A's batch among it.
    let indexed = 4;
    for (let n = await indexerB.runOnce(); n > 0; n = await indexerB.runOnce()) indexed += n;
    assert.equal(indexed, rows.length, 'B indexed every capture, each once');
    assert.equal(await docs(), rows.length, 'a document for each message');
    assert.equal(await b.store.read((tx) => b.store.failureCount(tx)), 0, 'and no capture failed (none was written twice)');
    assert.equal(await b.store.read((tx) => b.store.cursor(tx)), rows.at(-1), 'the cursor covers them all');
    assert.deepEqual(await b.store.claim(10, async (c) => [...c.rowIds]), [], 'nothing left in the queue');
    assert.equal((await other.index.search.search('wordshared3', { limit: 10 })).total, 1, 'A\'s batch is searchable, once');
  });

  test('a message another indexer indexed from another of its captures while a batch read it is read again, not written twice', { timeout: 120_000 }, async () => {
    // One message received twice, for two recipients: one capture in each indexer's batch.
    const [first, second] = await capture(archive, 2, 'twice', ['x@corp.example', 'y@corp.example']);
    const a = openIndex(archive.stores);
    const b = openIndex(other.stores);
    // A has read its batch as a new message and waits for the bytes, until released.
    const real = archive.stores.reader;
    let reading!: () => void;
    let release!: () => void;
    const readingA = new Promise<void>((resolve) => (reading = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    let stalled = false;
    const reader = {
      message: (tx, sha256) => real.message(tx, sha256),
      stream: (row) => real.stream(row),
      readSmall: async (row) => {
        if (!stalled) {
          stalled = true;
          reading();
          await gate;
        }
        return real.readSmall(row);
      },
    } as Pick<ArchiveReader, 'message' | 'stream' | 'readSmall'> as ArchiveReader;
    const runA = indexerOf(archive, a.store, undefined, { batch: 1, reader }).runOnce();
    await readingA;
    assert.equal(await indexerOf(other, b.store, undefined, { batch: 1 }).runOnce(), 1, 'B indexes the message from the second capture meanwhile');
    release();
    assert.equal(await runA, 1, 'A indexes the first capture after reading its batch again');

    const [row] = await archive.stores.repos.captures.capturesByRowIds([first!, second!]);
    const docId = row!.messageRowId;
    const named = await b.store.read((tx) => b.store.namedAddresses(tx, docId));
    assert.deepEqual([...named.recipients].sort(), ['b0@example.org', 'x@corp.example', 'y@corp.example'], 'one document, with the Bcc of each capture');
    assert.equal(await b.store.read((tx) => b.store.failureCount(tx)), 0, 'neither capture failed');
    assert.equal(await b.store.read((tx) => b.store.cursor(tx)), second);
    assert.equal((await other.index.search.search('wordtwice0', { limit: 10 })).total, 1);
  });
});
