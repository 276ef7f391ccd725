import { useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';

interface AttachmentTextAnswer {
  attachment: number;
  filename: string | null;
  extraction: string | null;
  text: string;
}

// What became of reading an attachment's text, as the index recorded it.
export function ExtractionNote({ extraction }: { extraction: string | null | undefined }) {
  if (!extraction) return null;
  if (extraction === 'ok') return <span className="muted"> · text read</span>;
  return <span className="muted"> · text {extraction}</span>;
}

// The text read from inside one attachment, shown on request: each showing is a read of the
// message (an attachment-text entry in the ledger), so nothing is fetched until it is asked for.
export function AttachmentText({ sha256, grant, index, name }: { sha256: string; grant?: string; index: number; name: string }) {
  const [shown, setShown] = useState(false);
  const [answer, setAnswer] = useState<AttachmentTextAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const toggle = async () => {
    if (shown) {
      setShown(false);
      return;
    }
    setShown(true);
    if (answer) return;
    setError(null);
    try {
      setAnswer(await api.get<AttachmentTextAnswer>(`/api/v1/messages/${sha256}/attachments/${index}/text${qs({ grant })}`));
    } catch (err) {
      setError(err);
      setShown(false);
    }
  };
  return (
    <>
      {' '}<button type="button" className="link" aria-expanded={shown} aria-label={`${shown ? 'Hide text' : 'Show text'} of ${name}`} onClick={() => void toggle()}>{shown ? 'Hide text' : 'Show text'}</button>
      <ErrorNote error={error} />
      {shown && (answer === null ? <Loading what="the attachment's text" /> : (
        answer.text
          ? <pre className="attachment-text" aria-label={`Text of ${name}`} tabIndex={0}>{answer.text}</pre>
          : <p className="muted">No text was read from {name}{answer.extraction && answer.extraction !== 'ok' ? ` (${answer.extraction})` : ''}.</p>
      ))}
    </>
  );
}
