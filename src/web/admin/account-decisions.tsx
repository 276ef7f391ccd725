import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import { when } from '../format.ts';
import { hasRole, useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

// Account recoveries and staged ownership changes: every one on Administration, those waiting on
// Approvals (an approver who is not an admin decides them there). `waitingOnly`: the pending ones,
// and nothing at all when none waits.
// Decisions someone else asked for: account recoveries and staged ownership changes. The server
// refuses the one who asked, the person concerned and anyone linked to them; the page just asks.
function Decide({ path, onDone }: { path: string; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const decide = async (form: HTMLFormElement, decision: 'approve' | 'deny') => {
    setError(null);
    try {
      await api.post(`${path}/${decision}`, { reason: String(new FormData(form).get('reason') ?? '').trim() });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="row" onSubmit={(e) => { e.preventDefault(); void decide(e.currentTarget, 'approve'); }} aria-label={`Decide ${path}`}>
      <label>Reason <input name="reason" required /></label>
      <button type="submit">Approve</button>
      <button type="button" className="secondary" onClick={(e) => { const f = e.currentTarget.form; if (f?.reportValidity()) void decide(f, 'deny'); }}>Deny</button>
      <ErrorNote error={error} />
    </form>
  );
}

interface RecoveryEntry { id: string; user: string; requestedBy: string; reason: string; state: string; createdAt: string; decidedBy: string | null; codeTo: string[] }

export function RecoveriesSection({ waitingOnly = false }: { waitingOnly?: boolean }) {
  const { me } = useSession();
  const canDecide = hasRole(me, ['admin', 'approver']);
  const list = useLoad(() => api.get<{ recoveries: RecoveryEntry[] }>('/api/v1/recoveries'), []);
  const shown = (list.data?.recoveries ?? []).filter((r) => !waitingOnly || r.state === 'pending');
  if (waitingOnly && shown.length === 0) return <ErrorNote error={list.error} />;
  return (
    <section aria-labelledby="recoveries-h">
      <h2 id="recoveries-h">Account recoveries</h2>
      <ErrorNote error={list.error} />
      {list.data && (shown.length === 0 ? <p className="muted">None.</p> : (
        <table>
          <thead><tr><th scope="col">Person</th><th scope="col">Asked by</th><th scope="col">Reason</th><th scope="col">State</th>{canDecide && <th scope="col">Decide</th>}</tr></thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id}>
                <td>{r.user}{r.state === 'pending' && <><br /><span className="muted" data-testid="code-to">the code goes to {r.codeTo.join(', ') || 'no address'}</span></>}</td><td>{r.requestedBy}, {when(r.createdAt)}</td><td>{r.reason}</td><td>{r.state}{r.decidedBy ? ` (${r.decidedBy})` : ''}</td>
                {canDecide && <td>{r.state === 'pending' && r.requestedBy !== me.name && r.user !== me.name ? <Decide path={`/api/v1/recoveries/${r.id}`} onDone={list.reload} /> : null}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}

interface OwnershipEntry { id: string; mailbox: string; ownerBefore: string | null; ownerAfter: string | null; gains: { address: string; from: string | null }[]; why: string; state: string; stagedBy: string; stagedAt: string }

export function OwnershipSection({ waitingOnly = false }: { waitingOnly?: boolean }) {
  const { me } = useSession();
  const canDecide = hasRole(me, ['admin', 'approver']);
  const list = useLoad(() => api.get<{ changes: OwnershipEntry[] }>('/api/v1/ownership-changes'), []);
  const shown = (list.data?.changes ?? []).filter((c) => !waitingOnly || c.state === 'pending');
  if (waitingOnly && shown.length === 0) return <ErrorNote error={list.error} />;
  return (
    <section aria-labelledby="ownership-h">
      <h2 id="ownership-h">Ownership changes</h2>
      <p className="muted">Directory rows that would let someone read mail they could not read before wait here for someone other than who staged them and the new owner.</p>
      <ErrorNote error={list.error} />
      {list.data && (shown.length === 0 ? <p className="muted">None.</p> : (
        <table>
          <thead><tr><th scope="col">Mailbox</th><th scope="col">Owner now → after</th><th scope="col">Why approval</th><th scope="col">Staged by</th><th scope="col">State</th>{canDecide && <th scope="col">Decide</th>}</tr></thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id}>
                <td>{c.mailbox}<br /><span className="muted">{c.gains.map((g) => g.address).join(', ')}</span></td>
                <td>{c.ownerBefore ?? '—'} → {c.ownerAfter ?? '(unchanged)'}</td><td>{c.why}</td><td>{c.stagedBy}, {when(c.stagedAt)}</td><td>{c.state}</td>
                {canDecide && <td>{c.state === 'pending' && c.stagedBy !== `user:${me.name}` && c.ownerAfter !== me.name ? <Decide path={`/api/v1/ownership-changes/${c.id}`} onDone={list.reload} /> : null}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}

