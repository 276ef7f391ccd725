// A newly indexed document's row of doc is written once on PostgreSQL, its words with it
// (src/index/postgres/index-store.ts, migration 0008): no UPDATE, so no dead row version, and the
// same words, scope lexemes included, as the row written first and its words set after.
// Against a private PostgreSQL 15.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openArchive } from '../src/archive.ts';
import { CaptureWriter } from '../src/capture/capture-writer.ts';
import { loadConfig } from '../src/core/config.ts';
import { newId } from '../src/core/ids.ts';
import type { Envelope } from '../src/core/types.ts';
import { Indexer } from '../src/index/indexer.ts';
import { PostgresIndexStore } from '../src/index/postgres/index-store.ts';
import { monthLexeme } from '../src/index/postgres/words.ts';
import { ArchiveWriter } from '../src/store/archive-writer.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { on } from '../src/store/postgres/transactions.ts';
import { postgresForSuite } from './support/postgres.ts';

const db = postgresForSuite(before, after);
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-pg-doc-rows-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

const text = (subject: string, body: string) => ({ subject, addresses: 'ann ann@corp.example', body, filenames: 'plan.bin', attachments: '' });
const DATE = Date.UTC(2026, 2, 14);
const doc = (id: number) => ({ id, sha256: String(id).repeat(64).slice(0, 64), messageId: `m${id}@corp.example`, date: DATE, fromText: 'Ann', subject: 'quarterly plan', hasAttachment: true, parseError: null, refersTo: [] });

test('the indexer\'s calls write a new document\'s row once, with the words of the row written first and its words set after', async () => {
  const meta = new PostgresMetadataStore({ url: db.url(), schema: 'doc_rows_store' });
  try {
    const index = new PostgresIndexStore(meta);
    // One document as #indexOne writes it (participants, attachment, attachments read, the
    // envelope's Bcc after reading who is named, then the words); the other with its row written
    // before its words, as every document was (hasDocument writes what waits).
    const writes = await index.write(async (tx) => {
      for (const id of [1, 2]) {
        await index.addDocument(tx, doc(id));
        if (id === 2) assert.equal(await index.hasDocument(tx, id), true);
        await index.addParticipation(tx, id, { role: 'from', address: 'ann@corp.example', domain: 'corp.example', name: 'ann' });
        await index.addParticipation(tx, id, { role: 'to', address: 'bo@other.example', domain: 'other.example', name: null });
        await index.addAttachment(tx, id, { filename: 'plan.bin', contentType: 'application/octet-stream', size: 3, sha256: 'a'.repeat(64) });
        await index.markAttachmentsRead(tx, id, 7);
        assert.deepEqual([...(await index.namedAddresses(tx, id)).recipients], ['bo@other.example']);
        await index.addParticipation(tx, id, { role: 'bcc', address: 'cy@corp.example', domain: 'corp.example', name: null });
        await index.addFullText(tx, id, text('quarterly plan', 'numbers attached'));
        if (id === 1) {
          assert.equal(await index.hasDocument(tx, id), true);
          assert.equal(await index.lastDocumentId(tx), 1);
        }
      }
      // This transaction's own counts (pg_stat_get_xact_*): updates of doc are document 2's alone.
      const counts = await on(tx).one("SELECT pg_stat_get_xact_tuples_inserted('doc'::regclass) AS ins, pg_stat_get_xact_tuples_updated('doc'::regclass) AS upd");
      return { inserted: Number(counts!.ins), updated: Number(counts!.upd) };
    });
    assert.deepEqual(writes, { inserted: 2, updated: 2 }, 'document 1 inserted once; document 2 inserted, then its attachments read and its words set');
    const rows = (await meta.pool.query('SELECT id, words::text AS words, attachments_read, thread_key FROM doc ORDER BY id')).rows;
    assert.equal(rows[0].words, rows[1].words);
    for (const lexeme of ["'@a=ann@corp.example'", "'@a=bo@other.example'", "'@a=cy@corp.example'", "'@f=ann@corp.example'", "'@g=corp.example'", "'@h'", monthLexeme(DATE), "'@s=quarterly':1A"]) {
      assert.ok(rows[0].words.includes(lexeme), `${lexeme} in ${rows[0].words}`);
    }
    assert.deepEqual(rows.map((r) => [Number(r.attachments_read), r.thread_key]), [[7, 'm1@corp.example'], [7, 'm2@corp.example']]);

    // A capture that fails in its savepoint leaves no row, written or waiting.
    await index.write(async (tx) => {
      await assert.rejects(index.savepoint(tx, async () => {
        await index.addDocument(tx, doc(3));
        await index.addParticipation(tx, 3, { role: 'to', address: 'bo@other.example', domain: 'other.example', name: null });
        throw new Error('parse failed');
      }), /parse failed/);
    });
    assert.equal(Number((await meta.pool.query('SELECT COUNT(*) AS n FROM doc WHERE id = 3')).rows[0].n), 0);
    assert.equal(Number((await meta.pool.query('SELECT COUNT(*) AS n FROM participation WHERE doc_id = 3')).rows[0].n), 0);
  } finally {
    await meta.close();
  }
});

test('messages indexed by the indexer leave no dead row version in doc, and their scope lexemes are scope_words\'', async () => {
  const dir = mkdtempSync(join(ROOT, 'archive-'));
  const url = new URL(db.url());
  const passwordFile = join(dir, 'pg.password');
  writeFileSync(passwordFile, decodeURIComponent(url.password) + '\n', { mode: 0o600 });
  url.password = '';
  const file = join(dir, 'sealbox.json');
  writeFileSync(file, JSON.stringify({ store: { kind: 'postgres', postgres: { url: url.toString(), passwordFile, schema: db.schemaFor(dir) } } }));
  const config = loadConfig(file, { data: dir }, {});
  const log = pino({ level: 'silent' });
  const archive = await openArchive(config, 'server', { log });
  try {
    const { stores } = archive;
    const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger: archive.ledger, log, maxBatch: config.commit.maxBatch, retention: archive.retention });
    const capture = new CaptureWriter({ writer, blobs: stores.blobs, keys: stores.keys, inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes });
    // Plain, with an attachment no extractor reads (its attachments marked read), and undated;
    // each received with a Bcc.
    const messages = [
      message(1, 'Subject: budget\r\nDate: Sat, 14 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nnumbers\r\n'),
      message(2, 'Subject: plan\r\nDate: Sun, 15 Mar 2026 10:00:00 +0000\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream; name="x.bin"\r\nContent-Disposition: attachment; filename="x.bin"\r\n\r\nxyz\r\n--b--\r\n'),
      message(3, 'Subject: undated\r\nContent-Type: text/plain\r\n\r\nno date\r\n'),
    ];
    for (const [i, raw] of messages.entries()) {
      const incoming = capture.begin({ journal: 'off' });
      await incoming.write(raw);
      await incoming.commit({ id: newId('cap', DATE + i), source: 'smtp', receivedAt: DATE + i, envelope: envelope(), provenance: null });
    }
    await writer.drain();
    const indexer = new Indexer({
      captures: stores.repos.captures, index: archive.index.store, reader: stores.reader, meta: stores.meta, log,
      batch: 10, internalDomains: config.internalDomains, auth: null, attachmentText: true,
    });
    while (await indexer.runOnce() > 0);
    await indexer.extraction!.drain();
    indexer.extraction!.close();

    const pool = (stores.meta as PostgresMetadataStore).pool;
    const docs = (await pool.query('SELECT id, attachments_read, words::text AS words FROM doc ORDER BY id')).rows;
    assert.equal(docs.length, 3);
    assert.ok(docs[1].attachments_read !== null, 'the attachment no extractor reads is marked read');
    // Every line pointer of doc's pages is a live row: none left behind by an UPDATE (a row
    // version, or what pruning leaves of one, stays until VACUUM).
    await pool.query('CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public');
    const { rows: [pages] } = await pool.query(`SELECT COUNT(*) AS pointers, COUNT(*) FILTER (WHERE t_xmax = 0) AS live
      FROM generate_series(0, pg_relation_size('doc') / current_setting('block_size')::int - 1) AS b, public.heap_page_items(public.get_raw_page('doc', b::int)) AS i`);
    assert.deepEqual([Number(pages.pointers), Number(pages.live)], [3, 3]);
    // The scope lexemes are exactly the ones migration 0004's scope_words, as it was written,
    // gives the row now it is written (the row-written-first path), and the participants' are there.
    const first = readFileSync(new URL('../src/store/postgres/migrations/0004-scope-words.sql', import.meta.url), 'utf8').match(/CREATE FUNCTION scope_words\(doc bigint\)[\s\S]*?\$\$;/)![0];
    await pool.query(first.replace('scope_words(doc bigint)', 'scope_words_0004(doc bigint)'));
    const { rows: same } = await pool.query(`SELECT id, array(SELECT lexeme FROM unnest(words) WHERE lexeme LIKE '@%' AND lexeme NOT LIKE '@s=%' ORDER BY 1) AS written,
      array(SELECT lexeme FROM unnest(scope_words_0004(id)) ORDER BY 1) AS defined FROM doc ORDER BY id`);
    for (const r of same) assert.deepEqual(r.written, r.defined, `document ${r.id}`);
    for (const lexeme of ["'@a=hidden@corp.example'", "'@a=rcpt@corp.example'", "'@f=ann@corp.example'", "'@g=corp.example'"]) {
      for (const d of docs) assert.ok(d.words.includes(lexeme), `${lexeme} in ${d.words}`);
    }
    assert.deepEqual(docs.map((d) => d.words.includes("'@h'")), [false, true, false]);
    assert.deepEqual(docs.map((d) => /'@d=\d{6}'/.test(d.words)), [true, true, true], 'the undated one dated by its receipt');
  } finally {
    archive.close();
  }
});

function message(n: number, rest: string): Buffer {
  return Buffer.from(`From: Ann <ann@corp.example>\r\nTo: rcpt@corp.example\r\nMessage-ID: <doc-rows-${n}@corp.example>\r\nMIME-Version: 1.0\r\n${rest}`);
}

function envelope(): Envelope {
  return {
    mailFrom: 'ann@corp.example', mailFromArgs: {}, rcptTo: [{ address: 'rcpt@corp.example', args: {} }, { address: 'hidden@corp.example', args: {} }],
    clientAddress: '192.0.2.25', clientPort: 41000, clientHelo: 'mx.example', clientName: null, authUser: null, queueId: null,
    protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 2525, helo: 'mx.example' }, xforward: {},
  };
}
