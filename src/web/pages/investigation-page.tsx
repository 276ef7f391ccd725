import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { api, qs } from '../api.ts';
import type { AccessRequest } from '../access-request.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { EvidencePanel } from '../message/evidence-panel.tsx';
import { MessageView } from '../message/message-view.tsx';
import { PageTitle } from '../page-title.tsx';
import { Link, navigate } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface Hit {
  sha256: string;
  messageId: string | null;
  date: string | null;
  from: string | null;
  subject: string | null;
}

interface Filters { from: string; to: string; after: string; before: string; att: boolean }

const PAGE = 50;

// Investigation under one of the user's active grants: search within its scope (the query
// language, plus a few filters that only add to the query), open a message with its evidence.
// The grant's remaining time is always on screen; when it ends, reads stop (the server refuses).
// Everything is in the address (grant, query, filters, message), so Back and reload work.
export function InvestigationPage({ query }: PageProps) {
  const { me } = useSession();
  const grants = useLoad(() => api.get<{ requests: AccessRequest[] }>('/api/v1/requests'), []);
  const active = (grants.data?.requests ?? []).filter((r) => r.requester === me.name && r.state === 'active');
  const grantId = query.get('grant') ?? '';
  const grant = active.find((g) => g.id === grantId) ?? null;
  const q = query.get('q') ?? '';
  const f: Filters = { from: query.get('from') ?? '', to: query.get('to') ?? '', after: query.get('after') ?? '', before: query.get('before') ?? '', att: query.get('att') === '1' };
  const opened = query.get('m');
  const page = Number(query.get('page') ?? '0') || 0;

  // The only active grant is chosen by itself.
  useEffect(() => {
    if (!grantId && active.length === 1) navigate(`/investigation${qs({ grant: active[0].id })}`, { replace: true });
  }, [grantId, active.length]);

  const full = composeQuery(q, f);
  const words = searchWords(full);
  const results = useLoad(async () => {
    if (!grant || !full) return null;
    const t0 = performance.now();
    const r = await api.get<{ results: Hit[] }>(`/api/v1/search${qs({ q: full, grant: grant.id, limit: PAGE, offset: page * PAGE })}`);
    return { hits: r.results, ms: Math.round(performance.now() - t0) };
  }, [grant?.id, full, page]);

  const go = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) if (v === null || v === '') next.delete(k); else next.set(k, v);
    navigate(`/investigation?${next.toString()}`);
  };

  return (
    <>
      <PageTitle>Investigation</PageTitle>
      {grants.loading && <Loading what="your grants" />}
      <ErrorNote error={grants.error} />
      {grants.data && active.length === 0 && (
        <p>You have no active grant. File a request on the <Link href="/requests">Requests</Link> page; once it is approved, open it here.</p>
      )}
      {grants.data && active.length > 0 && (
        <div className="row">
          <label>
            Grant
            <select value={grant?.id ?? ''} onChange={(e) => navigate(`/investigation${qs({ grant: e.target.value })}`)}>
              {!grant && <option value="">Choose an active grant…</option>}
              {active.map((g) => <option key={g.id} value={g.id}>{g.purpose} · {g.ticket ?? 'no ticket'} · {g.mailboxes.join(', ')}</option>)}
            </select>
          </label>
        </div>
      )}
      {grant && <GrantBar grant={grant} onEnd={grants.reload} />}
      {grant && (
        <>
          <SearchForm key={`${grant.id}|${q}|${f.from}|${f.to}|${f.after}|${f.before}|${f.att}`} q={q} f={f} permissions={grant.permissions}
            onSearch={(nq, nf) => go({ q: nq, from: nf.from, to: nf.to, after: nf.after, before: nf.before, att: nf.att ? '1' : null, m: null, page: null })} />
          {!grant.permissions.includes('search') && <p className="notice">This grant does not allow searching; open a message by its link.</p>}
          {results.loading && full && <Loading what="results" />}
          <ErrorNote error={results.error} />
          {results.data && (
            <section aria-labelledby="results-h">
              <h2 id="results-h">Results</h2>
              <p role="status" data-testid="result-count">
                {results.data.hits.length === PAGE ? `Messages ${page * PAGE + 1}–${page * PAGE + PAGE}` : `${page * PAGE + results.data.hits.length} message${page * PAGE + results.data.hits.length === 1 ? '' : 's'}`} in {results.data.ms} ms
                {grant.query ? <> · within the grant's fixed query <code>{grant.query}</code></> : null}
              </p>
              {results.data.hits.length === 0 ? <p>No message in this grant's scope matches.</p> : (
                <ol className="results" start={page * PAGE + 1}>
                  {results.data.hits.map((h) => (
                    <li key={h.sha256} aria-current={h.sha256 === opened ? 'true' : undefined}>
                      <Link href={`/investigation?${withParam(query, 'm', h.sha256)}`}><Highlight text={h.subject || '(no subject)'} words={words} /></Link>
                      <span className="muted"> — <Highlight text={h.from ?? 'unknown sender'} words={words} />, {when(h.date)}</span>
                    </li>
                  ))}
                </ol>
              )}
              <p className="actions">
                {page > 0 && <button type="button" className="secondary" onClick={() => go({ page: String(page - 1), m: null })}>Previous {PAGE}</button>}
                {results.data.hits.length === PAGE && <button type="button" className="secondary" onClick={() => go({ page: String(page + 1), m: null })}>Next {PAGE}</button>}
              </p>
            </section>
          )}
          {opened && /^[0-9a-f]{64}$/.test(opened) && (
            <div className="investigation-message">
              <MessageView key={opened} sha256={opened} grant={grant.id} />
              <EvidencePanel sha256={opened} grant={grant.id} />
            </div>
          )}
        </>
      )}
      {grantId && grants.data && !grant && <p className="notice">Grant {grantId} is not one of your active grants (it may have ended).</p>}
    </>
  );
}

function composeQuery(q: string, f: Filters): string {
  const quote = (v: string) => (/[\s()"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);
  const extra: string[] = [];
  if (f.from.trim()) extra.push(`from:${quote(f.from.trim())}`);
  if (f.to.trim()) extra.push(`to:${quote(f.to.trim())}`);
  if (f.after) extra.push(`after:${f.after}`);
  if (f.before) extra.push(`before:${f.before}`);
  if (f.att) extra.push('has:attachment');
  const base = q.trim();
  if (!base) return extra.join(' ');
  // The filters narrow the whole query, whatever ORs it holds.
  return extra.length ? `(${base}) ${extra.join(' ')}` : base;
}

function withParam(query: URLSearchParams, key: string, value: string): string {
  const next = new URLSearchParams(query);
  next.set(key, value);
  return next.toString();
}

// The words a query looks for (not field names, operators or negated words), to mark in the
// result lines. The index keeps no text to cut snippets from (its FTS5 table is contentless),
// so the marks are on what the result list shows: subject and sender.
function searchWords(query: string): string[] {
  const words = new Set<string>();
  for (const m of query.matchAll(/(^|[\s(])(-?)(?:(from|to|cc|bcc|sender|subject|filename|mailbox):)?("([^"]*)"|[^\s()"]+)/g)) {
    if (m[2] === '-') continue;
    const value = (m[5] ?? m[4]).toLowerCase();
    if (!m[3] && (/^(or|and|not)$/.test(value) || /^[a-z-]+:/.test(value))) continue;
    for (const w of value.split(/[^\p{L}\p{N}@.]+/u)) if (w.length >= 2) words.add(w);
  }
  return [...words];
}

function Highlight({ text, words }: { text: string; words: string[] }) {
  if (words.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  return <>{text.split(pattern).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}</>;
}

function SearchForm({ q, f, permissions, onSearch }: { q: string; f: Filters; permissions: string[]; onSearch: (q: string, f: Filters) => void }) {
  const [draft, setDraft] = useState(q);
  const [filters, setFilters] = useState(f);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(draft.trim(), filters);
  };
  const set = (k: keyof Filters) => (e: { target: { value: string; checked?: boolean } }) => setFilters({ ...filters, [k]: k === 'att' ? Boolean(e.target.checked) : e.target.value });
  const can = permissions.includes('search');
  return (
    <form role="search" aria-label="Search within the grant" onSubmit={submit} className="stack">
      <div className="row">
        <label>
          Search
          <input type="search" name="q" value={draft} onChange={(e) => setDraft(e.target.value)} aria-describedby="inv-help" disabled={!can}
            placeholder='e.g. invoice OR "bank details" -newsletter' />
        </label>
        <button type="submit" disabled={!can}>Search</button>
      </div>
      <p id="inv-help" className="muted">Words and "phrases", OR, NOT or -word, (groups); fields from: to: cc: bcc: subject: filename: has:attachment before: after: on: message-id: sha256:. Only messages in the grant's scope are ever searched.</p>
      <fieldset>
        <legend>Filters</legend>
        <div className="row">
          <label>From <input value={filters.from} onChange={set('from')} placeholder="address or domain" disabled={!can} /></label>
          <label>To <input value={filters.to} onChange={set('to')} placeholder="address or domain" disabled={!can} /></label>
          <label>After <input type="date" value={filters.after} onChange={set('after')} disabled={!can} /></label>
          <label>Before <input type="date" value={filters.before} onChange={set('before')} disabled={!can} /></label>
          <label><input type="checkbox" checked={filters.att} onChange={set('att')} disabled={!can} /> Has attachment</label>
        </div>
      </fieldset>
    </form>
  );
}

// The grant's remaining time, counted down every second, and "I'm done".
function GrantBar({ grant, onEnd }: { grant: AccessRequest; onEnd: () => void }) {
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const ends = grant.endsAt ? Date.parse(grant.endsAt) : null;
  const left = ends === null ? null : Math.max(0, ends - now);
  const text = left === null ? 'no end set' : left === 0 ? 'ended' : clock(left);
  const done = async () => {
    try {
      await api.post(`/api/v1/requests/${grant.id}/revoke`, { reason: 'done' });
      onEnd();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <aside className="grant-bar" aria-label="Grant in use">
      <p>
        <strong>{grant.breakglass ? 'Break-glass grant' : 'Grant'}</strong> {grant.id} · {grant.purpose}{grant.ticket ? ` · ticket ${grant.ticket}` : ''} · {grant.mailboxes.join(', ')}
        {grant.dateFrom || grant.dateTo ? ` · mail from ${grant.dateFrom?.slice(0, 10) ?? 'any time'} to ${grant.dateTo ? new Date(Date.parse(grant.dateTo) - 1).toISOString().slice(0, 10) : 'now'}` : ''} · may {grant.permissions.join(', ')}
      </p>
      <p>
        Time left: <strong data-testid="grant-remaining" className={left !== null && left < 5 * 60_000 ? 'verdict bad' : ''}>{text}</strong>
        <span className="muted"> (ends {when(grant.endsAt)})</span>{' '}
        <button type="button" className="secondary" onClick={done}>I'm done</button>
      </p>
      <ErrorNote error={error} />
    </aside>
  );
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h > 0 ? `${h} h ` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')} min ${String(sec).padStart(2, '0')} s`;
}
