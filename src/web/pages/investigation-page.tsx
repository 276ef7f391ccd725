import { useEffect, useState } from 'react';
import { api, qs } from '../api.ts';
import type { AccessRequest } from '../access-request.ts';
import { SUBJECT_ACCESS_PURPOSE } from '../access-request.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { EvidencePanel } from '../message/evidence-panel.tsx';
import { MessageView } from '../message/message-view.tsx';
import { PageTitle } from '../page-title.tsx';
import { Purpose, purposeWords, usePurposeLabels } from '../purpose.tsx';
import { Link, navigate } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { ExportControl } from '../search/export-control.tsx';
import { ExportJobsPanel } from '../search/export-jobs-panel.tsx';
import { composeQuery, readSearchState, SearchForm, searchParams, searchWords } from '../search/search-form.tsx';
import type { SearchState } from '../search/search-form.tsx';
import { Pager, ResultList, ResultSummary, useSearch } from '../search/search-results.tsx';
import { ThreadNav } from '../search/thread-nav.tsx';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

// Investigation under one of the user's active grants: search within its scope (the query
// language, plus a few filters that only add to the query; newest or oldest first, 50 a page
// with the total in scope, each result with the passage that matched), open a message with its
// conversation (within the scope) and its evidence, and export what the search finds when the
// grant carries the export permission.
// The grant's remaining time is always on screen; when it ends, reads stop (the server refuses).
// Everything is in the address (grant, query, filters, message), so Back and reload work.
export function InvestigationPage({ query }: PageProps) {
  const { me } = useSession();
  const labels = usePurposeLabels();
  const grants = useLoad(() => api.get<{ requests: AccessRequest[] }>('/api/v1/requests'), []);
  const active = (grants.data?.requests ?? []).filter((r) => r.requester === me.name && r.state === 'active');
  const grantId = query.get('grant') ?? '';
  const grant = active.find((g) => g.id === grantId) ?? null;
  const state = readSearchState(query);
  const opened = query.get('m');

  // The only active grant is chosen by itself.
  useEffect(() => {
    if (!grantId && active.length === 1) navigate(`/investigation${qs({ grant: active[0].id })}`, { replace: true });
  }, [grantId, active.length]);

  const full = composeQuery(state);
  const words = searchWords(full);
  const results = useSearch(full, { grant: grant?.id, sort: state.sort, page: state.page, enabled: grant !== null && grant.permissions.includes('search') });

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
              {active.map((g) => <option key={g.id} value={g.id}>{purposeWords(g.purpose, labels)} · {g.ticket ?? 'no ticket'} · {g.mailboxes.join(', ')}</option>)}
            </select>
          </label>
        </div>
      )}
      {grant && <GrantBar grant={grant} onEnd={grants.reload} />}
      {grant && (
        <>
          {/* A data subject's request is answered with all of its scope: its fixed query is that
              mail exactly, so searching for it finds (and exports) the whole of it. */}
          {grant.purpose === SUBJECT_ACCESS_PURPOSE && grant.query && grant.permissions.includes('search') && !full && (
            <p className="notice" data-testid="subject-access-scope">
              This grant answers a data subject's access request (GDPR Art. 15): its scope is exactly the mail in which the person takes part.{' '}
              <button type="button" className="secondary" onClick={() => go({ q: grant.query, page: null, m: null })}>List all of it</button>{' '}
              to see it and export the whole of it.
            </p>
          )}
          <SearchForm key={`${grant.id}|${query.toString()}`} state={state} label="Search within the grant" disabled={!grant.permissions.includes('search')}
            placeholder='e.g. invoice OR "bank details" -newsletter'
            help={'Words and "phrases", OR, NOT or -word, (groups); fields from: to: cc: bcc: subject: filename: has:attachment before: after: on: message-id: sha256:. Only messages in the grant\'s scope are ever searched or counted.'}
            onSearch={(next: SearchState) => go({ ...searchParams(next), m: null })} />
          {!grant.permissions.includes('search') && <p className="notice">This grant does not allow searching; open a message by its link.</p>}
          {results.loading && full && <Loading what="results" />}
          <ErrorNote error={results.error} />
          {results.data && (
            <section aria-labelledby="results-h">
              <h2 id="results-h">Results</h2>
              <ResultSummary data={results.data} page={state.page}
                extra={grant.query ? <> · within the grant's fixed query <code>{grant.query}</code></> : null} />
              {results.data.results.length === 0 ? <p>No message in this grant's scope matches.</p> : (
                <ResultList data={results.data} page={state.page} words={words} current={opened} href={(sha) => `/investigation?${withParam(query, 'm', sha)}`} />
              )}
              <Pager total={results.data.total} more={results.data.totalIsLowerBound} page={state.page} go={(page) => go({ page: page > 0 ? String(page) : null, m: null })} />
            </section>
          )}
          {results.data && grant.permissions.includes('export') && <ExportControl query={full} total={results.data.total} more={results.data.totalIsLowerBound} grant={grant.id} />}
          {results.data && grant.permissions.includes('export') && <ExportJobsPanel query={full} total={results.data.total} more={results.data.totalIsLowerBound} grant={grant.id} subjectAccess={grant.purpose === SUBJECT_ACCESS_PURPOSE} />}
          {opened && /^[0-9a-f]{64}$/.test(opened) && (
            <div className="investigation-message">
              {grant.permissions.includes('search') && <ThreadNav key={`thread-${opened}`} sha256={opened} grant={grant.id} href={(sha) => `/investigation?${withParam(query, 'm', sha)}`} />}
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

function withParam(query: URLSearchParams, key: string, value: string): string {
  const next = new URLSearchParams(query);
  next.set(key, value);
  return next.toString();
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
        <strong>{grant.breakglass ? 'Break-glass grant' : 'Grant'}</strong> {grant.id} · <Purpose value={grant.purpose} />{grant.ticket ? ` · ticket ${grant.ticket}` : ''} · {grant.mailboxes.join(', ')}
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
