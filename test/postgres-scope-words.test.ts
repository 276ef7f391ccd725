// Migration 0004 of the PostgreSQL schema (src/store/postgres/migrations/0004-scope-words.sql):
// documents indexed before it gain a lexeme per participant, so that a search within a mailbox,
// which now looks for those lexemes in the GIN index, still finds them; and what the indexer
// writes after it carries them too. Against a private PostgreSQL 15.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PostgresIndexStore } from '../src/index/postgres/index-store.ts';
import { PostgresSearchIndex } from '../src/index/postgres/search-index.ts';
import { documentVector, monthLexeme } from '../src/index/postgres/words.ts';
import { migrate, migrationsIn } from '../src/store/postgres/migrate.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { postgresForSuite } from './support/postgres.ts';

const db = postgresForSuite(before, after);
const MIGRATIONS = migrationsIn(new URL('../src/store/postgres/migrations/', import.meta.url));
const text = (subject: string, body: string) => ({ subject, addresses: '', body, filenames: '', attachments: '' });

test('documents indexed before migration 0004 are found within their mailboxes after it', async () => {
  const schema = 'before_scope_words';
  const pool = new pg.Pool({ connectionString: db.url(), options: `-c search_path=${schema}` });
  try {
    await migrate(pool, schema, MIGRATIONS.filter((m) => m.version < 4));
    // Two documents as release 0003 wrote them: words without participants' lexemes.
    // The first from carol@other.example with an attachment.
    for (const [id, address, subject] of [[1, 'alice@corp.example', 'budget review'], [2, 'bob@corp.example', 'budget draft']] as const) {
      const words = documentVector(text(subject, 'numbers')).split(' ').filter((w) => !w.startsWith("'@")).join(' ');
      await pool.query('INSERT INTO doc (id, sha256, date, subject, has_attachment, words) VALUES ($1, $2, $3, $4, $5, $6::tsvector)',
        [id, String(id).repeat(64), Date.UTC(2026, 0, id), subject, id === 1 ? 1 : 0, words]);
      await pool.query("INSERT INTO participation (doc_id, role, address, domain) VALUES ($1, 'to', $2, 'corp.example')", [id, address]);
    }
    await pool.query("INSERT INTO participation (doc_id, role, address, domain) VALUES (1, 'from', 'carol@other.example', 'other.example')");
  } finally {
    await pool.end();
  }

  const meta = new PostgresMetadataStore({ url: db.url(), schema });
  try {
    const alice = await meta.write(async (tx) => {
      const id = await meta.upsertMailbox(tx, { name: 'alice@corp.example' });
      await meta.setMailboxAddress(tx, 'alice@corp.example', id);
      return { id, name: 'alice@corp.example' };
    });
    const version = await meta.pool.query('SELECT MAX(version) AS v FROM schema_version');
    assert.equal(Number(version.rows[0].v), MIGRATIONS.at(-1)!.version);
    // Migration 0007: the words' pending list is merged at 1 MB, not PostgreSQL's 4 MB.
    const options = await meta.pool.query("SELECT reloptions FROM pg_class WHERE relname = 'doc_words' AND relnamespace = $1::regnamespace", [schema]);
    assert.deepEqual(options.rows[0].reloptions, ['gin_pending_list_limit=1024']);
    const words = await meta.pool.query('SELECT id, words::text AS w FROM doc ORDER BY id');
    assert.match(words.rows[0].w, /'@a=alice@corp\.example'/);
    assert.match(words.rows[1].w, /'@a=bob@corp\.example'/);
    assert.doesNotMatch(words.rows[0].w, /bob/);
    // The rest of what the indexer writes now: From, attachment, the subject's words marked.
    for (const lexeme of ["'@f=carol@other.example'", "'@g=other.example'", "'@h'", "'@s=budget':1A", "'@s=review':2A"]) assert.ok(words.rows[0].w.includes(lexeme), `${lexeme} in ${words.rows[0].w}`);
    assert.doesNotMatch(words.rows[1].w, /'@h'|'@f=/);

    const search = new PostgresSearchIndex(meta);
    const scope = { mailboxes: [alice], dateFrom: null, dateTo: null, fixedQuery: null };
    const inAlice = await search.search('budget', { limit: 10, scope });
    assert.deepEqual(inAlice.hits.map((h) => h.subject), ['budget review']);
    assert.equal(inAlice.total, 1);
    assert.equal((await search.search('budget', { limit: 10 })).total, 2);
    // An address typed as words is not a scope lexeme: no word holds '@'.
    assert.equal((await search.search('alice', { limit: 10, scope })).total, 0);
    for (const q of ['subject:review', 'subject:"budget review"', 'subject:rev*', 'from:@other.example', 'from:carol@other.example', 'has:attachment budget']) {
      assert.deepEqual((await search.search(q, { limit: 10 })).hits.map((h) => h.subject), ['budget review'], q);
    }
    assert.equal((await search.search('subject:numbers', { limit: 10 })).total, 0);
    // Migration 0015: the participation rows written before it carry their document's date, so
    // a search of dates alone within a mailbox (read from them) finds the mail indexed before.
    assert.deepEqual((await search.search('after:2025-12-31 before:2026-01-02', { limit: 10, scope })).hits.map((h) => h.subject), ['budget review']);
    assert.equal((await search.search('after:2026-01-01', { limit: 10, scope })).total, 0);
    const columns = await meta.pool.query(`SELECT a.attname, a.attnotnull, c.collname FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
      WHERE a.attrelid = 'participation'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`);
    assert.deepEqual(columns.rows.map((r) => `${r.attname}${r.attnotnull ? ' not null' : ''}${r.collname ? ` ${r.collname}` : ''}`),
      ['doc_id not null', 'role not null C', 'address not null C', 'domain not null C', 'name default', 'date'], 'the table as 0003 made it, and the date');
    const indexes = await meta.pool.query("SELECT indexname FROM pg_indexes WHERE tablename = 'participation' AND schemaname = $1 ORDER BY indexname", [schema]);
    assert.deepEqual(indexes.rows.map((r) => r.indexname), ['participation_address', 'participation_dates', 'participation_domain', 'participation_pkey']);

    // Written by the indexer after the migration: the participant's lexeme with the words, and
    // a participant named later is added when its words are written again.
    const index = new PostgresIndexStore(meta);
    await index.write(async (tx) => {
      await index.addDocument(tx, { id: 3, sha256: '3'.repeat(64), messageId: null, date: Date.UTC(2026, 0, 3), fromText: null, subject: 'budget final', hasAttachment: false, parseError: null, refersTo: [] });
      await index.addParticipation(tx, 3, { role: 'from', address: 'bob@corp.example', domain: 'corp.example', name: null });
      await index.addFullText(tx, 3, text('budget final', 'numbers'));
    });
    assert.equal((await search.search('budget', { limit: 10, scope })).total, 1);
    await index.write(async (tx) => {
      await index.addParticipation(tx, 3, { role: 'bcc', address: 'alice@corp.example', domain: 'corp.example', name: null });
      await index.replaceFullText(tx, 3, text('budget final', 'numbers'));
    });
    const now = await search.search('budget', { limit: 10, scope });
    assert.deepEqual(now.hits.map((h) => h.subject), ['budget final', 'budget review']);
    // A participant named by a later capture takes the date of the document already written.
    assert.deepEqual((await search.search('before:2026-01-04', { limit: 10, scope })).hits.map((h) => h.subject), ['budget final', 'budget review']);
  } finally {
    await meta.close();
  }
});

test('a long list is paged a window of dates at a time, the GIN index skipping to its months', async () => {
  const meta = new PostgresMetadataStore({ url: db.url(), schema: 'long_list' });
  try {
    const box = await meta.write(async (tx) => {
      const id = await meta.upsertMailbox(tx, { name: 'dana@corp.example' });
      await meta.setMailboxAddress(tx, 'dana@corp.example', id);
      return { id, name: 'dana@corp.example' };
    });
    // 400 documents over two years, dana's every third; some undated; other people's between.
    const start = Date.UTC(2024, 0, 1);
    const docs = Array.from({ length: 400 }, (_, i) => ({ id: i + 1, date: i % 50 === 7 ? null : start + ((i * 37) % 730) * 86_400_000 + i * 1000, dana: i % 3 === 0 }));
    const index = new PostgresIndexStore(meta);
    await index.write(async (tx) => {
      for (const d of docs) {
        await index.addDocument(tx, { id: d.id, sha256: createHash('sha256').update(`long ${d.id}`).digest('hex'), messageId: null, date: d.date, fromText: null, subject: 'Long', hasAttachment: false, parseError: null, refersTo: [] });
        const who = d.dana ? 'dana@corp.example' : 'erin@corp.example';
        await index.addParticipation(tx, d.id, { role: 'to', address: who, domain: 'corp.example', name: null });
        await index.addFullText(tx, d.id, text('Long', `zqlong ${d.id}`));
      }
    });
    const month = (await meta.pool.query('SELECT words::text AS w FROM doc WHERE id = 2')).rows[0].w;
    assert.ok(month.includes(monthLexeme(docs[1]!.date!)), month);
    const search = new PostgresSearchIndex(meta, undefined, { sortWhole: 20 });
    const scope = { mailboxes: [box], dateFrom: null, dateTo: null, fixedQuery: null };
    const mine = docs.filter((d) => d.dana);
    for (const sort of ['newest', 'oldest'] as const) {
      const sign = sort === 'newest' ? -1 : 1;
      // Undated last newest first, first oldest first; ties by id in the same direction.
      const expected = [...mine].sort((a, b) => (a.date === null || b.date === null ? ((a.date === null ? 1 : 0) - (b.date === null ? 1 : 0)) * -sign : sign * (a.date - b.date)) || sign * (a.id - b.id)).map((d) => d.id);
      for (const [offset, limit] of [[0, 10], [40, 25], [120, 20]] as const) {
        const got = await search.search('zqlong', { limit, offset, sort, scope });
        assert.equal(got.total, mine.length);
        const ids = await Promise.all(got.hits.map(async (h) => Number((await meta.pool.query('SELECT id FROM doc WHERE sha256 = $1', [h.sha256])).rows[0].id)));
        assert.deepEqual(ids, expected.slice(offset, offset + limit), `${sort} at ${offset}`);
      }
    }
    // Dates that confine a search within mailboxes to months add those months' lexemes.
    for (const [query, from, to] of [['zqlong after:2024-03-14 before:2024-06-02', '2024-03-15', '2024-06-02'], ['zqlong on:2025-02-11', '2025-02-11', '2025-02-12']] as const) {
      const want = mine.filter((d) => d.date !== null && d.date >= Date.parse(from) && d.date < Date.parse(to)).length;
      assert.ok(want > 0 || query.includes('on:'), query);
      assert.equal((await search.search(query, { limit: 5, scope })).total, want, query);
    }
  } finally {
    await meta.close();
  }
});

test('a bounded count and its page agree with counting everything, long lists and short', async () => {
  const meta = new PostgresMetadataStore({ url: db.url(), schema: 'bounded_count' });
  try {
    const [box, hal] = await meta.write(async (tx) => {
      const boxes = [];
      for (const name of ['fay@corp.example', 'hal@corp.example']) {
        const id = await meta.upsertMailbox(tx, { name });
        await meta.setMailboxAddress(tx, name, id);
        boxes.push({ id, name });
      }
      return boxes;
    });
    // 140 documents with the word over three years, 40 of them in the newest two months, and 10
    // without it there; fay's every other one.
    const newest = Date.UTC(2026, 5, 20);
    const docs = Array.from({ length: 150 }, (_, i) => ({ id: i + 1, date: i < 100 ? Date.UTC(2023, 6, 1) + i * 8 * 86_400_000 : newest - (149 - i) * 86_400_000, word: i < 100 || i >= 120 || i % 2 === 0 }));
    const index = new PostgresIndexStore(meta);
    await index.write(async (tx) => {
      for (const d of docs) {
        await index.addDocument(tx, { id: d.id, sha256: createHash('sha256').update(`bounded ${d.id}`).digest('hex'), messageId: null, date: d.date, fromText: null, subject: `n${d.id}`, hasAttachment: false, parseError: null, refersTo: [] });
        await index.addParticipation(tx, d.id, { role: 'to', address: d.id % 2 === 0 ? 'fay@corp.example' : 'gil@corp.example', domain: 'corp.example', name: null });
        if ([5, 60, 145].includes(d.id)) await index.addParticipation(tx, d.id, { role: 'cc', address: 'hal@corp.example', domain: 'corp.example', name: null });
        await index.addFullText(tx, d.id, text(`n${d.id}`, d.word ? 'zqcommon' : 'other'));
      }
    });
    const matches = docs.filter((d) => d.word);
    assert.equal(matches.length, 140);
    const search = new PostgresSearchIndex(meta, undefined, { sortWhole: 5 });
    const newestFirst = [...matches].sort((a, b) => b.date - a.date).map((d) => `n${d.id}`);
    // Bounded within the newest months' matches, beyond them, and past every match (exact):
    // the same answers as counting everything; sorted whole (sortWhole 5) or by windows.
    for (const [upTo, total, lower] of [[20, 20, true], [50, 50, true], [200, matches.length, false]] as const) {
      for (const sort of ['newest', 'relevance'] as const) {
        const got = await search.search('zqcommon', { limit: 7, countUpTo: upTo, sort, ...(sort === 'relevance' ? { rankUpTo: 6 } : {}) });
        assert.equal(got.total, total, `${upTo} ${sort}`);
        assert.equal(got.totalIsLowerBound ?? false, lower, `${upTo} ${sort}`);
        if (sort === 'newest') assert.deepEqual(got.hits.map((h) => h.subject), newestFirst.slice(0, 7));
        else assert.deepEqual(new Set(got.hits.slice(0, 6).map((h) => h.subject)), new Set(newestFirst.slice(0, 6)));
      }
      const scope = { mailboxes: [box!], dateFrom: null, dateTo: null, fixedQuery: null };
      const fay = matches.filter((d) => d.id % 2 === 0);
      const scoped = await search.search('zqcommon', { limit: 7, countUpTo: upTo, scope });
      assert.equal(scoped.total, Math.min(upTo, fay.length));
      assert.deepEqual(scoped.hits.map((h) => h.subject), [...fay].sort((a, b) => b.date - a.date).slice(0, 7).map((d) => `n${d.id}`));
      // A short list (one match in the newest months, two before): counted and paged whole.
      const few = { mailboxes: [hal!], dateFrom: null, dateTo: null, fixedQuery: null };
      for (const sort of ['newest', 'relevance'] as const) {
        const got = await search.search('zqcommon', { limit: 2, countUpTo: upTo, sort, scope: few });
        assert.equal(got.total, 3);
        assert.deepEqual(got.hits.map((h) => h.subject), ['n145', 'n60'], sort);
      }
    }
  } finally {
    await meta.close();
  }
});

test('a count by windows of months agrees with counting everything, each way and within a mailbox', async () => {
  const meta = new PostgresMetadataStore({ url: db.url(), schema: 'count_by_months' });
  try {
    const box = await meta.write(async (tx) => {
      const id = await meta.upsertMailbox(tx, { name: 'ivy@corp.example' });
      await meta.setMailboxAddress(tx, 'ivy@corp.example', id);
      return { id, name: 'ivy@corp.example' };
    });
    // 720 documents over three years, some on a month's first and last millisecond, one in 25
    // undated; the word in six of ten, ivy in every third.
    const monthEdge = (i: number) => Date.UTC(2023, Math.floor(i / 20), 1) - (i % 2);
    const docs = Array.from({ length: 720 }, (_, i) => ({
      id: i + 1,
      date: i % 25 === 3 ? null : i % 20 === 0 || i % 20 === 1 ? monthEdge(i) : Date.UTC(2023, 0, 1) + ((i * 7919) % 1095) * 86_400_000 + (i % 24) * 3_600_000,
      word: (i * 7) % 10 < 6,
      ivy: i % 3 === 0,
    }));
    const index = new PostgresIndexStore(meta);
    await index.write(async (tx) => {
      for (const d of docs) {
        await index.addDocument(tx, { id: d.id, sha256: createHash('sha256').update(`months ${d.id}`).digest('hex'), messageId: null, date: d.date, fromText: null, subject: `m${d.id}`, hasAttachment: false, parseError: null, refersTo: [] });
        await index.addParticipation(tx, d.id, { role: 'to', address: d.ivy ? 'ivy@corp.example' : 'jon@corp.example', domain: 'corp.example', name: null });
        // Ranked apart: the word in the subject too, or said more than once.
        await index.addFullText(tx, d.id, text(d.word && d.id % 7 === 0 ? `m${d.id} zqmonth` : `m${d.id}`, d.word ? 'zqmonth other '.repeat(1 + (d.id % 4)) : 'other'));
      }
    });
    await meta.pool.query('ANALYZE doc');
    // Every bounded count by windows of months, the page by windows of dates.
    const byMonths = new PostgresSearchIndex(meta, undefined, { sortWhole: 5, countByMonths: 'always' });
    const everything = new PostgresSearchIndex(meta, undefined, { sortWhole: 5, countByMonths: Infinity });
    const upToFor = (n: number) => Math.floor(n / 3);
    const seen: string[] = [];
    let countedByMonths = 0;
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (typeof args[0] === 'string') seen.push(args[0]);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      // Over everything, within ivy's mailbox, and within it between two dates (a grant's window)
      // for a query with dates of its own: windows start and end where those dates do.
      const window = { from: Date.UTC(2023, 1, 10, 12), to: Date.UTC(2025, 10, 20) };
      for (const [text, scope] of [['zqmonth', undefined], ['zqmonth', { mailboxes: [box], dateFrom: null, dateTo: null, fixedQuery: null }],
        ['zqmonth after:2023-03-31 before:2025-11-01', { mailboxes: [box], dateFrom: window.from, dateTo: window.to, fixedQuery: null }]] as const) {
        const dated = text.includes('after:');
        const matches = docs.filter((d) => d.word && (!scope || d.ivy) && (!dated || (d.date !== null && d.date >= Math.max(window.from, Date.UTC(2023, 3, 1)) && d.date < Math.min(window.to, Date.UTC(2025, 10, 1)))));
        for (const sort of ['newest', 'oldest'] as const) {
          const sign = sort === 'newest' ? -1 : 1;
          // Undated last newest first and first oldest first; ties by id the same way.
          const order = [...matches].sort((a, b) => (a.date === null || b.date === null ? ((a.date === null ? 1 : 0) - (b.date === null ? 1 : 0)) * -sign : sign * (a.date - b.date)) || sign * (a.id - b.id)).map((d) => `m${d.id}`);
          for (const upTo of [12, 40, 150, matches.length - 1, matches.length, 5000]) {
            for (const [offset, limit] of [[0, 10], [3, 9]] as const) {
              const where = `${text} ${scope ? 'ivy' : 'all'} ${sort} up to ${upTo} from ${offset}`;
              seen.length = 0;
              const got = await byMonths.search(text, { limit, offset, sort, countUpTo: upTo, ...(scope ? { scope } : {}) });
              assert.ok(seen.some((q) => q.startsWith('EXPLAIN')) && !seen.some((q) => q.startsWith('WITH m AS MATERIALIZED')), `${where}: by windows`);
              if (seen.some((q) => q.startsWith('SELECT COUNT(*) AS n FROM (SELECT 1 FROM doc d'))) countedByMonths++;
              assert.equal(got.total, Math.min(upTo, matches.length), where);
              assert.equal(got.totalIsLowerBound ?? false, matches.length > upTo, where);
              assert.deepEqual(got.hits.map((h) => h.subject?.split(' ')[0]), order.slice(offset, offset + limit), where);
            }
          }
          // Best match first: the newest rankUpTo ranked, as when every match is counted.
          for (const rankUpTo of [7, 60, 1000]) {
            const options = { limit: 10, offset: 4, sort: 'relevance' as const, countUpTo: upToFor(matches.length), rankUpTo, ...(scope ? { scope } : {}) };
            assert.deepEqual(await byMonths.search(text, options), await everything.search(text, options), `${text} ${scope ? 'ivy' : 'all'} ranking the newest ${rankUpTo}`);
          }
        }
      }
    } finally {
      pg.Client.prototype.query = query;
    }
    assert.ok(countedByMonths >= 30, `${countedByMonths} searches counted past their page`);
  } finally {
    await meta.close();
  }
});
