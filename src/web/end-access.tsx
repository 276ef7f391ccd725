import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { api } from './api.ts';
import type { AccessRequest } from './access-request.ts';
import { ErrorNote } from './error-note.tsx';

// "End access now", for an approver or an admin stopping someone else's grant (the requester has
// "I'm done"): a first press asks for the reason and what ending means, a second confirms.
// Offered only when the server says the caller may revoke (r.you.mayRevoke); if it refuses
// all the same, its words are shown.
export function EndAccess({ r, onEnded }: { r: AccessRequest; onEnded: (ended: AccessRequest) => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  useEffect(() => {
    if (open) reasonRef.current?.focus();
    else if (wasOpen.current) openRef.current?.focus();   // cancelled: back where the user was
    wasOpen.current = open;
  }, [open]);
  if (!r.you.mayRevoke) return null;
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
    if (!reason) {
      setError(new Error('Give a reason for ending this access.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onEnded(await api.post<AccessRequest>(`/api/v1/requests/${encodeURIComponent(r.id)}/revoke`, { reason }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const label = `End access under request ${r.id}`;
  if (!open) {
    return (
      <div className="actions">
        <button ref={openRef} type="button" className="danger" onClick={() => setOpen(true)}>End access now…</button>
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="stack warning" aria-label={label}>
      <p id={`end-${r.id}-what`}>
        Ending it takes effect at once: {r.requester} can no longer {r.permissions.join(' or ')} under this grant{r.state === 'approved' ? ', and it will not start' : ''}.
        This cannot be undone; a new request would need approving again. Your name and reason are recorded.
      </p>
      <label>Why you are ending this access <textarea ref={reasonRef} name="reason" required maxLength={5000} aria-describedby={`end-${r.id}-what`} /></label>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="danger" disabled={busy}>{busy ? 'Ending…' : 'Confirm: end access now'}</button>
        <button type="button" className="secondary" disabled={busy} onClick={() => { setOpen(false); setError(null); }}>Cancel</button>
      </div>
    </form>
  );
}
