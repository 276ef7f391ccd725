import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { useLoad } from '../use-load.ts';

interface Capture {
  captureId: string;
  source: string;
  receivedAt: string;
  ledgerIndex: number;
  envelope: { mailFrom?: string; rcptTo?: string[] } | null;
}

export interface MessageView {
  sha256: string;
  size: number;
  messageId: string | null;
  date: string | null;
  from: string | null;
  subject: string | null;
  parseError: string | null;
  captures: Capture[];
  mailboxes: { mailbox?: string; address?: string; role?: string }[];
  attachments: { filename?: string | null; contentType?: string; size?: number }[];
}

// One message of one's own mailbox: its headers and receipts (GET /api/v1/messages/:sha256),
// and the exact stored bytes as an .eml download. Both reads are ledger entries.
export function MailboxMessagePage({ params }: PageProps) {
  const sha = params.sha256;
  const m = useLoad(() => api.get<MessageView>(`/api/v1/messages/${encodeURIComponent(sha)}`), [sha]);
  return (
    <>
      <p><Link href="/mailbox">← Back to my mailbox</Link></p>
      <PageTitle title={m.data?.subject ?? 'Message'}>{m.data ? m.data.subject || '(no subject)' : 'Message'}</PageTitle>
      {m.loading && <Loading what="the message" />}
      <ErrorNote error={m.error} />
      {m.data && <MessageSummary message={m.data} />}
    </>
  );
}

export function MessageSummary({ message, grant }: { message: MessageView; grant?: string }) {
  return (
    <>
      <dl>
        <dt>From</dt><dd>{message.from ?? '—'}</dd>
        <dt>Date</dt><dd>{when(message.date)}</dd>
        <dt>Message-ID</dt><dd><code>{message.messageId ?? '—'}</code></dd>
        <dt>Size</dt><dd>{bytes(message.size)}</dd>
        <dt>SHA-256</dt><dd><code>{message.sha256}</code></dd>
      </dl>
      {message.parseError && <p className="notice">This message could not be fully parsed: {message.parseError}. It is archived exactly as received.</p>}
      <p className="actions">
        <a className="button" href={`/api/v1/messages/${message.sha256}/raw${qs({ grant })}`} download={`${message.sha256}.eml`}>Download .eml</a>
      </p>
      <h2>Receipts</h2>
      <table>
        <thead><tr><th scope="col">Received</th><th scope="col">Source</th><th scope="col">Envelope sender</th><th scope="col">Envelope recipients</th></tr></thead>
        <tbody>
          {message.captures.map((c) => (
            <tr key={c.captureId}>
              <td>{when(c.receivedAt)}</td>
              <td>{c.source}</td>
              <td>{c.envelope?.mailFrom || '—'}</td>
              <td>{c.envelope?.rcptTo?.join(', ') ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {message.attachments.length > 0 && (
        <>
          <h2>Attachments</h2>
          <ul>{message.attachments.map((a, i) => <li key={i}>{a.filename ?? '(unnamed)'} <span className="muted">{a.contentType} {a.size !== undefined ? bytes(a.size) : ''}</span></li>)}</ul>
        </>
      )}
    </>
  );
}
