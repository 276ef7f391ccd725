import { useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';

// The body in a sandboxed frame. Its document comes from Sealbox (GET …/body), sanitised with
// DOMPurify and served with a CSP of its own that runs no script and loads nothing remote; the
// frame's `sandbox` attribute grants nothing (no scripts, no same-origin, no forms, no popups,
// no top navigation), so even a document that slipped through could not act. Remote content
// (tracking pixels included) loads only after the button has recorded the read in the ledger:
// the entry's index is what the server needs to relax the frame's CSP for images, styles and fonts.
export function MessageBody({ sha256, grant, title }: { sha256: string; grant?: string; title: string }) {
  const [remote, setRemote] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const loadRemote = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ ledgerIndex: number }>(`/api/v1/messages/${sha256}/remote-content`, grant ? { grant } : {});
      setRemote(r.ledgerIndex);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="message-body">
      <p className="actions" role="status">
        {remote === null ? (
          <>
            <span className="muted">Remote images and other remote content are blocked: loading them tells the sender the message was opened.</span>
            <button type="button" className="secondary" onClick={loadRemote} disabled={busy}>Load remote content</button>
          </>
        ) : <span className="muted">Remote content loaded; recorded in the ledger as entry {remote}.</span>}
      </p>
      <ErrorNote error={error} />
      <iframe
        key={remote ?? 'blocked'}
        title={title}
        sandbox=""
        referrerPolicy="no-referrer"
        src={`/api/v1/messages/${sha256}/body${qs({ grant, remote })}`}
      />
    </div>
  );
}
