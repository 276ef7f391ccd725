import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { Link, navigate } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

export interface SearchHit {
  sha256: string;
  messageId: string | null;
  date: string | null;
  from: string | null;
  subject: string | null;
}

// Owner self-service: search one's own mailboxes (the query language of `sealbox search`) and
// open a message. The query is in the address, so Back returns to the same results. Each
// search is a ledger entry like any other read.
export function MyMailboxPage({ query }: PageProps) {
  const { me } = useSession();
  const everything = me.mailboxes.map((m) => `mailbox:"${m}"`).join(' OR ');
  const q = query.get('q') ?? '';
  const run = q || everything;
  const [draft, setDraft] = useState(q);
  const results = useLoad(async () => {
    if (!run) return null;
    const t0 = performance.now();
    const r = await api.get<{ results: SearchHit[] }>(`/api/v1/search${qs({ q: run, limit: 100 })}`);
    return { ...r, ms: Math.round(performance.now() - t0) };
  }, [run]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/mailbox${qs({ q: draft.trim() })}`);
  };
  if (me.mailboxes.length === 0) {
    return (
      <>
        <PageTitle>My mailbox</PageTitle>
        <p>No archived mailbox is registered to you. If that is wrong, ask your administrator to set you as its owner in the directory.</p>
      </>
    );
  }
  return (
    <>
      <PageTitle>My mailbox</PageTitle>
      <p className="muted">Your mailboxes: {me.mailboxes.join(', ')}. Your own searches and reads are recorded too, but are not shown to you as accesses by others.</p>
      <form role="search" onSubmit={submit} className="row" aria-label="Search my mailbox">
        <label>
          Search
          <input type="search" name="q" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder='e.g. invoice from:carol@partner.test after:2024-01-01' aria-describedby="q-help" />
        </label>
        <button type="submit">Search</button>
      </form>
      <p id="q-help" className="muted">Words, "phrases", from: to: cc: subject: has:attachment before: after: on: (YYYY-MM-DD); empty shows everything, newest first.</p>
      {results.loading && <Loading what="results" />}
      <ErrorNote error={results.error} />
      {results.data && (
        <>
          <p role="status">{results.data.results.length === 100 ? 'The first 100 messages' : `${results.data.results.length} message${results.data.results.length === 1 ? '' : 's'}`} in {results.data.ms} ms.</p>
          <ResultTable hits={results.data.results} base="/mailbox" />
        </>
      )}
    </>
  );
}

export function ResultTable({ hits, base, grant }: { hits: SearchHit[]; base: string; grant?: string }) {
  if (hits.length === 0) return <p>No message matches.</p>;
  return (
    <table>
      <caption className="muted">Messages</caption>
      <thead><tr><th scope="col">Date</th><th scope="col">From</th><th scope="col">Subject</th></tr></thead>
      <tbody>
        {hits.map((h) => (
          <tr key={h.sha256}>
            <td>{when(h.date)}</td>
            <td>{h.from ?? '—'}</td>
            <td><Link href={`${base}/${h.sha256}${grant ? qs({ grant }) : ''}`}>{h.subject || '(no subject)'}</Link></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
