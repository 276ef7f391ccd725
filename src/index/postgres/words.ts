import type { FullText } from '../index-store.ts';
import type { FtsColumn } from '../search-query.ts';

// The words of a text as FTS5's unicode61 tokenizer with remove_diacritics 2 cuts them
// (index.db), so that both backends find the same messages for the same query: a word is a run
// of letters, digits and private-use characters (a combining mark that no letter absorbs is a
// separator, as in FTS5: Hebrew points, Devanagari vowel signs), case folded, the accents of
// Latin letters removed (é = e, ü = u, å = a; not й, ά or が, which FTS5 keeps); ß, æ, œ, ø and ł
// stay letters of their own, as they do in FTS5 (spelling-variants.ts widens a search term to
// the spelled-out forms of the first four). test/postgres-words.test.ts holds this to FTS5 itself;
// it differs on code points SQLite's older Unicode tables classify otherwise (see there).
//
// No text search configuration does this: the default parser keeps "alice@corp.example" and
// "invoice-1001.pdf" whole (email and file tokens), and `simple` would then find neither
// "alice" nor "1001". So the words are cut here, for the indexed text and for the query alike,
// and reach PostgreSQL as tsvector and tsquery literals, which no dictionary touches.
// Combining diacritical marks (U+0300-U+036F) left after NFC are part of a word in FTS5, and
// removed; other marks are separators.
const SEPARATOR = /[^\p{L}\p{N}\p{Co}\u0300-\u036f]+/u;
const LOOSE_DIACRITICS = /[\u0300-\u036f]/gu;
// A Latin letter and the marks on it (after NFD; "İ" lowercases to i and a combining dot).
const LATIN_MARKED = /(\p{Script=Latin})\p{M}+/gu;

export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.normalize('NFC').split(SEPARATOR)) {
    const bare = raw.replace(LOOSE_DIACRITICS, '');
    if (bare === '') continue;
    out.push(bare.toLowerCase().normalize('NFD').replace(LATIN_MARKED, '$1').normalize('NFC'));
  }
  return out;
}

// tsvector's own limits: a position is at most 16383, a word holds at most 256 positions and at
// most 2047 bytes, the whole vector at most 1 MB. Past them a word is still found, but a phrase
// far into a long text may not be (its positions all read 16383).
const MAX_POSITION = 16383;
const MAX_POSITIONS = 255;
const MAX_WORD_BYTES = 2000;
const MAX_VECTOR_BYTES = 900_000;

// The weight each column's words carry in a document's vector; addresses and body share D (no
// query names either of them alone: from:/to: read the participation rows).
export const COLUMN_WEIGHT: Record<FtsColumn | 'addresses' | 'body', string> = { subject: 'A', filenames: 'B', attachments: 'C', addresses: 'D', body: 'D' };

// A tsvector literal of texts, each in its weight; one position is left free between two texts,
// so that a phrase never runs from one column into the next (as in FTS5, where a phrase is in one column).
// A text with a `mark` has each of its words twice: as itself and marked (MARK.subject).
export function vectorOf(texts: readonly { text: string; weight: string; mark?: string }[]): string {
  const positions = new Map<string, string[]>();
  let at = 0;
  let bytes = 0;
  const add = (w: string, weight: string) => {
    let list = positions.get(w);
    if (list === undefined) {
      const size = Buffer.byteLength(w) + 8;
      if (Buffer.byteLength(w) > MAX_WORD_BYTES || bytes + size > MAX_VECTOR_BYTES) return;
      bytes += size;
      positions.set(w, list = []);
    }
    if (list.length < MAX_POSITIONS) {
      list.push(`${at}${weight}`);
      bytes += 4;
    }
  };
  for (const { text, weight, mark } of texts) {
    for (const w of wordsOf(text)) {
      at = Math.min(at + 1, MAX_POSITION);
      add(w, weight);
      if (mark !== undefined) add(mark + w, weight);
    }
    at = Math.min(at + 1, MAX_POSITION);
  }
  return [...positions].map(([w, list]) => `${quote(w)}:${list.join(',')}`).join(' ');
}

export function documentVector(text: FullText): string {
  return vectorOf([
    { text: text.subject, weight: COLUMN_WEIGHT.subject, mark: MARK.subject }, { text: text.addresses, weight: COLUMN_WEIGHT.addresses },
    { text: text.body, weight: COLUMN_WEIGHT.body }, { text: text.filenames, weight: COLUMN_WEIGHT.filenames },
    { text: text.attachments, weight: COLUMN_WEIGHT.attachments },
  ]);
}

// Lexemes no word can be (wordsOf cuts words at '@' and '='): conditions the GIN index answers
// beside the words. A document's vector holds one per participant address (any role, Bcc and
// envelope sender included: a mailbox's scope is these ORed), per From address and domain, one
// when it has an attachment and one of the month of its date (YYYYMM, UTC: monthLexeme) — these
// written by migration 0004's scope_words on the server — and its subject's words again, marked,
// at the same positions (documentVector), so that `subject:` needs no weight and so no look at
// the row.
export const MARK = { participant: '@a=', from: '@f=', fromDomain: '@g=', attachment: '@h', month: '@d=', subject: '@s=' } as const;

export function markLexeme(mark: string, value = ''): string {
  return quote(mark + value);
}

export function monthLexeme(ms: number): string {
  const d = new Date(ms);
  return markLexeme(MARK.month, `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
}

// The month lexemes of the dates from..to-1, ORed; null past `max` months, or outside the years
// a month lexeme is written for (0000-9999 as PostgreSQL's to_char writes them: 1000-9999 here).
export function monthsLexemes(from: number, to: number, max: number): string | null {
  if (from < Date.UTC(1000, 0, 1) || to > Date.UTC(10000, 0, 1) || from >= to) return null;
  const out: string[] = [];
  const at = new Date(from);
  for (let m = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1); m < to; m = Date.UTC(new Date(m).getUTCFullYear(), new Date(m).getUTCMonth() + 1, 1)) {
    if (out.length === max) return null;
    out.push(monthLexeme(m));
  }
  return out.join(' | ');
}

export function scopeLexeme(address: string): string {
  return markLexeme(MARK.participant, address);
}

// A word as a tsvector or tsquery lexeme (its words hold no quote or backslash, but a lexeme is
// quoted whatever it holds).
function quote(w: string): string {
  return `'${w.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}

// A term of the query as a tsquery: its words one after the other (<->, a phrase when more
// than one), the last a prefix (:*) when the term is, each restricted to the column's weight
// or marked (MARK.subject). null when it holds no word at all.
export function termQuery(value: string, prefix: boolean, weight: string | null, mark = ''): string | null {
  const ws = wordsOf(value);
  if (ws.length === 0) return null;
  const parts = ws.map((w, i) => {
    const star = prefix && i === ws.length - 1 ? '*' : '';
    const label = star + (weight ?? '');
    return label === '' ? quote(mark + w) : `${quote(mark + w)}:${label}`;
  });
  return parts.length === 1 ? parts[0]! : `(${parts.join(' <-> ')})`;
}
