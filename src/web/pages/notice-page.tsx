import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { when } from '../format.ts';

export interface Notice {
  text: string | null;
  version: number;
  updatedAt: string | null;
  acknowledgedAt: string | null;
  mustAcknowledge: boolean;
}

// The archiving notice, shown after sign-in until this version is acknowledged (the app
// shows nothing else until then); the acknowledgement is a ledger entry.
export function NoticePage({ notice, onAcknowledged }: { notice: Notice; onAcknowledged: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const acknowledge = async () => {
    setBusy(true);
    try {
      await api.post('/api/v1/notice/acknowledge', { version: notice.version });
      onAcknowledged();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>Your mail is archived</PageTitle>
      <p className="muted">Please read this notice from your organisation. Updated {when(notice.updatedAt)}.</p>
      <section aria-label="Archiving notice" className="card notice-text" data-testid="notice-text">
        {notice.text!.split(/\n{2,}/).map((para, i) => <p key={i}>{para}</p>)}
      </section>
      <ErrorNote error={error} />
      <button type="button" onClick={() => void acknowledge()} disabled={busy}>I have read this notice</button>
    </>
  );
}
