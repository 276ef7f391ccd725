import { api, qs } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import { when } from '../format.ts';
import { Link } from '../router.tsx';
import { useLoad } from '../use-load.ts';

interface ThreadAnswer {
  position: number;
  messages: { sha256: string; date: string | null; from: string | null; subject: string | null }[];
}

// The conversation a message belongs to, as far as the reader's scope goes (the server lists
// nothing outside it): where this message stands, previous and next, and the whole list.
// Loading it is recorded like a search. `href` makes a message's link.
export function ThreadNav({ sha256, grant, href }: { sha256: string; grant?: string; href: (sha256: string) => string }) {
  const t = useLoad(() => api.get<ThreadAnswer>(`/api/v1/messages/${sha256}/thread${qs({ grant })}`), [sha256, grant]);
  if (t.error) return <ErrorNote error={t.error} />;
  if (!t.data || t.data.messages.length <= 1) return null;
  const { messages, position } = t.data;
  const prev = position > 0 ? messages[position - 1] : null;
  const next = position >= 0 && position < messages.length - 1 ? messages[position + 1] : null;
  return (
    <nav className="thread" aria-label="Conversation">
      <p>
        <strong data-testid="thread-position">Message {position + 1} of {messages.length} in this conversation</strong>
        <span className="muted"> (as far as you may read it)</span>
      </p>
      <p className="actions">
        {prev ? <Link className="button secondary" href={href(prev.sha256)} rel="prev">← Previous in conversation</Link> : <span className="muted">This is the first message.</span>}
        {next ? <Link className="button secondary" href={href(next.sha256)} rel="next">Next in conversation →</Link> : <span className="muted">This is the last message.</span>}
      </p>
      <details>
        <summary>The whole conversation</summary>
        <ol className="results">
          {messages.map((m, i) => (
            <li key={m.sha256} aria-current={i === position ? 'true' : undefined}>
              {i === position ? <span>{m.subject || '(no subject)'}</span> : <Link href={href(m.sha256)}>{m.subject || '(no subject)'}</Link>}
              <span className="muted"> — {m.from ?? 'unknown sender'}, {when(m.date)}</span>
            </li>
          ))}
        </ol>
      </details>
    </nav>
  );
}
