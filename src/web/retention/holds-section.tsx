import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { useFormSubmit } from '../field-errors.tsx';
import { actorName, day, when } from '../format.ts';
import { MailboxPicker } from '../mailbox-picker.tsx';
import type { Outcome } from '../outcome-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';
import { Decision } from './decide-form.tsx';

// GET /api/v1/holds
export interface HoldRelease {
  id: string;
  hold: string;
  reason: string;
  filedBy: string;
  filedAt: string;
  state: 'pending' | 'approved' | 'denied';
  decisionReason: string | null;
  decidedAt: string | null;
}

export interface Hold {
  id: string;
  name: string;
  matter: string;
  custodians: string[];
  dateFrom: string | null;
  dateTo: string | null;   // the end of the window: the next midnight after its last day
  query: string | null;
  state: 'on' | 'released';
  placedBy: string;
  placedAt: string;
  releasedAt: string | null;
  releases: HoldRelease[];
  notices: { owner: string; mailbox: string | null; notifiedAt: string; acknowledgedAt: string | null }[];
}

// The mail a hold covers, in words: its window (the API's dateTo is the next midnight; people
// name the last day).
export function holdWindow(h: { dateFrom: string | null; dateTo: string | null }): string {
  if (!h.dateFrom && !h.dateTo) return 'all dates';
  const lastDay = h.dateTo ? day(new Date(Date.parse(h.dateTo) - 1).toISOString()) : null;
  return `${h.dateFrom ? day(h.dateFrom) : 'any time'} to ${lastDay ?? 'now'}`;
}

// Legal holds: each with its scope, who was told and who acknowledged, its releases. Placing one
// applies at once (admins); a release is asked for with a reason (admins) and decided by an
// approver who did not ask for it.
export function HoldsSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const list = useLoad(() => api.get<{ holds: Hold[] }>('/api/v1/holds'), []);
  const changed = (text: Outcome['text']) => {
    done(text);
    list.reload();
  };
  return (
    <section aria-labelledby="holds-h">
      <h2 id="holds-h">Legal holds</h2>
      <p className="muted">A hold keeps its custodians' mail in its window (and matching its query, if it has one) from disposal, whatever retention says, until a release is approved. Holds are never deleted.</p>
      {list.loading && !list.data && <Loading what="legal holds" />}
      <ErrorNote error={list.error} />
      {list.data && list.data.holds.length === 0 && <p>No legal hold has been placed.</p>}
      {list.data?.holds.map((h) => {
        const pending = h.releases.find((r) => r.state === 'pending');
        return (
          <article key={h.id} className="card" aria-labelledby={`hold-${h.id}`} data-hold={h.id} data-state={h.state}>
            <h3 id={`hold-${h.id}`}>{h.name} <StateBadge state={h.state} /></h3>
            <dl>
              <dt>Hold</dt><dd><code>{h.id}</code></dd>
              <dt>Matter</dt><dd>{h.matter}</dd>
              <dt>Custodians</dt><dd>{h.custodians.join(', ')}</dd>
              <dt>Mail dated</dt><dd>{holdWindow(h)}</dd>
              <dt>Query</dt><dd>{h.query ? <code>{h.query}</code> : 'none: all their mail in the window'}</dd>
              <dt>Placed</dt><dd>by {actorName(h.placedBy)}, {when(h.placedAt)}</dd>
              {h.releasedAt && <><dt>Released</dt><dd>{when(h.releasedAt)}</dd></>}
              <dt>Notices</dt>
              <dd data-testid="hold-notices">
                {h.notices.length === 0 ? 'no custodian mailbox has an owner to tell' : (
                  <ul className="plain">
                    {h.notices.map((n) => <li key={`${n.owner} ${n.mailbox}`}>{n.owner}{n.mailbox && <> ({n.mailbox})</>}: {n.acknowledgedAt ? <>acknowledged {when(n.acknowledgedAt)}</> : <>told {when(n.notifiedAt)}, <strong>not acknowledged yet</strong></>}</li>)}
                  </ul>
                )}
              </dd>
              {h.releases.length > 0 && (
                <>
                  <dt>Releases</dt>
                  <dd>
                    <ul className="plain">
                      {h.releases.map((r) => (
                        <li key={r.id}>
                          <code>{r.id}</code> <StateBadge state={r.state} /> asked by {actorName(r.filedBy)}, {when(r.filedAt)}: “{r.reason}”
                          {r.decidedAt && <> — decided {when(r.decidedAt)}: “{r.decisionReason}”</>}
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
            </dl>
            {pending && (
              <>
                <h4>Release <code>{pending.id}</code> waits for a decision</h4>
                <Decision<HoldRelease> me={me} filedBy={pending.filedBy} path={`/api/v1/holds/releases/${encodeURIComponent(pending.id)}`} what={`releasing hold ${h.name}`}
                  onDecided={(x, decision) => changed(decision === 'approve'
                    ? <>You approved release <code>{x.id}</code>: legal hold “{h.name}” is released, and its mail follows retention again.</>
                    : <>You denied release <code>{x.id}</code>: legal hold “{h.name}” stays on.</>)} />
              </>
            )}
            {keeper && h.state === 'on' && !pending && <AskRelease hold={h} onFiled={changed} />}
          </article>
        );
      })}
      {keeper && <PlaceHold onDone={changed} />}
    </section>
  );
}

function AskRelease({ hold, onFiled }: { hold: Hold; onFiled: (text: Outcome['text']) => void }) {
  const { busy, f, submit } = useFormSubmit(async ({ text }) => {
    const r = await api.post<HoldRelease>(`/api/v1/holds/${encodeURIComponent(hold.id)}/release`, { reason: text('reason') });
    onFiled(<>Releasing legal hold “{hold.name}” was asked for as <code>{r.id}</code>: the hold stays on until an approver who is not you approves it.</>);
  });
  return (
    <details>
      <summary>Ask for a release…</summary>
      <form onSubmit={submit} className="stack" aria-label={`Ask to release hold ${hold.name}`}>
        <div className="field" data-field="reason"><label htmlFor={`release-${hold.id}`}>Why the hold can end</label><textarea id={`release-${hold.id}`} name="reason" required maxLength={2000} {...f.input('reason')} />{f.message('reason')}</div>
        <ErrorNote error={f.error} />
        <button type="submit" className="secondary" disabled={busy}>Ask for the release</button>
      </form>
    </details>
  );
}

// The day after a date (YYYY-MM-DD): the API's exclusive end of a window whose last day it is.
const dayAfter = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString();

function PlaceHold({ onDone }: { onDone: (text: Outcome['text']) => void }) {
  const [custodians, setCustodians] = useState<string[]>([]);
  const { busy, f, submit } = useFormSubmit(async ({ text }) => {
    const h = await api.post<Hold>('/api/v1/holds', {
      name: text('name'), matter: text('matter'), custodians,
      dateFrom: text('dateFrom') ? `${text('dateFrom')}T00:00:00Z` : null, dateTo: text('dateTo') ? dayAfter(text('dateTo')) : null, query: text('query') || null,
    });
    setCustodians([]);
    onDone(<>Legal hold “{h.name}” (<code>{h.id}</code>) is on: what it covers is kept from disposal from now on. The owners of its custodian mailboxes are told.</>);
  });
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="place-hold-h">
      <h3 id="place-hold-h">Place a legal hold</h3>
      <p className="muted">It applies at once and tells each custodian mailbox's owner, who can acknowledge it. Ending it later needs an approver who is not you.</p>
      <div className="row">
        <div className="field" data-field="name"><label htmlFor="hold-name">Name</label><input id="hold-name" name="name" required maxLength={200} {...f.input('name')} />{f.message('name')}</div>
        <div className="field" data-field="matter"><label htmlFor="hold-matter">Matter reference</label><input id="hold-matter" name="matter" required maxLength={200} {...f.input('matter')} />{f.message('matter')}</div>
      </div>
      <div className="field" data-field="custodians"><MailboxPicker label="Custodian mailboxes" value={custodians} onChange={setCustodians} />{f.message('custodians')}</div>
      <div className="row">
        <div className="field" data-field="dateFrom"><label htmlFor="hold-from">Mail dated from (optional)</label><input id="hold-from" type="date" name="dateFrom" {...f.input('dateFrom')} />{f.message('dateFrom')}</div>
        <div className="field" data-field="dateTo"><label htmlFor="hold-to">to (inclusive, optional)</label><input id="hold-to" type="date" name="dateTo" {...f.input('dateTo')} />{f.message('dateTo')}</div>
      </div>
      <div className="field" data-field="query">
        <label htmlFor="hold-query">Only mail matching (optional)</label>
        <input id="hold-query" name="query" maxLength={2000} {...f.input('query', 'hold-query-help')} />
        <span id="hold-query-help" className="field-help">The search language, e.g. <code>merger OR acquisition</code>. Saved with the hold as the proof of its scope.</span>
        {f.message('query')}
      </div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>Place the hold</button>
    </form>
  );
}
