import { useState } from 'react';
import { api } from './api.ts';
import { ErrorNote } from './error-note.tsx';
import { when } from './format.ts';
import { OutcomeNote } from './outcome-note.tsx';
import type { Outcome } from './outcome-note.tsx';
import { holdWindow } from './retention/holds-section.tsx';
import { StateBadge } from './state-badge.tsx';
import { useLoad } from './use-load.ts';

// GET /api/v1/holds/mine
interface MyHold {
  id: string;
  name: string;
  matter: string;
  mailboxes: string[];
  dateFrom: string | null;
  dateTo: string | null;
  query: string | null;
  state: 'on' | 'released';
  placedAt: string;
  releasedAt: string | null;
  notified: boolean;
  notifiedAt: string | null;
  acknowledgedAt: string | null;
}

// The legal holds on my mailboxes, as their notice asked: acknowledged here (a ledger entry the
// admins see on the hold). Only my own mailboxes are named, never the other custodians. Nothing
// is shown to someone no hold names.
export function MyHolds() {
  const list = useLoad(() => api.get<{ holds: MyHold[] }>('/api/v1/holds/mine'), []);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const holds = list.data?.holds ?? [];
  if (!list.error && holds.length === 0) return null;
  return (
    <section aria-labelledby="my-holds-h">
      <h2 id="my-holds-h">Legal holds on your mailboxes</h2>
      <p className="muted">While a hold is on, the archive keeps the mail it covers whatever its retention says. Do not delete related mail or documents elsewhere.</p>
      <ErrorNote error={list.error} />
      <OutcomeNote outcome={outcome} />
      {holds.map((h) => (
        <article key={h.id} className="card" aria-labelledby={`my-hold-${h.id}`} data-hold={h.id}>
          <h3 id={`my-hold-${h.id}`}>{h.name} <StateBadge state={h.state} /></h3>
          <dl>
            <dt>Matter</dt><dd>{h.matter}</dd>
            <dt>Your mailboxes</dt><dd>{h.mailboxes.join(', ')}</dd>
            <dt>Mail dated</dt><dd>{holdWindow(h)}</dd>
            {h.query && <><dt>Only mail matching</dt><dd><code>{h.query}</code></dd></>}
            <dt>Placed</dt><dd>{when(h.placedAt)}</dd>
            {h.releasedAt && <><dt>Released</dt><dd>{when(h.releasedAt)}</dd></>}
          </dl>
          {h.acknowledgedAt
            ? <p className="notice" data-testid="hold-acknowledged">You acknowledged this notice on {when(h.acknowledgedAt)}.</p>
            : !h.notified
              ? <p className="muted">You were not sent its notice (the mailbox became yours after the hold was placed): there is nothing to acknowledge.</p>
              : <Acknowledge hold={h} onDone={(text) => { setOutcome({ text, at: Date.now() }); list.reload(); }} />}
        </article>
      ))}
    </section>
  );
}

function Acknowledge({ hold, onDone }: { hold: MyHold; onDone: (text: Outcome['text']) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const acknowledge = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/holds/${encodeURIComponent(hold.id)}/acknowledge`);
      onDone(<>You acknowledged the notice of legal hold “{hold.name}”. The administrators see that you did.</>);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div className="stack">
      <p><strong>Please acknowledge this notice:</strong> that you know of the hold and will keep related mail and documents.</p>
      <ErrorNote error={error} />
      <button type="button" onClick={() => void acknowledge()} disabled={busy}>Acknowledge the hold notice</button>
    </div>
  );
}
