// Search latency on PostgreSQL (src/index/postgres/), with and without the permission filter,
// over index rows loaded directly (not through the commit path): synthetic documents whose
// words are drawn from a Zipf-like vocabulary, participants from a few thousand people, dates
// over two years. A first look, standalone (`node bench/pg-search.ts [messages]`), not yet part
// of `npm run bench`: the issue's figures (1 M through the commit path, 10 M loaded) are to come.
import { PostgresSearchIndex } from '../src/index/postgres/search-index.ts';
import { documentVector } from '../src/index/postgres/words.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { on } from '../src/store/postgres/transactions.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { pct } from './figures.ts';

const N = Number(process.argv[2] ?? 100_000);
const PEOPLE = 3000;
const VOCABULARY = 30_000;
const BATCH = 2000;
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const word = (k: number) => `w${k.toString(36)}`;
// Rank r is drawn with probability about 1/r.
const zipf = () => Math.floor(Math.exp(rand() * Math.log(VOCABULARY)));
const person = (k: number) => `p${k}@corp${k % 7}.example`;
const text = (n: number) => Array.from({ length: n }, () => word(zipf())).join(' ');

const cluster = await startPostgres();
const meta = new PostgresMetadataStore({ url: await cluster.database('bench') });
try {
  const mailboxes: { id: number }[] = [];
  await meta.write(async (tx) => {
    for (const k of [1, 10, 100, 1000]) {
      const id = await meta.upsertMailbox(tx, { name: `box${k}`, displayName: null });
      await meta.setMailboxAddress(tx, person(k), id);
      mailboxes.push({ id });
    }
  });
  const start = Date.UTC(2025, 0, 1);
  const t0 = performance.now();
  for (let from = 1; from <= N; from += BATCH) {
    const ids: number[] = [], shas: string[] = [], dates: number[] = [], subjects: string[] = [], vectors: string[] = [];
    const pDoc: number[] = [], pRole: string[] = [], pAddr: string[] = [];
    for (let id = from; id < Math.min(from + BATCH, N + 1); id++) {
      // Senders and recipients drawn with a skew too: person 1 is in many messages, person 1000 in few.
      const parts = [Math.floor(Math.exp(rand() * Math.log(PEOPLE))), Math.floor(Math.exp(rand() * Math.log(PEOPLE))), 1 + Math.floor(rand() * PEOPLE)];
      const subject = text(6);
      ids.push(id); shas.push(id.toString(16).padStart(64, '0')); dates.push(start + Math.floor(rand() * 730 * 86_400_000)); subjects.push(subject);
      vectors.push(documentVector({ subject, addresses: parts.map(person).join(' '), body: text(120), filenames: '', attachments: '' }));
      parts.forEach((k, i) => {
        pDoc.push(id);
        pRole.push(i === 0 ? 'from' : i === 1 ? 'to' : 'cc');
        pAddr.push(person(k));
      });
    }
    await meta.write(async (tx) => {
      await on(tx).run(`INSERT INTO doc (id, sha256, date, subject, words) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::tsvector[])`, [ids, shas, dates, subjects, vectors]);
      await on(tx).run(`INSERT INTO participation (doc_id, role, address, domain) SELECT d, r, a, split_part(a, '@', 2) FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(d, r, a) ON CONFLICT DO NOTHING`, [pDoc, pRole, pAddr]);
    });
  }
  await meta.vacuum(['doc', 'participation']);
  await meta.pool.query('ANALYZE');
  console.log(`loaded ${N.toLocaleString('en')} documents in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const search = new PostgresSearchIndex(meta);
  const queries = [word(1), word(5), word(50), word(500), word(5000), `"${word(2)} ${word(3)}"`, `${word(7)}*`, `from:${person(1)}`, `to:corp3.example ${word(20)}`, `${word(1)} -${word(2)}`, `subject:${word(40)}`, `after:2026-06-01 ${word(100)}`];
  const scopes = mailboxes.map((m, i) => ({ name: `box${[1, 10, 100, 1000][i]}`, scope: { mailboxes: [m], dateFrom: null, dateTo: null, fixedQuery: null } }));
  const time = async (q: string, scope?: (typeof scopes)[number]['scope']) => {
    const a = performance.now();
    const r = await search.search(q, { limit: 50, scope });
    return { ms: performance.now() - a, total: r.total };
  };
  for (const q of queries) await time(q);   // warm
  const unscoped: number[] = [];
  const scoped: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    for (const q of queries) {
      unscoped.push((await time(q)).ms);
      for (const s of scopes) scoped.push((await time(q, s.scope)).ms);
    }
  }
  const slow: string[] = [];
  for (const q of queries) {
    const u = await time(q);
    const s = await Promise.all(scopes.map((x) => time(q, x.scope)));
    slow.push(`${q}: ${u.ms.toFixed(1)} ms (${u.total}) | ${s.map((x, i) => `${scopes[i]!.name} ${x.ms.toFixed(1)} ms (${x.total})`).join(', ')}`);
  }
  console.log(slow.join('\n'));
  console.log(`search p50/p95 without filter ${pct(unscoped, 50).toFixed(1)}/${pct(unscoped, 95).toFixed(1)} ms; with a mailbox filter ${pct(scoped, 50).toFixed(1)}/${pct(scoped, 95).toFixed(1)} ms`);
  const bytes = (await meta.pool.query("SELECT pg_total_relation_size('doc') + pg_total_relation_size('participation') AS b")).rows[0].b;
  console.log(`${(Number(bytes) / N).toFixed(0)} bytes per document in doc + participation (with indexes)`);
} finally {
  await meta.close();
  await cluster.stop();
}
