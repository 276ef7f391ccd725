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

// What an erasure did (the certificate kept with the request): src/retention/subject-requests.ts.
export interface ErasureOutcome {
  request: string;
  reference: string;
  subjects: string[];
  executedAt: string;
  messages: { disposed: string[]; kept: { sha256: string; why: string }[] };
  ledger: { erased: number; erasureEntry: number | null; disposeEntry: number | null; kept: { index: number; operation: string; why: string }[] };
}

// GET /api/v1/subject-requests
export interface ErasureRequest {
  id: string;
  kind: 'erasure';
  addresses: string[];       // once carried out, only their hashes (sha256:…)
  reference: string;
  reason: string;
  filedBy: string;
  filedAt: string;
  state: 'pending' | 'approved' | 'denied' | 'carried out';
  decisionReason: string | null;
  decidedAt: string | null;
  executedAt: string | null;
  outcome: ErasureOutcome | null;
}

// Data subjects' erasure requests (GDPR Art. 17): filed by admins, decided by an approver who did
// not file them; an approval is carried out at once, and its certificate says what went and what
// stayed and why. Nothing here names a person once the request is carried out.
export function ErasureSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const list = useLoad(() => api.get<{ requests: ErasureRequest[] }>('/api/v1/subject-requests'), []);
  const changed = (text: Outcome['text']) => {
    done(text);
    list.reload();
  };
  return (
    <section aria-labelledby="erasure-h">
      <h2 id="erasure-h">Erasure requests</h2>
      <p className="muted">A person's right to erasure (GDPR Art. 17): their mail goes, except what a legal hold covers (Art. 17(3)(e)) or a retention rule's minimum still keeps (Art. 17(3)(b)); reads and searches naming them are erased from the ledger while every proof still verifies.</p>
      {list.loading && !list.data && <Loading what="erasure requests" />}
      <ErrorNote error={list.error} />
      {list.data && list.data.requests.length === 0 && <p>No erasure request has been filed.</p>}
      {list.data?.requests.map((r) => (
        <article key={r.id} className="card" aria-labelledby={`sub-${r.id}`} data-subject-request={r.id} data-state={r.state}>
          <h3 id={`sub-${r.id}`}>Erasure request <code>{r.id}</code> <StateBadge state={r.state} /></h3>
          <dl>
            <dt>Reference</dt><dd>{r.reference}</dd>
            <dt>Addresses</dt><dd>{r.outcome ? `${r.addresses.length} address${r.addresses.length === 1 ? '' : 'es'}, kept only as hashes` : r.addresses.join(', ')}</dd>
            <dt>Reason</dt><dd>{r.reason}</dd>
            <dt>Filed</dt><dd>by {actorName(r.filedBy)}, {when(r.filedAt)}</dd>
            {r.decidedAt && <><dt>Decided</dt><dd>{when(r.decidedAt)}: “{r.decisionReason}”</dd></>}
          </dl>
          {r.outcome && <ErasureCertificate outcome={r.outcome} />}
          {r.state === 'pending' && (
            <Decision<ErasureRequest & { outcome: ErasureOutcome | null }> me={me} filedBy={r.filedBy} path={`/api/v1/subject-requests/${encodeURIComponent(r.id)}`} what={`erasure request ${r.id}`}
              onDecided={(x, decision) => changed(decision === 'deny'
                ? <>You denied erasure request <code>{x.id}</code>: nothing is erased.</>
                : x.outcome
                  // The answer's state is the decision's; the outcome is what carrying it out did.
                  ? <>You approved erasure request <code>{x.id}</code>: it is <StateBadge state="carried out" />. {summary(x.outcome)} Its certificate is on its card.</>
                  : <>You approved erasure request <code>{x.id}</code>: it is <StateBadge state={x.state} />.</>)} />
          )}
        </article>
      ))}
      {keeper && <FileErasure onDone={changed} />}
    </section>
  );
}

function summary(o: ErasureOutcome): string {
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  return `${n(o.messages.disposed.length, 'message')} disposed of, ${n(o.messages.kept.length, 'message')} kept; ${n(o.ledger.erased, 'ledger entry', 'ledger entries')} erased.`;
}

// Counts by reason: "3 under legal hold …, 1 kept by rule …".
function byWhy(items: { why: string }[]): [string, number][] {
  const m = new Map<string, number>();
  for (const i of items) m.set(i.why, (m.get(i.why) ?? 0) + 1);
  return [...m];
}

function ErasureCertificate({ outcome: o }: { outcome: ErasureOutcome }) {
  return (
    <div data-testid="erasure-certificate">
      <h4>Certificate</h4>
      <dl>
        <dt>Carried out</dt><dd>{when(o.executedAt)}</dd>
        <dt>Messages disposed of</dt><dd data-testid="erasure-disposed">{o.messages.disposed.length}</dd>
        <dt>Messages kept</dt>
        <dd data-testid="erasure-kept">
          {o.messages.kept.length}
          {o.messages.kept.length > 0 && <ul className="plain">{byWhy(o.messages.kept).map(([why, k]) => <li key={why}>{k}: {why}</li>)}</ul>}
        </dd>
        <dt>Ledger entries erased</dt><dd data-testid="erasure-ledger">{o.ledger.erased}{o.ledger.erasureEntry !== null && <> (recorded by entry {o.ledger.erasureEntry})</>}</dd>
        <dt>Ledger entries kept</dt>
        <dd>
          {o.ledger.kept.length}
          {o.ledger.kept.length > 0 && <ul className="plain">{byWhy(o.ledger.kept).map(([why, k]) => <li key={why}>{k}: {why}</li>)}</ul>}
        </dd>
        {o.ledger.disposeEntry !== null && <><dt>Disposal</dt><dd>ledger entry {o.ledger.disposeEntry}</dd></>}
      </dl>
    </div>
  );
}

function FileErasure({ onDone }: { onDone: (text: Outcome['text']) => void }) {
  const { busy, f, submit } = useFormSubmit(async ({ text }) => {
    const r = await api.post<ErasureRequest>('/api/v1/subject-requests', {
      kind: 'erasure', addresses: text('addresses').split(/[\s,;]+/).filter(Boolean), reference: text('reference'), reason: text('reason'),
    });
    onDone(<>Erasure request <code>{r.id}</code> ({r.reference}) is filed: nothing is erased until an approver who is not you approves it.</>);
  });
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="file-erasure-h">
      <h3 id="file-erasure-h">File an erasure request</h3>
      <div className="field" data-field="addresses">
        <label htmlFor="erasure-addresses">The person's e-mail addresses</label>
        <textarea id="erasure-addresses" name="addresses" rows={2} required {...f.input('addresses', 'erasure-addresses-help')} />
        <span id="erasure-addresses-help" className="field-help">One a line, or separated by commas. Once carried out, the request keeps only their hashes.</span>
        {f.message('addresses')}
      </div>
      <div className="field" data-field="reference"><label htmlFor="erasure-reference">Reference (the request's number in your records)</label><input id="erasure-reference" name="reference" required maxLength={200} {...f.input('reference')} />{f.message('reference')}</div>
      <div className="field" data-field="reason"><label htmlFor="erasure-reason">Reason</label><textarea id="erasure-reason" name="reason" required maxLength={2000} {...f.input('reason')} />{f.message('reason')}</div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>File the request</button>
    </form>
  );
}
