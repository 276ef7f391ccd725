import type { ReactNode } from 'react';
import { api, qs } from '../api.ts';
import { when } from '../format.ts';
import { Link } from '../router.tsx';
import { useLoad } from '../use-load.ts';
import type { Sort } from './search-form.tsx';

export const PAGE_SIZE = 50;

export interface SearchHit {
  sha256: string;
  messageId: string | null;
  date: string | null;
  from: string | null;
  subject: string | null;
  snippet?: string;
  // The attachments whose text holds the words searched for.
  inAttachments?: { attachment: number; filename: string | null }[];
}

export interface SearchPage {
  total: number;
  totalIsLowerBound?: boolean;   // more than `total` found (the server counts no further)
  rankedNewest?: number;         // best match first among the newest this many, then the older ones newest first
  sort: Sort;   // the order the server used (best match needs words to look for)
  results: SearchHit[];
  ms: number;
}

// One page of a search, with the total and each message's passage with the words found. Each
// load is a ledger entry (a search, its snippets included).
export function useSearch(query: string, options: { grant?: string; sort: Sort; page: number; enabled?: boolean }) {
  return useLoad(async (): Promise<SearchPage | null> => {
    if (!query || options.enabled === false) return null;
    const t0 = performance.now();
    const r = await api.get<{ total: number; totalIsLowerBound?: boolean; rankedNewest?: number; sort: Sort; results: SearchHit[] }>(`/api/v1/search${qs({
      q: query, grant: options.grant, limit: PAGE_SIZE, offset: options.page * PAGE_SIZE, sort: options.sort === 'newest' ? undefined : options.sort, snippets: 1,
    })}`);
    return { total: r.total, totalIsLowerBound: r.totalIsLowerBound === true, ...(r.rankedNewest ? { rankedNewest: r.rankedNewest } : {}), sort: r.sort, results: r.results, ms: Math.round(performance.now() - t0) };
  }, [query, options.grant, options.sort, options.page, options.enabled]);
}

const count = (n: number) => n.toLocaleString('en');
// "10,000+" when the server counted no further.
export const found = (total: number, more?: boolean) => `${count(total)}${more ? '+' : ''}`;

// "3,266 messages · 51–100 shown, newest first · 42 ms"
export function ResultSummary({ data, page, extra }: { data: SearchPage; page: number; extra?: ReactNode }) {
  const order = data.sort === 'relevance' ? (data.rankedNewest ? `best match first among the newest ${count(data.rankedNewest)}, then newest first` : 'best match first') : `${data.sort} first`;
  const first = page * PAGE_SIZE + 1;
  const last = page * PAGE_SIZE + data.results.length;
  return (
    <p role="status" data-testid="result-count">
      <strong data-testid="result-total">{found(data.total, data.totalIsLowerBound)} message{data.total === 1 && !data.totalIsLowerBound ? '' : 's'}</strong>
      {data.results.length > 0 ? ` · ${count(first)}–${count(last)} shown, ${order}` : ''} · {data.ms} ms{extra}
    </p>
  );
}

// The results as a list: subject (a link), sender and date, and the passage of text with the
// words found. `href` makes each message's link.
export function ResultList({ data, page, words, href, current }: { data: SearchPage; page: number; words: string[]; href: (sha256: string) => string; current?: string | null }) {
  if (data.results.length === 0) return <p>No message matches.</p>;
  return (
    <ol className="results" start={page * PAGE_SIZE + 1} aria-label="Messages found">
      {data.results.map((h) => (
        <li key={h.sha256} aria-current={h.sha256 === current ? 'true' : undefined}>
          <Link href={href(h.sha256)}><Highlight text={h.subject || '(no subject)'} words={words} /></Link>
          <span className="muted"> — <Highlight text={h.from ?? 'unknown sender'} words={words} />, {when(h.date)}</span>
          {h.snippet ? <Snippet html={h.snippet} /> : null}
          {h.inAttachments && h.inAttachments.length > 0 && (
            <span className="found-in" data-testid="found-in">
              Found inside {h.inAttachments.length === 1 ? 'the attachment' : 'the attachments'} {h.inAttachments.map((a) => a.filename ?? `attachment ${a.attachment + 1}`).join(', ')}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

// Previous and next page, and where one is; first and last page for long lists.
// more: the total is a lower bound; the pages past it are still there (Next), and counted once
// reached.
export function Pager({ total, more = false, page, go }: { total: number; more?: boolean; page: number; go: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages <= 1 && !more) return null;
  return (
    <nav className="actions pager" aria-label="Result pages">
      <button type="button" className="secondary" disabled={page === 0} onClick={() => go(0)}>First</button>
      <button type="button" className="secondary" disabled={page === 0} onClick={() => go(page - 1)}>Previous {PAGE_SIZE}</button>
      <span data-testid="page-of">Page {count(page + 1)} of {found(pages, more)}</span>
      <button type="button" className="secondary" disabled={page >= pages - 1 && !more} onClick={() => go(page + 1)}>Next {PAGE_SIZE}</button>
      <button type="button" className="secondary" disabled={page >= pages - 1} onClick={() => go(pages - 1)}>Last</button>
    </nav>
  );
}

// A passage as the server sends it: escaped HTML whose only tags are <mark> and </mark>. It is
// never handed to the DOM as HTML: the marks are cut out and the rest shown as text.
export function Snippet({ html }: { html: string }) {
  const parts = html.split(/(<mark>|<\/mark>)/);
  let marked = false;
  const out: ReactNode[] = [];
  parts.forEach((part, i) => {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) out.push(marked ? <mark key={i}>{unescape(part)}</mark> : unescape(part));
  });
  return <span className="snippet" data-testid="snippet">{out}</span>;
}

function unescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

export function Highlight({ text, words }: { text: string; words: string[] }) {
  if (words.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  return <>{text.split(pattern).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}</>;
}
