import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api.ts';
import type { AccessRequest } from '../access-request.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { MailboxPicker } from '../mailbox-picker.tsx';
import { OutcomeNote } from '../outcome-note.tsx';
import type { Outcome } from '../outcome-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { purposeWords } from '../purpose.tsx';
import { RequestCard } from '../request-card.tsx';
import { Link } from '../router.tsx';
import { ROUTES } from '../routes.tsx';
import { hasRole, useSession } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { SubjectAccessForm } from '../subject-access-form.tsx';
import { useLoad } from '../use-load.ts';

interface Policy {
  purposes: string[];
  purposeLabels?: Record<string, string>;
  maxGrantHours: number;
  pendingLapseHours: number;
  breakglassMaxMinutes: number;
}

const PERMISSIONS = [
  { value: 'search', label: 'Search (result lists)' },
  { value: 'read', label: 'Read messages' },
  { value: 'export', label: 'Export (download)' },
];

// Requests: file one (whose mailboxes, which dates, what may be done, why, under which ticket,
// for how long) or a data subject's access request, follow my requests' states, and end a grant
// early ("I'm done").
export function RequestsPage() {
  const { me } = useSession();
  const policy = useLoad(() => api.get<Policy>('/api/v1/policy'), []);
  const list = useLoad(() => api.get<{ requests: AccessRequest[] }>('/api/v1/requests'), []);
  const mine = list.data?.requests.filter((r) => r.requester === me.name) ?? [];
  const open = mine.filter((r) => ['pending', 'approved', 'active'].includes(r.state));
  const closed = mine.filter((r) => !['pending', 'approved', 'active'].includes(r.state));
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const ended = (r: AccessRequest, withdrawn: boolean) => {
    setOutcome({ text: <>{withdrawn ? 'You withdrew request' : 'You ended access under request'} <code>{r.id}</code>: it is now <StateBadge state={r.state} />.</>, at: Date.now() });
    list.reload();
  };
  // Filed: its card is among my open requests, like any other; the note says what it covers.
  const subjectFiled = (r: AccessRequest) => {
    setOutcome({ text: <>Access request <code>{r.id}</code> is filed for whatever mail the archive holds of the person: it waits for approval like any request (its card is below). Which mailboxes hold their mail, if any, is shown once it is approved; then export it on the Investigation page (an export of nothing is the answer that the archive holds nothing of them).</>, at: Date.now() });
    list.reload();
  };
  return (
    <>
      <PageTitle>Requests</PageTitle>
      <p className="muted">No one reads another person's mail without a request approved by someone else. Each grant is limited to its mailboxes, dates and permissions, and ends by itself.</p>
      <OutcomeNote outcome={outcome} />
      <section aria-labelledby="mine-h">
        <h2 id="mine-h">My open requests</h2>
        {list.loading && <Loading what="requests" />}
        <ErrorNote error={list.error} />
        {list.data && open.length === 0 && <p>None.</p>}
        {open.map((r) => <RequestCard key={r.id} r={r}><OpenActions r={r} onChange={list.reload} onEnded={ended} /></RequestCard>)}
      </section>
      <section aria-labelledby="new-h">
        <h2 id="new-h">New request</h2>
        <ErrorNote error={policy.error} />
        {policy.data && <NewRequestForm policy={policy.data} onFiled={list.reload} />}
      </section>
      {hasRole(me, ['requester']) && (
        <section aria-labelledby="sar-h">
          <h2 id="sar-h">A person's access to their own data (GDPR Art. 15)</h2>
          <p className="muted">When someone asks for a copy of the mail the archive holds about them: name their addresses, and Sealbox files a request for exactly the mail in which they take part, in every mailbox holding it, to search, read and export. Someone else approves it like any request.</p>
          {policy.data && <SubjectAccessForm policy={policy.data} onFiled={subjectFiled} />}
        </section>
      )}
      {closed.length > 0 && (
        <section aria-labelledby="closed-h">
          <h2 id="closed-h">Earlier requests</h2>
          {closed.map((r) => <RequestCard key={r.id} r={r} />)}
        </section>
      )}
    </>
  );
}

function OpenActions({ r, onChange, onEnded }: { r: AccessRequest; onChange: () => void; onEnded: (r: AccessRequest, withdrawn: boolean) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const investigation = ROUTES.find((x) => x.path === '/investigation');
  const end = async () => {
    const verb = r.state === 'pending' ? 'Withdraw this request' : 'End this grant now';
    if (!window.confirm(`${verb}? This cannot be undone.`)) return;
    setBusy(true);
    try {
      onEnded(await api.post<AccessRequest>(`/api/v1/requests/${encodeURIComponent(r.id)}/revoke`, { reason: r.state === 'pending' ? 'withdrawn by the requester' : 'done: the requester ended the grant' }), r.state === 'pending');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div className="actions">
      {r.state === 'active' && investigation && <Link className="button" href={`/investigation?grant=${encodeURIComponent(r.id)}`}>Open in {investigation.title}</Link>}
      <button type="button" className={r.state === 'pending' ? 'secondary' : 'danger'} onClick={() => void end()} disabled={busy}>
        {r.state === 'pending' ? 'Withdraw request' : "I'm done — end access"}
      </button>
      <ErrorNote error={error} />
      {r.state === 'active' && !r.breakglass && <ExtendForm r={r} onFiled={onChange} />}
    </div>
  );
}

// More time for the same scope is a new request, approved again, linked to this grant: repeated
// extensions are visible to approvers and raise an alert for the auditors.
function ExtendForm({ r, onFiled }: { r: AccessRequest; onFiled: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [filed, setFiled] = useState<string | null>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    try {
      const x = await api.post<AccessRequest>('/api/v1/requests', {
        extends: r.id, mailboxes: r.mailboxes, permissions: r.permissions, purpose: r.purpose, ticket: r.ticket, query: r.query,
        dateFrom: r.dateFrom?.slice(0, 10) ?? null, dateTo: r.dateTo ? new Date(Date.parse(r.dateTo) - 1).toISOString().slice(0, 10) : null,
        justification: String(f.get('justification') ?? '').trim(), durationHours: Number(f.get('durationHours')),
      });
      setFiled(x.id);
      onFiled();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details>
      <summary>Ask for more time</summary>
      <form className="stack" aria-label={`Extend ${r.id}`} onSubmit={submit}>
        <label>Why the work needs more time <textarea name="justification" required maxLength={5000} /></label>
        <label>Further hours <input type="number" name="durationHours" min={1} defaultValue={r.durationHours} required /></label>
        <button type="submit">File the extension</button>
        <ErrorNote error={error} />
        {filed && <p className="success" role="status">Extension <code>{filed}</code> filed; it waits for approval like any request.</p>}
      </form>
    </details>
  );
}

function NewRequestForm({ policy, onFiled }: { policy: Policy; onFiled: () => void }) {
  const { me } = useSession();
  const canFile = hasRole(me, ['requester']);
  const canBreakGlass = hasRole(me, ['breakglass']);
  const [mailboxes, setMailboxes] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [filed, setFiled] = useState<AccessRequest | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    if (mailboxes.length === 0) {
      setError(new Error('Choose at least one mailbox.'));
      return;
    }
    const permissions = f.getAll('permissions').map(String);
    if (permissions.length === 0) {
      setError(new Error('Choose at least one permission.'));
      return;
    }
    const text = (k: string) => String(f.get(k) ?? '').trim() || null;
    // Break-glass: opened at once by the holder alone, for at most the policy's minutes;
    // approvers and auditors are alerted and a review follows.
    const emergency = ((e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value === 'breakglass';
    if (!emergency && !text('ticket')) {
      setError(new Error('A ticket reference is required.'));
      return;
    }
    if (emergency && !window.confirm(`Open emergency access now, for at most ${policy.breakglassMaxMinutes} minutes? Approvers and auditors are alerted at once and your use will be reviewed.`)) return;
    const hours = Number(f.get('durationHours'));
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<AccessRequest>(emergency ? '/api/v1/breakglass' : '/api/v1/requests', {
        mailboxes, permissions, purpose: String(f.get('purpose')), justification: text('justification'), ticket: text('ticket'),
        dateFrom: text('dateFrom'), dateTo: text('dateTo'), query: text('query'), durationHours: emergency ? Math.min(hours, policy.breakglassMaxMinutes / 60) : hours,
      });
      setFiled(r);
      setMailboxes([]);
      form.reset();
      onFiled();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="New access request">
      <MailboxPicker label="Mailboxes" value={mailboxes} onChange={setMailboxes} />
      <div className="row">
        <label>Mail dated from <input type="date" name="dateFrom" /></label>
        <label>to (inclusive) <input type="date" name="dateTo" /></label>
      </div>
      <fieldset>
        <legend>Permissions</legend>
        {PERMISSIONS.map((p) => (
          <label key={p.value}><input type="checkbox" name="permissions" value={p.value} defaultChecked={p.value !== 'export'} /> {p.label}</label>
        ))}
      </fieldset>
      <label>
        Purpose
        <select name="purpose" required defaultValue="">
          <option value="" disabled>Choose…</option>
          {policy.purposes.map((p) => <option key={p} value={p}>{purposeWords(p, policy.purposeLabels)}</option>)}
        </select>
      </label>
      <label>Justification <textarea name="justification" required maxLength={5000} aria-describedby="just-help" /></label>
      <span id="just-help" className="muted">Why this access is needed; the mailbox owner may see it.</span>
      <div className="row">
        <label>Ticket <input name="ticket" maxLength={200} placeholder="e.g. HR-1234" aria-describedby="ticket-help" /></label>
        <label>Duration (hours) <input type="number" name="durationHours" min={1} max={policy.maxGrantHours} defaultValue={Math.min(8, policy.maxGrantHours)} required /></label>
      </div>
      <span id="ticket-help" className="muted">Required for a request{canBreakGlass ? '; optional for emergency access' : ''}.</span>
      <label>Only messages matching (optional) <input name="query" maxLength={2000} placeholder='e.g. subject:"contract"' /></label>
      <ErrorNote error={error} />
      {filed && !filed.breakglass && <p className="success" role="status">Request <code>{filed.id}</code> filed; it waits for approval (lapses after {policy.pendingLapseHours} h if no one decides).</p>}
      {filed && filed.tooFewApprovers && (
        <p className="warning" role="alert">
          <strong>Too few approvers:</strong> fewer people can approve request <code>{filed.id}</code> than the {filed.approvalsNeeded} approvals it needs, so as things stand it can only lapse. Ask an administrator to add an approver.
        </p>
      )}
      {filed && filed.breakglass && <p className="notice" role="status">Emergency access <code>{filed.id}</code> is open until {when(filed.endsAt)}; approvers and auditors have been alerted.</p>}
      <div className="actions">
        {canFile && <button type="submit" value="file" disabled={busy}>{busy ? 'Filing…' : 'File request'}</button>}
        {canBreakGlass && <button type="submit" value="breakglass" className="danger" disabled={busy}>Open emergency access (break-glass)</button>}
      </div>
    </form>
  );
}
