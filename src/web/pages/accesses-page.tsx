import { useId } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { minuteTime, when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { Purpose } from '../purpose.tsx';
import { Link } from '../router.tsx';
import { useLoad } from '../use-load.ts';

interface RequestSummary { id: string; purpose: string; ticket: string | null; justification: string; breakglass: boolean }

type Detail =
  | { kind: 'search'; time: string; query: string | null; thread: boolean; results: number; mailboxes: string[] }
  | { kind: 'read'; time: string; last: string; sha256: string; parts: string[]; mailboxes: string[] }
  | { kind: 'export'; time: string; query: string | null; messages: number; mailboxes: string[] }
  | { kind: 'export-cancelled'; time: string; query: string | null; messages: number; done: number; of: number; mailboxes: string[] }
  | { kind: 'refused'; time: string; operation: string; mailboxes: string[] };

interface AccessGroup {
  request: RequestSummary | null;
  person: { name: string; displayName: string };
  emergency: boolean;
  first: string;
  last: string;
  mailboxes: string[];
  searches: number;
  messagesRead: number;
  downloads: number;
  exports: number;
  messagesExported: number;
  refused: number;
  details: Detail[];
}

interface OwnerAccesses { mailboxes: string[]; requests: AccessGroup[]; truncated: boolean }

const PARTS: Record<string, string> = { view: 'headers', body: 'body', evidence: 'evidence', conversation: 'its conversation', raw: 'downloaded the .eml', 'remote-content': 'loaded its remote content', 'attachment-text': 'the text of an attachment' };
const REFUSED: Record<string, string> = { search: 'a search', view: 'opening a message', body: 'opening a message', evidence: 'opening a message', raw: 'downloading a message', export: 'an export', 'remote-content': 'loading remote content', 'attachment-text': 'opening a message' };

const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

// Transparency: who accessed my mailboxes, one card per person and request (why, ticket, from
// when to when, what they did), from the ledger, as each mailbox's notification policy allows.
// A message opened is one message read, however many parts of it the viewer fetched; the
// details list each search, message and export. Refused attempts are listed too.
export function AccessesPage() {
  const r = useLoad(() => api.get<OwnerAccesses>('/api/v1/mailboxes/mine/accesses'), []);
  const several = (r.data?.mailboxes.length ?? 0) > 1;
  return (
    <>
      <PageTitle>Who accessed my mailbox</PageTitle>
      <p className="muted">Every search, read and export of your mail by anyone else is recorded before it happens, and shown here as your mailbox's notification policy allows. Your own reads are not listed here.</p>
      {r.loading && <Loading what="accesses" />}
      <ErrorNote error={r.error} />
      {r.data && r.data.mailboxes.length === 0 && <p>No archived mailbox is registered to you.</p>}
      {r.data && r.data.mailboxes.length > 0 && r.data.requests.length === 0 && <p>No one else has accessed {r.data.mailboxes.join(', ')}.</p>}
      {r.data && r.data.requests.length > 0 && (
        <section aria-label={`Accesses to ${r.data.mailboxes.join(', ')}`} data-testid="accesses">
          <p>{n(r.data.requests.length, 'request')} by others to {r.data.mailboxes.join(', ')}, the latest first.</p>
          {r.data.truncated && <p className="warning">Only the most recent accesses are shown.</p>}
          {r.data.requests.map((g) => <AccessCard key={`${g.request?.id ?? ''} ${g.person.name}`} g={g} several={several} />)}
        </section>
      )}
    </>
  );
}

function AccessCard({ g, several }: { g: AccessGroup; several: boolean }) {
  const id = useId();
  const did = [
    g.searches > 0 && n(g.searches, 'search', 'searches'),
    g.messagesRead > 0 && `${n(g.messagesRead, 'message')} read${g.downloads > 0 ? ` (${g.downloads} downloaded)` : ''}`,
    g.exports > 0 && `${n(g.messagesExported, 'message')} exported${g.exports > 1 ? ` in ${g.exports} exports` : ''}`,
    g.refused > 0 && `${n(g.refused, 'attempt')} refused`,
  ].filter(Boolean);
  return (
    <article className="card access-group" aria-labelledby={id} data-request={g.request?.id ?? ''}>
      <h2 id={id}>
        {g.person.displayName}
        {g.person.displayName !== g.person.name && <span className="muted"> ({g.person.name})</span>}
        {g.emergency && <strong className="bcc"> — emergency access</strong>}
      </h2>
      <dl>
        <dt>Why</dt>
        <dd>{g.request ? <><Purpose value={g.request.purpose} /><br /><span className="muted">{g.request.justification}</span></> : 'No request: attempts without access'}</dd>
        <dt>Ticket</dt><dd>{g.request?.ticket ?? '—'}</dd>
        <dt>When</dt><dd>{span(g.first, g.last)}</dd>
        {several && <><dt>Mailboxes</dt><dd>{g.mailboxes.join(', ')}</dd></>}
        <dt>Request</dt><dd>{g.request ? <code>{g.request.id}</code> : '—'}</dd>
      </dl>
      <p className="access-counts"><strong>{did.join(' · ') || 'nothing'}</strong></p>
      <details>
        <summary>Details ({g.details.length})</summary>
        <ol className="access-details">
          {g.details.map((d, i) => <li key={i}><span className="muted">{when(d.time)}</span> {detail(d)}{several && <span className="muted"> — {d.mailboxes.join(', ')}</span>}</li>)}
        </ol>
      </details>
    </article>
  );
}

function detail(d: Detail) {
  switch (d.kind) {
    case 'search': return d.thread
      ? <>listed a conversation: {n(d.results, 'message')} of yours</>
      : <>searched{d.query !== null && <> for <code>{d.query}</code></>}: {n(d.results, 'message')} of yours found</>;
    case 'export': return <>exported {n(d.messages, 'message')} of yours{d.query !== null && <> found by <code>{d.query}</code></>}</>;
    case 'export-cancelled': return <>started an export of {n(d.messages, 'message')} of yours{d.query !== null && <> found by <code>{d.query}</code></>} and cancelled it after {d.done} of {n(d.of, 'message')} were packed; nothing of it was handed out</>;
    case 'refused': return <strong>refused: {REFUSED[d.operation] ?? d.operation}</strong>;
    case 'read': return <>opened <Link href={`/mailbox/${d.sha256}`}>message {d.sha256.slice(0, 12)}…</Link> ({d.parts.map((p) => PARTS[p] ?? p).join(', ')}){Date.parse(d.last) - Date.parse(d.time) >= 60_000 && <>, again until {when(d.last)}</>}</>;
  }
}

// "3 Dec 2026, 08:05 – 08:07 UTC": one date when both ends fall on it.
function span(first: string, last: string): string {
  if (first === last) return when(first);
  const a = new Date(first);
  const b = new Date(last);
  if (a.toDateString() !== b.toDateString()) return `${when(first)} – ${when(last)}`;
  return `${when(first)} – ${minuteTime(b)}`;
}
