// The searches of the scale benchmarks (scale.ts on SQLite through the commit path, pg-search.ts
// on PostgreSQL over rows loaded directly): typical questions, each asked within a mailbox (the
// permission filter the access-decision point puts on every search of an owner or a grant
// holder) and, for comparison, over everything. The words, the phrase and the domains come from
// MailGenerator, so the two benchmarks ask the same questions of like data. Each is the first
// page of 50 as a person's search asks for it (ContentAccess.search: matches counted up to
// SEARCH_COUNT_UP_TO; a total of that many means "more").
import { SEARCH_COUNT_UP_TO } from '../src/access/content-access.ts';
import type { SearchIndex } from '../src/index/search-index.ts';
import { median, pct } from './figures.ts';
import type { MailGenerator } from './mail-generator.ts';

// Mailboxes from the busiest correspondent to a typical one (ranks in MailGenerator's people).
export const SEARCHER_RANKS = [0, 3, 30, 300, 3000];
// The phrase asked for: MailGenerator's phrase(PHRASE), which its mail (and pg-search's rows) hold.
export const PHRASE = 7;
const PAGE = 50;

export interface ScopedSearchTimes {
  scopedP50: number;
  scopedP95: number;
  unscopedP50: number;
  unscopedP95: number;
  slowest: string;
  slowestMs: number;
  slowerScoped: string[];    // searches slower with the mailbox filter than the same without it
  scopedCount: number;
  // Each search (median of its repetitions) and its number of matches; mailbox null: no filter.
  runs: { query: string; mailbox: string | null; ms: number; total: number }[];
}

export function scaleQueries(gen: MailGenerator): string[] {
  return [
    gen.word(25),                                            // common word
    gen.word(3000),                                          // rare word
    gen.word(15_000),                                        // very rare word
    `"${gen.phrase(PHRASE)}"`,                               // phrase
    'from:@globex.example',                                  // correspondents of a domain
    'after:2023-05-31 before:2023-07-01',                    // a month
    'has:attachment',
    `${gen.word(400)} has:attachment`,                       // combinations
    `${gen.word(150)} from:@initech.example`,
    `subject:${gen.word(60)} after:2022-12-31`,
    `${gen.word(800)} OR ${gen.word(900)}`,
    `${gen.word(200)} NOT ${gen.word(30)}`,
  ];
}

export async function measureScopedSearch(search: SearchIndex, queries: string[], mailboxes: { id: number; name: string }[], smoke: boolean): Promise<ScopedSearchTimes> {
  const reps = smoke ? 1 : 3;
  const runs: ScopedSearchTimes['runs'] = [];
  const time = async (q: string, mailbox?: { id: number; name: string }): Promise<number> => {
    const scope = mailbox ? { mailboxes: [mailbox], dateFrom: null, dateTo: null, fixedQuery: null } : undefined;
    const ms: number[] = [];
    let total = 0;
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      total = (await search.search(q, { limit: PAGE, countUpTo: SEARCH_COUNT_UP_TO, ...(scope ? { scope } : {}) })).total;
      ms.push(performance.now() - t0);
    }
    runs.push({ query: q, mailbox: mailbox?.name ?? null, ms: median(ms), total });
    return median(ms);
  };
  const scoped: { q: string; query: string; ms: number }[] = [];
  for (const m of mailboxes) for (const q of queries) scoped.push({ q: `${q} [${m.name}]`, query: q, ms: await time(q, m) });
  const unscoped: number[] = [];
  for (const q of queries) unscoped.push(await time(q));
  const slowest = scoped.reduce((a, b) => (b.ms > a.ms ? b : a));
  const ms = scoped.map((s) => s.ms);
  // The permission filter must never make a query slower than the same query without it (by more
  // than a millisecond: below that, fixed costs and the timer, not the plan).
  const slowerScoped = scoped.filter((s) => s.ms > unscoped[queries.indexOf(s.query)]! + 1).map((s) => `${s.q} ${s.ms.toFixed(1)} ms vs ${unscoped[queries.indexOf(s.query)]!.toFixed(1)} ms`);
  return {
    scopedP50: pct(ms, 50), scopedP95: pct(ms, 95), unscopedP50: pct(unscoped, 50), unscopedP95: pct(unscoped, 95),
    slowest: `${slowest.q} ${slowest.ms.toFixed(0)} ms`, slowestMs: slowest.ms, slowerScoped, scopedCount: scoped.length, runs,
  };
}
