import '../oversight/oversight.css';
import { useState } from 'react';
import { api, qs } from '../api.ts';
import type { AccessRequest } from '../access-request.ts';
import { EndAccess } from '../end-access.tsx';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { OutcomeNote } from '../outcome-note.tsx';
import type { Outcome } from '../outcome-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { Purpose } from '../purpose.tsx';
import { hasRole, useSession } from '../session.ts';
import type { Me } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';

interface Item {
  id: string;
  kind: string;
  requestId: string | null;
  subject: string | null;
  reason: string | null;
  ledgerIndex: number | null;
  state: 'open' | 'claimed' | 'reviewed' | 'escalated' | 'closed';
  claimedBy: string | null;
  createdAt: string;
  updatedAt: string | null;
  closedBy: string | null;
  note: string | null;
}

interface Detail extends Item {
  request: { id: string; requester: string | null; purpose: string; justification: string; ticket: string | null; mailboxes: string[]; permissions: string[]; dateFrom: string | null; dateTo: string | null; startsAt: string | null; endsAt: string | null; revokedAt: string | null; breakglass: boolean } | null;
  activity: { index: number; time: string; actor: string; operation: string; result: string; mailboxes: string[]; messages: string[]; query: string | null; results: number | null; bytes: number | null }[];
}

const KINDS: Record<string, string> = { sample: 'random sample', 'high-impact': 'high-impact action', alert: 'alert', breakglass: 'break-glass use' };
const STEPS: Record<Item['state'], { action: string; label: string; note: boolean }[]> = {
  open: [{ action: 'claim', label: 'Claim', note: false }],
  claimed: [{ action: 'review', label: 'Mark reviewed', note: true }, { action: 'escalate', label: 'Escalate', note: true }],
  reviewed: [{ action: 'close', label: 'Close', note: true }, { action: 'reopen', label: 'Reopen', note: true }],
  escalated: [{ action: 'close', label: 'Close', note: true }, { action: 'reopen', label: 'Reopen', note: true }],
  closed: [{ action: 'reopen', label: 'Reopen', note: true }],
};

// The review queue (approvers and auditors): sampled grants, high-impact actions, alerts and
// break-glass uses. A reviewer sees what was done under a grant — queries, messages opened,
// exports — as metadata only, never content; nobody reviews their own actions (the server
// refuses it); every step, with its note, goes into the ledger.
export function ReviewsPage() {
  const [filter, setFilter] = useState({ state: 'open', kind: '' });
  const [selected, setSelected] = useState<string | null>(null);
  const list = useLoad(() => api.get<{ reviews: Item[] }>(`/api/v1/reviews${qs(filter)}`), [filter.state, filter.kind]);
  return (
    <>
      <PageTitle>Review queue</PageTitle>
      <form className="row" aria-label="Filter the queue" onSubmit={(e) => e.preventDefault()}>
        <label>State
          <select value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.target.value })}>
            <option value="">any</option>{Object.keys(STEPS).map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Kind
          <select value={filter.kind} onChange={(e) => setFilter({ ...filter, kind: e.target.value })}>
            <option value="">any</option>{Object.entries(KINDS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
      </form>
      {list.loading && <Loading what="the review queue" />}
      <ErrorNote error={list.error} />
      {list.data && list.data.reviews.length === 0 && <p>Nothing to review here.</p>}
      {list.data && list.data.reviews.length > 0 && (
        <table data-testid="reviews">
          <thead><tr><th scope="col">Item</th><th scope="col">Why</th><th scope="col">About</th><th scope="col">State</th><th scope="col">Since</th></tr></thead>
          <tbody>
            {list.data.reviews.map((i) => (
              <tr key={i.id} aria-selected={selected === i.id}>
                <td><button type="button" className="link" onClick={() => setSelected(i.id)}>{KINDS[i.kind] ?? i.kind}</button>{i.requestId && <><br /><code>{i.requestId}</code></>}</td>
                <td>{i.reason}</td>
                <td>{i.subject ?? '—'}</td>
                <td><span className={`state state-${i.state}`}>{i.state}</span>{i.claimedBy && <span className="muted"> by {i.claimedBy}</span>}</td>
                <td>{when(i.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && <ReviewDetail key={selected} id={selected} onChange={list.reload} />}
    </>
  );
}

function ReviewDetail({ id, onChange }: { id: string; onChange: () => void }) {
  const { me } = useSession();
  const [ended, setEnded] = useState<Outcome | null>(null);
  const [tick, setTick] = useState(0);
  const item = useLoad(() => api.get<Detail>(`/api/v1/reviews/${encodeURIComponent(id)}`), [id, tick]);
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const step = async (action: string) => {
    setError(null);
    try {
      await api.post(`/api/v1/reviews/${encodeURIComponent(id)}/${action}`, note.trim() ? { note: note.trim() } : {});
      setNote('');
      setTick((t) => t + 1);
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  const d = item.data;
  return (
    <section aria-labelledby="review-h" className="card" data-testid="review-detail">
      <h2 id="review-h">Review {id}</h2>
      {item.loading && <Loading what="the item" />}
      <ErrorNote error={item.error} />
      {d && (
        <>
          <dl>
            <dt>Why it is here</dt><dd>{d.reason}</dd>
            <dt>Person reviewed</dt><dd>{d.subject ?? '—'}</dd>
            <dt>State</dt><dd><span className={`state state-${d.state}`}>{d.state}</span>{d.claimedBy && ` (claimed by ${d.claimedBy})`}{d.note && <> — last note: “{d.note}”</>}</dd>
            {d.request && <>
              <dt>Request</dt><dd><code>{d.request.id}</code>{d.request.breakglass && <strong> break-glass</strong>} by {d.request.requester}: <Purpose value={d.request.purpose} />, ticket {d.request.ticket ?? '—'}</dd>
              <dt>Justification</dt><dd>{d.request.justification}</dd>
              <dt>Scope</dt><dd>{d.request.mailboxes.join(', ')}; {d.request.permissions.join(', ')}; dates {d.request.dateFrom?.slice(0, 10) ?? 'any'} to {d.request.dateTo ? new Date(Date.parse(d.request.dateTo) - 1).toISOString().slice(0, 10) : 'any'}</dd>
              <dt>In force</dt><dd>{when(d.request.startsAt)} to {when(d.request.revokedAt ?? d.request.endsAt)}{d.request.revokedAt && ' (revoked)'}</dd>
            </>}
          </dl>
          <OutcomeNote outcome={ended} />
          {d.request && inForce(d.request) && mayEnd(me, d.request) && <GrantInForce id={d.request.id} onEnded={(x) => {
            setEnded({ text: <>Access under request <code>{x.id}</code> ended: it is now <StateBadge state={x.state} />, and {x.requester} can no longer use it.</>, at: Date.now() });
            setTick((t) => t + 1);
            onChange();
          }} />}
          <h3>Activity ({d.activity.length} ledger entries)</h3>
          <table data-testid="review-activity">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Details</th></tr></thead>
            <tbody>
              {d.activity.map((e) => (
                <tr key={e.index}>
                  <td>{when(e.time)}</td><td>{e.actor}</td><td>{e.operation}{e.result !== 'success' && <strong> ({e.result})</strong>}</td>
                  <td>
                    {e.query && <>query <code>{e.query}</code>{e.results !== null && ` → ${e.results} result${e.results === 1 ? '' : 's'}`}<br /></>}
                    {e.messages.length > 0 && <>{e.messages.length} message(s): {e.messages.slice(0, 5).map((m) => <code key={m}>{m.slice(0, 12)}… </code>)}<br /></>}
                    {e.bytes !== null && <>{e.bytes} bytes</>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="stack">
            <label className="field">Note (required for every step but claiming)
              <textarea value={note} onChange={(e) => setNote(e.target.value)} />
            </label>
            <div className="actions">
              {STEPS[d.state].map((s) => <button key={s.action} type="button" onClick={() => step(s.action)} disabled={s.note && !note.trim()}>{s.label}</button>)}
            </div>
            <ErrorNote error={error} />
          </div>
        </>
      )}
    </section>
  );
}

// A grant under review may still be in force (a break-glass grant is queued as it opens).
const inForce = (r: NonNullable<Detail['request']>) => !r.revokedAt && !!r.endsAt && Date.parse(r.endsAt) > Date.now();
// Only approvers and admins can end one, and never on their own mailbox (where the request does
// not exist for them: asking would only be a refusal in the ledger).
const mayEnd = (me: Me, r: NonNullable<Detail['request']>) => hasRole(me, ['approver', 'admin']) && !me.mailboxes.some((m) => r.mailboxes.includes(m));

// The grant as the requests API shows it to this reviewer, with "End access now" when the server
// says they may end it.
function GrantInForce({ id, onEnded }: { id: string; onEnded: (ended: AccessRequest) => void }) {
  const grant = useLoad(() => api.get<AccessRequest>(`/api/v1/requests/${encodeURIComponent(id)}`), [id]);
  return grant.data && (grant.data.state === 'active' || grant.data.state === 'approved') ? <EndAccess r={grant.data} onEnded={onEnded} /> : null;
}
