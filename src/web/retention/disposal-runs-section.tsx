import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { actorName, when } from '../format.ts';
import type { Outcome } from '../outcome-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';
import { useLoad } from '../use-load.ts';

// What a run decides, counted: src/api/disposal-routes.ts (planView).
interface Plan {
  at: string;
  due: { policy: string; messages: number }[];
  held: { hold: string; name: string | null; messages: number }[];
  heldMessages: number;
  heldUpTo: string | null;   // a run: expired mail up to then an earlier run found held, not read again
  leavers: { mailbox: string; left: string; disposeFrom: string }[];
  keptByRule: number;
  unindexed: number;
}

// GET /api/v1/disposals
interface Disposals {
  disposeEveryHours: number;
  recent: { index: number; time: string; actor: string; policy: string | null; messages: number }[];
  next: Plan & { complete: boolean };
}

// POST /api/v1/disposals/run
interface Run {
  ran: Plan;
  entries: { index: number; messages: number }[];
  notErasedYet: number;
}

const n = (k: number) => `${k.toLocaleString('en')} message${k === 1 ? '' : 's'}`;
const total = (items: { messages: number }[]) => items.reduce((sum, i) => sum + i.messages, 0);

// Who disposed: retention on its schedule names itself so in the ledger.
const by = (actor: string) => (actor === 'system:retention' ? 'retention, on its schedule' : actorName(actor));

// Disposal runs: what a run now would dispose of and keep, and what was disposed of, as the
// ledger's dispose entries record it (runs, early disposals, erasures). Records managers and
// admins may run it now rather than wait for the schedule: it disposes of only what is due, and
// its entries name them. Nothing here shows mail.
export function DisposalRunsSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const r = useLoad(() => api.get<Disposals>('/api/v1/disposals'), []);
  const changed = (text: Outcome['text']) => {
    done(text);
    r.reload();
  };
  return (
    <section aria-labelledby="runs-h">
      <h2 id="runs-h">Disposal runs</h2>
      {r.loading && !r.data && <Loading what="disposal runs" />}
      <ErrorNote error={r.error} />
      {r.data && (
        <>
          <p data-testid="disposal-schedule">
            {r.data.disposeEveryHours > 0
              ? <>Retention disposes of what is due by itself every <strong>{r.data.disposeEveryHours} hour{r.data.disposeEveryHours === 1 ? '' : 's'}</strong> (<code>retention.disposeEveryHours</code>)</>
              : <>Retention disposes of nothing by itself (<code>retention.disposeEveryHours</code> is 0): only when someone runs it</>}
            : mail past its retention, and a leaver's mail past the leaver rule, that no legal hold covers. Each run is recorded in the ledger, one dispose entry per policy.
          </p>
          <h3>If it ran now</h3>
          <PlanFacts plan={r.data.next} />
          {!r.data.next.complete && <p className="notice">It looked only at the first messages of each kind: there are more than it shows.</p>}
          {keeper && total(r.data.next.due) > 0 && <RunNow onDone={changed} />}
          <h3>Recent disposals</h3>
          {r.data.recent.length === 0 ? <p>Nothing has been disposed of yet.</p> : (
            <table data-testid="disposal-runs">
              <thead><tr><th scope="col">When</th><th scope="col">By</th><th scope="col">Policy</th><th scope="col">Messages</th><th scope="col">Entry</th></tr></thead>
              <tbody>
                {r.data.recent.map((d) => (
                  <tr key={d.index} data-entry={d.index}>
                    <td>{when(d.time)}</td>
                    <td>{by(d.actor)}</td>
                    <td>{d.policy ?? '(erased)'}</td>
                    <td>{d.messages.toLocaleString('en')}</td>
                    <td>{d.index}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function PlanFacts({ plan }: { plan: Plan }) {
  return (
    <dl data-testid="disposal-next">
      <dt>Due</dt>
      <dd data-testid="plan-due">
        {plan.due.length === 0 ? 'nothing: no message is due' : <>{n(total(plan.due))}<ul className="plain">{plan.due.map((d) => <li key={d.policy}>{n(d.messages)} under {d.policy}</li>)}</ul></>}
      </dd>
      <dt>Kept by legal holds</dt>
      <dd data-testid="plan-held">
        {plan.heldMessages === 0 ? 'none' : <>{n(plan.heldMessages)}<ul className="plain">{plan.held.map((h) => <li key={h.hold}>{n(h.messages)} by “{h.name ?? h.hold}” (<code>{h.hold}</code>)</li>)}</ul></>}
      </dd>
      <dt>Leavers due</dt>
      <dd data-testid="plan-leavers">
        {plan.leavers.length === 0 ? 'none' : <ul className="plain">{plan.leavers.map((l) => <li key={l.mailbox}>{l.mailbox}: left {l.left}, mail disposed from {l.disposeFrom}</li>)}</ul>}
      </dd>
      {plan.keptByRule > 0 && <><dt>Leavers' mail a rule's minimum keeps</dt><dd>{n(plan.keptByRule)}</dd></>}
      {plan.unindexed > 0 && <><dt>Kept until indexed</dt><dd>{n(plan.unindexed)}: a hold's scope is judged on the index</dd></>}
    </dl>
  );
}

// Running it now does what the schedule would, with the person as the entries' actor. A hold or
// a leaving date changed while it decides: the server refuses (409) and disposes of nothing.
function RunNow({ onDone }: { onDone: (text: Outcome['text']) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<Run>('/api/v1/disposals/run', {});
      const entries = r.entries.map((e) => e.index).join(', ');
      onDone(<>
        Disposal ran: {r.entries.length === 0 ? 'nothing was due.' : <>{n(total(r.entries))} disposed of, recorded with you as the actor in ledger entr{r.entries.length === 1 ? 'y' : 'ies'} {entries}.</>}
        {r.ran.heldMessages > 0 && <> {n(r.ran.heldMessages)} kept by legal holds.</>}
        {r.ran.heldUpTo && <> Mail that expired up to {when(r.ran.heldUpTo)} was found held by an earlier run and not read again.</>}
        {r.notErasedYet > 0 && <> {n(r.notErasedYet)} could not be erased yet: their keys are destroyed, and the next run erases their bytes.</>}
      </>);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="stack">
      <p className="muted">Rather than wait for the schedule, you can run it now: it disposes of what is due as above, and cannot be undone.</p>
      <ErrorNote error={error} />
      <button type="button" className="danger" onClick={run} disabled={busy}>Dispose of what is due now</button>
    </div>
  );
}
