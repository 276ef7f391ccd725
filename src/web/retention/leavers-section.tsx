import { useState } from 'react';
import type { ReactNode } from 'react';
import { api, ApiError } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { useFormSubmit } from '../field-errors.tsx';
import { actorName, when } from '../format.ts';
import { MailboxPicker } from '../mailbox-picker.tsx';
import type { Outcome } from '../outcome-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';
import { Decision } from './decide-form.tsx';

// GET /api/v1/leavers (days as YYYY-MM-DD, UTC)
export interface Leaver {
  mailbox: string;
  left: string;
  disposeFrom: string;
  exemption: { change: string; until: string | null; reason: string } | null;
}

export interface LeaverChange {
  id: string;
  mailbox: string;
  kind: 'leave' | 'return' | 'exempt';
  left?: string;              // leave
  disposeFrom?: string;       // leave: fixed when filed
  until?: string | null;      // exempt: null, until decided otherwise
  reason: string;
  source: 'api' | 'directory' | 'console';
  filedBy: string;
  filedAt: string;
  state: 'pending' | 'approved' | 'denied';
  decisionReason: string | null;
  decidedAt: string | null;
}

interface Leavers {
  leaverMonths: number;
  leavers: Leaver[];
  changes: LeaverChange[];
}

const KINDS = [
  { value: 'leave', label: 'the day they left' },
  { value: 'return', label: 'the leaving date withdrawn (they are still there, or back)' },
  { value: 'exempt', label: 'an exemption from the leaver rule (their mail kept longer)' },
] as const;

type Kind = LeaverChange['kind'];

// Leavers: the mailboxes of people who left, from when their mail goes and any exemption; the
// changes filed for an approver. A leaving date shortens retention, so nothing here applies at
// once: records managers and admins file, an approver who did not file it, is not linked to the
// filer and does not own the mailbox decides (the server refuses the rest, said in its words).
export function LeaversSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const r = useLoad(() => api.get<Leavers>('/api/v1/leavers'), []);
  const changed = (text: Outcome['text']) => {
    done(text);
    r.reload();
  };
  const pending = r.data?.changes.filter((c) => c.state === 'pending') ?? [];
  const decided = r.data?.changes.filter((c) => c.state !== 'pending') ?? [];
  return (
    <section aria-labelledby="leavers-h">
      <h2 id="leavers-h">Leavers</h2>
      {r.loading && !r.data && <Loading what="leavers" />}
      <ErrorNote error={r.error} />
      {r.data && (
        <>
          <p className="muted">
            A leaver's mail is disposed {r.data.leaverMonths} month{r.data.leaverMonths === 1 ? '' : 's'} after the day they left (<code>retention.leaverMonths</code>), except what a retention rule's minimum keeps, what a legal hold covers and mail shared with someone still there. An exemption, with its reason, keeps it longer.
          </p>
          {r.data.leavers.length === 0 ? <p>No mailbox is marked as belonging to someone who left.</p> : (
            <table data-testid="leavers">
              <thead><tr><th scope="col">Mailbox</th><th scope="col">Left on</th><th scope="col">Mail disposed from</th><th scope="col">Exemption</th></tr></thead>
              <tbody>
                {r.data.leavers.map((l) => (
                  <tr key={l.mailbox} data-leaver={l.mailbox}>
                    <td>{l.mailbox}</td>
                    <td>{l.left}</td>
                    <td>{l.disposeFrom}</td>
                    <td>{l.exemption ? <>{l.exemption.until ? `until ${l.exemption.until}` : 'until decided otherwise'}: {l.exemption.reason}</> : 'none'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Leaver changes waiting for an approver</h3>
          {pending.length === 0 && <p>No leaving date or exemption is waiting.</p>}
          {pending.map((c) => (
            <ChangeCard key={c.id} c={c}>
              <Decision<LeaverChange> me={me} filedBy={c.filedBy} path={`/api/v1/leaver-changes/${encodeURIComponent(c.id)}`} what={`leaver change ${c.id}`}
                onDecided={(x, decision) => changed(decision === 'approve'
                  ? <>You approved leaver change <code>{x.id}</code>: {applied(x)}</>
                  : <>You denied leaver change <code>{x.id}</code>: {x.mailbox} stays as it was.</>)} />
            </ChangeCard>
          ))}
          {decided.length > 0 && (
            <details>
              <summary>Decided leaver changes ({decided.length})</summary>
              {decided.map((c) => <ChangeCard key={c.id} c={c} />)}
            </details>
          )}
          {keeper && <FileLeaver onDone={changed} />}
        </>
      )}
    </section>
  );
}

const exemptUntil = (c: LeaverChange) => (c.until ? `until ${c.until}` : 'until decided otherwise');

// What a filed change asks for, and what it did once approved.
function asked(c: LeaverChange): string {
  if (c.kind === 'leave') return `${c.mailbox} marked as left on ${c.left}, its mail disposed from ${c.disposeFrom}`;
  if (c.kind === 'return') return `the leaving date of ${c.mailbox} withdrawn`;
  return `${c.mailbox}'s mail kept past the leaver rule ${exemptUntil(c)}`;
}

function applied(c: LeaverChange): string {
  if (c.kind === 'leave') return `${c.mailbox} is marked as left on ${c.left}; its mail not kept by a rule's minimum or a legal hold is disposed from ${c.disposeFrom}.`;
  if (c.kind === 'return') return `${c.mailbox}'s leaving date is withdrawn; its mail follows retention again.`;
  return `${c.mailbox}'s mail is kept past the leaver rule ${exemptUntil(c)}.`;
}

const TITLE: Record<Kind, string> = { leave: 'Leaving date', return: 'Leaving date withdrawn', exempt: 'Exemption from the leaver rule' };

function ChangeCard({ c, children }: { c: LeaverChange; children?: ReactNode }) {
  return (
    <article className="card" aria-labelledby={`lvr-${c.id}`} data-leaver-change={c.id} data-state={c.state}>
      <h4 id={`lvr-${c.id}`}>{TITLE[c.kind]}: {c.mailbox} <code>{c.id}</code> <StateBadge state={c.state} /></h4>
      <dl>
        {c.kind === 'leave' && <><dt>Left on</dt><dd>{c.left}</dd><dt>Mail disposed from</dt><dd>{c.disposeFrom}</dd></>}
        {c.kind === 'return' && <><dt>After</dt><dd>its mail follows retention again</dd></>}
        {c.kind === 'exempt' && <><dt>Mail kept</dt><dd>{exemptUntil(c)}</dd></>}
        <dt>Reason given</dt><dd>{c.reason}</dd>
        <dt>Filed</dt><dd>by {actorName(c.filedBy)}{c.source === 'directory' && ' from the directory import'}, {when(c.filedAt)}</dd>
        {c.decidedAt && <><dt>Decided</dt><dd>{when(c.decidedAt)}: “{c.decisionReason}”</dd></>}
      </dl>
      {children}
    </article>
  );
}

function FileLeaver({ onDone }: { onDone: (text: Outcome['text']) => void }) {
  const [mailbox, setMailbox] = useState<string[]>([]);
  const [kind, setKind] = useState<Kind>('leave');
  const { busy, f, submit } = useFormSubmit(async ({ text }) => {
    // The mailbox is the address of what is filed, not a field the server could name: said here, by its field.
    if (mailbox.length === 0) throw new ApiError(400, 'SEALBOX_ERR_BAD_INPUT', 'choose the mailbox', ['mailbox']);
    const path = `/api/v1/mailboxes/${encodeURIComponent(mailbox[0]!)}/leaver`;
    const c = kind === 'exempt'
      ? await api.post<LeaverChange>(`${path}/exemption`, { until: text('until') || null, reason: text('reason') })
      : await api.post<LeaverChange>(path, { left: kind === 'leave' ? text('left') : null, reason: text('reason') });
    setMailbox([]);
    setKind('leave');
    onDone(<>Filed as change <code>{c.id}</code>: {asked(c)}. Nothing changes until an approver who is not you, and does not own the mailbox, approves it; its owner is told.</>);
  });
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="file-leaver-h">
      <h3 id="file-leaver-h">File a leaving date or an exemption</h3>
      <div className="field" data-field="mailbox"><MailboxPicker label="Mailbox" single value={mailbox} onChange={setMailbox} />{f.message('mailbox')}</div>
      <fieldset>
        <legend>What to file</legend>
        {KINDS.map((k) => <label key={k.value}><input type="radio" name="kind" value={k.value} checked={kind === k.value} onChange={() => setKind(k.value)} /> {k.label}</label>)}
      </fieldset>
      {kind === 'leave' && <div className="field" data-field="left"><label htmlFor="leaver-left">Left on</label><input id="leaver-left" type="date" name="left" required {...f.input('left')} />{f.message('left')}</div>}
      {kind === 'exempt' && <div className="field" data-field="until"><label htmlFor="leaver-until">Kept until (optional: until decided otherwise)</label><input id="leaver-until" type="date" name="until" {...f.input('until')} />{f.message('until')}</div>}
      <div className="field" data-field="reason"><label htmlFor="leaver-reason">Reason</label><textarea id="leaver-reason" name="reason" required maxLength={2000} {...f.input('reason')} />{f.message('reason')}</div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>File for approval</button>
    </form>
  );
}
