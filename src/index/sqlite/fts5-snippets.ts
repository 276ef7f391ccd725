import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { parseQuery } from '../search-query.ts';
import { matchedWordsExpression } from './fts5-compiler.ts';

// Snippets cut by FTS5's own snippet(), with the index's tokenizer, so that what is marked is
// exactly what the query matched (spellings included). The index's table keeps no text
// (contentless), so the texts are put, for one call, in a table of an in-memory database of
// their own and deleted again: nothing of them reaches a file.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SNIPPET_TOKENS = 24;
const LEAD_CHARS = 200;

export class Fts5Snippets {
  #db: DatabaseSync | null = null;
  #insert: StatementSync | null = null;
  #match: StatementSync | null = null;

  snippets(query: string, texts: readonly { key: string; text: string }[]): Map<string, string> {
    const out = new Map<string, string>();
    if (texts.length === 0) return out;
    const expression = matchedWordsExpression(parseQuery(query));
    if (expression !== null) {
      const db = this.#open();
      db.exec('BEGIN');
      try {
        texts.forEach((t, i) => this.#insert!.run(i + 1, t.text.replace(/[\uE000\uE001]/g, '')));
        for (const row of this.#match!.all(expression, SNIPPET_TOKENS) as { rowid: number; s: string | null }[]) {
          const s = row.s ?? '';
          if (s.includes(OPEN)) out.set(texts[Number(row.rowid) - 1]!.key, markup(s));
        }
      } finally {
        db.exec('DELETE FROM passage');
        db.exec('COMMIT');
      }
    }
    for (const t of texts) if (!out.has(t.key)) out.set(t.key, lead(t.text));
    return out;
  }

  #open(): DatabaseSync {
    if (this.#db) return this.#db;
    const db = new DatabaseSync(':memory:');
    db.exec("CREATE VIRTUAL TABLE passage USING fts5(body, tokenize='unicode61 remove_diacritics 2')");
    this.#insert = db.prepare('INSERT INTO passage (rowid, body) VALUES (?, ?)');
    this.#match = db.prepare(`SELECT rowid, snippet(passage, 0, '${OPEN}', '${CLOSE}', '…', ?2) AS s FROM passage WHERE passage MATCH ?1`);
    this.#db = db;
    return db;
  }
}

// The marked passage as HTML: everything escaped, then the marks made <mark>.
function markup(s: string): string {
  return escapeHtml(s.replace(/\s+/g, ' ').trim()).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>');
}

// The start of a text that matched no word of the query (a from: or date search), escaped.
function lead(text: string): string {
  const flat = text.replace(/[\uE000\uE001]/g, '').replace(/\s+/g, ' ').trim();
  if (flat.length <= LEAD_CHARS) return escapeHtml(flat);
  const cut = flat.lastIndexOf(' ', LEAD_CHARS);
  return escapeHtml(flat.slice(0, cut > LEAD_CHARS / 2 ? cut : LEAD_CHARS)) + '…';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
