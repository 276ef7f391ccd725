// Within mailboxes, SQLite searches through the full-text table's scope column (index migration
// 7, scope-tokens.ts). That migration rebuilds the table, which takes long on a big index while
// the server goes on answering searches from the table as it was: a search within mailboxes on
// an index without the column gives the same answers through the general plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { IndexDatabase } from '../src/index/sqlite/index-db.ts';
import { compileScoped } from '../src/index/sqlite/fts5-compiler.ts';
import { SqliteIndexStore } from '../src/index/sqlite/index-store.ts';
import { SqliteSearchIndex } from '../src/index/sqlite/search-index.ts';
import type { SearchScope } from '../src/index/search-index.ts';
import { parseQuery } from '../src/index/search-query.ts';
import type { AddressRole } from '../src/index/search-query.ts';
import { migrationsIn } from '../src/store/sqlite/migrate.ts';

const MAILS = [
  { id: 1, from: 'alice@corp.example', to: ['bob@corp.example'], subject: 'Invoice 7', body: 'please pay the invoice', date: '2026-01-05T10:00:00Z', attachment: true },
  { id: 2, from: 'bob@corp.example', to: ['alice@corp.example'], subject: 'Re: Invoice 7', body: 'paid today', date: '2026-02-07T10:00:00Z', attachment: false },
  { id: 3, from: 'eve@partner.example', to: ['carol@corp.example'], subject: 'Lunch', body: 'lunch with the invoice team', date: '2026-03-01T10:00:00Z', attachment: false },
  { id: 4, from: 'carol@corp.example', to: ['alice@corp.example'], subject: 'Notes', body: 'notes from the meeting', date: '2026-03-09T10:00:00Z', attachment: true },
];

// An index with the meta tables a search reads: a mailbox for each address, ids from 1.
function emptyIndex(addresses: string[]): { db: DatabaseSync; index: IndexDatabase; store: SqliteIndexStore } {
  const db = new DatabaseSync(':memory:');
  for (const m of migrationsIn(new URL('../src/index/sqlite/migrations/', import.meta.url))) db.exec(m.sql);
  db.exec("ATTACH DATABASE ':memory:' AS meta");
  db.exec(`CREATE TABLE meta.mailbox (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
           CREATE TABLE meta.mailbox_address (address TEXT PRIMARY KEY, mailbox_id INTEGER) WITHOUT ROWID;`);
  addresses.forEach((a, i) => {
    db.prepare('INSERT INTO meta.mailbox VALUES (?, ?)').run(i + 1, a.split('@')[0]!);
    db.prepare('INSERT INTO meta.mailbox_address VALUES (?, ?)').run(a, i + 1);
  });
  const index = new IndexDatabase(db);
  return { db, index, store: new SqliteIndexStore(index) };
}

// The full-text table as migration 6 left it (five columns, no scope), holding these rows: a
// search within mailboxes then takes the general plan.
function withoutScopeColumn(db: DatabaseSync, rows: [number, string, string, string][]): void {
  db.exec(`DROP TABLE doc_fts;
    CREATE VIRTUAL TABLE doc_fts USING fts5(subject, addresses, body, filenames, attachments, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`);
  const insert = db.prepare('INSERT INTO doc_fts (rowid, subject, addresses, body, filenames, attachments) VALUES (?, ?, ?, ?, ?, ?)');
  for (const [id, subject, addresses, body] of rows) insert.run(id, subject, addresses, body, '', '');
}

async function openIndex(): Promise<{ db: DatabaseSync; search: SqliteSearchIndex }> {
  const { db, index, store } = emptyIndex(['alice@corp.example', 'carol@corp.example']);
  await store.write(async (tx) => {
    for (const m of MAILS) {
      await store.addDocument(tx, { id: m.id, sha256: String(m.id).repeat(64).slice(0, 64), messageId: null, date: Date.parse(m.date), fromText: m.from, subject: m.subject, hasAttachment: m.attachment, parseError: null, refersTo: [] });
      const people: [AddressRole, string][] = [['from', m.from], ...m.to.map((a): [AddressRole, string] => ['to', a])];
      for (const [role, address] of people) {
        await store.addParticipation(tx, m.id, { role, address, domain: address.split('@')[1]!, name: null });
      }
      await store.addFullText(tx, m.id, { subject: m.subject, addresses: [m.from, ...m.to].join(' '), body: m.body, filenames: '', attachments: '' });
    }
  });
  return { db, search: new SqliteSearchIndex(index) };
}

const QUERIES = ['invoice', 'invoice OR notes', 'invoice -paid', 'from:@corp.example', 'from:carol@corp.example', 'to:alice@corp.example', 'has:attachment', 'after:2026-02-01', 'a616c*'];

test('a search within mailboxes answers the same before index migration 7 has rebuilt the table', async () => {
  const { db, search } = await openIndex();
  const scopes: SearchScope[] = [1, 2].map((id) => ({ mailboxes: [{ id }], dateFrom: null, dateTo: null, fixedQuery: null }));
  const answers = async () => {
    const out: string[] = [];
    for (const scope of scopes) {
      for (const q of QUERIES) {
        for (const sort of ['newest', 'oldest', 'relevance'] as const) {
          const r = await search.search(q, { limit: 10, scope, sort });
          out.push(`${scope.mailboxes[0]!.id} ${q} ${sort}: ${r.total} ${r.hits.map((h) => h.sha256[0]).join(',')}`);
        }
      }
    }
    return out;
  };
  const withScope = await answers();
  assert.ok(withScope.includes('1 invoice newest: 2 2,1'), withScope.join('\n'));
  assert.ok(withScope.includes('2 from:@corp.example newest: 1 4'), withScope.join('\n'));
  assert.ok(withScope.includes('1 a616c* newest: 0 '), 'the hex of alice@ finds no scope token');

  // The table as migration 6 left it: the same words, no scope.
  withoutScopeColumn(db, MAILS.map((m) => [m.id, m.subject, [m.from, ...m.to].join(' '), m.body]));
  assert.deepEqual(await answers(), withScope);
});

test('a range of whole months within mailboxes is said by its month tokens, and paged from its own end', async () => {
  const { index, store } = emptyIndex(['alice@corp.example']);
  // More of alice's mail in March 2026 than is sorted whole (2,000), its first and last
  // millisecond, the milliseconds either side of it, and later months; bob's mail in March too.
  const march = Array.from({ length: 2100 }, (_, i) => Date.UTC(2026, 2, 1, 1) + i * 1_000_000);
  const dates = [...march, Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1) - 1, Date.UTC(2026, 2, 1) - 1, Date.UTC(2026, 3, 1), ...Array.from({ length: 30 }, (_, i) => Date.UTC(2026, 4 + (i % 8), 3))];
  const docs = dates.map((date, i) => ({ id: i + 1, date, to: 'alice@corp.example' })).concat(march.slice(0, 50).map((date, i) => ({ id: dates.length + i + 1, date, to: 'bob@corp.example' })));
  await store.write(async (tx) => {
    for (const d of docs) {
      await store.addDocument(tx, { id: d.id, sha256: d.id.toString(16).padStart(64, '0'), messageId: null, date: d.date, fromText: null, subject: `m${d.id}`, hasAttachment: false, parseError: null, refersTo: [] });
      await store.addParticipation(tx, d.id, { role: 'to', address: d.to, domain: 'corp.example', name: null });
      await store.addFullText(tx, d.id, { subject: `m${d.id}`, addresses: d.to, body: 'hello', filenames: '', attachments: '' });
    }
  });
  const search = new SqliteSearchIndex(index);
  const scope: SearchScope = { mailboxes: [{ id: 1 }], dateFrom: null, dateTo: null, fixedQuery: null };
  const inMarch = docs.filter((d) => d.to === 'alice@corp.example' && d.date >= Date.UTC(2026, 2, 1) && d.date < Date.UTC(2026, 3, 1));
  assert.equal(inMarch.length, 2102);
  for (const query of ['after:2026-02-28 before:2026-04-01', 'hello after:2026-02-28 before:2026-04-01']) {
    for (const sort of ['newest', 'oldest'] as const) {
      const sign = sort === 'newest' ? -1 : 1;
      const expected = [...inMarch].sort((a, b) => sign * (a.date - b.date || a.id - b.id)).map((d) => `m${d.id}`);
      for (const offset of [0, 2050]) {
        const got = await search.search(query, { limit: 60, offset, sort, scope });
        assert.equal(got.total, 2102, `${query} ${sort}`);
        assert.deepEqual(got.hits.map((h) => h.subject), expected.slice(offset, offset + 60), `${query} ${sort} at ${offset}`);
      }
    }
  }
  // Whole months: the tokens are the whole condition (no row is read to check a date).
  assert.equal(compileScoped(parseQuery('after:2026-02-28 before:2026-04-01'), scope, ['alice@corp.example']).residual, null);
  // A range that is not whole months: checked row by row, the same answer.
  assert.notEqual(compileScoped(parseQuery('after:2026-03-01 before:2026-04-01'), scope, ['alice@corp.example']).residual, null);
  const fromSecond = await search.search('after:2026-03-01 before:2026-04-01', { limit: 5, scope });
  assert.equal(fromSecond.total, inMarch.filter((d) => d.date >= Date.UTC(2026, 2, 2)).length);
});

// Thousands of matches in a mailbox (past what is sorted whole), months that hold many times a
// page of them and months that hold few, documents of the same second and documents without a
// date: each page and total of the plan through the scope column (the MATCH run once, a month
// walked in the date index, a total counted no further than asked) is the general plan's.
test('pages and totals within a busy mailbox are the general plan\'s, month by month', { timeout: 120_000 }, async () => {
  const { db, index, store } = emptyIndex(['alice@corp.example', 'dave@corp.example']);
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const docs = Array.from({ length: 5_000 }, (_, i) => {
    const r = random();
    // Most of the mail in March, a little in January and May; whole hours, so many share a date.
    const month = r < 0.7 ? 2 : r < 0.85 ? 0 : 4;
    const date = i % 97 === 0 ? null : Date.UTC(2026, month, 1 + Math.floor(random() * 28), Math.floor(random() * 24));
    const to = random() < 0.6 ? 'alice@corp.example' : random() < 0.05 ? 'dave@corp.example' : 'bob@corp.example';
    const words = [random() < 0.7 ? 'common' : 'plain', random() < 0.2 ? 'middling' : '', random() < 0.02 ? 'scarce' : ''].join(' ');
    return { id: i + 1, date, to, from: random() < 0.3 ? 'carol@corp.example' : 'erin@other.example', words, attachment: random() < 0.1 };
  });
  await store.write(async (tx) => {
    for (const d of docs) {
      await store.addDocument(tx, { id: d.id, sha256: d.id.toString(16).padStart(64, '0'), messageId: null, date: d.date, fromText: d.from, subject: `m${d.id}`, hasAttachment: d.attachment, parseError: null, refersTo: [] });
      await store.addParticipation(tx, d.id, { role: 'from', address: d.from, domain: d.from.split('@')[1]!, name: null });
      await store.addParticipation(tx, d.id, { role: 'to', address: d.to, domain: 'corp.example', name: null });
      await store.addFullText(tx, d.id, { subject: `m${d.id}`, addresses: `${d.from} ${d.to}`, body: d.words, filenames: '', attachments: '' });
    }
  });
  const search = new SqliteSearchIndex(index);
  const queries = ['common', 'middling', 'scarce', 'after:2026-02-28 before:2026-04-01', 'common after:2026-02-28 before:2026-04-01',
    'scarce after:2026-02-28 before:2026-04-01', 'after:2026-04-30 before:2026-06-01', 'middling after:2026-03-14', 'from:carol@corp.example',
    'has:attachment', 'common -middling', 'plain OR scarce'];
  const answers = async () => {
    const out: string[] = [];
    for (const mailbox of [1, 2]) {
      const scope: SearchScope = { mailboxes: [{ id: mailbox }], dateFrom: null, dateTo: null, fixedQuery: null };
      for (const q of queries) {
        for (const sort of ['newest', 'oldest'] as const) {
          let total = 0;
          for (const [offset, countUpTo] of [[0, undefined], [0, 1_000], [40, undefined], [2_150, undefined], [-20, undefined]] as const) {
            // -20: the last page (undated mail last, newest first).
            const at = offset < 0 ? Math.max(0, total + offset) : offset;
            const r = await search.search(q, { limit: 30, offset: at, sort, scope, ...(countUpTo ? { countUpTo } : {}) });
            if (offset === 0 && !countUpTo) total = r.total;
            out.push(`${mailbox} ${q} ${sort} @${at} ≤${countUpTo}: ${r.total}${r.totalIsLowerBound ? '+' : ''} ${r.hits.map((h) => h.subject).join(',')}`);
          }
        }
      }
    }
    return out;
  };
  const withScope = await answers();
  // The cases this is about did come up: a list past 2,000 (paged month by month), a month
  // with more than twice a page (walked), a total said to be a lower bound, undated mail.
  assert.ok(withScope.some((a) => /^1 common newest @0 ≤undefined: (\d+) /.exec(a) && Number(/: (\d+) /.exec(a)![1]) > 2_000), withScope[0]);
  assert.ok(withScope.some((a) => a.startsWith('1 common newest @0 ≤1000: 1000+ ')));
  assert.ok(docs.filter((d) => d.to === 'alice@corp.example' && d.date !== null && d.date >= Date.UTC(2026, 2, 1) && d.date < Date.UTC(2026, 3, 1)).length > 2_000);
  assert.ok(docs.some((d) => d.to === 'alice@corp.example' && d.date === null && d.words.includes('common')));

  // The general plan: the table without the scope column.
  withoutScopeColumn(db, docs.map((d) => [d.id, `m${d.id}`, `${d.from} ${d.to}`, d.words]));
  const general = await answers();
  for (let i = 0; i < general.length; i++) assert.equal(withScope[i], general[i]);
});
