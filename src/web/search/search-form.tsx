import { useState } from 'react';
import type { FormEvent } from 'react';

// The search state both search pages keep in their address (so Back, reload and bookmarks
// work): the query, the filters that only add to it, the order and the page.
export interface SearchState {
  q: string;
  from: string;
  to: string;
  after: string;
  before: string;
  att: boolean;
  sort: Sort;
  page: number;
}

export type Sort = 'newest' | 'oldest' | 'relevance';

export function readSearchState(query: URLSearchParams): SearchState {
  return {
    q: query.get('q') ?? '', from: query.get('from') ?? '', to: query.get('to') ?? '', after: query.get('after') ?? '', before: query.get('before') ?? '',
    att: query.get('att') === '1', sort: query.get('sort') === 'oldest' ? 'oldest' : query.get('sort') === 'relevance' ? 'relevance' : 'newest', page: Math.max(0, Number(query.get('page') ?? '0') || 0),
  };
}

// The address parameters of a state (defaults left out), to merge into a page's address.
export function searchParams(s: SearchState): Record<string, string | null> {
  return {
    q: s.q || null, from: s.from || null, to: s.to || null, after: s.after || null, before: s.before || null, att: s.att ? '1' : null,
    sort: s.sort === 'newest' ? null : s.sort, page: s.page > 0 ? String(s.page) : null,
  };
}

// The query the filters make of the typed query: each filter narrows the whole of it.
export function composeQuery(s: Pick<SearchState, 'q' | 'from' | 'to' | 'after' | 'before' | 'att'>): string {
  const quote = (v: string) => (/[\s()"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);
  const extra: string[] = [];
  if (s.from.trim()) extra.push(`from:${quote(s.from.trim())}`);
  if (s.to.trim()) extra.push(`to:${quote(s.to.trim())}`);
  if (s.after) extra.push(`after:${s.after}`);
  if (s.before) extra.push(`before:${s.before}`);
  if (s.att) extra.push('has:attachment');
  const base = s.q.trim();
  if (!base) return extra.join(' ');
  return extra.length ? `(${base}) ${extra.join(' ')}` : base;
}

// The words a query looks for (not field names, operators or negated words), to mark in the
// subject and sender of each result (the passages of text come marked from the server).
export function searchWords(query: string): string[] {
  const words = new Set<string>();
  for (const m of query.matchAll(/(^|[\s(])(-?)(?:(from|to|cc|bcc|sender|subject|filename|mailbox):)?("([^"]*)"|[^\s()"]+)/g)) {
    if (m[2] === '-') continue;
    const value = (m[5] ?? m[4]).toLowerCase();
    if (!m[3] && (/^(or|and|not)$/.test(value) || /^[a-z-]+:/.test(value))) continue;
    for (const w of value.split(/[^\p{L}\p{N}@.]+/u)) if (w.length >= 2) words.add(w);
  }
  return [...words];
}

// The search form: the query language, the filters and the order. `disabled`: shown, not usable
// (a grant without the search permission).
export function SearchForm({ state, label, placeholder, help, disabled = false, onSearch }: {
  state: SearchState; label: string; placeholder: string; help: string; disabled?: boolean; onSearch: (next: SearchState) => void;
}) {
  const [draft, setDraft] = useState(state);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch({ ...draft, q: draft.q.trim(), page: 0 });
  };
  const set = (k: 'q' | 'from' | 'to' | 'after' | 'before') => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });
  return (
    <form role="search" aria-label={label} onSubmit={submit} className="stack">
      <div className="row">
        <label>
          Search
          <input type="search" name="q" value={draft.q} onChange={set('q')} aria-describedby="search-help" disabled={disabled} placeholder={placeholder} />
        </label>
        <label className="narrow">
          Order
          <select value={draft.sort} disabled={disabled} onChange={(e) => {
            const value = e.target.value;
            const next = { ...draft, sort: (value === 'oldest' || value === 'relevance' ? value : 'newest') as Sort, page: 0 };
            setDraft(next);
            // The order applies at once to what is shown; the typed query waits for Search.
            onSearch({ ...state, sort: next.sort, page: 0 });
          }}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
            <option value="relevance">Best match first</option>
          </select>
        </label>
        <button type="submit" disabled={disabled}>Search</button>
      </div>
      <p id="search-help" className="muted">{help}</p>
      <fieldset>
        <legend>Filters</legend>
        <div className="row">
          <label>From <input value={draft.from} onChange={set('from')} placeholder="address or domain" disabled={disabled} /></label>
          <label>To <input value={draft.to} onChange={set('to')} placeholder="address or domain" disabled={disabled} /></label>
          <label>After <input type="date" value={draft.after} onChange={set('after')} disabled={disabled} /></label>
          <label>Before <input type="date" value={draft.before} onChange={set('before')} disabled={disabled} /></label>
          <label><input type="checkbox" checked={draft.att} onChange={(e) => setDraft({ ...draft, att: e.target.checked })} disabled={disabled} /> Has attachment</label>
        </div>
      </fieldset>
    </form>
  );
}
