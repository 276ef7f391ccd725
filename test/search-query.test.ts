import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { parseQuery, describeQuery, QueryError } from '../src/index/search-query.ts';
import type { QueryNode } from '../src/index/search-query.ts';
import { compileQuery } from '../src/index/sqlite/fts5-compiler.ts';
import { migrationsIn } from '../src/store/sqlite/migrate.ts';

// ---------------------------------------------------------------------------------------
// Parser

const w = (value: string, prefix = false): QueryNode => ({ kind: 'text', column: null, value, prefix });
const and = (...children: QueryNode[]): QueryNode => ({ kind: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: 'or', children });
const not = (child: QueryNode): QueryNode => ({ kind: 'not', child });

describe('parseQuery', () => {
  test('implicit AND, precedence NOT > AND > OR', () => {
    assert.deepEqual(parseQuery('a b'), and(w('a'), w('b')));
    assert.deepEqual(parseQuery('a b OR c'), or(and(w('a'), w('b')), w('c')));
    assert.deepEqual(parseQuery('a OR b c'), or(w('a'), and(w('b'), w('c'))));
    assert.deepEqual(parseQuery('a OR b AND c OR d'), or(w('a'), and(w('b'), w('c')), w('d')));
    assert.deepEqual(parseQuery('NOT a b'), and(not(w('a')), w('b')));
    assert.deepEqual(parseQuery('-a OR b'), or(not(w('a')), w('b')));
    assert.deepEqual(parseQuery('NOT NOT a'), not(not(w('a'))));
    assert.deepEqual(parseQuery('a AND b AND c'), and(w('a'), w('b'), w('c')));
  });

  test('parentheses group and nested groups of the same operator flatten', () => {
    assert.deepEqual(parseQuery('a AND (b OR c)'), and(w('a'), or(w('b'), w('c'))));
    assert.deepEqual(parseQuery('(a OR b) (c OR d)'), and(or(w('a'), w('b')), or(w('c'), w('d'))));
    assert.deepEqual(parseQuery('((a))'), w('a'));
    assert.deepEqual(parseQuery('a (b c)'), and(w('a'), w('b'), w('c')));
    assert.deepEqual(parseQuery('-(a OR b)'), not(or(w('a'), w('b'))));
    assert.deepEqual(parseQuery('(from:x@y.z)'), { kind: 'address', role: 'from', value: 'x@y.z' });
  });

  test('keywords are uppercase only; quoted keywords and dashes inside words are text', () => {
    assert.deepEqual(parseQuery('cats and dogs'), and(w('cats'), w('and'), w('dogs')));
    assert.deepEqual(parseQuery('"AND"'), w('AND'));
    assert.deepEqual(parseQuery('e-mail'), w('e-mail'));
    assert.deepEqual(parseQuery('--foo'), w('--foo'));
    assert.deepEqual(parseQuery('a -b'), and(w('a'), not(w('b'))));
  });

  test('quoting, escapes and prefixes', () => {
    assert.deepEqual(parseQuery('"wire transfer"'), w('wire transfer'));
    assert.deepEqual(parseQuery('"say \\"hi\\" C:\\\\x \\y"'), w('say "hi" C:\\x \\y'));
    assert.deepEqual(parseQuery('inv*'), w('inv', true));
    assert.deepEqual(parseQuery('"inv*"'), w('inv*'));
    assert.deepEqual(parseQuery('a"b c"'), and(w('a'), w('b c')));
  });

  test('fields', () => {
    assert.deepEqual(parseQuery('From:Alice@Example.COM'), { kind: 'address', role: 'from', value: 'alice@example.com' });
    assert.deepEqual(parseQuery('to:"Bob Smith"'), { kind: 'address', role: 'to', value: 'bob smith' });
    assert.deepEqual(parseQuery('subject:"hello world"'), { kind: 'text', column: 'subject', value: 'hello world', prefix: false });
    assert.deepEqual(parseQuery('subject:hel*'), { kind: 'text', column: 'subject', value: 'hel', prefix: true });
    assert.deepEqual(parseQuery('filename:report.pdf'), { kind: 'text', column: 'filenames', value: 'report.pdf', prefix: false });
    assert.deepEqual(parseQuery('Attachment:"net 30"'), { kind: 'text', column: 'attachments', value: 'net 30', prefix: false });
    assert.deepEqual(parseQuery('attachment:inv*'), { kind: 'text', column: 'attachments', value: 'inv', prefix: true });
    assert.deepEqual(parseQuery('type:PDF'), { kind: 'type', value: 'pdf' });
    assert.deepEqual(parseQuery('type:tar.gz'), { kind: 'type', value: 'tar.gz' });
    assert.deepEqual(parseQuery('mailbox:Legal'), { kind: 'mailbox', value: 'legal' });
    assert.deepEqual(parseQuery('has:attachment'), { kind: 'has-attachment' });
    assert.deepEqual(parseQuery('before:2024-02-29'), { kind: 'date', op: 'before', day: '2024-02-29' });
    assert.deepEqual(parseQuery('on:2024-01-01'), { kind: 'date', op: 'on', day: '2024-01-01' });
    assert.deepEqual(parseQuery('message-id:<AbC@Host>'), { kind: 'message-id', value: 'abc@host' });
    assert.deepEqual(parseQuery('message-id:abc@host'), { kind: 'message-id', value: 'abc@host' });
    assert.deepEqual(parseQuery('sha256:DEADBEEF'), { kind: 'sha256', value: 'deadbeef' });
    assert.deepEqual(parseQuery('-subject:spam'), not({ kind: 'text', column: 'subject', value: 'spam', prefix: false }));
  });

  // [query, message, position]
  const malformed: [string, string, number][] = [
    ['', 'empty query', 0],
    ['   ', 'empty query', 0],
    ['subject:"hello', 'unclosed quote starting at column 9', 8],
    ['a "b', 'unclosed quote starting at column 3', 2],
    ['form:alice', 'unknown field "form:" at column 1 (did you mean from:?)', 0],
    ['x subjct:hi', 'unknown field "subjct:" at column 3 (did you mean subject:?)', 2],
    ['invoice OR', 'expected a term after OR at column 9', 8],
    ['(a OR) b', 'expected a term after OR at column 4', 3],
    ['a AND OR b', 'expected a term after AND at column 3', 2],
    ['a NOT', 'expected a term after NOT at column 3', 2],
    ['OR a', 'expected a term before OR at column 1', 0],
    ['a (AND b)', 'expected a term before AND at column 4', 3],
    ['invoice)', 'unbalanced ")" at column 8', 7],
    ['(a) b) c', 'unbalanced ")" at column 6', 5],
    [')', 'unbalanced ")" at column 1', 0],
    ['(invoice', 'unclosed "(" at column 1', 0],
    ['a (b (c)', 'unclosed "(" at column 3', 2],
    ['a ()', 'empty parentheses at column 3', 2],
    ['before:2024-13-01', 'invalid date "2024-13-01" for before: (use YYYY-MM-DD)', 7],
    ['after:2023-02-29', 'invalid date "2023-02-29" for after: (use YYYY-MM-DD)', 6],
    ['on:yesterday', 'invalid date "yesterday" for on: (use YYYY-MM-DD)', 3],
    ['from:', 'expected a value after from: at column 6', 5],
    ['(to:) x', 'expected a value after to: at column 5', 4],
    ['from:""', 'empty value for from: at column 6', 5],
    ['from:@', 'expected a domain after "@" for from: at column 6', 5],
    ['has:pdf', 'unknown value "pdf" for has: at column 5 (use has:attachment)', 4],
    ['type:*', 'invalid type "*" at column 6 (use a kind such as pdf, docx or zip, or a file extension)', 5],
    ["type:\"x' OR 1=1\"", 'invalid type "x\' OR 1=1" at column 6 (use a kind such as pdf, docx or zip, or a file extension)', 5],
    ['attachment:"!!"', 'nothing to search for in "!!" at column 12 (a full-text term needs a letter or digit)', 11],
    ['sha256:abc', 'invalid sha256 "abc" at column 8 (use 8 to 64 hex digits)', 7],
    ['sha256:zzzzzzzzzz', 'invalid sha256 "zzzzzzzzzz" at column 8 (use 8 to 64 hex digits)', 7],
    ['message-id:<>', 'empty value for message-id: at column 12', 11],
    ['a ""', 'empty phrase at column 3', 2],
    ['a *', 'nothing to search for in "*" at column 3 (a full-text term needs a letter or digit)', 2],
    ['x - y', 'nothing to search for in "-" at column 3 (a full-text term needs a letter or digit)', 2],
    ['subject:"!!"', 'nothing to search for in "!!" at column 9 (a full-text term needs a letter or digit)', 8],
  ];
  for (const [query, message, position] of malformed) {
    test(`rejects ${JSON.stringify(query)}`, () => {
      assert.throws(() => parseQuery(query), (err: unknown) => {
        assert.ok(err instanceof QueryError);
        assert.ok(err instanceof Error);
        assert.equal(err.message, message);
        assert.equal(err.position, position);
        assert.equal(err.code, 'SEALBOX_ERR_QUERY');
        assert.equal(err.statusCode, 400);
        return true;
      });
    });
  }

  test('unknown field far from any known one lists the fields', () => {
    assert.throws(() => parseQuery('see http://example.com'), (err: unknown) => {
      assert.ok(err instanceof QueryError);
      assert.match(err.message, /^unknown field "http:" at column 5 \(known fields: from: .* put text with a colon in quotes\)$/);
      assert.equal(err.position, 4);
      return true;
    });
    assert.deepEqual(parseQuery('"http://example.com"'), w('http://example.com'));
    assert.throws(() => parseQuery('Re: hello'), /^QueryError: unknown field "Re:" at column 1 \(known fields: /);
  });

  test('limits: length, nesting, number of terms', () => {
    assert.throws(() => parseQuery('a'.repeat(5000)), /query too long \(5000 characters, the limit is 4096\)/);
    assert.throws(() => parseQuery('('.repeat(40) + 'a' + ')'.repeat(40)), (err: unknown) =>
      err instanceof QueryError && /nested too deeply at column 33/.test(err.message) && err.position === 32);
    assert.throws(() => parseQuery('NOT '.repeat(40) + 'a'), /nested too deeply/);
    assert.doesNotThrow(() => parseQuery('('.repeat(30) + 'a' + ')'.repeat(30)));
    assert.throws(() => parseQuery(Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ')), /too many terms \(the limit is 256\)/);
  });
});

describe('describeQuery', () => {
  test('renders a canonical form', () => {
    assert.equal(
      describeQuery(parseQuery('from:Alice@Example.com AND (invoice OR "wire transfer") -subject:spam after:2024-01-01')),
      'from:alice@example.com AND (invoice OR "wire transfer") AND NOT subject:spam AND after:2024-01-01');
    assert.equal(describeQuery(parseQuery('a b OR c -(d OR e)')), '(a AND b) OR (c AND NOT (d OR e))');
    assert.equal(describeQuery(parseQuery('"single"')), 'single');
    assert.equal(describeQuery(parseQuery('message-id:<X@Y>')), 'message-id:x@y');
    assert.equal(describeQuery(parseQuery('HAS:Attachments SHA256:ABCDEF12')), 'has:attachment AND sha256:abcdef12');
  });

  const roundTrips = [
    'a b OR c', 'NOT NOT a', '-(a OR b) c', '"AND" "OR" "NOT" or', '"-foo" --foo*', '"foo*" foo*',
    '"http://x" "a:b"', 'subject:"a \\"b\\" \\\\c"', 'filename:"my report.pdf" filename:x*',
    'attachment:"net 30" attachment:inv* -attachment:x', 'type:pdf OR type:tar.gz',
    'from:"bob smith" to:@corp.org cc:corp.org bcc:x@y sender:z', 'mailbox:"legal team"',
    'message-id:"<a b@c>"', 'message-id:<a@b>', 'before:2024-01-01 after:2024-01-02 on:2024-02-29',
    'sha256:0123456789abcdef', '(a OR b) (c OR d) OR e', 'x"y z"',
  ];
  for (const q of roundTrips) {
    test(`round-trips ${q}`, () => {
      const node = parseQuery(q);
      const text = describeQuery(node);
      assert.deepEqual(parseQuery(text), node, text);
      assert.equal(describeQuery(parseQuery(text)), text);
    });
  }
});

// ---------------------------------------------------------------------------------------
// End to end over a real index

const DAY = 86_400_000;
const t = (iso: string) => Date.parse(iso);
const sha = (id: number) => createHash('sha256').update(`doc ${id}`).digest('hex');

interface Doc {
  id: number;
  date: number | null;
  messageId: string | null;
  subject: string;
  body: string;
  files?: string[];
  attachmentText?: string;      // what the extractor read from inside the files
  people: [role: string, address: string, name: string | null][];
}

const DOCS: Doc[] = [
  { id: 1, date: t('2024-03-05T10:00:00Z'), messageId: 'Inv42@Example.COM', subject: 'Invoice 42', body: 'please pay the invoice', files: ['invoice-42.pdf'],
    attachmentText: 'Amount payable: 1250 EUR to IBAN NO9386011117947', people: [['from', 'alice@example.com', 'Alice Liddell'], ['to', 'bob@corp.org', 'Bob Stone']] },
  { id: 2, date: t('2024-02-10T10:00:00Z'), messageId: 'wire@example.com', subject: 'Wire transfer details', body: 'the wire transfer is scheduled',
    people: [['from', 'alice@example.com', 'Alice Liddell'], ['to', 'carol@corp.org', 'Carol']] },
  { id: 3, date: t('2024-04-01T10:00:00Z'), messageId: 'spam1@example.com', subject: 'Spam invoice', body: 'an invoice that is spam',
    people: [['from', 'alice@example.com', null], ['to', 'bob@corp.org', null]] },
  { id: 4, date: t('2023-12-15T10:00:00Z'), messageId: 'old@example.com', subject: 'Invoice old', body: 'last year',
    people: [['from', 'alice@example.com', null], ['to', 'bob@corp.org', null]] },
  { id: 5, date: t('2024-03-06T08:00:00Z'), messageId: 'reply1@corp.org', subject: 'Re: Invoice 42', body: 'paid',
    people: [['from', 'bob@corp.org', 'Bob Stone'], ['to', 'alice@example.com', 'Alice Liddell'], ['cc', 'dave@sub.example.com', null]] },
  { id: 6, date: t('2024-01-01T12:00:00Z'), messageId: 'pills@evil.test', subject: 'Buy now', body: 'cheap pills',
    people: [['from', 'mallory@evil.test', 'Smith, Bob'], ['to', 'alice@example.com', null], ['bcc', 'eve@corp.org', null]] },
  { id: 7, date: t('2023-06-30T23:59:59.999Z'), messageId: 'cv@corp.org', subject: 'Résumé attached', body: 'see my résumé', files: ['cv_carol.docx'],
    attachmentText: 'Curriculum vitae. Expected salary: negotiable', people: [['from', 'carol@corp.org', 'Carol'], ['to', 'team@corp.org', null]] },
  { id: 8, date: t('2024-05-01T10:00:00Z'), messageId: 'inject@example.org', subject: "'; DROP TABLE doc; --", body: 'bobby says hi',
    people: [['from', 'ob@example.org', "O'Brien"], ['to', 'alice@example.com', null]] },
  { id: 9, date: null, messageId: null, subject: 'Meeting', body: 'the quarterly meeting',
    people: [['from', 'bobby@corp.org', 'Bobby Tables'], ['to', 'team@corp.org', null], ['cc', 'axb@corp.org', null], ['sender', 'bounce@lists.corp.org', null]] },
  { id: 10, date: t('2024-06-01T10:00:00Z'), messageId: 'sale@example.com', subject: '100% off_sale', body: 'use code 50_OFF',
    people: [['from', 'support@example.com', 'Jean-Luc Picard'], ['to', 'bob@corp.org', null], ['cc', 'a_b@corp.org', null]] },
];
const ALL = DOCS.map((d) => d.id);

function openIndex(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  for (const m of migrationsIn(new URL('../src/index/sqlite/migrations/', import.meta.url))) db.exec(m.sql);
  db.exec("ATTACH DATABASE ':memory:' AS meta");
  db.exec(`CREATE TABLE meta.mailbox (id INTEGER PRIMARY KEY, name TEXT UNIQUE, display_name TEXT, owner TEXT, sensitivity TEXT);
           CREATE TABLE meta.mailbox_address (address TEXT PRIMARY KEY, mailbox_id INTEGER) WITHOUT ROWID;
           CREATE INDEX meta.mailbox_address_mailbox ON mailbox_address(mailbox_id);
           INSERT INTO meta.mailbox (id, name, display_name) VALUES (1, 'alice', 'Alice Liddell'), (2, 'Team', 'Team'), (3, 'nobody', 'No one');
           INSERT INTO meta.mailbox_address VALUES ('alice@example.com', 1), ('a.liddell@example.com', 1), ('team@corp.org', 2), ('ghost@corp.org', 3);`);
  const insDoc = db.prepare('INSERT INTO doc (id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insFts = db.prepare('INSERT INTO doc_fts (rowid, subject, addresses, body, filenames, attachments) VALUES (?, ?, ?, ?, ?, ?)');
  const insPart = db.prepare('INSERT INTO participation (doc_id, role, address, domain, name) VALUES (?, ?, ?, ?, ?)');
  const insAtt = db.prepare('INSERT INTO attachment (doc_id, filename, filename_lc, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?)');
  for (const d of DOCS) {
    const files = d.files ?? [];
    insDoc.run(d.id, sha(d.id), d.messageId, d.messageId?.toLowerCase() ?? null, d.date, d.people[0][2] ?? d.people[0][1], d.subject, files.length > 0 ? 1 : 0);
    // As the indexer does: header participants only, so an envelope-only Bcc is not here, nor an
    // envelope sender (the fixtures' only sender rows).
    const addresses = d.people.filter(([role]) => role !== 'bcc' && role !== 'sender').map(([, a, n]) => (n ? `${n} <${a}>` : a)).join(' ');
    insFts.run(d.id, d.subject, addresses, d.body, files.join(' '), d.attachmentText ?? '');
    for (const [role, address, name] of d.people) {
      insPart.run(d.id, role, address, address.slice(address.lastIndexOf('@') + 1), name?.toLowerCase() ?? null);
    }
    for (const f of files) insAtt.run(d.id, f, f.toLowerCase(), f.endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream', 100, sha(1000 + d.id));
  }
  return db;
}

describe('compileQuery over an index', () => {
  const db = openIndex();
  const search = (q: string): number[] => {
    const { where, params } = compileQuery(parseQuery(q));
    const rows = db.prepare(`SELECT d.id FROM doc d WHERE ${where} ORDER BY d.date DESC LIMIT ?`).all(...params, 100) as { id: number }[];
    return rows.map((r) => r.id).sort((a, b) => a - b);
  };
  const except = (...ids: number[]) => ALL.filter((id) => !ids.includes(id));

  const cases: [string, number[]][] = [
    // full text
    ['invoice', [1, 3, 4, 5]],
    ['INVOICE', [1, 3, 4, 5]],
    ['inv*', [1, 3, 4, 5]],
    ['"inv*"', []],
    ['"wire transfer"', [2]],
    ['transfer wire', [2]],
    ['"transfer wire"', []],
    ['resume', [7]],
    ['invoice OR "wire transfer"', [1, 2, 3, 4, 5]],
    ['invoice -spam', [1, 4, 5]],
    ['invoice NOT subject:spam', [1, 4, 5]],
    ['NOT invoice', except(1, 3, 4, 5)],
    ['-invoice -pills', except(1, 3, 4, 5, 6)],
    ['invoice (paid OR pay)', [1, 5]],
    ['(invoice -spam) OR pills', [1, 4, 5, 6]],
    ['"invoice AND spam"', []],
    ['"spam invoice"', [3]],
    ['subject:invoice', [1, 3, 4, 5]],
    ['subject:"invoice 42"', [1, 5]],
    ['subject:paid', []],
    ['subject:inv*', [1, 3, 4, 5]],
    ['filename:invoice', [1]],
    ['filename:"invoice-42.pdf"', [1]],
    ['filename:cv', [7]],
    ['filename:pay', []],
    ['"100%"', [10]],
    ['"50_off"', [10]],
    // addresses
    ['from:alice@example.com', [1, 2, 3, 4]],
    ['FROM:Alice@Example.COM', [1, 2, 3, 4]],
    ['to:alice@example.com', [5, 6, 8]],
    ['to:eve@corp.org', []],
    ['bcc:eve@corp.org', [6]],
    ['cc:dave@sub.example.com', [5]],
    ['cc:@sub.example.com', [5]],
    ['cc:@example.com', []],
    ['from:@corp.org', [5, 7, 9]],
    ['from:corp.org', [5, 7, 9]],
    ['from:bob', [5, 6]],
    ['from:bob@', [5]],
    ['from:bobby', [9]],
    ['from:bobb', []],
    ['from:alice', [1, 2, 3, 4]],
    ['from:liddell', [1, 2]],
    ['from:picard', [10]],
    ['from:jean', [10]],
    ['from:"jean-luc"', [10]],
    ["from:o'brien", [8]],
    ['from:"bob stone"', [5]],
    ['cc:a_b', [10]],
    ['cc:a_b@corp.org', [10]],
    ['to:a_b', []],
    ['from:%', []],
    ['to:a%', []],
    ['to:%@corp.org', []],
    ['from:*', []],
    ['from:b*', []],
    ['to:[b]ob', []],
    ['sender:alice@example.com', []],
    // An envelope sender is found by sender:, also beside full text, but never by a bare word.
    ['sender:bounce@lists.corp.org', [9]],
    ['sender:bounce@lists.corp.org meeting', [9]],
    ['meeting sender:bounce@lists.corp.org', [9]],
    ['bounce', []],
    ['"bounce@lists.corp.org"', []],
    // mailboxes
    ['mailbox:alice', [1, 2, 3, 4, 5, 6, 8]],
    ['mailbox:ALICE', [1, 2, 3, 4, 5, 6, 8]],
    ['mailbox:a.liddell@example.com', [1, 2, 3, 4, 5, 6, 8]],
    ['mailbox:team', [7, 9]],
    ['mailbox:team@corp.org', [7, 9]],
    ['mailbox:nobody', []],
    ['mailbox:unknown', []],
    ['mailbox:%', []],
    // inside attachments
    ['attachment:salary', [7]],
    ['salary', [7]],
    ['attachment:"salary negotiable"', [7]],
    ['attachment:negot*', [7]],
    ['attachment:resume', []],
    ['attachment:no9386011117947 invoice', [1]],
    ['invoice -attachment:payable', [3, 4, 5]],
    ['attachment:payable OR attachment:salary', [1, 7]],
    ['type:pdf', [1]],
    ['type:docx', [7]],
    ['type:doc', []],
    ['type:pdf OR type:docx', [1, 7]],
    ['-type:pdf', except(1)],
    ['invoice type:pdf', [1]],
    // attributes
    ['has:attachment', [1, 7]],
    ['-has:attachment', except(1, 7)],
    ['before:2024-01-01', [4, 7]],
    ['after:2024-01-01', [1, 2, 3, 5, 8, 10]],
    ['on:2024-01-01', [6]],
    ['after:2023-06-29', except(7, 9).concat(7).sort((a, b) => a - b)],
    ['after:2023-06-30', except(7, 9)],
    ['on:2023-06-30', [7]],
    ['before:2023-06-30', []],
    ['-before:2024-01-01', except(4, 7)],
    ['message-id:inv42@example.com', [1]],
    ['message-id:<INV42@example.com>', [1]],
    ['-message-id:inv42@example.com', except(1)],
    [`sha256:${sha(3)}`, [3]],
    [`sha256:${sha(3).toUpperCase()}`, [3]],
    [`sha256:${sha(3).slice(0, 8)}`, [3]],
    [`sha256:${sha(1000 + 1)}`, []],
    // combinations
    ['from:alice@example.com AND (invoice OR "wire transfer") -subject:spam after:2024-01-01', [1, 2]],
    ['(from:alice@example.com OR from:bob@corp.org) has:attachment', [1]],
    ['invoice OR from:carol@corp.org', [1, 3, 4, 5, 7]],
    ['NOT (invoice OR spam) AND to:bob@corp.org', [10]],
    ['to:bob@corp.org -invoice', [10]],
    ['mailbox:team OR (on:2024-01-01 pills)', [6, 7, 9]],
    ['-(from:alice@example.com OR mailbox:team)', [5, 6, 8, 10]],
    ['NOT NOT invoice', [1, 3, 4, 5]],
    ['bcc:eve@corp.org pills', [6]],
    ['from:alice@example.com invoice', [1, 3, 4]],
    ['to:alice@example.com invoice', [5]],
    ['from:alice@example.com to:bob@corp.org invoice -spam', [1, 4]],
    ['cc:dave@sub.example.com 42', [5]],
    ['from:bob@corp.org alice', [5]],
    ['to:bob@corp.org alice', [1, 3, 4]],
    // hostile values stay values
    ['"\'; DROP TABLE doc; --"', [8]],
    ['subject:"\'; DROP TABLE doc; --"', [8]],
    ['from:"\'; DROP TABLE doc; --"', []],
    ['mailbox:"\'; DROP TABLE doc; --"', []],
    ['message-id:"\'; DROP TABLE doc; --"', []],
    ['attachment:"\'; DROP TABLE doc; --"', []],
    ['"x\\" OR body:pills OR \\"y"', []],
    ['"NEAR(invoice spam)"', []],
    ['"invoice" "^spam"', [3]],
  ];
  for (const [q, expected] of cases) {
    test(q, () => {
      assert.deepEqual(search(q), expected);
      assert.deepEqual(search(describeQuery(parseQuery(q))), expected, 'canonical form finds the same');
    });
  }

  test('an unquoted injection attempt is a query error, and the index is intact', () => {
    assert.throws(() => search("'; DROP TABLE doc; --"), (err: unknown) => err instanceof QueryError && err.position === 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM doc').get() as { n: number }).n, DOCS.length);
  });

  test('user values are only ever parameters', () => {
    const q = 'from:"x\'y" subject:"DROP" mailbox:"z;" message-id:"w--" filename:"k"';
    const { where, params } = compileQuery(parseQuery(q));
    for (const fragment of ["x'y", 'DROP', 'z;', 'w--', '"k"']) assert.ok(!where.includes(fragment), fragment);
    assert.equal(where.split('?').length - 1, params.length);
  });

  test('AND-ed full-text terms share one MATCH', () => {
    const { where } = compileQuery(parseQuery('from:alice@example.com AND (invoice OR "wire transfer") -subject:spam after:2024-01-01 filename:pdf'));
    assert.equal(where.match(/MATCH/g)?.length, 1);
    const { where: w2, params } = compileQuery(parseQuery('a b -c -d'));
    assert.equal(w2.match(/MATCH/g)?.length, 1);
    assert.deepEqual(params, ['(("a" AND "b") NOT ("c" OR "d"))']);
    const { params: p3 } = compileQuery(parseQuery('from:@y a b -c'));
    assert.deepEqual(p3, ['("a" AND "b") NOT ("c")', 'y', 'from']);
  });

  test('an exact address beside full text narrows the MATCH and is confirmed by primary key', () => {
    const { where, params } = compileQuery(parseQuery('from:alice@example.com invoice'));
    assert.deepEqual(params, ['"invoice" AND addresses : "alice@example.com"', 'from', 'alice@example.com']);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT d.id FROM doc d WHERE ${where}`).all(...params) as { detail: string }[]).map((r) => r.detail);
    assert.ok(plan.some((d) => /SEARCH p (EXISTS )?USING PRIMARY KEY \(doc_id=\? AND role=\? AND address=\?\)/.test(d)), plan.join(' | '));
    // Envelope-only Bcc is not in the FTS addresses column, so it is never used to narrow.
    assert.deepEqual(compileQuery(parseQuery('bcc:eve@corp.org pills')).params[0], '"pills"');
  });

  // Only the mailbox table (one row per person or role, matched case-insensitively) may be
  // scanned; "SCAN doc_fts ... :M" is a MATCH lookup.
  test('address forms use the participation indexes, not a scan', () => {
    for (const q of ['from:alice@example.com', 'from:@corp.org', 'from:corp.org', 'from:bob', 'cc:a_b', 'mailbox:alice', `sha256:${sha(3).slice(0, 10)}`, 'message-id:x@y']) {
      const { where, params } = compileQuery(parseQuery(q));
      const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT d.id FROM doc d WHERE ${where}`).all(...params) as { detail: string }[])
        .map((r) => r.detail);
      assert.ok(!plan.some((d) => /^SCAN (?!b$|doc_fts VIRTUAL TABLE INDEX \d+:M)/.test(d)), `${q}: ${plan.join(' | ')}`);
    }
  });

  test('metaSchema option names the attached main database', () => {
    db.exec("ATTACH DATABASE ':memory:' AS main2");
    db.exec(`CREATE TABLE main2.mailbox (id INTEGER PRIMARY KEY, name TEXT UNIQUE, display_name TEXT, owner TEXT, sensitivity TEXT);
             CREATE TABLE main2.mailbox_address (address TEXT PRIMARY KEY, mailbox_id INTEGER);
             INSERT INTO main2.mailbox (id, name) VALUES (1, 'carol'); INSERT INTO main2.mailbox_address VALUES ('carol@corp.org', 1);`);
    const { where, params } = compileQuery(parseQuery('mailbox:carol'), { metaSchema: 'main2' });
    const ids = (db.prepare(`SELECT d.id FROM doc d WHERE ${where}`).all(...params) as { id: number }[]).map((r) => r.id).sort();
    assert.deepEqual(ids, [2, 7]);
    assert.throws(() => compileQuery(parseQuery('a'), { metaSchema: 'x; DROP' }), TypeError);
  });
});
