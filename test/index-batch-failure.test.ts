// The indexer writes a batch in one transaction without a savepoint per capture (a savepoint makes
// FTS5 write each document out as a segment of its own). A capture whose writes fail must still
// fail alone: the batch is written again one capture at a time, the failure is recorded, and
// nothing of the failed document is left behind in any table.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/core/config.ts';
import type { Tx } from '../src/core/transactions.ts';
import type { FullText } from '../src/index/index-store.ts';
import { Indexer } from '../src/index/indexer.ts';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import type { IndexDatabase } from '../src/index/sqlite/index-db.ts';
import { SqliteIndexStore } from '../src/index/sqlite/index-store.ts';
import { openStores } from '../src/store/open-stores.ts';
import type { Stores } from '../src/store/open-stores.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { startSealbox } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';

const message = (n: number) => Buffer.from([
  `From: <sender${n}@live.example>`, `To: <rcpt${n}@corp.test>`, `Subject: invoice ${n}`,
  `Message-ID: <m${n}@live.example>`, 'Date: Mon, 02 Nov 2026 09:00:00 +0000', '', `Word${n}unique is in this one.`, '',
].join('\r\n'));

// A store whose full-text write fails for one document, as a full disk or a corrupt page would.
class FailingStore extends SqliteIndexStore {
  victim = -1;
  override async addFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void> {
    if (messageRowId === this.victim) throw new Error('the full-text write failed');
    return super.addFullText(tx, messageRowId, text);
  }
}

// Six messages received by a real server, then its index removed: indexed again from scratch,
// in this process.
async function sixMessages(t: TestContext): Promise<{ stores: Stores; openDb(): IndexDatabase }> {
  const config = testConfig({ auth: { enabled: false }, log: { level: 'warn' } });
  const server = await startSealbox({ args: ['--config', config] });
  const smtp = await RawSmtpClient.connect(server.smtp.port, { helo: 'mx.test' });
  for (let n = 0; n < 6; n++) assert.equal((await smtp.send({ from: `sender${n}@live.example`, to: [`rcpt${n}@corp.test`, `hidden${n}@corp.test`] }, message(n))).data[0].code, 250);
  await smtp.quit();
  assert.equal(await server.stop(), 0, server.stderr());
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(server.data, `index.db${suffix}`), { force: true });
  const stores = openStores(loadConfig(config, { data: server.data }, {}), { create: false });
  t.after(() => stores.close());
  return {
    stores,
    openDb() {
      const db = openIndexDb(stores.paths.index, stores.paths.meta);
      t.after(() => db.close());
      return db;
    },
  };
}

const indexerOn = (stores: Stores, index: SqliteIndexStore) => new Indexer({ captures: stores.repos.captures, index, reader: stores.reader, meta: stores.meta, log: pino({ level: 'silent' }), batch: 200, internalDomains: [], auth: null, attachmentText: false });

test('a capture whose index writes fail is recorded alone; the rest of its batch is indexed whole', { timeout: 120_000 }, async (t) => {
  const { stores, openDb } = await sixMessages(t);
  const db = openDb();
  const store = new FailingStore(db);
  const ids: number[] = [];
  await stores.meta.read(async (tx) => { for await (const m of stores.meta.allMessages(tx)) ids.push(m.id); });
  assert.equal(ids.length, 6);
  store.victim = ids[3]!;
  const indexer = indexerOn(stores, store);
  assert.equal(await indexer.runOnce(), 6);

  const q = (sql: string, ...args: (string | number)[]) => db.db.prepare(sql).all(...args) as Record<string, unknown>[];
  assert.deepEqual(q('SELECT id FROM doc ORDER BY id').map((r) => Number(r.id)), ids.filter((id) => id !== store.victim));
  assert.equal(q('SELECT 1 FROM participation WHERE doc_id = ?', store.victim).length, 0, 'no participation row of the failed document');
  assert.equal(q('SELECT 1 FROM participation').length, 5 * 3, 'from, to and the Bcc from the envelope of each other message');
  const failures = q('SELECT capture_row, error FROM index_failure');
  assert.equal(failures.length, 1);
  assert.match(String(failures[0]!.error), /the full-text write failed/);
  for (let n = 0; n < 6; n++) {
    const hits = q("SELECT rowid FROM doc_fts WHERE doc_fts MATCH ?", `word${n}unique`).length;
    assert.equal(hits, n === 3 ? 0 : 1, `word${n}unique`);
  }

  // The fault gone, the retry indexes it.
  store.victim = -1;
  assert.deepEqual(await indexer.retryFailures(), { retried: 1, stillFailing: 0 });
  assert.equal(q('SELECT 1 FROM doc').length, 6);
  assert.equal(q("SELECT rowid FROM doc_fts WHERE doc_fts MATCH 'word3unique'").length, 1);
});

// Two indexers on one index (a node cut off from the database that has not yet noticed another
// took its duties): the one whose cursor moved while it read its batch writes nothing of it.
test('an indexer whose cursor another moved meanwhile writes nothing of its batch', { timeout: 120_000 }, async (t) => {
  const { stores, openDb } = await sixMessages(t);
  const other = indexerOn(stores, new SqliteIndexStore(openDb()));
  class Overtaken extends SqliteIndexStore {
    overtaken = false;
    override async lastDocumentId(tx: Tx): Promise<number> {
      if (!this.overtaken) {
        this.overtaken = true;
        assert.equal(await other.runOnce(), 6, 'the other indexes the batch first');
      }
      return super.lastDocumentId(tx);
    }
  }
  const db = openDb();
  const late = new Overtaken(db);
  await assert.rejects(indexerOn(stores, late).runOnce(), /another indexer moved the index cursor from 0 to \d+ while this batch was read/);
  assert.ok(late.overtaken);
  const q = (sql: string) => db.db.prepare(sql).all() as Record<string, unknown>[];
  assert.equal(q('SELECT 1 FROM doc').length, 6, 'each message indexed once');
  assert.equal(q("SELECT rowid FROM doc_fts WHERE doc_fts MATCH 'word2unique'").length, 1);
  assert.equal(q('SELECT 1 FROM participation').length, 6 * 3);
});
