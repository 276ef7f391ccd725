import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { PolicySection } from '../admin/policy-section.tsx';
import { UsersSection } from '../admin/users-section.tsx';
import { DirectorySection } from '../admin/directory-section.tsx';
import { OwnershipSection, RecoveriesSection } from '../admin/account-decisions.tsx';
import { PageTitle } from '../page-title.tsx';
import { hasRole, useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface Health {
  listeners: { name: string; host: string; port: number }[];
  captures: number;
  messages: number;
  index: {
    lagCaptures: number;
    authPending: number;
    extractionPending: number;
    completeness: { at: string; messages: number; documents: number; missing: number; failing: number; pending: number; stray: number } | null;
    // PostgreSQL: the mailboxes with a words index of their own
    mailboxIndexes: { mailbox: string; index: string; documents: number; bytes: number; builtAt: number }[];
  };
  notifications: {
    waiting: number; due: number; failing: number;
    mail: { relay: string | null; state: 'unset' | 'failing' | 'ok'; problem: string | null };
    failures: { kind: string; channel: 'mail' | 'webhook'; failing: number; lastError: string }[];
  };
  disk: { path: string; freeBytes: number; totalBytes: number };
  ledger: { size: number };
  checkpoint: { size: number; at: string; behind: number } | null;
  time: string;
}

interface MailboxEntry {
  name: string;
  displayName: string | null;
  owner: string | null;
  addresses: string[];
  sensitivity?: string | null;
  notification?: { notifyMode: 'before' | 'after' | 'none'; notifyAfterDays: number | null; legalBasis: string | null; notifyAlso: string[] };
}

// Administration: system health, users and roles, the archiving notice, the access policy,
// mailboxes (directory import, notification settings), the directory sync. Auditors see it all, only admins change
// anything; every change is a ledger entry. Nothing here reads mail.
export function AdminPage() {
  const { me } = useSession();
  const admin = hasRole(me, ['admin']);
  return (
    <>
      <PageTitle>Administration</PageTitle>
      {!admin && <p className="notice">You see this as an auditor: read only.</p>}
      <HealthSection />
      <UsersSection admin={admin} />
      <RecoveriesSection />
      <NoticeSection admin={admin} />
      <PolicySection admin={admin} />
      <MailboxesSection admin={admin} />
      <OwnershipSection />
      <DirectorySection admin={admin} />
    </>
  );
}

function HealthSection() {
  const h = useLoad(() => api.get<Health>('/api/v1/admin/health'), []);
  return (
    <section aria-labelledby="health-h">
      <h2 id="health-h">System health</h2>
      {h.loading && <Loading what="health" />}
      <ErrorNote error={h.error} />
      {h.data?.notifications.mail.problem && (
        <p className="notice" role="alert" data-testid="mail-problem"><strong>Notices are not mailed.</strong> {h.data.notifications.mail.problem}</p>
      )}
      {h.data && (
        <dl data-testid="health">
          <dt>Listeners</dt><dd>{h.data.listeners.map((l) => `${l.name} ${l.host}:${l.port}`).join(' · ') || '—'}</dd>
          <dt>Archive</dt><dd>{h.data.messages} messages, {h.data.captures} receipts</dd>
          <dt>Index lag</dt><dd>{h.data.index.lagCaptures === 0 ? 'up to date' : `${h.data.index.lagCaptures} receipts waiting`}{h.data.index.authPending > 0 && `; authentication of ${h.data.index.authPending} being checked`}</dd>
          <dt>Index complete</dt><dd data-testid="index-check"><IndexCheck c={h.data.index.completeness} /></dd>
          {h.data.index.mailboxIndexes.length > 0 && (
            <><dt>Mailbox indexes</dt><dd data-testid="mailbox-indexes">{h.data.index.mailboxIndexes.map((m) => `${m.mailbox} (${bytes(m.bytes)}, built ${when(new Date(m.builtAt).toISOString())})`).join(' · ')}</dd></>
          )}
          <dt>Attachment text</dt><dd>{h.data.index.extractionPending === 0 ? 'all read' : `${h.data.index.extractionPending} messages' attachments being read`}</dd>
          <dt>Notifications</dt><dd>{h.data.notifications.due} due, {h.data.notifications.waiting} waiting (delayed included){h.data.notifications.failing > 0 && <strong>, {h.data.notifications.failing} failing</strong>}
            {h.data.notifications.failures.length > 0 && (
              <ul data-testid="notification-failures">
                {h.data.notifications.failures.map((f) => (
                  <li key={`${f.kind} ${f.channel}`}><code>{f.kind}</code> by {f.channel}: {f.failing} failing — last error: {f.lastError}</li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Disk</dt><dd>{bytes(h.data.disk.freeBytes)} free of {bytes(h.data.disk.totalBytes)} ({h.data.disk.path})</dd>
          <dt>Ledger</dt><dd>{h.data.ledger.size} entries</dd>
          <dt>Last checkpoint</dt><dd>{h.data.checkpoint ? `${when(h.data.checkpoint.at)}, tree size ${h.data.checkpoint.size} (${h.data.checkpoint.behind} entries since)` : 'none yet'}</dd>
        </dl>
      )}
      <button type="button" className="secondary" onClick={h.reload}>Refresh</button>
    </section>
  );
}

function NoticeSection({ admin }: { admin: boolean }) {
  const n = useLoad(() => api.get<{ text: string | null; version: number; updatedAt: string | null; acknowledgements?: number }>('/api/v1/notice'), []);
  const [saved, setSaved] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.post<{ version: number }>('/api/v1/notice', { text: String(new FormData(e.currentTarget).get('text') ?? '') });
      setSaved(r.version);
      n.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="notice-h">
      <h2 id="notice-h">Archiving notice</h2>
      <p className="muted">Shown to everyone after sign-in until they acknowledge it; a changed text is acknowledged anew.</p>
      <ErrorNote error={n.error} />
      {n.data && (
        <>
          <p>{n.data.text ? `Version ${n.data.version}, ${when(n.data.updatedAt)}; acknowledged by ${n.data.acknowledgements ?? 0}.` : 'No notice is set.'}</p>
          {admin ? (
            <form onSubmit={submit} className="stack" aria-label="Archiving notice">
              <label>Notice text <textarea name="text" rows={6} defaultValue={n.data.text ?? ''} key={n.data.version} /></label>
              <ErrorNote error={error} />
              <button type="submit">Publish notice</button>
              {saved !== null && <p className="success" role="status">Version {saved} published.</p>}
            </form>
          ) : n.data.text && <pre>{n.data.text}</pre>}
        </>
      )}
    </section>
  );
}

function MailboxesSection({ admin }: { admin: boolean }) {
  const [filter, setFilter] = useState('');
  const list = useLoad(() => api.get<{ mailboxes: MailboxEntry[] }>(`/api/v1/mailboxes${qs({ q: filter, limit: 200 })}`), [filter]);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const upload = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const file = (new FormData(e.currentTarget).get('file') as File | null);
    if (!file || !file.size) {
      setError(new Error('Choose a CSV file.'));
      return;
    }
    setError(null);
    try {
      const r = await api.post<{ mailboxes: number; addresses: number; staged: { mailbox: string; ownerAfter: string | null; why: string }[] }>('/api/v1/mailboxes/import', { csv: await file.text(), fileName: file.name });
      setResult(`Imported ${r.mailboxes} mailbox(es) with ${r.addresses} address(es) from ${file.name}.`
        + (r.staged.length ? ` ${r.staged.length} ownership change(s) wait for someone else's approval: ${r.staged.map((c) => `${c.mailbox} (${c.why})`).join('; ')}.` : ''));
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="mailboxes-h">
      <h2 id="mailboxes-h">Mailboxes</h2>
      {admin && (
        <form onSubmit={upload} className="stack" aria-label="Import the directory">
          <h3>Import the directory</h3>
          <p className="muted">CSV with a header row: <code>addresses</code> (required; several separated by ; or spaces), <code>display_name</code>, <code>owner</code> (the user name of who may read it as its owner), <code>sensitivity</code> (a tag such as <code>executive</code>: more approvals, see the policy), <code>manager</code> (the user name of the owner's manager: their access to this mailbox alerts the auditors), <code>name</code> (the mailbox's name; the first address if none). A bad line rejects the whole file.</p>
          <label>CSV file <input type="file" name="file" accept=".csv,text/csv" /></label>
          <ErrorNote error={error} />
          <button type="submit">Import</button>
          {result && <p className="success" role="status">{result}</p>}
        </form>
      )}
      <h3>Directory</h3>
      <label className="field">Filter by name or address <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} /></label>
      <ErrorNote error={list.error} />
      {list.data && (
        <table>
          <thead><tr><th scope="col">Mailbox</th><th scope="col">Owner</th><th scope="col">Addresses</th><th scope="col">Sensitivity</th><th scope="col">Owner told</th></tr></thead>
          <tbody>
            {list.data.mailboxes.map((m) => (
              <tr key={m.name}>
                <td>{m.displayName ? <>{m.displayName}<br /><span className="muted">{m.name}</span></> : m.name}</td>
                <td>{m.owner ?? '—'}</td>
                <td>{m.addresses.join(', ')}</td>
                <td>{m.sensitivity ?? '—'}</td>
                <td>
                  {describeNotify(m.notification)}
                  {admin && m.notification && <NotifyEditor mailbox={m.name} current={m.notification} onSaved={list.reload} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function describeNotify(n: MailboxEntry['notification']): string {
  if (!n) return '—';
  const base = n.notifyMode === 'before' ? 'before access' : n.notifyMode === 'after' ? `within ${n.notifyAfterDays} days after` : `not told (${n.legalBasis})`;
  return n.notifyAlso.length ? `${base}; also ${n.notifyAlso.join(', ')}` : base;
}

function NotifyEditor({ mailbox, current, onSaved }: { mailbox: string; current: NonNullable<MailboxEntry['notification']>; onSaved: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const mode = String(f.get('notifyMode'));
    setError(null);
    try {
      await api.post(`/api/v1/mailboxes/${encodeURIComponent(mailbox)}/policy`, {
        notifyMode: mode,
        notifyAfterDays: mode === 'after' ? Number(f.get('notifyAfterDays')) : null,
        legalBasis: String(f.get('legalBasis') ?? '').trim() || null,
        notifyAlso: String(f.get('notifyAlso') ?? '').split(/[\s,;]+/).filter(Boolean),
      });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details>
      <summary>Change</summary>
      <form onSubmit={submit} className="stack" aria-label={`Notification settings for ${mailbox}`}>
        <label>
          Tell the owner
          <select name="notifyMode" defaultValue={current.notifyMode}>
            <option value="before">before access</option>
            <option value="after">within N days after</option>
            <option value="none">not at all (legal basis required)</option>
          </select>
        </label>
        <label>Days after <input type="number" name="notifyAfterDays" min={0} max={365} defaultValue={current.notifyAfterDays ?? 30} /></label>
        <label>Legal basis <input name="legalBasis" defaultValue={current.legalBasis ?? ''} /></label>
        <label>Also tell (addresses) <input name="notifyAlso" defaultValue={current.notifyAlso.join(', ')} /></label>
        <ErrorNote error={error} />
        <button type="submit">Save</button>
      </form>
    </details>
  );
}

// The index thread's last check that the index holds one document per live message and nothing
// else (index.checkEveryMinutes): what sealbox verify --index says, without running it.
function IndexCheck({ c }: { c: Health['index']['completeness'] }) {
  if (!c) return <span className="muted">not checked yet</span>;
  const at = new Date(c.at).toLocaleString();
  if (c.missing === 0 && c.stray === 0) return <>yes: {c.documents} of {c.messages} messages{c.pending + c.failing > 0 && ` (${c.pending} not indexed yet, ${c.failing} failing)`}, checked {at}</>;
  return <strong>no: {c.missing} missing, {c.stray} stray (checked {at}; run sealbox reindex)</strong>;
}
