import type { ReactNode } from 'react';
import type { AccessRequest } from './access-request.ts';
import { approvalProgress } from './access-request.ts';
import { day, relative, when } from './format.ts';
import { Purpose } from './purpose.tsx';
import { StateBadge } from './state-badge.tsx';

// One request's whole context — who, whose mailboxes, why, which scope, its decisions — and
// never any message content. Used by Requests and Approvals.
export function RequestCard({ r, children, headingLevel = 3 }: { r: AccessRequest; children?: ReactNode; headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  // The API's dateTo is the end of the window (the next midnight); people name the last day.
  const lastDay = r.dateTo ? day(new Date(Date.parse(r.dateTo) - 1).toISOString()) : null;
  const dates = r.dateFrom || r.dateTo ? `${r.dateFrom ? day(r.dateFrom) : 'any time'} to ${lastDay ?? 'now'}` : 'all dates';
  return (
    <article className="card" aria-labelledby={`req-${r.id}`} data-request={r.id} data-state={r.state}>
      <H id={`req-${r.id}`}>
        {r.breakglass && 'EMERGENCY '}Request <code>{r.id}</code> <StateBadge state={r.state} />
      </H>
      <dl>
        <dt>Requester</dt><dd>{r.requester}</dd>
        <dt>Mailboxes</dt><dd>{r.sealed ? <span className="muted" data-testid="sealed-mailboxes">those holding the person's mail, shown once approved</span> : r.mailboxes.length === 0 ? <span className="muted">none: the archive holds no mail of the person in any mailbox</span> : r.mailboxes.join(', ')}</dd>
        <dt>Purpose</dt><dd><Purpose value={r.purpose} /></dd>
        <dt>Justification</dt><dd>{r.justification}</dd>
        <dt>Ticket</dt><dd>{r.ticket ?? '—'}</dd>
        <dt>Scope</dt><dd>{r.permissions.join(', ')} · mail dated {dates}{r.query ? <> · only <code>{r.query}</code></> : ''}</dd>
        <dt>Duration</dt><dd>{r.durationHours} h</dd>
        {r.extends && <><dt>Extends</dt><dd><code>{r.extends}</code> (an extension: approve only if the work still needs it)</dd></>}
        <dt>Filed</dt><dd>{when(r.createdAt)}</dd>
        {r.state === 'pending' && <><dt>Lapses</dt><dd>{when(r.lapsesAt)} ({relative(r.lapsesAt)}) unless decided</dd></>}
        {r.startsAt && <><dt>Grant</dt><dd>{when(r.startsAt)} to {when(r.endsAt)}{r.state === 'active' && <> — <strong>ends {relative(r.endsAt)}</strong></>}</dd></>}
        {r.revokedAt && <><dt>Ended</dt><dd>{when(r.revokedAt)}</dd></>}
        {r.approvals.length > 0 && (
          <>
            <dt>Decisions</dt>
            <dd>
              <ul>{r.approvals.map((a, i) => <li key={i}>{a.decision === 'approve' ? 'Approved' : 'Denied'} by {a.approver}, {when(a.at)}: “{a.reason}”</li>)}</ul>
            </dd>
          </>
        )}
        {r.approvalsNeeded > 1 && !r.breakglass && <><dt>Approvals</dt><dd data-testid="approval-progress">{approvalProgress(r)}</dd></>}
      </dl>
      {r.tooFewApprovers && <TooFewApprovers r={r} />}
      {children}
    </article>
  );
}

// A pending request that can no longer reach its approvals would only lapse: said on the card, to
// whoever sees it, so that someone adds or enables an approver in time.
function TooFewApprovers({ r }: { r: AccessRequest }) {
  const more = r.approvalsNeeded - r.approvalsGiven;
  const approvals = more === 1 ? 'one more approval' : `${more} more approvals`;
  return (
    <p className="warning" data-testid="too-few-approvers">
      <strong>Too few approvers.</strong>{' '}
      {r.approversLeft === null
        ? <>It needs {approvals}, but fewer people than that can still give one. Ask an administrator to add an approver.</>
        : <>It needs {approvals}, but {r.approversLeft === 0 ? 'no one' : r.approversLeft === 1 ? 'only one person' : `only ${r.approversLeft} people`} can still give one
          (approvers who are not disabled, did not file it, own none of its mailboxes and are not linked to its requester). An administrator can add or enable an approver.</>}
      {' '}Otherwise it lapses {when(r.lapsesAt)}.
    </p>
  );
}
