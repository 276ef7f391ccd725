import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { useFormSubmit } from '../field-errors.tsx';
import { actorName, when } from '../format.ts';
import type { Outcome } from '../outcome-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';
import { Decision } from './decide-form.tsx';
import type { Hold } from './holds-section.tsx';

// What carrying out an early disposal did: src/retention/disposal-requests.ts.
export interface EarlyDisposalOutcome {
  request: string;
  disposed: string[];
  kept: { sha256: string; why: string }[];   // why: "under legal hold hold_…", or "the minimum of retention rule ret_… keeps it until …"
  disposeEntry: number | null;
}

// GET /api/v1/disposal-requests
export interface EarlyDisposal {
  id: string;
  sha256s: string[];
  reason: string;
  filedBy: string;
  filedAt: string;
  state: 'pending' | 'approved' | 'denied' | 'carried out';
  decisionReason: string | null;
  decidedAt: string | null;
  executedAt: string | null;
  outcome: EarlyDisposalOutcome | null;
}

const n = (k: number) => `${k.toLocaleString('en')} message${k === 1 ? '' : 's'}`;

// Early disposal: messages destroyed before their retention ends (mail archived that never should
// have been), named by sha256 — nothing here shows their content. Records managers and admins
// ask, with a reason; an approver who is neither the filer nor linked to them decides, and an
// approval is carried out at once. What a legal hold covers stays even then, named with its hold.
export function EarlyDisposalSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const list = useLoad(async () => {
    const [requests, holds] = await Promise.all([api.get<{ requests: EarlyDisposal[] }>('/api/v1/disposal-requests'), api.get<{ holds: Hold[] }>('/api/v1/holds')]);
    return { requests: requests.requests, holds: new Map(holds.holds.map((h) => [h.id, h.name])) };
  }, []);
  const changed = (text: Outcome['text']) => {
    done(text);
    list.reload();
  };
  return (
    <section aria-labelledby="early-h">
      <h2 id="early-h">Early disposal</h2>
      <p className="muted">Destroying messages before their retention ends shortens what was promised, so it is asked for with a reason and decided by an approver who is neither the one who asked nor linked to them; an approval is carried out at once. What a legal hold covers stays even then.</p>
      {list.loading && !list.data && <Loading what="early disposal requests" />}
      <ErrorNote error={list.error} />
      {list.data && list.data.requests.length === 0 && <p>No early disposal has been asked for.</p>}
      {list.data?.requests.map((r) => (
        <article key={r.id} className="card" aria-labelledby={`dpr-${r.id}`} data-disposal-request={r.id} data-state={r.state}>
          <h3 id={`dpr-${r.id}`}>Early disposal <code>{r.id}</code> <StateBadge state={r.state} /></h3>
          <dl>
            <dt>Messages</dt><dd>{n(r.sha256s.length)}<Shas list={r.sha256s} /></dd>
            <dt>Reason</dt><dd>{r.reason}</dd>
            <dt>Filed</dt><dd>by {actorName(r.filedBy)}, {when(r.filedAt)}</dd>
            {r.decidedAt && <><dt>Decided</dt><dd>{when(r.decidedAt)}: “{r.decisionReason}”</dd></>}
          </dl>
          {r.outcome && <Carried r={r} outcome={r.outcome} holds={list.data!.holds} />}
          {r.state === 'pending' && (
            <Decision<EarlyDisposal> me={me} filedBy={r.filedBy} path={`/api/v1/disposal-requests/${encodeURIComponent(r.id)}`} what={`early disposal ${r.id}`}
              onDecided={(x, decision) => changed(decision === 'deny'
                ? <>You denied early disposal <code>{x.id}</code>: nothing is destroyed.</>
                : x.outcome
                  // The answer's state is the decision's; the outcome is what carrying it out did.
                  ? <>You approved early disposal <code>{x.id}</code>: it is <StateBadge state="carried out" />. {n(x.outcome.disposed.length)} destroyed, {n(x.outcome.kept.length)} kept by legal holds or rules' minimums. What went and what stayed is on its card.</>
                  : <>You approved early disposal <code>{x.id}</code>: it is <StateBadge state={x.state} />.</>)} />
          )}
        </article>
      ))}
      {keeper && <FileEarlyDisposal onDone={changed} />}
    </section>
  );
}

// Messages by sha256: the first few, and how many more (the request and its dispose entry name them all).
function Shas({ list }: { list: string[] }) {
  const shown = list.slice(0, 5);
  if (list.length === 0) return null;
  return (
    <ul className="plain">
      {shown.map((s) => <li key={s}><code>{s}</code></li>)}
      {list.length > shown.length && <li>and {list.length - shown.length} more</li>}
    </ul>
  );
}

// The hold ids in a reason ("under legal hold hold_…"), with the hold's name beside each.
function HoldsNamed({ why, holds }: { why: string; holds: Map<string, string> }) {
  return <>{why.split(/\b(hold_[0-9a-z]+)\b/).map((part, i) => (i % 2 === 1 ? <span key={i}>“{holds.get(part) ?? part}” (<code>{part}</code>)</span> : part))}</>;
}

function Carried({ r, outcome: o, holds }: { r: EarlyDisposal; outcome: EarlyDisposalOutcome; holds: Map<string, string> }) {
  // Named but not archived, or disposed of before.
  const absent = r.sha256s.length - o.disposed.length - o.kept.length;
  return (
    <div data-testid="early-disposal-outcome">
      <h4>What it did</h4>
      <dl>
        <dt>Carried out</dt><dd>{when(r.executedAt)}</dd>
        <dt>Destroyed</dt><dd data-testid="early-disposed">{n(o.disposed.length)}{o.disposeEntry !== null && <> (ledger entry {o.disposeEntry})</>}<Shas list={o.disposed} /></dd>
        <dt>Kept</dt>
        <dd data-testid="early-kept">
          {n(o.kept.length)}
          {o.kept.length > 0 && <ul className="plain">{o.kept.map((k) => <li key={k.sha256}><code>{k.sha256}</code>: <HoldsNamed why={k.why} holds={holds} /></li>)}</ul>}
        </dd>
        {absent > 0 && <><dt>Not found</dt><dd>{n(absent)}: not in the archive, or disposed of before</dd></>}
      </dl>
    </div>
  );
}

function FileEarlyDisposal({ onDone }: { onDone: (text: Outcome['text']) => void }) {
  const { busy, f, submit } = useFormSubmit(async ({ text }) => {
    const r = await api.post<EarlyDisposal>('/api/v1/disposal-requests', { sha256s: text('sha256s').split(/[\s,;]+/).filter(Boolean), reason: text('reason') });
    onDone(<>Early disposal <code>{r.id}</code> of {n(r.sha256s.length)} is filed: nothing is destroyed until an approver who is not you approves it.</>);
  });
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="file-early-h">
      <h3 id="file-early-h">Ask for early disposal</h3>
      <div className="field" data-field="sha256s">
        <label htmlFor="early-sha256s">Messages, by their sha256</label>
        <textarea id="early-sha256s" name="sha256s" rows={3} required {...f.input('sha256s', 'early-sha256s-help')} />
        <span id="early-sha256s-help" className="field-help">One a line. A sha256 names a message without showing it: whoever found it gives it to you (it is on the message's evidence).</span>
        {f.message('sha256s')}
      </div>
      <div className="field" data-field="reason"><label htmlFor="early-reason">Reason</label><textarea id="early-reason" name="reason" required maxLength={2000} {...f.input('reason')} />{f.message('reason')}</div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>Ask for early disposal</button>
    </form>
  );
}
