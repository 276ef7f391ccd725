import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api.ts';
import type { AccessRequest } from '../access-request.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { RequestCard } from '../request-card.tsx';
import { useSession } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';

// Approvals: each pending request with its whole context and the earlier requests on the same
// mailboxes, decided with a reason. Nothing here shows message content; approving does not
// let the approver read anything.
export function ApprovalsPage() {
  const { me } = useSession();
  const list = useLoad(() => api.get<{ requests: AccessRequest[] }>('/api/v1/requests'), []);
  const all = list.data?.requests ?? [];
  const pending = all.filter((r) => r.state === 'pending');
  return (
    <>
      <PageTitle>Approvals</PageTitle>
      <p className="muted">You cannot decide on your own request, nor on one for a mailbox you own. Your decision and its reason are recorded and shown to the requester.</p>
      {list.loading && <Loading what="requests" />}
      <ErrorNote error={list.error} />
      {list.data && pending.length === 0 && <p>No request is waiting for a decision.</p>}
      {pending.map((r) => {
        const history = all.filter((x) => x.id !== r.id && x.mailboxes.some((m) => r.mailboxes.includes(m)));
        const own = r.requester === me.name || me.mailboxes.some((m) => r.mailboxes.includes(m));
        return (
          <RequestCard key={r.id} r={r} headingLevel={2}>
            <h3>Earlier requests on {r.mailboxes.length === 1 ? 'this mailbox' : 'these mailboxes'}</h3>
            {history.length === 0 ? <p>None.</p> : (
              <table>
                <thead><tr><th scope="col">Filed</th><th scope="col">Requester</th><th scope="col">Purpose</th><th scope="col">Ticket</th><th scope="col">State</th><th scope="col">Decided</th></tr></thead>
                <tbody>
                  {history.map((h) => (
                    <tr key={h.id}>
                      <td>{when(h.createdAt)}</td>
                      <td>{h.requester}</td>
                      <td>{h.purpose}</td>
                      <td>{h.ticket ?? '—'}</td>
                      <td><StateBadge state={h.state} /></td>
                      <td>{h.approvals.map((a) => `${a.decision} by ${a.approver}: ${a.reason}`).join('; ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {own ? <p className="notice">This request is yours or concerns your own mailbox: someone else decides.</p> : <Decide r={r} onDecided={list.reload} />}
          </RequestCard>
        );
      })}
    </>
  );
}

function Decide({ r, onDecided }: { r: AccessRequest; onDecided: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const decision = ((e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? 'approve';
    const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
    if (!reason) {
      setError(new Error('Give a reason for your decision.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/requests/${encodeURIComponent(r.id)}/${decision === 'deny' ? 'deny' : 'approve'}`, { reason });
      onDecided();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label={`Decide on request ${r.id}`}>
      <label>Reason <textarea name="reason" required maxLength={5000} /></label>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" name="decision" value="approve" disabled={busy}>Approve</button>
        <button type="submit" name="decision" value="deny" className="danger" disabled={busy}>Deny</button>
      </div>
    </form>
  );
}
