import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { useLoad } from '../use-load.ts';

interface Access {
  index: number;
  time: string;
  actor: string;
  operation: string;
  result: string;
  logonType: string;
  mailboxes: string[];
  messages: number;
  request: { id: string; purpose: string; ticket: string | null; justification: string; breakglass: boolean } | null;
}

const OPERATIONS: Record<string, string> = { search: 'searched', view: 'opened a message', raw: 'downloaded a message', export: 'exported', attachment: 'opened an attachment' };

// Transparency: every access to my mailboxes by someone else, from the ledger, with the
// request behind it (purpose, ticket). Refused attempts are listed too.
export function AccessesPage() {
  const r = useLoad(() => api.get<{ mailboxes: string[]; accesses: Access[] }>('/api/v1/mailboxes/mine/accesses'), []);
  return (
    <>
      <PageTitle>Who accessed my mailbox</PageTitle>
      <p className="muted">Every search, read and export of your mail by anyone else is recorded before it happens. Your own reads are not listed here.</p>
      {r.loading && <Loading what="accesses" />}
      <ErrorNote error={r.error} />
      {r.data && r.data.mailboxes.length === 0 && <p>No archived mailbox is registered to you.</p>}
      {r.data && r.data.mailboxes.length > 0 && r.data.accesses.length === 0 && <p>No one else has accessed {r.data.mailboxes.join(', ')}.</p>}
      {r.data && r.data.accesses.length > 0 && (
        <table data-testid="accesses">
          <caption>Accesses to {r.data.mailboxes.join(', ')}</caption>
          <thead>
            <tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Purpose</th><th scope="col">Ticket</th><th scope="col">Request</th></tr>
          </thead>
          <tbody>
            {r.data.accesses.map((a) => (
              <tr key={a.index}>
                <td>{when(a.time)}</td>
                <td>{a.actor}{a.logonType === 'breakglass' && <strong> (emergency access)</strong>}</td>
                <td>
                  {OPERATIONS[a.operation] ?? a.operation}{a.messages > 0 && ` (${a.messages} message${a.messages === 1 ? '' : 's'})`}
                  {a.result !== 'success' && <strong> — {a.result}</strong>}
                </td>
                <td>{a.request ? <>{a.request.purpose}<br /><span className="muted">{a.request.justification}</span></> : '—'}</td>
                <td>{a.request?.ticket ?? '—'}</td>
                <td><code>{a.request?.id ?? '—'}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
