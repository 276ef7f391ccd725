import { useState } from 'react';
import { api } from '../api.ts';
import { OwnershipSection, RecoveriesSection } from '../admin/account-decisions.tsx';
import type { AccessRequest } from '../access-request.ts';
import { approvalProgress } from '../access-request.ts';
import { EndAccess } from '../end-access.tsx';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { OutcomeNote } from '../outcome-note.tsx';
import type { Outcome } from '../outcome-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { Purpose } from '../purpose.tsx';
import { RequestCard } from '../request-card.tsx';
import { Decision, DecideForm } from '../retention/decide-form.tsx';
import { RecordsWaiting } from '../retention/records-waiting.tsx';
import { hasRole, useSession } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';

// Approvals: each pending request with its whole context and the earlier requests on the same
// mailboxes, decided with a reason; and the grants in force, which an approver or an admin can
// end at once. Nothing here shows message content; approving does not let the approver read
// anything. What each person may do is the server's answer (r.you), never guessed here.
export function ApprovalsPage() {
  const { me } = useSession();
  const list = useLoad(() => api.get<{ requests: AccessRequest[] }>('/api/v1/requests'), []);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const all = list.data?.requests ?? [];
  const pending = all.filter((r) => r.state === 'pending');
  const inForce = all.filter((r) => r.state === 'active' || r.state === 'approved');
  const done = (text: Outcome['text']) => {
    setOutcome({ text, at: Date.now() });
    list.reload();
  };
  return (
    <>
      <PageTitle>Approvals</PageTitle>
      <p className="muted">
        {hasRole(me, ['approver'])
          ? 'You cannot decide on your own request, nor on one for a mailbox you own. Your decision and its reason are recorded and shown to the requester.'
          : 'Approvers decide on these requests; you see what waits, and can end a grant in force.'}
      </p>
      <RecordsWaiting />
      <OutcomeNote outcome={outcome} />
      {list.loading && !list.data && <Loading what="requests" />}
      <ErrorNote error={list.error} />
      <section aria-labelledby="waiting-h">
        <h2 id="waiting-h">Waiting for a decision</h2>
        {list.data && pending.length === 0 && <p>No request is waiting for a decision.</p>}
        {pending.map((r) => (
          <RequestCard key={r.id} r={r}>
            <History r={r} all={all} />
            <YourDecision r={r} me={me.name} onDecided={(x, decision) => done(decided(x, decision))} />
          </RequestCard>
        ))}
      </section>
      <RolesWaiting onDecided={done} />
      {hasRole(me, ['approver']) && <><OwnershipSection waitingOnly /><RecoveriesSection waitingOnly /></>}
      <section aria-labelledby="in-force-h">
        <h2 id="in-force-h">Grants in force</h2>
        {list.data && inForce.length === 0 && <p>No grant is in force.</p>}
        {inForce.map((r) => (
          <RequestCard key={r.id} r={r}>
            <EndAccess r={r} onEnded={(x) => done(<>Access under request <code>{x.id}</code> ended: it is now <StateBadge state={x.state} />, and {x.requester} can no longer use it.</>)} />
          </RequestCard>
        ))}
      </section>
    </>
  );
}

interface RoleChange { id: string; user: string; role: string; why: string; filedBy: string; filedAt: string; state: string; recovery?: string; reEnrolment?: { codeTo: string[] } }

// Roles filed for an approver: one beyond owner and requester an admin gave, a role a
// provider's or directory's group would give. Said only when one waits; the server refuses the
// filer, the person and anyone linked to them.
function RolesWaiting({ onDecided }: { onDecided: (text: Outcome['text']) => void }) {
  const { me } = useSession();
  const list = useLoad(() => api.get<{ changes: RoleChange[] }>('/api/v1/role-changes'), []);
  const pending = (list.data?.changes ?? []).filter((c) => c.state === 'pending');
  if (pending.length === 0) return <ErrorNote error={list.error} />;
  return (
    <section aria-labelledby="roles-h">
      <h2 id="roles-h">Roles waiting for a decision</h2>
      {pending.map((c) => (
        <article key={c.id} className="card" data-change={c.id}>
          <p><strong>{c.role}</strong> for <strong>{c.user}</strong>: {c.why}. Filed by {c.filedBy.replace(/^user:/, '')}, {when(c.filedAt)}.</p>
          {c.reEnrolment && <p className="notice" data-testid="re-enrolment">{c.user} has no second factor yet, which {c.role} needs: approving also enrols them again, with a new code sent to {c.reEnrolment.codeTo.join(', ') || 'no address (then the recovery waits)'}.</p>}
          {c.user === me.name
            ? <p className="notice">This is your own role: someone else decides.</p>
            : <Decision<RoleChange> me={me} filedBy={c.filedBy} path={`/api/v1/role-changes/${encodeURIComponent(c.id)}`} what={`role change ${c.id}`}
              onDecided={(r, decision) => { list.reload(); onDecided(<>You {decision === 'approve' ? 'approved' : 'denied'} the role {c.role} for {c.user}{decision === 'approve' ? applied(c.user, r.recovery) : ''}.</>); }} />}
        </article>
      ))}
    </section>
  );
}

// An approved role applies at once; one that needs a second factor the person lacks comes with
// an account recovery this approval approved (its code goes to the person's mail).
function applied(user: string, recovery: string | undefined): string {
  return recovery ? `: it applies now, and ${user} enrols again for the second factor it needs, with a code that goes to their mail (account recovery ${recovery})` : `: it applies now, and ${user} signs in again to use it`;
}

// What a decision did, in the words of the request's new state.
function decided(r: AccessRequest, decision: 'approve' | 'deny') {
  const id = <code>{r.id}</code>;
  const state = <StateBadge state={r.state} />;
  if (decision === 'deny') return <>You denied request {id}: it is now {state}. {r.requester} is told, with your reason.</>;
  if (r.state === 'pending') return <>You approved request {id}: {approvalProgress(r)}. It is still {state} until another approver approves it.</>;
  if (r.state === 'approved') return <>You approved request {id}: it is now {state} and starts {when(r.startsAt)}.</>;
  return <>You approved request {id}: it is now {state} until {when(r.endsAt)}.</>;
}

function History({ r, all }: { r: AccessRequest; all: AccessRequest[] }) {
  const history = all.filter((x) => x.id !== r.id && x.mailboxes.some((m) => r.mailboxes.includes(m)));
  return (
    <>
      <h4>Earlier requests on {r.mailboxes.length === 1 ? 'this mailbox' : 'these mailboxes'}</h4>
      {history.length === 0 ? <p>None.</p> : (
        <table>
          <thead><tr><th scope="col">Filed</th><th scope="col">Requester</th><th scope="col">Purpose</th><th scope="col">Ticket</th><th scope="col">State</th><th scope="col">Decided</th></tr></thead>
          <tbody>
            {history.map((h) => (
              <tr key={h.id}>
                <td>{when(h.createdAt)}</td>
                <td>{h.requester}</td>
                <td><Purpose value={h.purpose} /></td>
                <td>{h.ticket ?? '—'}</td>
                <td><StateBadge state={h.state} /></td>
                <td>{h.approvals.map((a) => `${a.decision} by ${a.approver}: ${a.reason}`).join('; ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

// The caller's part: their decision once made (never the buttons again), the server's reason
// when they may not decide, or the buttons.
function YourDecision({ r, me, onDecided }: { r: AccessRequest; me: string; onDecided: (r: AccessRequest, decision: 'approve' | 'deny') => void }) {
  if (r.you.decision) {
    const mine = r.approvals.find((a) => a.approver === me);
    const more = r.approvalsNeeded - r.approvalsGiven;
    return (
      <p className="notice" data-testid="your-decision">
        You {r.you.decision === 'approve' ? 'approved' : 'denied'} this request{mine && <> on {when(mine.at)}</>}
        {r.you.decision === 'approve' && more > 0 ? <>; it waits for {more === 1 ? 'one more approval' : `${more} more approvals`} from someone else.</> : '.'}
        {mine && <> Your reason: “{mine.reason}”</>}
      </p>
    );
  }
  if (!r.you.mayDecide) return <p className="notice">You do not decide on this request: {r.you.cannotDecide ?? 'someone else decides'}.</p>;
  return <DecideForm<AccessRequest> path={`/api/v1/requests/${encodeURIComponent(r.id)}`} what={`request ${r.id}`} maxLength={5000} onDecided={onDecided} />;
}

