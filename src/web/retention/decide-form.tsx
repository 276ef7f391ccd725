import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';

// An approver's decision on something filed by someone else — a retention change, a hold's
// release, an erasure — with a reason, as on Approvals. Only approvers are offered it; what one
// filed oneself is said so instead of buttons (the server refuses it anyway, and refuses anyone
// linked to the filer too: that refusal, as any, is shown here in its words).
export function Decision<T>({ me, filedBy, path, what, onDecided }: {
  me: Me;
  filedBy: string;                // the filer's label: user:NAME, os:USER
  path: string;                   // …/approve and …/deny are posted to it
  what: string;                   // "retention change rch_…", for the form's name
  onDecided: (result: T, decision: 'approve' | 'deny') => void;
}) {
  if (!hasRole(me, ['approver'])) return <p className="muted">Waits for an approver's decision.</p>;
  if (filedBy === `user:${me.name}`) return <p className="notice">You filed this: another approver decides, not you nor anyone linked to you.</p>;
  return <DecideForm path={path} what={what} onDecided={onDecided} />;
}

// Approve or deny with a reason, posted to `path`/approve or `path`/deny: access requests (Approvals)
// and every change filed for an approver (Retention).
export function DecideForm<T>({ path, what, onDecided, maxLength = 2000 }: { path: string; what: string; onDecided: (result: T, decision: 'approve' | 'deny') => void; maxLength?: number }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const decision = ((e.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value === 'deny' ? 'deny' : 'approve';
    const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
    if (!reason) {
      setError(new Error('Give a reason for your decision.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDecided(await api.post<T>(`${path}/${decision}`, { reason }), decision);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label={`Decide on ${what}`}>
      <label>Reason <textarea name="reason" required maxLength={maxLength} /></label>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" name="decision" value="approve" disabled={busy}>Approve</button>
        <button type="submit" name="decision" value="deny" className="danger" disabled={busy}>Deny</button>
      </div>
    </form>
  );
}

