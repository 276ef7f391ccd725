// Search latency on PostgreSQL (src/index/postgres/) at scale, with and without the permission
// filter, over index rows loaded directly: not through the commit path (scale.ts does that, on
// SQLite), but `doc` and `participation` rows as the indexer writes them, each document's
// vector made by words.ts's documentVector. 1,000,000 documents by default (--messages N).
//
// The documents are drawn like MailGenerator's mail (bench/mail-generator.ts): its vocabulary by
// corpus frequency (a word of rank r about 1/r as often), its people (the busiest correspondent
// in a fifth of the mail, a typical one in a few hundred messages) and domains, dates spread over
// three years in order of arrival, threads, a file attached to one message in eight, and its
// phrases; so that scale.ts's questions (scoped-search.ts) find like answers here. The searches
// are those of PostgresSearchIndex itself, in the mailboxes of five people from the busiest to a
// typical one, and over everything.
//
// Loading: batches of rows handed over as arrays (INSERT … SELECT FROM unnest), the next batch
// made while the last one is written, and the secondary indexes (the GIN index of the words among
// them) dropped first and built again at the end from their own definitions, as a restore does:
// a GIN index built in one pass is several times faster than one kept up row by row. The server
// is the tests' private cluster (test/support/postgres.ts) with shared_buffers raised to 1 GB.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { SEARCH_COUNT_UP_TO } from '../src/access/content-access.ts';
import { MAILBOX_INDEXES, MailboxIndexes } from '../src/index/postgres/mailbox-indexes.ts';
import { PostgresSearchIndex } from '../src/index/postgres/search-index.ts';
import { documentVector, MARK, markLexeme, monthLexeme, scopeLexeme } from '../src/index/postgres/words.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { startPostgres } from '../test/support/postgres.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { benchCorpus } from './bench-corpus.ts';
import type { Figure } from './figures.ts';
import { MailGenerator } from './mail-generator.ts';
import type { BenchOptions } from './run.ts';
import { measureScopedSearch, PHRASE, scaleQueries, SEARCHER_RANKS } from './scoped-search.ts';
import type { ScopedSearchTimes } from './scoped-search.ts';

export const PG_SEARCH_DOCUMENTS = 1_000_000;
const SMOKE_DOCUMENTS = 2000;
const SEED = 20_260_101;
const BATCH = 2000;
const START = Date.UTC(2022, 0, 3, 8, 0, 0);
const SPAN_MS = 3 * 365 * 86_400_000;
const SERVER = { session_preload_libraries: 'auto_explain', 'auto_explain.log_analyze': 'on', 'auto_explain.log_buffers': 'on', shared_buffers: '1GB', effective_cache_size: '8GB', maintenance_work_mem: '1GB', work_mem: '16MB', max_wal_size: '8GB', checkpoint_timeout: '30min' };

export async function pgSearchBenchmark(o: BenchOptions): Promise<Figure[]> {
  const total = o.messages ?? (o.smoke ? SMOKE_DOCUMENTS : PG_SEARCH_DOCUMENTS);
  const { cluster, meta, gen, mailboxes, loadSeconds, indexSeconds } = await loadDocuments(total, o);
  try {
    const size = (await meta.pool.query(`SELECT pg_total_relation_size('doc') AS doc, pg_total_relation_size('participation') AS part,
      pg_indexes_size('doc') + pg_indexes_size('participation') AS idx, pg_relation_size('doc_words') AS gin`)).rows[0] as Record<string, string>;
    const bytes = { doc: Number(size.doc), participation: Number(size.part), indexes: Number(size.idx), gin: Number(size.gin) };

    // The biggest mailboxes' own words indexes, as the duty holder keeps them (built once on a
    // kept cluster).
    const t1 = performance.now();
    const kept = await new MailboxIndexes(meta).keep();
    const ownSeconds = (performance.now() - t1) / 1000;
    const search = new PostgresSearchIndex(meta);
    // As sealbox stats and the health page list them.
    const own = await search.mailboxIndexes();
    o.progress(`pg-search: mailboxes' own words indexes: ${own.map((x) => `${x.mailbox} (${x.documents} documents, ${(x.bytes / 1e6).toFixed(0)} MB)`).join(', ') || 'none'}${kept?.built.length ? `; built in ${ownSeconds.toFixed(0)} s` : ''}`);

    const queries = scaleQueries(gen);
    for (const q of queries) await search.search(q, { limit: 50 });   // the first plans and reads of each
    const t = await measureScopedSearch(search, queries, mailboxes, o.smoke);
    o.progress(`pg-search: mailbox filter p50 ${t.scopedP50.toFixed(1)} ms, p95 ${t.scopedP95.toFixed(1)} ms (slowest: ${t.slowest}); without p50 ${t.unscopedP50.toFixed(1)} ms, p95 ${t.unscopedP95.toFixed(1)} ms`);
    const sizes: { mailbox: string; messages: number }[] = [];
    for (const m of mailboxes) {
      sizes.push({ mailbox: m.name, messages: Number((await meta.pool.query(`SELECT COUNT(DISTINCT p.doc_id) AS n FROM participation p
        JOIN mailbox_address a ON a.address = p.address WHERE a.mailbox_id = $1`, [m.id])).rows[0].n) });
    }
    o.progress(`pg-search: mailboxes ${sizes.map((x) => `${x.mailbox} ${x.messages}`).join(', ')}`);
    o.record('plans', await slowestPlans(cluster, meta, search, t.runs, mailboxes));
    o.record('load', { documents: total, seconds: loadSeconds, indexSeconds, bytes, server: SERVER });
    o.record('mailbox-indexes', { own, builtSeconds: kept?.built.length ? ownSeconds : null });
    o.record('mailboxes', sizes);
    o.record('searches', t.runs);

    const at = total >= 1e6 && total % 1e5 === 0 ? `${total / 1e6}M` : total >= 1000 ? `${Math.round(total / 1000)}k` : String(total);
    const bound = total >= 10_000_000 ? 100 : 50;
    return [
      { name: 'documents (index rows loaded directly)', value: total, unit: 'doc', note: `seed ${SEED}; PostgreSQL 15, shared_buffers ${SERVER.shared_buffers}` },
      { name: `at ${at}: load rate (rows, then indexes built)`, value: total / loadSeconds, unit: 'doc/s', note: `${loadSeconds.toFixed(0)} s, of which indexes and ANALYZE ${indexSeconds.toFixed(0)} s` },
      { name: `at ${at}: table + index bytes per document`, value: (bytes.doc + bytes.participation) / total, unit: 'B', note: `doc ${(bytes.doc / total).toFixed(0)} B, participation ${(bytes.participation / total).toFixed(0)} B; indexes ${(bytes.indexes / total).toFixed(0)} B (GIN ${(bytes.gin / total).toFixed(0)} B)` },
      { name: `at ${at}: mailboxes with a words index of their own`, value: own.length, unit: 'mailboxes', note: own.length === 0 ? `none holds ${MAILBOX_INDEXES.minShare * 100} % of the documents and ${MAILBOX_INDEXES.minDocuments.toLocaleString('en')}` : `${own.map((x) => `${x.documents} documents, ${(x.bytes / x.documents).toFixed(0)} B each`).join('; ')}${kept?.built.length ? `; built in ${ownSeconds.toFixed(0)} s` : ''}` },
      { name: `at ${at}: PG search p50, mailbox filter`, value: t.scopedP50, unit: 'ms' },
      { name: `at ${at}: PG search p95, mailbox filter`, value: t.scopedP95, unit: 'ms', target: { op: '<=', bound, of: 'value' }, note: `${mailboxes.length} mailboxes × ${queries.length} queries` },
      { name: `at ${at}: PG slowest search, mailbox filter`, value: t.slowestMs, unit: 'ms', target: { op: '<=', bound: 150, of: 'value' }, note: t.slowest },
      { name: `at ${at}: PG search p50, no filter`, value: t.unscopedP50, unit: 'ms' },
      { name: `at ${at}: PG search p95, no filter`, value: t.unscopedP95, unit: 'ms' },
      { name: `at ${at}: PG searches slower with the mailbox filter than without (by > 1 ms)`, value: t.slowerScoped.length, unit: `of ${t.scopedCount}`, target: { op: '<=', bound: 0, of: 'value' }, ...(t.slowerScoped.length > 0 ? { note: t.slowerScoped.slice(0, 3).join('; ') } : {}) },
    ];
  } finally {
    await meta.close();
    await cluster.stop();
  }
}

// A private cluster with `total` documents loaded, its tables analysed; the caller stops it.
// With pgDir: the cluster kept there (startPostgres keptIn), loaded again only when it holds
// another number of documents or another seed (its loaded.json says what it holds).
type Loaded = { documents: number; seed: number; mailboxes: { id: number; name: string }[]; loadSeconds: number; indexSeconds: number };
export async function loadDocuments(total: number, o: Pick<BenchOptions, 'smoke' | 'progress' | 'pgDir'>): Promise<{ cluster: Postgres; meta: PostgresMetadataStore; gen: MailGenerator } & Loaded> {
  const gen = new MailGenerator({ seed: SEED, total, corpus: benchCorpus(o.smoke).raw });
  const cluster = await startPostgres({ settings: SERVER, ...(o.pgDir ? { keptIn: o.pgDir } : {}) });
  const marker = o.pgDir ? join(o.pgDir, 'loaded.json') : null;
  const held = marker && existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) as Loaded : null;
  if (held?.documents === total && held.seed === SEED) {
    o.progress(`pg-search: ${total.toLocaleString('en')} documents already loaded in ${o.pgDir}`);
    return { cluster, meta: new PostgresMetadataStore({ url: cluster.url('bench') }), gen, ...held };
  }
  if (marker) {
    rmSync(marker, { force: true });
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS bench').finally(() => admin.end());
  }
  const meta = new PostgresMetadataStore({ url: await cluster.database('bench') });
  try {
    const searchers = SEARCHER_RANKS.map((rank) => gen.people[rank]!);
    const mailboxes = await meta.write(async (tx) => {
      const made: { id: number; name: string }[] = [];
      for (const p of searchers) {
        const id = await meta.upsertMailbox(tx, { name: p.address, displayName: p.name });
        for (const a of [p.address, ...p.aliases]) await meta.setMailboxAddress(tx, a, id);
        made.push({ id, name: p.address });
      }
      return made;
    });

    o.progress(`pg-search: loading ${total.toLocaleString('en')} documents (seed ${SEED})`);
    const indexes = (await meta.pool.query(`SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.schemaname = current_schema() AND i.tablename IN ('doc', 'participation')
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)).rows as { indexname: string; indexdef: string }[];
    for (const i of indexes) await meta.pool.query(`DROP INDEX "${i.indexname}"`);
    const rows = new DocumentRows(gen, total);
    const t0 = performance.now();
    let writing: Promise<unknown> = Promise.resolve();
    for (let from = 1; from <= total; from += BATCH) {
      const batch = rows.batch(from, Math.min(from + BATCH, total + 1));
      await writing;
      writing = meta.pool.query(`WITH d AS (INSERT INTO doc (id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, thread_key, attachments_read, words)
          SELECT id, sha, mid, mid, date, sender, subject, att, thread, 0, words FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::tsvector[])
            AS t(id, sha, mid, date, sender, subject, att, thread, words) RETURNING id, date)
        INSERT INTO participation (doc_id, role, address, domain, name, date) SELECT t.doc, t.role, t.address, split_part(t.address, '@', 2), t.name, d.date
          FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[]) AS t(doc, role, address, name) JOIN d ON d.id = t.doc`, batch);
      if (from % 100_000 < BATCH && from > 1) o.progress(`pg-search:   ${(from - 1).toLocaleString('en')} rows, ${((from - 1) / ((performance.now() - t0) / 1000)).toFixed(0)} doc/s`);
    }
    await writing;
    const loaded = performance.now();
    for (const i of indexes) await meta.pool.query(i.indexdef);
    await meta.pool.query('VACUUM ANALYZE doc, participation');
    const ready = performance.now();
    const loadSeconds = (ready - t0) / 1000;
    const indexSeconds = (ready - loaded) / 1000;
    o.progress(`pg-search: loaded in ${loadSeconds.toFixed(0)} s (rows ${((loaded - t0) / 1000).toFixed(0)} s, indexes and VACUUM ANALYZE ${indexSeconds.toFixed(0)} s)`);
    const done: Loaded = { documents: total, seed: SEED, mailboxes, loadSeconds, indexSeconds };
    if (marker) writeFileSync(marker, JSON.stringify(done));
    return { cluster, meta, gen, ...done };
  } catch (err) {
    await meta.close();
    await cluster.stop();
    throw err;
  }
}

// EXPLAIN ANALYZE (auto_explain, BUFFERS) of the three slowest searches with the filter and the two
// slowest without, run once more each as they were measured (the count bounded): where the time
// goes, for the next step. (Until 2026-12-06 only each search's last statement was kept, and the
// searches counted every match.)
async function slowestPlans(cluster: Postgres, meta: PostgresMetadataStore, search: PostgresSearchIndex, runs: ScopedSearchTimes['runs'], mailboxes: { id: number; name: string }[]): Promise<{ search: string; plan: string }[]> {
  const slow = [...runs.filter((r) => r.mailbox !== null).sort((a, b) => b.ms - a.ms).slice(0, 3), ...runs.filter((r) => r.mailbox === null).sort((a, b) => b.ms - a.ms).slice(0, 2)];
  const log = join(cluster.dir, 'server.log');
  const out: { search: string; plan: string }[] = [];
  for (const r of slow) {
    await meta.pool.query("ALTER SYSTEM SET auto_explain.log_min_duration = 0");
    await meta.pool.query('SELECT pg_reload_conf()');
    await new Promise((resolve) => setTimeout(resolve, 200));   // the reload reaches every backend
    const from = statSync(log).size;
    const mailbox = mailboxes.find((m) => m.name === r.mailbox);
    await search.search(r.query, { limit: 50, countUpTo: SEARCH_COUNT_UP_TO, ...(mailbox ? { scope: { mailboxes: [mailbox], dateFrom: null, dateTo: null, fixedQuery: null } } : {}) });
    await meta.pool.query('ALTER SYSTEM RESET auto_explain.log_min_duration');
    await meta.pool.query('SELECT pg_reload_conf()');
    const text = readFileSync(log).subarray(from).toString('utf8');
    // Every statement of the search (the count, the windows, the page's rows), the slowest first.
    const ms = (p: string) => Number(/duration: ([\d.]+) ms/.exec(p)?.[1] ?? 0);
    const plans = text.split(/^(?=\S.*LOG:\s+duration: )/m).filter((p) => /\bplan:/.test(p) && !/pg_reload_conf/.test(p)).sort((a, b) => ms(b) - ms(a));
    out.push({ search: `${r.query}${r.mailbox ? ` [${r.mailbox}]` : ''} (${r.ms.toFixed(0)} ms, ${r.total} matches)`, plan: plans.join('\n') });
  }
  return out;
}

// The rows of documents from..to-1, as the arrays the INSERT above takes. Deterministic: the
// same seed gives the same rows.
class DocumentRows {
  readonly #gen: MailGenerator;
  readonly #total: number;
  readonly #rand: () => number;
  readonly #people: Float64Array;      // cumulative activity, as MailGenerator's 1/(k+1)^0.9
  readonly #phrases: string[];
  readonly #lnVocabulary: number;
  readonly #threads: { key: string; subject: string }[] = [];

  constructor(gen: MailGenerator, total: number) {
    this.#gen = gen;
    this.#total = total;
    let s = SEED >>> 0;
    // mulberry32
    this.#rand = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    this.#people = new Float64Array(gen.people.length);
    let sum = 0;
    gen.people.forEach((_, k) => { this.#people[k] = sum += 1 / (k + 1) ** 0.9; });
    for (let k = 0; k < this.#people.length; k++) this.#people[k]! /= sum;
    // The phrase scale's queries ask for among them (PHRASE).
    this.#phrases = Array.from({ length: Math.max(64, PHRASE + 1) }, (_, k) => gen.phrase(k));
    this.#lnVocabulary = Math.log(gen.vocabulary.length + 1);
  }

  batch(from: number, to: number): unknown[] {
    const ids: number[] = [], shas: string[] = [], mids: string[] = [], dates: number[] = [], senders: string[] = [], subjects: string[] = [];
    const atts: number[] = [], threads: string[] = [], vectors: string[] = [];
    const pDoc: number[] = [], pRole: string[] = [], pAddr: string[] = [], pName: string[] = [];
    const r = this.#rand;
    for (let id = from; id < to; id++) {
      const people = this.#gen.people;
      const sender = people[this.#person()]!;
      const to_ = new Set<number>();
      for (let k = 1 + Math.floor(r() ** 3 * 6); k > 0; k--) to_.add(this.#person());
      const cc = new Set<number>();
      if (r() < 0.3) for (let k = 1 + Math.floor(r() * 3); k > 0; k--) cc.add(this.#person());
      const parts: [string, string, string][] = [['from', sender.address, sender.name.toLowerCase()]];
      const seen = new Set([`from ${sender.address}`]);
      for (const [role, set] of [['to', to_], ['cc', cc]] as const) {
        for (const k of set) {
          const p = people[k]!;
          if (p === sender || seen.has(`${role} ${p.address}`)) continue;
          seen.add(`${role} ${p.address}`);
          parts.push([role, p.address, p.name.toLowerCase()]);
        }
      }
      // A reply (one in three) continues a recent thread and its subject.
      let thread: { key: string; subject: string };
      const reply = this.#threads.length > 0 && r() < 0.33;
      if (reply) {
        thread = this.#threads[Math.floor(this.#threads.length * (1 - r() ** 3)) % this.#threads.length]!;
      } else {
        thread = { key: createHash('sha1').update(`t${id}`).digest('hex'), subject: this.#words(2 + Math.floor(r() * 6)) };
        this.#threads.push(thread);
        if (this.#threads.length > 2000) this.#threads.shift();
      }
      const subject = reply ? `Re: ${thread.subject}` : thread.subject;
      let body = this.#words(40 + Math.floor(r() ** 2 * 300));
      if (r() < 0.1) body += ` ${this.#phrases[Math.floor(r() * this.#phrases.length)]} ${this.#words(5)}`;
      const attached = r() < 0.125;
      const filenames = attached ? `${this.#words(1)}-${this.#words(1)}.${['pdf', 'docx', 'xlsx', 'png'][Math.floor(r() * 4)]}` : '';
      const date = START + Math.floor((id - 0.5) * SPAN_MS / this.#total + (r() - 0.5) * Math.min(SPAN_MS / this.#total, 3_600_000));
      ids.push(id);
      shas.push(createHash('sha256').update(`doc ${SEED} ${id}`).digest('hex'));
      mids.push(`${id.toString(36)}.${Math.floor(r() * 2 ** 32).toString(36)}@${sender.address.split('@')[1]}`);
      dates.push(date);
      senders.push(`${sender.name} <${sender.address}>`);
      subjects.push(subject);
      atts.push(attached ? 1 : 0);
      threads.push(thread.key);
      // With the lexemes of its participants, From and attachment, as the indexer's
      // `words || scope_words(id)` leaves it (migration 0004).
      const marks = [...new Set(parts.map(([, a]) => a))].map(scopeLexeme);
      marks.push(markLexeme(MARK.from, sender.address), markLexeme(MARK.fromDomain, sender.address.split('@')[1]!));
      if (attached) marks.push(markLexeme(MARK.attachment));
      marks.push(monthLexeme(date));
      const scope = marks.join(' ');
      vectors.push(`${documentVector({ subject, addresses: parts.map(([, a, n]) => `${n} ${a}`).join(' '), body, filenames, attachments: '' })} ${scope}`);
      for (const [role, address, name] of parts) {
        pDoc.push(id);
        pRole.push(role);
        pAddr.push(address);
        pName.push(name);
      }
    }
    return [ids, shas, mids, dates, senders, subjects, atts, threads, vectors, pDoc, pRole, pAddr, pName];
  }

  #person(): number {
    const x = this.#rand();
    let lo = 0, hi = this.#people.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#people[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // n words of the vocabulary, a word of rank r drawn about 1/(r+1) as often as the first.
  #words(n: number): string {
    const v = this.#gen.vocabulary;
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(v[Math.min(v.length - 1, Math.floor(Math.exp(this.#rand() * this.#lnVocabulary)) - 1)]!);
    return out.join(' ');
  }
}
