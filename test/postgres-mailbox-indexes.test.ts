// The biggest mailboxes' own words indexes on PostgreSQL (src/index/postgres/mailbox-indexes.ts,
// migration 0017): built for a mailbox holding a share of the documents, read by a search within
// it with the same answers as without, rebuilt when its addresses change, dropped when it no
// longer qualifies or when a pass left it unfinished. Against a private PostgreSQL 15.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MailboxIndexes, mailboxPredicate } from '../src/index/postgres/mailbox-indexes.ts';
import { PostgresIndexStore } from '../src/index/postgres/index-store.ts';
import { PostgresSearchIndex } from '../src/index/postgres/search-index.ts';
import type { SearchOptions } from '../src/index/search-index.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { postgresForSuite } from './support/postgres.ts';

const db = postgresForSuite(before, after);
const text = (subject: string, body: string) => ({ subject, addresses: '', body, filenames: '', attachments: '' });
const POLICY = { minShare: 0.45, minDocuments: 50, most: 4 };

// 600 documents over two years: ana (two addresses, one with a quote in it) in half of them,
// ben in a tenth, the rest cal's; words of several frequencies, attachments, From domains.
async function world(schema: string) {
  const meta = new PostgresMetadataStore({ url: db.url(), schema });
  const boxes = await meta.write(async (tx) => {
    const out: Record<string, { id: number; name: string }> = {};
    for (const [name, addresses] of [['ana@corp.example', ['ana@corp.example', "a'na@old.example"]], ['ben@corp.example', ['ben@corp.example']], ['cal@corp.example', ['cal@corp.example']]] as const) {
      const id = await meta.upsertMailbox(tx, { name });
      for (const a of addresses) await meta.setMailboxAddress(tx, a, id);
      out[name.split('@')[0]!] = { id, name };
    }
    return out as { ana: { id: number; name: string }; ben: { id: number; name: string }; cal: { id: number; name: string } };
  });
  const index = new PostgresIndexStore(meta);
  const start = Date.UTC(2024, 0, 1);
  const docs = Array.from({ length: 600 }, (_, i) => ({
    id: i + 1, date: i % 40 === 9 ? null : start + ((i * 7919) % 730) * 86_400_000 + i * 1000,
    to: i % 2 === 0 ? (i % 6 === 0 ? "a'na@old.example" : 'ana@corp.example') : i % 5 === 1 ? 'ben@corp.example' : 'cal@corp.example',
    from: i % 3 === 0 ? 'x@globex.example' : 'y@initech.example',
  }));
  await index.write(async (tx) => {
    for (const d of docs) {
      const i = d.id;
      await index.addDocument(tx, { id: i, sha256: createHash('sha256').update(`own ${i}`).digest('hex'), messageId: null, date: d.date, fromText: d.from, subject: `s${i}${i % 7 === 0 ? ' zqbudget' : ''}`, hasAttachment: i % 8 === 0, parseError: null, refersTo: [] });
      await index.addParticipation(tx, i, { role: 'from', address: d.from, domain: d.from.split('@')[1]!, name: null });
      await index.addParticipation(tx, i, { role: 'to', address: d.to, domain: d.to.split('@')[1]!, name: null });
      const words = ['zqcommon', ...(i % 3 === 0 ? ['zqthird'] : []), ...(i % 11 === 0 ? ['zqrare'] : []), ...(i % 13 === 0 ? ['quarterly', 'figures'] : [])];
      await index.addFullText(tx, i, text(`s${i}${i % 7 === 0 ? ' zqbudget' : ''}`, words.join(' ')));
    }
  });
  await meta.pool.query('ANALYZE doc; ANALYZE participation');
  return { meta, boxes, docs };
}

const QUERIES = ['zqcommon', 'zqthird', 'zqrare', 'zqthird OR zqrare', 'zqcommon NOT zqthird', '"quarterly figures"', 'zqc*', 'subject:zqbudget',
  'from:@initech.example', 'zqthird from:@globex.example', 'has:attachment', 'zqcommon has:attachment', 'after:2024-05-31 before:2024-08-01',
  'zqcommon after:2024-05-31 before:2024-08-01', 'NOT zqthird'];

async function answers(search: PostgresSearchIndex, scope: SearchOptions['scope']): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const q of QUERIES) {
    for (const sort of ['newest', 'oldest', 'relevance'] as const) {
      for (const [countUpTo, offset] of [[undefined, 0], [40, 0], [40, 30]] as const) {
        const got = await search.search(q, { limit: 12, offset, sort, scope, ...(countUpTo === undefined ? {} : { countUpTo }) });
        out.push({ q, sort, countUpTo, offset, total: got.total, lower: got.totalIsLowerBound ?? false, hits: got.hits.map((h) => h.subject) });
      }
    }
  }
  return out;
}

async function indexScans(meta: PostgresMetadataStore, name: string): Promise<number> {
  await meta.pool.query('SELECT pg_stat_clear_snapshot()');
  return Number((await meta.pool.query('SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1 AND schemaname = current_schema()', [name])).rows[0]?.idx_scan ?? 0);
}

test('a mailbox holding a share of the archive gets a words index of its own, and its searches answer as before', { timeout: 120_000 }, async () => {
  const { meta, boxes, docs } = await world('own_index');
  try {
    const search = new PostgresSearchIndex(meta, undefined, { sortWhole: 10, countByMonths: 20 });
    const anaScope = { mailboxes: [boxes.ana], dateFrom: null, dateTo: null, fixedQuery: null };
    const grant = { mailboxes: [boxes.ana], dateFrom: Date.UTC(2024, 2, 1), dateTo: Date.UTC(2025, 3, 1), fixedQuery: 'zqcommon' };
    const before = { ana: await answers(search, anaScope), grant: await answers(search, grant), ben: await answers(search, { mailboxes: [boxes.ben], dateFrom: null, dateTo: null, fixedQuery: null }) };
    assert.ok((before.ana[0] as { total: number }).total === docs.filter((d) => d.to.includes('na@')).length, 'ana in half the documents');

    const keeper = new MailboxIndexes(meta, POLICY);
    const changes = await keeper.keep();
    // ana holds half the documents, ben a tenth, cal two fifths: ana alone.
    assert.deepEqual(changes?.built.map((b) => b.mailboxId), [boxes.ana.id]);
    assert.deepEqual(changes?.dropped, []);
    const name = changes!.built[0]!.index;
    const row = (await meta.pool.query('SELECT addresses, predicate FROM mailbox_words WHERE mailbox_id = $1', [boxes.ana.id])).rows[0];
    assert.deepEqual([...row.addresses].sort(), ["a'na@old.example", 'ana@corp.example']);
    assert.equal(row.predicate, mailboxPredicate(row.addresses));
    const def = (await meta.pool.query('SELECT indexdef FROM pg_indexes WHERE indexname = $1 AND schemaname = current_schema()', [name])).rows[0].indexdef as string;
    assert.match(def, /USING gin \(words\)/);
    assert.match(def, /WHERE \(words @@ '''@a=a''''na@old\.example'' \| ''@a=ana@corp\.example'''::tsquery\)/, def);
    // Another pass keeps it as it is.
    assert.deepEqual(await keeper.keep(), { built: [], dropped: [] });
    // Listed for the operator (sealbox stats, the health page), with its size on disk.
    const listed = await search.mailboxIndexes();
    assert.deepEqual(listed.map((l) => [l.mailbox, l.index, l.documents]), [[boxes.ana.name, name, changes!.built[0]!.documents]]);
    assert.ok(listed[0]!.bytes > 0 && Math.abs(listed[0]!.builtAt - Date.now()) < 60_000, JSON.stringify(listed));

    // Searches within ana's mailbox read it, and answer exactly as before; ben's and the
    // grant's (a window and a fixed query) too.
    const scans = await indexScans(meta, name);
    assert.deepEqual(await answers(search, anaScope), before.ana);
    assert.deepEqual(await answers(search, grant), before.grant);
    assert.deepEqual(await answers(search, { mailboxes: [boxes.ben], dateFrom: null, dateTo: null, fixedQuery: null }), before.ben);
    let read = 0;
    for (let t = 0; t < 50 && read <= scans; t++) {
      read = await indexScans(meta, name);
      if (read <= scans) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(read > scans, `the mailbox's index read (${scans} → ${read} scans)`);
    // The predicate stated as a parameter, as the search sends it, lets the planner prove the
    // index's own: a word within ana's mailbox is read from it alone.
    const plan = await meta.pool.connect();
    try {
      await plan.query('BEGIN; SET LOCAL enable_seqscan = off');
      const explained = (await plan.query("EXPLAIN (FORMAT JSON) SELECT id FROM doc d WHERE d.words @@ $1::tsquery AND d.words @@ $2::tsquery", ["'zqrare'", row.predicate])).rows[0]['QUERY PLAN'];
      assert.match(JSON.stringify(explained), new RegExp(`"Index Name":"${name}"`));
      assert.doesNotMatch(JSON.stringify(explained), /"Index Name":"doc_words"/);
      await plan.query('ROLLBACK');
    } finally {
      plan.release();
    }

    // ana gains an address: the index no longer holds all of her mail, so searches leave it
    // (and find the new address's documents); the next pass builds it again under a new name.
    await meta.write((tx) => meta.setMailboxAddress(tx, 'cal@corp.example', boxes.ana.id));
    const widened = await search.search('zqcommon', { limit: 5, scope: anaScope });
    assert.equal(widened.total, docs.filter((d) => d.to !== 'ben@corp.example').length);
    await meta.pool.query('ANALYZE participation');
    const rebuilt = await keeper.keep();
    assert.equal(rebuilt?.built.length, 1);
    assert.notEqual(rebuilt!.built[0]!.index, name);
    assert.deepEqual(rebuilt?.dropped, [name]);
    assert.equal((await search.search('zqcommon', { limit: 5, scope: anaScope })).total, widened.total);
    assert.equal((await meta.pool.query('SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname = $1', [name])).rows[0].n, 0);

    // An index a pass left unrecorded (the node died before) is dropped by the next.
    await meta.pool.query("CREATE INDEX doc_words_m999_x ON doc USING gin (words) WHERE words @@ '''@a=nobody@corp.example'''::tsquery");
    assert.deepEqual((await keeper.keep())?.dropped, ['doc_words_m999_x']);

    // Below half the thresholds: dropped, and the search goes back to the mailbox's lexemes.
    const stricter = new MailboxIndexes(meta, { ...POLICY, minDocuments: 10_000 });
    assert.deepEqual(await stricter.keep(), { built: [], dropped: [rebuilt!.built[0]!.index] });
    assert.equal((await meta.pool.query('SELECT COUNT(*) AS n FROM mailbox_words')).rows[0].n, 0);
    assert.equal((await search.search('zqcommon', { limit: 5, scope: anaScope })).total, widened.total);
  } finally {
    await meta.close();
  }
});

test('one pass at a time across nodes, and none without statistics', async () => {
  const meta = new PostgresMetadataStore({ url: db.url(), schema: 'own_index_lock' });
  try {
    await meta.write(async (tx) => {
      const id = await meta.upsertMailbox(tx, { name: 'dee@corp.example' });
      await meta.setMailboxAddress(tx, 'dee@corp.example', id);
    });
    // A new archive: no statistics, nothing decided.
    assert.deepEqual(await new MailboxIndexes(meta, POLICY).keep(), { built: [], dropped: [] });
    // Another node's pass holds the lock: this one does nothing.
    const other = await meta.pool.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtext('sealbox.mailbox-words.' || current_schema()))");
      assert.equal(await new MailboxIndexes(meta, POLICY).keep(), null);
    } finally {
      other.release(true);
    }
  } finally {
    await meta.close();
  }
});

test('a server stopping cancels a build in hand; the next pass drops what it left and builds again', { timeout: 60_000 }, async () => {
  const { meta, boxes } = await world('own_index_stop');
  const blocker = await meta.pool.connect();
  try {
    // A transaction holding a lock on doc: CREATE INDEX CONCURRENTLY enters the index in the
    // catalogue (not valid yet), then waits for it to end.
    await blocker.query('BEGIN; LOCK TABLE doc IN ROW EXCLUSIVE MODE');
    const keeper = new MailboxIndexes(meta, POLICY);
    const pass = keeper.keep();
    pass.catch(() => {});
    const waiting = async () => Number((await meta.pool.query(`SELECT COUNT(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'`)).rows[0].n);
    for (let t = 0; t < 100 && await waiting() === 0; t++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await waiting(), 1, 'the build waits for the lock');
    await keeper.stop();
    await assert.rejects(pass, /cancel/);
    await blocker.query('ROLLBACK');
    const left = (await meta.pool.query(`SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'doc'::regclass AND NOT i.indisvalid`)).rows.map((r) => r.name as string);
    assert.equal(left.length, 1, 'the cancelled build left an invalid index');
    assert.equal((await meta.pool.query('SELECT COUNT(*) AS n FROM mailbox_words')).rows[0].n, 0);
    // A stopped keeper starts nothing more.
    assert.equal(await keeper.keep(), null);
    const next = await new MailboxIndexes(meta, POLICY).keep();
    assert.deepEqual(next?.dropped, left);
    assert.deepEqual(next?.built.map((b) => b.mailboxId), [boxes.ana.id]);
  } finally {
    blocker.release(true);
    await meta.close();
  }
});
