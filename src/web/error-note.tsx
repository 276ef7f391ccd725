import { ApiError } from './api.ts';

// Shows an API error ({error:{code,message}}) or any other failure where the user looks.
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  return (
    <p className="error" role="alert">
      {message}
      {code && <span className="code"> ({code})</span>}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}
