// The search index on PostgreSQL: the same query language, results and scope as FTS5 in
// index.db (test/conformance/search-index.test.ts runs both).
//
// Design (issue 17):
// - Tables: doc, participation, attachment, index_state, capture_auth, auth_pending,
//   extraction_pending, index_failure (migration 0003 of src/store/postgres/migrations/), the
//   same as index.db's, in the archive's own schema beside the metadata: the scope and mailbox:
//   conditions join mailbox_address in the same query, in the same snapshot. The index's writes
//   run in transactions of their own on the metadata store's pool, under an advisory lock of
//   their own (index-store.ts), never the metadata's write lock.
// - Full text: one tsvector per document (doc.words) with a GIN index, the columns told apart by
//   weight: subject A, filenames B, text read from attachments C, addresses and body D (no
//   query names those two alone); one position left free between columns, so that a phrase stays
//   in one column as in FTS5. Each attachment's own text has a vector of its own
//   (attachment.words), for attachmentHits.
// - Text search configuration: none. FTS5's unicode61 (remove_diacritics 2) cuts words at
//   anything but letters and digits, folds case and removes accents, and stems nothing. The
//   default parser would keep "alice@corp.example" and "invoice-1001.pdf" as single tokens, and
//   'english' would stem "invoices" to "invoic"; users search names and codes. So words.ts cuts
//   the words as unicode61 does, in JavaScript, for the indexed text and the query alike, and
//   they reach PostgreSQL as tsvector and tsquery literals that no dictionary touches: no
//   stemming, no stop words, no parser surprises, the same words as FTS5.
// - Queries: a word is 'word', a prefix 'word':*, a phrase 'a' <-> 'b' (the last word :* for a
//   prefix phrase), a column restricts by weight ('word':A, 'word':*A); spellings (ß = ss, …)
//   are ORed as in FTS5; AND/OR/NOT of full text become & | ! in one tsquery, so a query of words
//   alone is one GIN look-up. Addresses, dates, types and the date window and fixed query of a
//   scope are SQL over the other tables, as in fts5-compiler.ts.
// - Within mailboxes: each document's vector also holds a lexeme per participant address
//   ('@a=' and the address, any role; migration 0004, scope_words), so the mailboxes are one
//   more key of the same GIN scan: `words @@ ('@a=x' | '@a=y')`, ANDed into the query's own
//   tsquery (compileQuery's `within`). From, attachment, month and subject have lexemes too
//   (words.ts MARK). No word of a query can be such a lexeme. A mailbox holding a share of the
//   archive has a words index of its own (mailbox-indexes.ts): within it the query's tsquery
//   leaves the mailbox's lexemes out and its predicate is a clause of its own, so the planner
//   reads that index and no posting list of the mailbox's every document.
// - Dates alone within mailboxes ("ana's mail of June"): no word to look up, so not the GIN
//   index but each participation row's copy of its document's date (migration 0015), in date
//   order per address (byParticipation).
// - Order: one query counts the matches (PostgreSQL reads each match's row for it) and, when
//   there are up to SORT_WHOLE, sorts them whole for the page (countedPage); a longer list is
//   read a window of dates at a time from its newest (or oldest) end (byWindow), so a page of a
//   common word reads days, not years.
// - A bounded count of a list the planner expects to be long (EXPLAIN; COUNT_BY_MONTHS times the
//   bound) and finds by the GIN index (with the dates' index at most) is made as the list is
//   read: past the page, windows of whole months, each said by its month lexemes, within the
//   dates the query and the scope allow, until more than the bound are found. The
//   GIN index then skips to those months rather than building the bitmap of every match (at
//   10 M, a common word in a big mailbox: millions of entries), and the rows read are about the
//   bound's. This PostgreSQL (15) reads each matching row's page even for a count (its bitmap
//   scans no longer skip all-visible pages), so a count within a mailbox, whose matches are
//   sparser, reads more pages than the same count over everything.
// - Relevance: ts_rank over the words looked for (in their columns), then newest; the weights
//   make a subject match count more than a body match (FTS5's BM25 weighs columns alike).
// - Snippets are cut by FTS5 in memory over the texts handed in (../sqlite/fts5-snippets.ts):
//   the index keeps no text, the texts come from the reader's scope, and the marks are then
//   exactly those of the embedded index.
//
// - Best match first ranks the newest rankUpTo matches of a longer list (ts_rank of their vectors,
//   in memory), then the older ones newest first.
//
// Not done (see README, Scale-out): partitioning doc by month (the month lexemes stop a search
// early within one index instead), nor leaving out spellings the index holds no word of (a lexeme
// not there costs one look in the GIN index's entry tree).
import type { PostgresMetadataStore } from '../../store/postgres/metadata-store.ts';
import { on, type PostgresTransactions } from '../../store/postgres/transactions.ts';
import type { CompletenessSummary } from '../index-completeness.ts';
import { boundedTotal, countLimit, rankedNewestPage } from '../search-index.ts';
import type { AttachmentHit, IndexedAttachment, IndexedDocument, IndexFailures, MailboxIndexInfo, Participant, SearchHit, SearchIndex, SearchOptions, SearchResult, SearchScope } from '../search-index.ts';
import { ADDRESS_ROLES, describeQuery, parseQuery, QueryError } from '../search-query.ts';
import type { QueryNode } from '../search-query.ts';
import { Fts5Snippets } from '../sqlite/fts5-snippets.ts';
import type { Tx } from '../../core/transactions.ts';
import { indexTransactions } from './index-store.ts';
import { isWordsIndex } from './mailbox-indexes.ts';
import { compileQuery, compileScope, matchedWords, queryDates } from './tsquery-compiler.ts';
import { monthsLexemes, scopeLexeme } from './words.ts';

const HIT_COLUMNS = 'd.sha256, d.message_id, d.date, d.from_text, d.subject';

export class PostgresSearchIndex implements SearchIndex {
  readonly #tx: PostgresTransactions;
  readonly #snippets = new Fts5Snippets();
  readonly #sortWhole: number;
  readonly #countByMonths: number | 'always' | undefined;

  // sortWhole: a list longer than this is read a window of dates at a time; countByMonths: a
  // bounded count of more matches than this (as the planner expects) is made by windows of
  // months (by default COUNT_BY_MONTHS times the bound; 'always': whatever the plan). Tests
  // make them short.
  constructor(meta: PostgresMetadataStore, transactions: PostgresTransactions = indexTransactions(meta), options: { sortWhole?: number; countByMonths?: number | 'always' } = {}) {
    this.#tx = transactions;
    this.#sortWhole = options.sortWhole ?? SORT_WHOLE;
    this.#countByMonths = options.countByMonths;
  }

  #read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#tx.read(fn);
  }

  async search(text: string, options: SearchOptions): Promise<SearchResult> {
    const node = parseQuery(text);
    const offset = options.offset ?? 0;
    const ranked = options.sort === 'relevance' && matchedWords(node, { columns: true }) !== null;
    const sort = ranked ? 'relevance' : options.sort === 'oldest' ? 'oldest' : 'newest';
    return this.#read(async (tx) => {
      const db = on(tx);
      // JIT compiles a plan the planner costs high (a count of many matches) for 20-70 ms, more
      // than such a search then takes. A sequential scan of doc tests each row's vector, which
      // mail of any size keeps in TOAST (5 KB a message, compressed, through the commit path):
      // the planner prices the test as one operator and, for a word in a tenth of the archive
      // under a LIMIT, chose it over the GIN index (4.6 s instead of 0.2 s, at 330,000 messages).
      // Both are turned off for the search's transaction in the round trip that reads the
      // scope's addresses (searchSettings).
      const { addresses, own } = await searchSettings(tx, options.scope);
      if (addresses?.length === 0) return { query: describeQuery(node), hits: [], total: 0, sort };
      const dir = ranked ? 'DESC' : options.sort === 'oldest' ? 'ASC' : 'DESC';
      const want = offset + options.limit;
      // The dates the query and the scope confine it to: where windows of dates start and end.
      const dates = queryDates(node);
      const range = { from: Math.max(dates.from, options.scope?.dateFrom ?? -Infinity), to: Math.min(dates.to, options.scope?.dateTo ?? Infinity) };
      const upTo = countLimit(options);
      if (addresses !== null && addresses.length <= MAX_LISTED_ADDRESSES && options.scope!.fixedQuery === null && datesOnly(node)) {
        const found = await byParticipation(tx, addresses, range, dir, want, upTo);
        const rows = offset >= found.counted ? [] : await docs(tx, found.ids.slice(offset));
        return { query: describeQuery(node), hits: rows.map(hit), ...boundedTotal(found.counted, upTo), sort };
      }
      // Within mailboxes: their lexemes ANDed into the query's tsquery, or, where a mailbox's own
      // words index holds them (mailbox-indexes.ts), its predicate as a clause of its own, so
      // that PostgreSQL reads that index.
      const within = addresses === null || (addresses.length > MAX_SCOPE_ADDRESSES && own === null) ? null : { mailboxes: own?.exact ? null : addresses.map(scopeLexeme).join(' | ') };
      const params: unknown[] = [];
      const compiled = compileQuery(node, params, { envelopeOf: options.envelopeOf, within });
      let where = compiled.where;
      if (own !== null) where = `${where} AND d.words @@ $${params.push(own.predicate)}::tsquery`;
      if (options.scope) where = `(${where}) AND (${compileScope(options.scope, params, within === null ? 'participation' : 'in-query')})`;
      try {
        // A list of up to `short` matches is counted and its page read in one query (countedPage);
        // a longer one is read a window of dates at a time from the end its page starts at
        // (byWindow), so that the first pages of a mailbox's common word read a few days.
        const short = ranked ? options.rankUpTo ?? Infinity : this.#sortWhole;
        // A list the planner expects to be long, counted no further than a bound, is counted as
        // it is read: past the page (or the newest `short` to rank) by windows of months, so that
        // the count stops with the newest (or oldest) matches past the bound rather than finding
        // every match first.
        const expected = upTo !== undefined && short !== Infinity ? await expectedMatches(tx, where, params) : null;
        const byMonths = expected !== null && (this.#countByMonths === 'always' || (expected.byWords && expected.rows > (this.#countByMonths ?? Math.max(COUNT_BY_MONTHS * upTo!, short))));
        let total: number;
        // list(n): the first n matches' ids in date order; rows: the page, when the count's query
        // read it.
        let list: (n: number) => Promise<number[]>;
        let rows: Record<string, any>[] | null = null;
        if (byMonths) {
          const found = await byWindow(tx, where, params, dir, ranked ? Math.max(short, want) : want, { matches: expected.rows, range }, upTo);
          total = found.counted;
          list = async (n) => found.ids.slice(0, n);
        } else {
          const first = await countedPage(tx, where, params, { short, upTo, limit: options.limit, offset, dir, rank: ranked ? compiled.ranking! : undefined });
          total = first.total;
          rows = first.rows;
          const matches = { matches: total, atLeast: upTo !== undefined && total > upTo, range };
          list = async (n) => (await byWindow(tx, where, params, dir, n, matches)).ids;
        }
        let rankedNewest: number | undefined;
        if (rows === null && ranked) {
          // The newest `short` ranked in memory (ts_rank of their vectors), then the older ones;
          // counted by months, every match when there are no more (fewer than the planner expected).
          if (total > short) rankedNewest = short;
          const newest = await list(short);
          const rank = await db.query<{ id: string; rank: number | null; date: string | null }>(`SELECT d.id, d.date, CASE WHEN d.words @@ $2::tsquery THEN ts_rank(d.words, $2::tsquery) END AS rank
            FROM doc d WHERE d.id = ANY($1::bigint[])`, [newest, compiled.ranking]);
          const order = rank.map((r) => ({ id: Number(r.id), rank: r.rank, date: r.date === null ? null : Number(r.date) }))
            .sort((a, b) => (b.rank ?? -1) - (a.rank ?? -1) || (b.date ?? -Infinity) - (a.date ?? -Infinity) || b.id - a.id).map((r) => r.id);
          const older = want > order.length ? await list(want) : [];
          rows = await docs(tx, rankedNewestPage(order, offset, options.limit, () => older));
        } else if (rows === null) rows = offset >= total ? [] : await docs(tx, (await list(want)).slice(offset));
        return { query: describeQuery(node), hits: rows.map(hit), ...boundedTotal(total, upTo), ...(rankedNewest === undefined ? {} : { rankedNewest }), sort };
      } catch (err) {
        if (/tsquery|tsvector/i.test((err as Error).message)) throw new QueryError(`the full-text index cannot search for this query: ${(err as Error).message}`, 0);
        throw err;
      }
    });
  }

  async thread(messageRowId: number, scope: SearchScope): Promise<SearchHit[]> {
    const params: unknown[] = [messageRowId];
    const cond = compileScope(scope, params);
    return this.#read(async (tx) => {
      if (await on(tx).one(`SELECT 1 FROM doc d WHERE d.id = $1 AND (${cond})`, params) === undefined) return [];
      const rows = await on(tx).query(`SELECT ${HIT_COLUMNS} FROM doc d
        WHERE d.thread_key = (SELECT t.thread_key FROM doc t WHERE t.id = $1) AND (${cond}) ORDER BY d.date ASC NULLS FIRST, d.id ASC`, params);
      if (rows.length > 0) return rows.map(hit);
      // Indexed before threads were kept, and not yet given one: a thread of its own.
      return (await on(tx).query(`SELECT ${HIT_COLUMNS} FROM doc d WHERE d.id = $1 AND (${cond})`, params)).map(hit);
    });
  }

  async snippets(query: string, texts: readonly { key: string; text: string }[]): Promise<Map<string, string>> {
    return this.#snippets.snippets(query, texts);
  }

  async attachmentHits(query: string, sha256s: readonly string[]): Promise<Map<string, AttachmentHit[]>> {
    const out = new Map<string, AttachmentHit[]>();
    const expression = sha256s.length === 0 ? null : matchedWords(parseQuery(query), { attachments: true });
    if (expression === null) return out;
    const rows = await this.#read((tx) => on(tx).query<{ sha256: string; filename: string | null; extraction: string | null; hit: boolean }>(
      `SELECT d.sha256, a.filename, a.extraction, COALESCE(a.words @@ $2::tsquery, FALSE) AS hit FROM doc d JOIN attachment a ON a.doc_id = d.id
       WHERE d.sha256 = ANY($1::text[]) ORDER BY d.id, a.id`, [[...sha256s], expression]));
    let place = 0;
    let last = '';
    for (const r of rows) {
      place = r.sha256 === last ? place + 1 : 0;
      last = r.sha256;
      if (r.extraction === null || !r.hit) continue;
      out.set(r.sha256, [...(out.get(r.sha256) ?? []), { attachment: place, filename: r.filename }]);
    }
    return out;
  }

  async findInScope(sha256: string, scope: SearchScope): Promise<number | null> {
    return (await this.inScope([sha256], scope)).get(sha256) ?? null;
  }

  async inScope(sha256s: readonly string[], scope: SearchScope): Promise<Map<string, number>> {
    const params: unknown[] = [sha256s];
    const cond = compileScope(scope, params);
    const rows = await this.#read((tx) => on(tx).query<{ sha256: string; id: number }>(`SELECT d.sha256, d.id FROM doc d WHERE d.sha256 = ANY($1::text[]) AND ${cond}`, params));
    return new Map(rows.map((r) => [r.sha256, Number(r.id)]));
  }

  async inScopeBetween(scope: SearchScope, after: number, upTo: number): Promise<{ id: number; sha256: string }[]> {
    // The mailboxes' participations in the window by the address index (each address, role and id
    // range one seek: no role left open), the rest of the scope checked on those rows.
    const params: unknown[] = [after, upTo, scope.mailboxes.map((m) => m.id), ADDRESS_ROLES];
    const rest = compileScope(scope, params, 'in-query');
    const rows = await this.#read((tx) => on(tx).query<{ id: number; sha256: string }>(`SELECT d.id, d.sha256 FROM doc d
      WHERE d.id > $1 AND d.id <= $2 AND d.id IN (SELECT p.doc_id FROM participation p
        WHERE p.address IN (SELECT address FROM mailbox_address WHERE mailbox_id = ANY($3::bigint[])) AND p.role = ANY($4::text[]) AND p.doc_id > $1 AND p.doc_id <= $2)
      AND ${rest} ORDER BY d.id`, params));
    return rows.map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  async indexed(messageRowIds: readonly number[]): Promise<Set<number>> {
    const rows = await this.#read((tx) => on(tx).query<{ id: number }>('SELECT id FROM doc WHERE id = ANY($1::bigint[])', [messageRowIds]));
    return new Set(rows.map((r) => Number(r.id)));
  }

  document(messageRowId: number): Promise<IndexedDocument | null> {
    return this.#read(async (tx) => (await on(tx).one<IndexedDocument>(`SELECT id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, parse_error
      FROM doc WHERE id = $1`, [messageRowId])) ?? null);
  }

  participants(messageRowId: number): Promise<Participant[]> {
    return this.#read((tx) => on(tx).query<Participant>(`SELECT p.address, p.role, p.name, m.name AS mailbox FROM participation p
      LEFT JOIN mailbox_address a ON a.address = p.address LEFT JOIN mailbox m ON m.id = a.mailbox_id
      WHERE p.doc_id = $1 ORDER BY CASE p.role WHEN 'from' THEN 0 WHEN 'sender' THEN 1 WHEN 'to' THEN 2 WHEN 'cc' THEN 3 ELSE 4 END, p.address`, [messageRowId]));
  }

  async mailboxesHolding(sha256s: readonly string[], mailboxIds: readonly number[]): Promise<Set<number>> {
    if (sha256s.length === 0 || mailboxIds.length === 0) return new Set();
    const rows = await this.#read((tx) => on(tx).query(`SELECT DISTINCT a.mailbox_id AS id FROM doc d
      JOIN participation p ON p.doc_id = d.id JOIN mailbox_address a ON a.address = p.address
      WHERE d.sha256 = ANY($1::text[]) AND a.mailbox_id = ANY($2::bigint[])`, [[...sha256s], [...mailboxIds]]));
    return new Set(rows.map((r) => Number(r.id)));
  }

  async messagesOnlyOf(mailboxIds: readonly number[], limit: number): Promise<{ id: number; sha256: string; mailboxes: number[] }[]> {
    if (mailboxIds.length === 0) return [];
    const rows = await this.#read((tx) => on(tx).query(`SELECT d.id, d.sha256, array_agg(DISTINCT a.mailbox_id) AS boxes FROM doc d
      JOIN participation p ON p.doc_id = d.id JOIN mailbox_address a ON a.address = p.address
      WHERE d.id IN (SELECT p1.doc_id FROM mailbox_address a1 JOIN participation p1 ON p1.address = a1.address WHERE a1.mailbox_id = ANY($1::bigint[]))
      GROUP BY d.id HAVING bool_and(a.mailbox_id = ANY($1::bigint[])) ORDER BY d.id LIMIT $2`, [[...mailboxIds], limit]));
    return rows.map((r) => ({ id: Number(r.id), sha256: r.sha256, mailboxes: (r.boxes as (string | number)[]).map(Number).sort((a, b) => a - b) }));
  }

  attachments(messageRowId: number): Promise<IndexedAttachment[]> {
    return this.#read(async (tx) => (await on(tx).query('SELECT filename, content_type, size, sha256, extraction FROM attachment WHERE doc_id = $1 ORDER BY id', [messageRowId]))
      .map((r) => ({ filename: r.filename, contentType: r.content_type, size: Number(r.size), sha256: r.sha256, extraction: r.extraction })));
  }

  completeness(): Promise<CompletenessSummary | null> {
    return this.#read(async (tx) => {
      const row = await on(tx).one<{ value: string }>("SELECT value FROM index_state WHERE key = 'completeness'");
      return row ? JSON.parse(row.value) as CompletenessSummary : null;
    });
  }

  pendingAuth(): Promise<number> {
    return this.#read(async (tx) => Number((await on(tx).one('SELECT COUNT(*) AS n FROM auth_pending'))!.n));
  }

  pendingExtraction(): Promise<number> {
    return this.#read(async (tx) => Number((await on(tx).one('SELECT COUNT(*) AS n FROM extraction_pending'))!.n));
  }

  mailboxIndexes(): Promise<MailboxIndexInfo[]> {
    return this.#read(async (tx) => (await on(tx).query(`SELECT m.name, w.index_name, w.documents, w.built_at, COALESCE(pg_relation_size(c.oid), 0) AS bytes
      FROM mailbox_words w JOIN mailbox m ON m.id = w.mailbox_id
        LEFT JOIN pg_class c ON c.relname = w.index_name AND c.relnamespace = current_schema()::regnamespace
      ORDER BY w.documents DESC, m.name`))
      .map((r) => ({ mailbox: r.name, index: r.index_name, documents: Number(r.documents), bytes: Number(r.bytes), builtAt: Number(r.built_at) })));
  }

  authVerdicts(captureRowId: number): Promise<unknown> {
    return this.#read(async (tx) => {
      const row = await on(tx).one<{ verdicts: string }>('SELECT verdicts FROM capture_auth WHERE capture_row = $1', [captureRowId]);
      return row ? JSON.parse(row.verdicts) : null;
    });
  }

  async sameMessageId(messageIdLc: string, exceptRowId: number, scope: SearchScope): Promise<string[]> {
    const params: unknown[] = [messageIdLc, exceptRowId];
    const cond = compileScope(scope, params);
    return this.#read(async (tx) => (await on(tx).query(`SELECT d.sha256 FROM doc d WHERE d.message_id_lc = $1 AND d.id <> $2 AND (${cond}) ORDER BY d.id`, params)).map((r) => r.sha256));
  }

  messagesWith(addresses: readonly string[]): Promise<{ id: number; sha256: string }[]> {
    return this.#read(async (tx) => (await on(tx).query(`SELECT DISTINCT d.id, d.sha256 FROM participation p JOIN doc d ON d.id = p.doc_id
      WHERE p.address = ANY($1::text[]) ORDER BY d.id`, [[...addresses]])).map((r) => ({ id: Number(r.id), sha256: r.sha256 })));
  }

  async mailboxesWith(addresses: readonly string[]): Promise<string[]> {
    if (addresses.length === 0) return [];
    return (await this.#read((tx) => on(tx).query(`SELECT DISTINCT m.name FROM participation s
      JOIN participation p ON p.doc_id = s.doc_id JOIN mailbox_address a ON a.address = p.address JOIN mailbox m ON m.id = a.mailbox_id
      WHERE s.address = ANY($1::text[]) ORDER BY m.name`, [[...addresses]]))).map((r) => r.name);
  }

  failures(limit = 20): Promise<IndexFailures> {
    return this.#read(async (tx) => {
      const count = Number((await on(tx).one('SELECT COUNT(*) AS n FROM index_failure'))!.n);
      const recent = (await on(tx).query('SELECT capture_row, sha256, error, attempts, last_failed_at FROM index_failure ORDER BY last_failed_at DESC, capture_row DESC LIMIT $1', [limit]))
        .map((r) => ({ captureRow: Number(r.capture_row), sha256: r.sha256, error: r.error, attempts: Number(r.attempts), lastFailedAt: Number(r.last_failed_at) }));
      return { count, recent };
    });
  }

  cursor(): Promise<number> {
    return this.#read(async (tx) => {
      const row = await on(tx).one<{ value: string }>("SELECT value FROM index_state WHERE key = 'cursor'");
      return row ? Number(row.value) : 0;
    });
  }
}

// A list longer than this is read a window of dates at a time rather than sorted whole.
const SORT_WHOLE = 2000;
// Past this many addresses the mailboxes are searched through participation rather than as
// lexemes of one GIN scan.
const MAX_SCOPE_ADDRESSES = 500;
// Past this many addresses a search of dates alone is not read from each address's entries.
const MAX_LISTED_ADDRESSES = 32;
const HOUR_MS = 3_600_000;
// A bounded count the planner expects to find this many times its bound or more is counted by
// windows of months (byWindow).
const COUNT_BY_MONTHS = 4;

// The search's settings for its transaction (above), the addresses of the scope's mailboxes
// (null: no scope), and the words index of a mailbox holding all of them (mailbox-indexes.ts):
// its predicate, and whether it holds those addresses alone. One round trip.
async function searchSettings(tx: Tx, scope: SearchScope | undefined): Promise<{ addresses: string[] | null; own: { predicate: string; exact: boolean } | null }> {
  const settings = "set_config('jit', 'off', true) AS jit, set_config('enable_seqscan', 'off', true) AS seqscan";
  if (!scope) return (await on(tx).one<{ addresses: null; own: null }>(`SELECT ${settings}, NULL AS addresses, NULL AS own`))!;
  return (await on(tx).one<{ addresses: string[]; own: { predicate: string; exact: boolean } | null }>(`SELECT ${settings}, s.addresses,
    (SELECT json_build_object('predicate', w.predicate, 'exact', w.addresses <@ s.addresses) FROM mailbox_words w
      JOIN pg_class c ON c.relname = w.index_name AND c.relnamespace = current_schema()::regnamespace JOIN pg_index i ON i.indexrelid = c.oid
      WHERE i.indisvalid AND w.addresses @> s.addresses AND cardinality(s.addresses) > 0 ORDER BY w.documents LIMIT 1) AS own
    FROM (SELECT ARRAY(SELECT DISTINCT address FROM mailbox_address WHERE mailbox_id = ANY($1::bigint[]) ORDER BY address) AS addresses) s`,
  [scope.mailboxes.map((m) => m.id)]))!;
}

// Whether a query is of dates alone (after:, before:, on:, ANDed), at least one.
function datesOnly(node: QueryNode): boolean {
  return node.kind === 'date' || (node.kind === 'and' && node.children.every((c) => c.kind === 'date'));
}

// A search of dates alone within mailboxes (a mailbox's mail of a month): the ids of its first
// `want` matches in date order and their count (up to countTo + 1; every one without), from the
// scope's addresses' participations in date order (participation_dates, migration 0015): an
// index-only scan of each address's entries within the dates, merged in date order (Merge
// Append), a document named in several roles or at several of the addresses taken once, read no
// further than the count needs. A date condition leaves out documents without a date, as
// compileQuery's does. At 10 M documents a month of the busiest mailbox took 5.5 ms, as long as
// the same dates over everything (65 ms through the words' index: its lexeme ANDed with the
// month's).
async function byParticipation(tx: Tx, addresses: string[], range: { from: number; to: number }, dir: 'ASC' | 'DESC', want: number, countTo?: number): Promise<{ ids: number[]; counted: number }> {
  const params: unknown[] = [Number.isFinite(range.from) ? range.from : Number.MIN_SAFE_INTEGER, Number.isFinite(range.to) ? range.to : Number.MAX_SAFE_INTEGER];
  const order = `date ${dir} NULLS ${dir === 'DESC' ? 'LAST' : 'FIRST'}, doc_id ${dir}`;
  const each = addresses.map((a) => `(SELECT date, doc_id FROM participation WHERE address = $${params.push(a)} AND date >= $1 AND date < $2 ORDER BY ${order})`).join(' UNION ALL ');
  const list = (limit: number | null) => `SELECT DISTINCT date, doc_id FROM (${each}) u ORDER BY ${order} LIMIT $${params.push(limit)}`;
  const row = (await on(tx).one<{ total: string; ids: string[] }>(`SELECT (SELECT COUNT(*) FROM (${list(countTo === undefined ? null : Math.max(want, countTo + 1))}) c) AS total,
    ARRAY(SELECT doc_id FROM (${list(want)}) p) AS ids`, params))!;
  return { ids: row.ids.map(Number), counted: Number(row.total) };
}

// Every match, counted.
async function count(tx: Tx, where: string, params: unknown[]): Promise<number> {
  return Number((await on(tx).one(`SELECT COUNT(*) AS n FROM doc d WHERE ${where}`, params))!.n);
}

// The matches counted (up to upTo + 1, as count), and when there are no more than `short` the
// page of them, in one query: in date order (`dir`), or with `rank` (a tsquery) best match first
// (ts_rank, then newest). Null rows: a longer list, whose page the caller reads otherwise. (A
// list this short was found twice before: counted, then found again to be sorted.)
async function countedPage(tx: Tx, where: string, params: unknown[], o: { short: number; upTo?: number; limit: number; offset: number; dir: 'ASC' | 'DESC'; rank?: string }): Promise<{ total: number; rows: Record<string, any>[] | null }> {
  const p = [...params];
  const arg = (v: unknown) => `$${p.push(v)}`;
  const bound = o.short === Infinity ? null : Math.max(o.upTo ?? 0, o.short) + 1;
  const nulls = o.dir === 'DESC' ? 'LAST' : 'FIRST';
  const q = o.rank === undefined ? null : `${arg(o.rank)}::tsquery`;
  const order = `${q === null ? '' : 'rank DESC NULLS LAST, '}d.date ${o.dir} NULLS ${nulls}, d.id ${o.dir}`;
  // The matches' ids alone, as a count reads them (an index-only scan where it can); the rest
  // of their rows is read for a short list only.
  const rows = await on(tx).query(`WITH m AS MATERIALIZED (SELECT d.id FROM doc d WHERE ${where} LIMIT ${arg(bound)}),
      n AS (SELECT COUNT(*) AS total FROM m)
    SELECT n.total, p.* FROM n LEFT JOIN LATERAL (SELECT ${HIT_COLUMNS}${q === null ? '' : `, CASE WHEN d.words @@ ${q} THEN ts_rank(d.words, ${q}) END AS rank`}
      FROM m JOIN doc d ON d.id = m.id WHERE n.total <= ${arg(o.short === Infinity ? Number.MAX_SAFE_INTEGER : o.short)}
      ORDER BY ${order} LIMIT ${arg(o.limit)} OFFSET ${arg(o.offset)}) p ON TRUE`, p);
  const total = Number(rows[0]!.total);
  if (total <= o.short) return { total, rows: rows.filter((r) => r.sha256 !== null) };
  return { total: o.upTo === undefined && bound !== null ? await count(tx, where, params) : total, rows: null };
}

// The planner's estimate of the matches (EXPLAIN: one plan, nothing read), and whether it finds
// them by the words' GIN index (with the dates' at most: no other index, table or join), where a
// window's month lexemes let the index skip to the window.
async function expectedMatches(tx: Tx, where: string, params: unknown[]): Promise<{ rows: number; byWords: boolean }> {
  type Node = { 'Node Type': string; 'Plan Rows': number; 'Index Name'?: string; 'Relation Name'?: string; Plans?: Node[] };
  const plan = (await on(tx).query<{ 'QUERY PLAN': [{ Plan: Node }] }>(`EXPLAIN (FORMAT JSON) SELECT d.id FROM doc d WHERE ${where}`, params))[0]!['QUERY PLAN'][0].Plan;
  const nodes: Node[] = [];
  const walk = (n: Node) => { nodes.push(n); n.Plans?.forEach(walk); };
  walk(plan);
  const byWords = nodes.every((n) => (n['Index Name'] === undefined || isWordsIndex(n['Index Name']) || n['Index Name'] === 'doc_date') && (n['Relation Name'] === undefined || n['Relation Name'] === 'doc') && !/Join|Loop|Seq Scan|SubPlan|Subquery/.test(n['Node Type']))
    && nodes.some((n) => n['Index Name'] !== undefined && isWordsIndex(n['Index Name']));
  return { rows: plan['Plan Rows'], byWords };
}

// The ids of the first `want` matches in date order (newest first for DESC, documents without a
// date last; the reverse for ASC), read a window of dates at a time from the index's newest (or
// oldest) date within the `range` of dates the search confines itself to; a window sized to hold
// about twice what is wanted if the `expected` matches were spread evenly, and the next one from
// how dense the matches were in the last. With `atLeast` the matches are a lower bound (a bounded
// count): the first window then assumes every document matches, since a bound taken for the
// count would make it hold years. With `countTo`, the windows go on past the page, counting only,
// until more than countTo are found or every date is read; `counted` is then the number of
// matches (or more than countTo), otherwise the number of matches the windows read.
async function byWindow(tx: Tx, where: string, params: unknown[], dir: 'ASC' | 'DESC', want: number, expected: { matches: number; atLeast?: boolean; range?: { from: number; to: number } }, countTo?: number): Promise<{ ids: number[]; counted: number }> {
  const db = on(tx);
  const ends = (await db.one<{ first: string | null; last: string | null; n: string }>(`SELECT
    (SELECT date FROM doc WHERE date IS NOT NULL ORDER BY date ASC NULLS FIRST, id ASC LIMIT 1) AS first,
    (SELECT date FROM doc WHERE date IS NOT NULL ORDER BY date DESC NULLS LAST, id DESC LIMIT 1) AS last,
    ${expected.atLeast ? "(SELECT reltuples::bigint FROM pg_class WHERE oid = 'doc'::regclass)" : 'NULL'} AS n`))!;
  const out: number[] = [];
  const pageDates: number[] = [];
  let counted = 0;
  const undated = async () => {
    const rows = await db.query(`SELECT d.id FROM doc d WHERE (${where}) AND d.date IS NULL ORDER BY d.id ${dir} LIMIT $${params.length + 1}`, [...params, want - out.length]);
    for (const r of rows) out.push(Number(r.id));
  };
  const counting = () => countTo !== undefined && counted <= countTo;
  if (dir === 'ASC') await undated();
  if (ends.first !== null && ends.last !== null) {
    const min = Math.max(Number(ends.first), expected.range?.from ?? -Infinity), max = Math.min(Number(ends.last), (expected.range?.to ?? Infinity) - 1);
    const estimate = expected.atLeast ? Math.max(expected.matches, Number(ends.n)) : expected.matches;
    let span = Math.max(HOUR_MS, Math.ceil((max - min + 1) * Math.min(1, (2 * Math.max(1, want - out.length)) / Math.max(1, estimate))));
    let lo = min, hi = max + 1;
    // The page: windows sized to hold about what it still misses.
    while (out.length < want && lo < hi) {
      const from = dir === 'DESC' ? Math.max(min, hi - span) : lo;
      const to = dir === 'DESC' ? hi : Math.min(max + 1, lo + span);
      const months = monthsLexemes(from, to, MAX_WINDOW_MONTHS);
      const rows = (await db.query(`SELECT d.id, d.date FROM doc d WHERE (${where}) AND d.date >= $${params.length + 1} AND d.date < $${params.length + 2}${months === null ? '' : ` AND d.words @@ $${params.length + 3}::tsquery`}`,
        [...params, from, to, ...(months === null ? [] : [months])])).map((r) => ({ id: Number(r.id), date: Number(r.date) }));
      const sign = dir === 'DESC' ? -1 : 1;
      rows.sort((a, b) => sign * (a.date - b.date || a.id - b.id));
      for (const r of rows) {
        out.push(r.id);
        pageDates.push(r.date);
      }
      counted += rows.length;
      if (dir === 'DESC') hi = from;
      else lo = to;
      // The next sized from the density found (at most 16 times wider while few were found).
      const left = want - out.length;
      if (left > 0) span = Math.ceil(span * (rows.length === 0 ? 16 : Math.min(rows.length >= 32 ? Infinity : 16, Math.max(1, (1.25 * left) / rows.length))));
    }
    // The count past the page, up to what it still needs, in windows of whole months sized from
    // the density found so far: a month's lexemes are then the whole condition on dates, and the
    // GIN index skips to them. The matches of a window's months that the page's windows read
    // are counted again there, and taken off.
    while (counting() && lo < hi) {
      const need = countTo! + 1 - counted;
      const covered = dir === 'DESC' ? max + 1 - hi : lo - min;
      const months = counted === 0 || covered === 0 ? MAX_COUNT_MONTHS : Math.min(MAX_COUNT_MONTHS, Math.max(1, Math.ceil((1.25 * need * covered) / counted / MONTH_MS)));
      const edge = dir === 'DESC' ? addMonths(monthStart(hi - 1), 1) : monthStart(lo);
      const from = dir === 'DESC' ? Math.max(min, addMonths(edge, -months)) : lo;
      const to = dir === 'DESC' ? hi : Math.min(max + 1, addMonths(edge, months));
      const lexemes = monthsLexemes(dir === 'DESC' ? from : edge, dir === 'DESC' ? edge : to, MAX_COUNT_MONTHS);
      const known = lexemes === null ? 0 : pageDates.filter((d) => (dir === 'DESC' ? d < edge : d >= edge)).length;
      const args = [...params];
      const arg = (v: unknown) => `$${args.push(v)}`;
      const cond = lexemes === null ? `d.date >= ${arg(from)} AND d.date < ${arg(to)}` : `d.words @@ ${arg(lexemes)}::tsquery`;
      const found = Number((await db.one<{ n: string }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM doc d WHERE (${where}) AND ${cond} LIMIT ${arg(need + known)}) m`, args))!.n) - known;
      counted += found;
      if (dir === 'DESC') hi = from;
      else lo = to;
    }
  }
  if (dir === 'DESC' && out.length < want) await undated();
  if (counting()) {
    counted += Number((await db.one<{ n: string }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM doc d WHERE (${where}) AND d.date IS NULL LIMIT $${params.length + 1}) m`, [...params, countTo! + 1 - counted]))!.n);
  }
  return { ids: out.slice(0, want), counted };
}

// A window of more months than this is read without its month lexemes.
const MAX_WINDOW_MONTHS = 6;
const MAX_COUNT_MONTHS = 12;
const MONTH_MS = 30.44 * 86_400_000;

function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function addMonths(monthStartMs: number, n: number): number {
  const d = new Date(monthStartMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
}

// The result columns of these documents, in this order.
async function docs(tx: Tx, ids: number[]): Promise<Record<string, any>[]> {
  const rows = await on(tx).query(`SELECT ${HIT_COLUMNS}, d.id FROM doc d WHERE d.id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

function hit(r: Record<string, any>): SearchHit {
  return { sha256: r.sha256, messageId: r.message_id, date: r.date === null ? null : Number(r.date), from: r.from_text, subject: r.subject };
}
