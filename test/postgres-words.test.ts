// The PostgreSQL search index cuts words in JavaScript (src/index/postgres/words.ts) and must cut
// them exactly as FTS5's unicode61 tokenizer with remove_diacritics 2 does in index.db, or the
// two backends would find different messages for the same query. Checked against FTS5 itself
// (node:sqlite, in memory), text by text, in many scripts. Not every code point agrees: SQLite's
// tables are of an older Unicode, so code points unassigned then (2,678 of the BMP, most outside
// the common scripts; a few Latin ones such as µ, ſ and ǡ folded further by FTS5, some combining
// marks FTS5 counts as separators, emoji modifiers it counts as letters) may be cut differently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { termQuery, vectorOf, wordsOf } from '../src/index/postgres/words.ts';

const SAMPLES = [
  'Invoice 1001 for March: please pay invoice-1001.pdf by wire transfer before Friday.',
  '"Alice Smith" <alice@corp.example>, a.smith@corp.example; noreply@mail.corp.example',
  'Łódź Kraków Đorđe Ħamrun ŧest İstanbul ıi',
  'Mönchengladbach café naïve Ærøskøbing Straße ẞ encyclopædia smørrebrød Søren œuvre',
  'Йошкар-Ола ёлка ЁЛКА', 'がぎぐ カタカナ 漢字テスト', 'Ελληνικά άέή ΆΈΉ',
  'ﬁne ﬂow Ⅻ ①② ２０２６年', 'résumé Åse ǅemal ĳssel Ǆ', 'עִבְרִית العَرَبِيَّة', 'हिन्दी தமிழ்',
  'x\u0301y combining e\u0301 decomposed', 'tab\there\r\nnew line — dash – en…ellipsis', 'emoji 👍 ok ‍zero​width',
  'private \uE000use\uE001 chars', 'MiXeD CaSe 123abc abc123 3.14 1,000,000 ²³',
];

test('words are cut, folded and stripped of accents as FTS5 unicode61 (remove_diacritics 2) does', () => {
  const db = new DatabaseSync(':memory:');
  db.exec("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')");
  db.exec("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')");
  for (const text of SAMPLES) {
    db.exec('DELETE FROM t');
    db.prepare('INSERT INTO t (rowid, x) VALUES (1, ?)').run(text);
    const fts5 = (db.prepare('SELECT term FROM v ORDER BY "offset"').all() as { term: string }[]).map((r) => r.term);
    assert.ok(fts5.length > 0, text);
    assert.deepEqual(wordsOf(text), fts5, text);
  }
  db.close();
});

test('a vector keeps each column apart and in its weight; a query term is quoted, phrased and weighted', () => {
  assert.equal(vectorOf([{ text: 'Invoice 1001', weight: 'A' }, { text: 'invoice-1001.pdf', weight: 'B' }]), "'invoice':1A,4B '1001':2A,5B 'pdf':6B");
  assert.equal(termQuery('Straße', false, null), "'straße'");
  assert.equal(termQuery('wire transfer', false, 'A'), "('wire':A <-> 'transfer':A)");
  assert.equal(termQuery("o'brien x\\y", true, null), "('o' <-> 'brien' <-> 'x' <-> 'y':*)");
  assert.equal(termQuery('—', false, null), null);
  // A subject's words again, marked, at the same positions: subject: needs no weight.
  assert.equal(vectorOf([{ text: 'Invoice 1001', weight: 'A', mark: '@s=' }, { text: 'invoice', weight: 'D' }]), "'invoice':1A,4D '@s=invoice':1A '1001':2A '@s=1001':2A");
  assert.equal(termQuery('wire trans', true, null, '@s='), "('@s=wire' <-> '@s=trans':*)");
});
