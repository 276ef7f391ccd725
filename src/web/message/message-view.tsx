import { useState } from 'react';
import { api, ApiError, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { useLoad } from '../use-load.ts';
import { AttachmentText, ExtractionNote } from './attachment-text.tsx';
import { MessageBody } from './message-body.tsx';

type Verdict = { result: string; domain?: string; selector?: string; policy?: string | null; aligned?: boolean; comment?: string };

export interface MessageDetails {
  sha256: string;
  size: number;
  firstSeen: string;
  indexed: boolean;
  messageId: string | null;
  date: string | null;
  from: string | null;
  to: string | null;   // the To and Cc headers as written
  cc: string | null;
  subject: string | null;
  parseError: string | null;
  sameMessageId: string[];
  captures: {
    captureId: string;
    source: string;
    receivedAt: string;
    ledgerIndex: number;
    envelope: {
      mailFrom: string | null; rcptTo: { address: string }[]; clientAddress: string | null; clientHelo: string | null; clientName: string | null;
      authUser: string | null; queueId: string | null; protocol: string | null; tls: { protocol: string; cipher: string } | null;
    } | null;
    auth: { spf: Verdict | null; dkim: Verdict[]; arc: Verdict | null; dmarc: Verdict | null; receivedSpf?: { result: string } } | null;
    // Where a capture that no mail server handed over came from: the ingest API's submitter, an
    // import's file or server, a journal report (src/capture/).
    provenance: ({ api?: { user: string; tokenId: string | null; clientIp: string | null } } & Record<string, unknown>) | null;
  }[];
  mailboxes: { address: string; role: string; name: string | null; mailbox: string | null }[];
  // extraction: what became of reading its text (null: not a kind whose text is read)
  attachments: { filename: string | null; contentType: string; size: number; sha256: string; extraction?: string | null }[];
}

// One archived message, for its owner or under a grant (`grant`): headers, who took part (Bcc
// marked), every receipt with its full envelope and the authentication verdicts at receipt,
// the body in a sandboxed frame, attachments, the raw source and the .eml. Every read here is
// a ledger entry; the raw bytes are fetched only when source or an attachment is asked for.
// `heading="page"`: the subject is the page's <h1> (a page of its own), else an <h2> in a page.
export function MessageView({ sha256, grant, heading = 'section' }: { sha256: string; grant?: string; heading?: 'page' | 'section' }) {
  const m = useLoad(() => api.get<MessageDetails>(`/api/v1/messages/${sha256}${qs({ grant })}`), [sha256, grant]);
  const raw = useRaw(sha256, grant);
  const title = (text: string) => (heading === 'page' ? <PageTitle>{text}</PageTitle> : <h2 id="message-h">{text}</h2>);
  // Section headings sit one level below the subject, so the outline never skips a level.
  const H = heading === 'page' ? 'h2' : 'h3';
  if (m.loading) return <>{heading === 'page' && title('Message')}<Loading what="the message" /></>;
  if (!m.data) return <>{heading === 'page' && title('Message')}<ErrorNote error={m.error} /></>;
  const msg = m.data;
  const bcc = new Set(msg.mailboxes.filter((p) => p.role === 'bcc').map((p) => p.address.toLowerCase()));
  return (
    <article aria-label={`Message: ${msg.subject || '(no subject)'}`} className="message">
      {title(msg.subject || '(no subject)')}
      <dl>
        <dt>From</dt><dd>{msg.from ?? '—'}</dd>
        <dt>To</dt><dd>{msg.to ?? '—'}</dd>
        {msg.cc && <><dt>Cc</dt><dd>{msg.cc}</dd></>}
        <dt>Date</dt><dd>{when(msg.date)}</dd>
        <dt>Message-ID</dt><dd><code>{msg.messageId ?? '—'}</code></dd>
        <dt>Size</dt><dd>{bytes(msg.size)}</dd>
        <dt>SHA-256</dt><dd><code>{msg.sha256}</code></dd>
      </dl>
      {msg.parseError && <p className="notice">This message could not be fully parsed: {msg.parseError}. It is archived exactly as received.</p>}
      {msg.sameMessageId.length > 0 && <p className="notice">{msg.sameMessageId.length} other archived message(s) carry the same Message-ID with different bytes (kept apart, never merged).</p>}
      <p className="actions">
        <a className="button" href={`/api/v1/messages/${sha256}/raw${qs({ grant })}`} download={`${sha256}.eml`}>Download .eml</a>
        <button type="button" className="secondary" aria-expanded={raw.showSource} onClick={() => raw.toggleSource()}>{raw.showSource ? 'Hide raw source' : 'View raw source'}</button>
      </p>
      <ErrorNote error={raw.error} />
      {raw.showSource && (raw.text === null ? <Loading what="the raw source" /> : (
        <>
          <p className="muted">The exact stored bytes, shown as UTF-8 (bytes of other charsets show as �; the .eml keeps them exactly).</p>
          <pre className="raw-source" aria-label="Raw source" tabIndex={0}>{raw.text}</pre>
        </>
      ))}

      <H>Body</H>
      <MessageBody sha256={sha256} grant={grant} title={`Body of “${msg.subject || 'no subject'}”`} />

      {msg.attachments.length > 0 && (
        <>
          <H>Attachments</H>
          <ul className="attachments">
            {msg.attachments.map((a, i) => (
              <li key={i}>
                <button type="button" className="link" onClick={() => raw.download(i, a)}>{a.filename ?? `attachment ${i + 1}`}</button>{' '}
                <span className="muted">{a.contentType}, {bytes(a.size)}</span><ExtractionNote extraction={a.extraction} />
                {a.extraction && <AttachmentText sha256={sha256} grant={grant} index={i} name={a.filename ?? `attachment ${i + 1}`} />}
              </li>
            ))}
          </ul>
        </>
      )}

      <H>Participants</H>
      <table>
        <thead><tr><th scope="col">Role</th><th scope="col">Address</th><th scope="col">Name</th><th scope="col">Mailbox</th></tr></thead>
        <tbody>
          {msg.mailboxes.map((p, i) => (
            <tr key={i}>
              <td>{p.role === 'bcc' ? <strong className="bcc">Bcc</strong> : p.role}</td>
              <td>{p.address}</td><td>{p.name ?? ''}</td><td>{p.mailbox ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <H>Receipts (envelope and authentication at receipt)</H>
      {msg.captures.map((c) => (
        <section key={c.captureId} className="card" aria-label={`Receipt ${c.captureId}`}>
          <p><strong>{when(c.receivedAt)}</strong> via {c.source} · ledger entry {c.ledgerIndex} · <code>{c.captureId}</code></p>
          {c.provenance?.api && <p className="notice" data-testid="submitted-by">Not received from a mail server: submitted through the ingest API by {c.provenance.api.user}{c.provenance.api.tokenId ? ` (token ${c.provenance.api.tokenId})` : ''}{c.provenance.api.clientIp ? ` from ${c.provenance.api.clientIp}` : ''}.</p>}
          {c.provenance && !c.provenance.api && <p className="muted" data-testid="provenance">Provenance: <code>{JSON.stringify(c.provenance)}</code></p>}
          {c.envelope ? (
            <dl>
              <dt>MAIL FROM</dt><dd>{c.envelope.mailFrom === '' ? '<> (null sender)' : c.envelope.mailFrom ?? '—'}</dd>
              <dt>RCPT TO</dt>
              <dd>
                <ul className="plain">
                  {c.envelope.rcptTo.map((r) => (
                    <li key={r.address}>{r.address}{bcc.has(r.address.toLowerCase()) && <> <strong className="bcc">Bcc</strong> <span className="muted">(in the envelope only)</span></>}</li>
                  ))}
                </ul>
              </dd>
              <dt>Client</dt><dd>{[c.envelope.clientAddress, c.envelope.clientName && `(${c.envelope.clientName})`, c.envelope.clientHelo && `HELO ${c.envelope.clientHelo}`].filter(Boolean).join(' ') || '—'}</dd>
              {c.envelope.authUser && <><dt>Authenticated as</dt><dd>{c.envelope.authUser}</dd></>}
              {c.envelope.queueId && <><dt>Queue id</dt><dd>{c.envelope.queueId}</dd></>}
              <dt>Protocol</dt><dd>{c.envelope.protocol ?? '—'}{c.envelope.tls ? `, ${c.envelope.tls.protocol} ${c.envelope.tls.cipher}` : ', no TLS'}</dd>
            </dl>
          ) : <p className="muted">No envelope (imported without one).</p>}
          <AuthVerdicts auth={c.auth} />
        </section>
      ))}
    </article>
  );
}

function AuthVerdicts({ auth }: { auth: MessageDetails['captures'][number]['auth'] }) {
  if (!auth) return <p className="muted">Authentication not (yet) evaluated.</p>;
  const v = (x: Verdict | null | undefined) => (x ? <span className={`verdict ${x.result === 'pass' ? 'ok' : x.result === 'none' ? '' : 'bad'}`}>{x.result}</span> : <span className="muted">not applicable</span>);
  return (
    <dl>
      <dt>SPF</dt><dd>{v(auth.spf)} {auth.spf?.domain}</dd>
      <dt>DKIM</dt><dd>{auth.dkim.length === 0 ? <span className="muted">not signed</span> : auth.dkim.map((d, i) => <span key={i}>{v(d)} {d.domain} ({d.selector}){d.comment ? ` — ${d.comment}` : ''} </span>)}</dd>
      <dt>DMARC</dt><dd>{v(auth.dmarc)} {auth.dmarc?.domain}{auth.dmarc?.policy ? ` (policy ${auth.dmarc.policy})` : ''}</dd>
      <dt>ARC</dt><dd>{v(auth.arc)}</dd>
    </dl>
  );
}

// The raw bytes, fetched once when asked for (a recorded 'raw' read): shown as text, or parsed in
// the browser with postal-mime to hand out an attachment.
function useRaw(sha256: string, grant?: string) {
  const [bytesState, setBytes] = useState<ArrayBuffer | null>(null);
  const [showSource, setShowSource] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = async (): Promise<ArrayBuffer> => {
    if (bytesState) return bytesState;
    const res = await fetch(`/api/v1/messages/${sha256}/raw${qs({ grant })}`, { credentials: 'same-origin', cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => null) as { error?: { code: string; message: string } } | null;
      throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText);
    }
    const b = await res.arrayBuffer();
    setBytes(b);
    return b;
  };
  return {
    showSource, error,
    text: bytesState ? new TextDecoder('utf-8').decode(bytesState) : null,
    toggleSource: () => {
      setShowSource((s) => !s);
      if (!bytesState) load().catch(setError);
    },
    download: async (index: number, a: { filename: string | null; contentType: string }) => {
      try {
        const { default: PostalMime } = await import('postal-mime');
        const email = await PostalMime.parse(await load(), { attachmentEncoding: 'arraybuffer' });
        const found = email.attachments.find((x, i) => i === index && (x.filename ?? null) === a.filename) ?? email.attachments.find((x) => a.filename !== null && x.filename === a.filename) ?? email.attachments[index];
        if (!found) throw new Error('the attachment is not in the message');
        const url = URL.createObjectURL(new Blob([found.content as ArrayBuffer], { type: 'application/octet-stream' }));
        const link = document.createElement('a');
        link.href = url;
        link.download = found.filename || a.filename || `attachment-${index + 1}`;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      } catch (err) {
        setError(err);
      }
    },
  };
}
