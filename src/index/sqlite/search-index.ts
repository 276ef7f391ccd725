import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CompletenessSummary } from '../index-completeness.ts';
import type { IndexDatabase } from './index-db.ts';
import { boundedTotal, countLimit, rankedNewestPage } from '../search-index.ts';
import type { AttachmentHit, IndexedAttachment, IndexedDocument, IndexFailures, MailboxIndexInfo, Participant, SearchHit, SearchIndex, SearchOptions, SearchResult, SearchScope } from '../search-index.ts';
import { describeQuery, parseQuery, QueryError } from '../search-query.ts';
import { spellingVariants } from '../spelling-variants.ts';
import { attachmentWordsExpression, compileQuery, compileScope, compileScoped, compileScopeWindow } from './fts5-compiler.ts';
import type { CompiledQuery } from './fts5-compiler.ts';
import { Fts5Snippets } from './fts5-snippets.ts';
import { monthOf, NO_DATE_TOKEN } from './scope-tokens.ts';

// Within mailboxes (#scoped): a MATCH that finds at most this many rows is sorted whole; more,
// and the page is read a month at a time, newest (or oldest) first.
const SORT_WHOLE = 2_000;
// A query with conditions the MATCH cannot hold is checked row by row on at most this many of
// its rows; past that the plan over the whole index (date index, participation) is faster.
const CHECK_ROWS = 20_000;
// Mailboxes with more addresses than this together are searched through participation.
const MAX_SCOPE_ADDRESSES = 500;
// Within one month, the page is found by walking the date index (#monthPage) when the month
// holds more than this many times the matches the page needs; else the matches' rows are sorted.
const WALK_WHEN = 2;
// inScope with a fixed query asks a window of ids for messages at most this many times as many
// ids apart as there are of them.
const DENSE_WINDOW = 4;

// Whether every date of a window lies in one month.
function oneMonth(window: { from: number | null; to: number | null }): boolean {
  return window.from !== null && window.to !== null && window.to > window.from && monthOf(window.from)!.token === monthOf(window.to - 1)!.token;
}

// A bound SQLite can compare with: the infinities of the months before year 0 and after 9999.
function finite(n: number): number {
  return n === Infinity ? Number.MAX_SAFE_INTEGER : n === -Infinity ? Number.MIN_SAFE_INTEGER : n;
}

// Reads the index database (with the main database attached as "meta"; see openIndexDb), each
// call in a read transaction of its connection.
export class SqliteSearchIndex implements SearchIndex {
  readonly #index: IndexDatabase;
  readonly #db: DatabaseSync;
  readonly #snippets = new Fts5Snippets();
  readonly #countFullText: StatementSync;
  readonly #monthPageDesc: StatementSync;
  readonly #monthPageAsc: StatementSync;
  readonly #term: StatementSync | null;
  readonly #termPrefix: StatementSync | null;
  readonly #spellings = (value: string, prefix: boolean) => this.#spellingsFound(value, prefix);

  constructor(index: IndexDatabase) {
    this.#index = index;
    const db = this.#db = index.db;
    this.#countFullText = db.prepare('SELECT COUNT(*) AS n FROM doc_fts WHERE doc_fts MATCH ?');
    // A month's matches (the MATCH run once, its ids kept and counted) in date order: their rows
    // sorted when they are few (?4), else the month's entries in the date index walked from its
    // end, each id looked up among the matches, the rows read for the page alone.
    const monthPage = (dir: string) => db.prepare(`WITH matched AS MATERIALIZED (SELECT rowid AS id FROM doc_fts WHERE doc_fts MATCH ?1),
      counted AS MATERIALIZED (SELECT COUNT(*) AS n FROM matched)
      SELECT * FROM (SELECT d.id, d.sha256, d.message_id, d.date, d.from_text, d.subject, (SELECT n FROM counted) AS total FROM matched m CROSS JOIN doc d ON d.id = m.id
        ORDER BY d.date ${dir}, d.id ${dir} LIMIT CASE WHEN (SELECT n FROM counted) <= ?4 THEN ?5 ELSE 0 END OFFSET ?6)
      UNION ALL
      SELECT * FROM (SELECT d.id, d.sha256, d.message_id, d.date, d.from_text, d.subject, (SELECT n FROM counted) AS total FROM doc d INDEXED BY doc_date
        WHERE d.date >= ?2 AND d.date < ?3 AND d.id IN (SELECT id FROM matched) ORDER BY d.date ${dir}, d.id ${dir} LIMIT CASE WHEN (SELECT n FROM counted) > ?4 THEN ?5 ELSE 0 END OFFSET ?6)`);
    this.#monthPageDesc = monthPage('DESC');
    this.#monthPageAsc = monthPage('ASC');
    // The index's words, to search only the spellings it holds. A temporary table of this
    // connection (no schema change, and a read-only connection may make it).
    let vocabulary = false;
    try {
      db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.doc_words USING fts5vocab(main, doc_fts, 'row')");
      vocabulary = true;
    } catch {
      // Without it every spelling is searched: slower, the same answer.
    }
    this.#term = vocabulary ? db.prepare('SELECT 1 FROM temp.doc_words WHERE term = ?') : null;
    this.#termPrefix = vocabulary ? db.prepare('SELECT 1 FROM temp.doc_words WHERE term >= ? AND term < ? LIMIT 1') : null;
  }

  // A term's spellings (spelling-variants.ts) less those no indexed word has: "spamassassin" is
  // searched as itself alone unless "spamaßassin" was ever written. A spelling is left out only
  // when that is certain: each of its words is in the tokenizer's own form (lower case, no
  // letter it would fold), and the index has no such word (or, for a prefix, none starting so).
  #spellingsFound(value: string, prefix: boolean): string[] {
    const all = spellingVariants(value, prefix);
    if (all.length === 1 || this.#term === null) return all;
    // The spelled-out form (ASCII where the letters were) is always searched: it is the common one,
    // and looking a common word up costs as much as searching it.
    const found = all.filter((spelling, k) => {
      if (k === 0) return true;
      const words = spelling.split(/[^\p{L}\p{N}\p{Co}]+/u).filter(Boolean);
      if (!words.every((w) => /^[a-z0-9ßæœø]+$/.test(w))) return true;
      return words.every((w, i) => (prefix && i === words.length - 1
        ? this.#termPrefix!.get(w, w + '\u{10FFFF}') !== undefined
        : this.#term!.get(w) !== undefined));
    });
    return found;
  }

  // What fn reads, in one read transaction.
  #read<T>(fn: () => T): Promise<T> {
    return this.#index.transactions.read(async () => fn());
  }

  search(text: string, options: SearchOptions): Promise<SearchResult> {
    return this.#read(() => this.#search(text, options));
  }

  #search(text: string, options: SearchOptions): SearchResult {
    const condition = options.scope ? compileScope(options.scope) : undefined;
    const node = parseQuery(text);
    const compiled = compileQuery(node, { envelopeOf: options.envelopeOf, spellings: this.#spellings });
    const where = `(${compiled.where})${condition ? ` AND (${condition.where})` : ''}`;
    const params = [...compiled.params, ...(condition?.params ?? [])];
    const dir = options.sort === 'oldest' ? 'ASC' : 'DESC';
    const offset = options.offset ?? 0;
    const ranked = options.sort === 'relevance' && compiled.ranking !== null;
    let rows: Record<string, any>[];
    let total: number;
    let scoped: { rows: Record<string, any>[]; total: number } | null;
    let long: { rows: Record<string, any>[]; total: number } | null = null;
    try {
      if (ranked && options.rankUpTo !== undefined && (long = this.#rankedNewest(node, options, compiled, where, params, condition !== undefined, offset)) !== null) {
        ({ rows, total } = long);
      } else if (ranked && condition && (scoped = this.#rankedScoped(node, options, offset)) !== null) {
        ({ rows, total } = scoped);
      } else if (ranked) {
        // Every match is ranked before the best come out, so the total comes from that pass too.
        // A match found by its other terms only (a from: beside an OR) has no rank: it comes last.
        rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject, t.total FROM (SELECT d.id AS id, d.date AS date, r.rank AS rank, COUNT(*) OVER () AS total
          FROM doc d LEFT JOIN (SELECT rowid, rank FROM doc_fts WHERE doc_fts MATCH ?) r ON r.rowid = d.id WHERE ${where}
          ORDER BY r.rank IS NULL, r.rank, d.date DESC, d.id DESC LIMIT ? OFFSET ?) t JOIN doc d ON d.id = t.id ORDER BY t.rank IS NULL, t.rank, t.date DESC, t.id DESC`)
          .all(compiled.ranking, ...params, options.limit, offset) as Record<string, any>[];
        total = rows.length > 0 ? Number(rows[0]!.total) : offset === 0 ? 0 : this.#count(where, params);
      } else if (condition && (scoped = this.#scoped(node, options, dir, offset)) !== null) {
        ({ rows, total } = scoped);
      } else if (condition) {
        // Within a scope SQLite gathers every match of the scope anyway (the mailboxes' messages
        // meet the query's), so the total is counted in that same pass, over ids and dates only
        // (the columns are read for the page alone). A count of its own would do it all again:
        // twice the time of the slowest scoped searches at 100,000 messages.
        rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject, t.total FROM (SELECT d.id AS id, d.date AS date, COUNT(*) OVER () AS total
          FROM doc d WHERE ${where} ORDER BY d.date ${dir}, d.id ${dir} LIMIT ? OFFSET ?) t JOIN doc d ON d.id = t.id ORDER BY t.date ${dir}, t.id ${dir}`)
          .all(...params, options.limit, offset) as Record<string, any>[];
        total = rows.length > 0 ? Number(rows[0]!.total) : offset === 0 ? 0 : this.#count(where, params);
      } else {
        // Over the whole index the date index often lets the page stop after its last row, which
        // a count in the same query would prevent (three times the p95 on the corpus): the page
        // runs alone, says the total itself when it holds the last match, and otherwise the total
        // is counted on its own; a query of nothing but full text in the FTS5 index alone (each
        // of its rows is a document).
        rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject FROM doc d WHERE ${where} ORDER BY d.date ${dir}, d.id ${dir} LIMIT ? OFFSET ?`)
          .all(...params, options.limit, offset) as Record<string, any>[];
        if (rows.length < options.limit && (rows.length > 0 || offset === 0)) total = offset + rows.length;
        else if (compiled.fullText !== null) total = Number((this.#countFullText.get(compiled.fullText) as { n: number }).n);
        else total = this.#count(where, params);
      }
    } catch (err) {
      // A value FTS5 refuses after all (the parser lets through what it should not) is the
      // query's fault, not the archive's: a bad-query answer, never an internal error.
      if (/fts5|MATCH/i.test((err as Error).message)) throw new QueryError(`the full-text index cannot search for this query: ${(err as Error).message}`, 0);
      throw err;
    }
    return { query: describeQuery(node), hits: rows.map(hit), ...boundedTotal(total, countLimit(options)), ...(long ? { rankedNewest: options.rankUpTo! } : {}),
      sort: ranked ? 'relevance' : options.sort === 'oldest' ? 'oldest' : 'newest' };
  }

  // Best match first over more matches than options.rankUpTo: the newest that many ranked by
  // FTS5 (ranking a common word's every match is most of such a search), ahead of the older ones
  // newest first; null when the query finds no more than that (every match is ranked).
  #rankedNewest(node: ReturnType<typeof parseQuery>, options: SearchOptions, compiled: CompiledQuery, where: string, params: (string | number)[], scoped: boolean, offset: number): { rows: Record<string, any>[]; total: number } | null {
    const bound = options.rankUpTo!;
    const plan = scoped ? this.#plan(node, options) : null;
    if (plan === 'nothing') return null;
    // Within mailboxes, a MATCH that is the whole query is counted and read a month at a time by
    // FTS5 alone; else the query's SQL in date order.
    const whole = plan !== null && plan.residual === null ? plan : null;
    const match = whole?.match ?? null;
    const total = match !== null ? Number((this.#countFullText.get(match) as { n: number }).n)
      : !scoped && compiled.fullText !== null ? Number((this.#countFullText.get(compiled.fullText) as { n: number }).n) : this.#count(where, params);
    if (total <= bound) return null;
    const newest = (n: number): number[] => (match !== null ? this.#byMonth(match, 'DESC', n, whole!.window).slice(0, n)
      : (this.#db.prepare(`SELECT d.id FROM doc d WHERE ${where} ORDER BY d.date DESC, d.id DESC LIMIT ?`).all(...params, n) as { id: number }[]).map((r) => Number(r.id)));
    const ids = newest(bound);
    const ranks = new Map((this.#db.prepare('SELECT rowid AS id, rank FROM doc_fts WHERE doc_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))')
      .all(compiled.ranking!, JSON.stringify(ids)) as { id: number; rank: number }[]).map((r) => [Number(r.id), r.rank]));
    // FTS5's rank: lower is better; a match without the words (found by its other terms) last;
    // ties in newest-first order, which `ids` is in.
    const place = new Map(ids.map((id, i) => [id, i]));
    const order = [...ids].sort((a, b) => (ranks.get(a) ?? Infinity) - (ranks.get(b) ?? Infinity) || place.get(a)! - place.get(b)!);
    return { rows: this.#docs(rankedNewestPage(order, offset, options.limit, newest)), total };
  }

  // Within mailboxes: the query and the mailboxes' address tokens as one MATCH (compileScoped),
  // counted by FTS5 itself; null when the plan over the whole index is the better one.
  #scoped(node: ReturnType<typeof parseQuery>, options: SearchOptions, dir: 'ASC' | 'DESC', offset: number): { rows: Record<string, any>[]; total: number } | null {
    const plan = this.#plan(node, options);
    if (plan === 'nothing') return { rows: [], total: 0 };
    if (plan === null) return null;
    const { match, residual } = plan;
    if (residual === null && oneMonth(plan.window)) return this.#inMonth(match, plan.window as { from: number; to: number }, dir, offset, options.limit);
    // A search that counts no further than countUpTo needs no more of the MATCH's ids than that.
    const sortUpTo = residual !== null ? CHECK_ROWS : SORT_WHOLE;
    const upTo = Math.max(sortUpTo, countLimit(options) ?? 0);
    const first = this.#sortWhole(match, residual, dir, offset, options.limit, sortUpTo, upTo);
    if (first.rows !== null) return { rows: first.rows, total: first.total };
    // More rows to check than CHECK_ROWS: the plan over the whole index is faster.
    if (residual !== null) return null;
    // Past upTo, a total asked for whole is counted on its own; else upTo + 1 says "more".
    const found = first.total > upTo && countLimit(options) === undefined ? Number((this.#countFullText.get(match) as { n: number }).n) : first.total;
    const want = offset + options.limit;
    if (offset >= found) return { rows: [], total: found };
    const ids2 = this.#byMonth(match, dir, want, plan.window).slice(offset, want);
    return { rows: this.#docs(ids2), total: found };
  }

  // The scoped MATCH and its residual (compileScoped); 'nothing' when the mailboxes have no
  // address, null when they have too many for one MATCH.
  #plan(node: ReturnType<typeof parseQuery>, options: SearchOptions): ReturnType<typeof compileScoped> | 'nothing' | null {
    // Until index migration 7 has committed (it rebuilds the table: long on a big index, and
    // searches go on meanwhile) the table has no scope column, and the general plan answers.
    if (this.#db.prepare("SELECT 1 FROM pragma_table_xinfo('doc_fts') WHERE name = 'scope'").get() === undefined) return null;
    const ids = options.scope!.mailboxes.map((m) => m.id);
    const addresses = (this.#db.prepare('SELECT DISTINCT address FROM meta.mailbox_address WHERE mailbox_id IN (SELECT value FROM json_each(?)) ORDER BY address')
      .all(JSON.stringify(ids)) as { address: string }[]).map((r) => r.address);
    if (addresses.length === 0) return 'nothing';
    if (addresses.length > MAX_SCOPE_ADDRESSES) return null;
    // Two queries: SQLite reads MIN or MAX alone from the date index, both at once from every row.
    const dates = () => {
      const min = (this.#db.prepare('SELECT MIN(date) AS d FROM doc').get() as { d: number | null }).d;
      const max = (this.#db.prepare('SELECT MAX(date) AS d FROM doc').get() as { d: number | null }).d;
      return min === null || max === null ? null : { min: Number(min), max: Number(max) };
    };
    return compileScoped(node, options.scope!, addresses, { envelopeOf: options.envelopeOf, spellings: this.#spellings, dates });
  }

  // Best match first within mailboxes, when the MATCH is the whole query: BM25 over it with the
  // scope column weighing nothing is the rank of the query's own words (a word it excludes
  // scores nothing in a row that matches), ties newest first. A query with conditions beside its
  // words (an OR with from:, whose rows without the words come last) takes the general plan.
  #rankedScoped(node: ReturnType<typeof parseQuery>, options: SearchOptions, offset: number): { rows: Record<string, any>[]; total: number } | null {
    const plan = this.#plan(node, options);
    if (plan === 'nothing') return { rows: [], total: 0 };
    if (plan === null || plan.residual !== null) return null;
    const rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject, t.total FROM (SELECT d.id AS id, d.date AS date, f.rank AS rank, COUNT(*) OVER () AS total
      FROM (SELECT rowid AS id, bm25(doc_fts, 1, 1, 1, 1, 1, 0) AS rank FROM doc_fts WHERE doc_fts MATCH ?) f CROSS JOIN doc d ON d.id = f.id
      ORDER BY f.rank, d.date DESC, d.id DESC LIMIT ? OFFSET ?) t JOIN doc d ON d.id = t.id ORDER BY t.rank, t.date DESC, t.id DESC`)
      .all(plan.match, options.limit, offset) as Record<string, any>[];
    if (rows.length > 0 || offset === 0) return { rows, total: rows.length > 0 ? Number(rows[0]!.total) : 0 };
    return { rows, total: Number((this.#countFullText.get(plan.match) as { n: number }).n) };
  }

  // The MATCH run once: its ids kept (at most upTo + 1: FTS5 stops there) and counted, and when
  // there are no more than sortUpTo, their rows (those the residual keeps) read and sorted for
  // the page, in the same statement. Else `rows` is null and `total` the ids kept. (Counting
  // first and then finding the same rows again ran the MATCH twice: for a phrase or a subject:
  // word, whose positions FTS5 reads, most of the search; and a common word's whole list was
  // counted where the page says "more than 10,000".)
  #sortWhole(match: string, residual: CompiledQuery | null, dir: 'ASC' | 'DESC', offset: number, limit: number, sortUpTo: number, upTo: number): { rows: Record<string, any>[] | null; total: number } {
    // CROSS JOIN: from the MATCH's rows to their documents, never a scan of the date index.
    const rows = this.#db.prepare(`WITH matched AS MATERIALIZED (SELECT rowid AS id FROM doc_fts WHERE doc_fts MATCH ? LIMIT ?),
      counted AS MATERIALIZED (SELECT COUNT(*) AS n FROM matched)
      SELECT 0 AS page, NULL AS sha256, NULL AS message_id, NULL AS date, NULL AS from_text, NULL AS subject, n AS total FROM counted
      UNION ALL
      SELECT * FROM (SELECT 1 AS page, d.sha256, d.message_id, d.date, d.from_text, d.subject, t.total FROM (SELECT d.id AS id, d.date AS date, COUNT(*) OVER () AS total
        FROM matched m CROSS JOIN doc d ON d.id = m.id ${residual ? `WHERE ${residual.where}` : ''}
        ORDER BY d.date ${dir}, d.id ${dir} LIMIT CASE WHEN (SELECT n FROM counted) <= ? THEN ? ELSE 0 END OFFSET ?) t JOIN doc d ON d.id = t.id ORDER BY t.date ${dir}, t.id ${dir})`)
      .all(match, upTo + 1, ...(residual?.params ?? []), sortUpTo, limit, offset) as Record<string, any>[];
    const found = Number(rows.find((r) => r.page === 0)!.total);
    if (found > sortUpTo) return { rows: null, total: found };
    const page = rows.filter((r) => r.page === 1);
    if (page.length > 0) return { rows: page, total: Number(page[0]!.total) };
    if (residual === null || offset === 0) return { rows: page, total: residual === null ? found : 0 };
    const n = this.#db.prepare(`SELECT COUNT(*) AS n FROM (SELECT rowid AS id FROM doc_fts WHERE doc_fts MATCH ?) f CROSS JOIN doc d ON d.id = f.id WHERE ${residual.where}`)
      .get(match, ...residual.params) as { n: number };
    return { rows: page, total: Number(n.n) };
  }

  // A MATCH whose every match lies in one month (a month asked for, within mailboxes), counted
  // and paged by #monthPage. Over everything the date index alone answers such a question;
  // within a busy mailbox, reading each match's row for its date was most of it (2,800 rows at
  // 500,000 messages: 12 ms, against 1 ms without the mailbox).
  #inMonth(match: string, window: { from: number; to: number }, dir: 'ASC' | 'DESC', offset: number, limit: number): { rows: Record<string, any>[]; total: number } {
    const rows = this.#monthPage(match, window, dir, offset, limit);
    if (rows.length > 0) return { rows, total: Number(rows[0]!.total) };
    return { rows, total: Number((this.#countFullText.get(match) as { n: number }).n) };
  }

  // The page of a MATCH whose matches all lie in [from, to), one month at most: one statement.
  #monthPage(match: string, month: { from: number; to: number }, dir: 'ASC' | 'DESC', offset: number, limit: number): Record<string, any>[] {
    return (dir === 'DESC' ? this.#monthPageDesc : this.#monthPageAsc).all(match, finite(month.from), finite(month.to), (offset + limit) * WALK_WHEN, limit, offset) as Record<string, any>[];
  }

  // The first `want` rows the MATCH finds in date order, read a month at a time (the scope
  // column's month token) from the newest (or oldest) month any document has within `window`
  // (the dates its matches lie within): a page of a mailbox's common word reads a month or two,
  // not the whole mailbox, and a page of June reads June. Documents without a date come last
  // newest first, first oldest first (as SQLite sorts NULL).
  #byMonth(match: string, dir: 'ASC' | 'DESC', want: number, window: { from: number | null; to: number | null }): number[] {
    const next = this.#db.prepare(dir === 'DESC' ? 'SELECT MAX(date) AS date FROM doc WHERE date < ?' : 'SELECT MIN(date) AS date FROM doc WHERE date >= ?');
    const undated = this.#db.prepare('SELECT 1 FROM doc WHERE date IS NULL LIMIT 1').get() !== undefined;
    const out: number[] = [];
    // In id order, as documents of the same date are (FTS5 reads its rows either way).
    const takeUndated = () => out.push(...(this.#db.prepare(`SELECT rowid AS id FROM doc_fts WHERE doc_fts MATCH ? ORDER BY rowid ${dir}`)
      .all(`(${match}) AND scope : ${NO_DATE_TOKEN}`) as { id: number }[]).map((r) => Number(r.id)));
    if (dir === 'ASC' && undated) takeUndated();
    let bound = dir === 'DESC' ? window.to ?? Infinity : window.from ?? -Infinity;
    while (out.length < want && (dir === 'DESC' ? window.from === null || bound > window.from : window.to === null || bound < window.to)) {
      const row = next.get(finite(bound)) as { date: number | null };
      if (row.date === null) break;
      const month = monthOf(Number(row.date))!;
      for (const r of this.#monthPage(`(${match}) AND scope : ${month.token}`, month, dir, 0, want - out.length)) out.push(Number(r.id));
      bound = dir === 'DESC' ? month.from : month.to;
      if (!Number.isFinite(bound)) break;
    }
    if (dir === 'DESC' && undated && out.length < want) takeUndated();
    return out;
  }

  // The result columns of these documents, in this order.
  #docs(ids: number[]): Record<string, any>[] {
    const rows = this.#db.prepare('SELECT id, sha256, message_id, date, from_text, subject FROM doc WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Record<string, any>[];
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  #count(where: string, params: (string | number)[]): number {
    return Number((this.#db.prepare(`SELECT COUNT(*) AS n FROM doc d WHERE ${where}`).get(...params) as { n: number }).n);
  }

  thread(messageRowId: number, scope: SearchScope): Promise<SearchHit[]> {
    return this.#read(() => this.#thread(messageRowId, scope));
  }

  #thread(messageRowId: number, scope: SearchScope): SearchHit[] {
    const cond = compileScope(scope, 'one');
    if (this.#db.prepare(`SELECT 1 FROM doc d WHERE d.id = ? AND (${cond.where})`).get(messageRowId, ...cond.params) === undefined) return [];
    const rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject FROM doc d
      WHERE d.thread_key = (SELECT t.thread_key FROM doc t WHERE t.id = ?) AND (${cond.where}) ORDER BY d.date ASC, d.id ASC`)
      .all(messageRowId, ...cond.params) as Record<string, any>[];
    if (rows.length > 0) return rows.map(hit);
    // Indexed before threads were kept, and not yet given one: a thread of its own.
    return (this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject FROM doc d WHERE d.id = ? AND (${cond.where})`)
      .all(messageRowId, ...cond.params) as Record<string, any>[]).map(hit);
  }

  async snippets(query: string, texts: readonly { key: string; text: string }[]): Promise<Map<string, string>> {
    return this.#snippets.snippets(query, texts);
  }

  // A MATCH with the rowid given reads only that row's place in each word's list: a page of
  // results costs one look-up per attachment that has text, however common the words.
  async attachmentHits(query: string, sha256s: readonly string[]): Promise<Map<string, AttachmentHit[]>> {
    const out = new Map<string, AttachmentHit[]>();
    const expression = sha256s.length === 0 ? null : attachmentWordsExpression(parseQuery(query), this.#spellings);
    if (expression === null) return out;
    return this.#read(() => {
      const rows = this.#db.prepare(`SELECT d.sha256, a.rowid AS row, a.filename, a.extraction FROM doc d JOIN attachment a ON a.doc_id = d.id
        WHERE d.sha256 IN (SELECT value FROM json_each(?)) ORDER BY d.id, a.rowid`).all(JSON.stringify(sha256s)) as { sha256: string; row: number; filename: string | null; extraction: string | null }[];
      // A range of one, not `rowid = ?`: node:sqlite binds a JS number as a REAL, and FTS5
      // (SQLite 3.53) answers `rowid = <real>` beside a MATCH with the rows that match, whatever
      // their rowid (a BigInt would do; the range works with either).
      const match = this.#db.prepare('SELECT rowid AS row FROM attachment_fts WHERE attachment_fts MATCH ?1 AND rowid >= ?2 AND rowid <= ?2');
      let place = 0;
      let last = '';
      for (const r of rows) {
        place = r.sha256 === last ? place + 1 : 0;
        last = r.sha256;
        if (r.extraction === null || match.get(expression, r.row) === undefined) continue;
        out.set(r.sha256, [...(out.get(r.sha256) ?? []), { attachment: place, filename: r.filename }]);
      }
      return out;
    });
  }

  async findInScope(sha256: string, scope: SearchScope): Promise<number | null> {
    return (await this.inScope([sha256], scope)).get(sha256) ?? null;
  }

  // A fixed query is a MATCH, which asked of one row at a time costs ~45 us a row (a disposal
  // plan asks about 10,000 expired messages a page): when the messages lie close together (at
  // most DENSE_WINDOW times as many ids apart as there are of them, as mail expiring in the order
  // it came does) the scope is asked of their window of ids instead, each MATCH listing that
  // window's rows once.
  inScope(sha256s: readonly string[], scope: SearchScope): Promise<Map<string, number>> {
    return this.#read(() => {
      if (scope.fixedQuery !== null && sha256s.length > 0) {
        const rows = (this.#db.prepare('SELECT id, sha256 FROM doc WHERE sha256 IN (SELECT value FROM json_each(?))').all(JSON.stringify(sha256s)) as { id: number; sha256: string }[])
          .map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
        if (rows.length === 0) return new Map();
        const first = rows.reduce((a, r) => Math.min(a, r.id), Infinity);
        const last = rows.reduce((a, r) => Math.max(a, r.id), -Infinity);
        if (last - first < DENSE_WINDOW * rows.length) {
          const inside = new Set(this.#inWindow(scope, first - 1, last).map((r) => r.id));
          return new Map(rows.filter((r) => inside.has(r.id)).map((r) => [r.sha256, r.id]));
        }
      }
      const cond = compileScope(scope, 'one');
      return new Map((this.#db.prepare(`SELECT d.sha256, d.id FROM doc d WHERE d.sha256 IN (SELECT value FROM json_each(?)) AND ${cond.where}`)
        .all(JSON.stringify(sha256s), ...cond.params) as { sha256: string; id: number }[]).map((r) => [r.sha256, Number(r.id)]));
    });
  }

  inScopeBetween(scope: SearchScope, after: number, upTo: number): Promise<{ id: number; sha256: string }[]> {
    return this.#read(() => this.#inWindow(scope, after, upTo));
  }

  #inWindow(scope: SearchScope, after: number, upTo: number): { id: number; sha256: string }[] {
    const cond = compileScopeWindow(scope, after, upTo);
    return (this.#db.prepare(`SELECT d.id, d.sha256 FROM doc d WHERE ${cond.where} ORDER BY d.id`).all(...cond.params) as { id: number; sha256: string }[])
      .map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  document(messageRowId: number): Promise<IndexedDocument | null> {
    return this.#read(() => (this.#db.prepare('SELECT * FROM doc WHERE id = ?').get(messageRowId) as IndexedDocument | undefined) ?? null);
  }

  indexed(messageRowIds: readonly number[]): Promise<Set<number>> {
    return this.#read(() => new Set((this.#db.prepare('SELECT id FROM doc WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(messageRowIds)) as { id: number }[]).map((r) => Number(r.id))));
  }

  participants(messageRowId: number): Promise<Participant[]> {
    return this.#read(() => this.#db.prepare(`SELECT p.address, p.role, p.name, m.name AS mailbox FROM participation p
      LEFT JOIN meta.mailbox_address a ON a.address = p.address LEFT JOIN meta.mailbox m ON m.id = a.mailbox_id
      WHERE p.doc_id = ? ORDER BY CASE p.role WHEN 'from' THEN 0 WHEN 'sender' THEN 1 WHEN 'to' THEN 2 WHEN 'cc' THEN 3 ELSE 4 END, p.address`)
      .all(messageRowId) as any[]);
  }

  // One query however many messages (a search page, an export); CROSS JOIN keeps SQLite
  // starting from the messages, not from every message of a big mailbox.
  async mailboxesHolding(sha256s: readonly string[], mailboxIds: readonly number[]): Promise<Set<number>> {
    if (sha256s.length === 0 || mailboxIds.length === 0) return new Set();
    const rows = await this.#read(() => this.#db.prepare(`SELECT DISTINCT a.mailbox_id AS id FROM doc d
      CROSS JOIN participation p ON p.doc_id = d.id CROSS JOIN meta.mailbox_address a ON a.address = p.address
      WHERE d.sha256 IN (SELECT value FROM json_each(?)) AND a.mailbox_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(sha256s), JSON.stringify(mailboxIds)) as { id: number }[]);
    return new Set(rows.map((r) => Number(r.id)));
  }

  async messagesOnlyOf(mailboxIds: readonly number[], limit: number): Promise<{ id: number; sha256: string; mailboxes: number[] }[]> {
    if (mailboxIds.length === 0) return [];
    const rows = await this.#read(() => this.#db.prepare(`SELECT d.id, d.sha256, json_group_array(DISTINCT a.mailbox_id) AS boxes FROM doc d
      CROSS JOIN participation p ON p.doc_id = d.id CROSS JOIN meta.mailbox_address a ON a.address = p.address
      WHERE d.id IN (SELECT p1.doc_id FROM meta.mailbox_address a1 CROSS JOIN participation p1 ON p1.address = a1.address WHERE a1.mailbox_id IN (SELECT value FROM json_each(?1)))
      GROUP BY d.id HAVING SUM(a.mailbox_id NOT IN (SELECT value FROM json_each(?1))) = 0 ORDER BY d.id LIMIT ?2`)
      .all(JSON.stringify(mailboxIds), limit) as { id: number; sha256: string; boxes: string }[]);
    return rows.map((r) => ({ id: Number(r.id), sha256: r.sha256, mailboxes: (JSON.parse(r.boxes) as number[]).map(Number).sort((a, b) => a - b) }));
  }

  attachments(messageRowId: number): Promise<IndexedAttachment[]> {
    return this.#read(() => this.#db.prepare('SELECT filename, content_type AS contentType, size, sha256, extraction FROM attachment WHERE doc_id = ? ORDER BY rowid').all(messageRowId) as any[]);
  }

  completeness(): Promise<CompletenessSummary | null> {
    return this.#read(() => {
      const row = this.#db.prepare("SELECT value FROM index_state WHERE key = 'completeness'").get() as { value: string } | undefined;
      return row ? JSON.parse(row.value) as CompletenessSummary : null;
    });
  }

  pendingAuth(): Promise<number> {
    return this.#read(() => Number((this.#db.prepare('SELECT COUNT(*) AS n FROM auth_pending').get() as { n: number }).n));
  }

  pendingExtraction(): Promise<number> {
    return this.#read(() => Number((this.#db.prepare('SELECT COUNT(*) AS n FROM extraction_pending').get() as { n: number }).n));
  }

  // One FTS5 table answers every scope here (the scope column's tokens).
  mailboxIndexes(): Promise<MailboxIndexInfo[]> {
    return Promise.resolve([]);
  }

  authVerdicts(captureRowId: number): Promise<unknown> {
    return this.#read(() => {
      const row = this.#db.prepare('SELECT verdicts FROM capture_auth WHERE capture_row = ?').get(captureRowId) as { verdicts: string } | undefined;
      return row ? JSON.parse(row.verdicts) : null;
    });
  }

  sameMessageId(messageIdLc: string, exceptRowId: number, scope: SearchScope): Promise<string[]> {
    const cond = compileScope(scope, 'one');
    return this.#read(() => (this.#db.prepare(`SELECT d.sha256 FROM doc d WHERE d.message_id_lc = ? AND d.id <> ? AND (${cond.where}) ORDER BY d.id`)
      .all(messageIdLc, exceptRowId, ...cond.params) as { sha256: string }[]).map((r) => r.sha256));
  }

  messagesWith(addresses: readonly string[]): Promise<{ id: number; sha256: string }[]> {
    return this.#read(() => (this.#db.prepare(`SELECT DISTINCT d.id, d.sha256 FROM participation p JOIN doc d ON d.id = p.doc_id
      WHERE p.address IN (SELECT value FROM json_each(?)) ORDER BY d.id`).all(JSON.stringify(addresses)) as { id: number; sha256: string }[]).map((r) => ({ id: Number(r.id), sha256: r.sha256 })));
  }

  // From the person's participation rows to their messages' other participants, and from those
  // to the mailboxes that own their addresses: one query, however much mail the person is in.
  async mailboxesWith(addresses: readonly string[]): Promise<string[]> {
    if (addresses.length === 0) return [];
    return (await this.#read(() => this.#db.prepare(`SELECT DISTINCT m.name FROM participation s
      CROSS JOIN participation p ON p.doc_id = s.doc_id CROSS JOIN meta.mailbox_address a ON a.address = p.address CROSS JOIN meta.mailbox m ON m.id = a.mailbox_id
      WHERE s.address IN (SELECT value FROM json_each(?)) ORDER BY m.name`).all(JSON.stringify(addresses)) as { name: string }[])).map((r) => r.name);
  }

  failures(limit = 20): Promise<IndexFailures> {
    return this.#read(() => this.#failures(limit));
  }

  #failures(limit: number): IndexFailures {
    const count = Number((this.#db.prepare('SELECT COUNT(*) AS n FROM index_failure').get() as { n: number }).n);
    const recent = (this.#db.prepare('SELECT capture_row, sha256, error, attempts, last_failed_at FROM index_failure ORDER BY last_failed_at DESC, capture_row DESC LIMIT ?').all(limit) as any[])
      .map((r) => ({ captureRow: Number(r.capture_row), sha256: r.sha256, error: r.error, attempts: Number(r.attempts), lastFailedAt: Number(r.last_failed_at) }));
    return { count, recent };
  }

  cursor(): Promise<number> {
    return this.#read(() => {
      const row = this.#db.prepare("SELECT value FROM index_state WHERE key = 'cursor'").get() as { value: string } | undefined;
      return row ? Number(row.value) : 0;
    });
  }
}

function hit(r: Record<string, any>): SearchHit {
  return { sha256: r.sha256, messageId: r.message_id, date: r.date === null ? null : Number(r.date), from: r.from_text, subject: r.subject };
}
