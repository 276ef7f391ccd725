import { useState } from 'react';
import { ApiError, qs } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import { bytes } from '../format.ts';
import { found } from './search-results.tsx';

// The most messages one export holds (GET /api/v1/export's limit).
export const EXPORT_LIMIT = 10_000;

// Export what the search finds, as one mboxrd file: the count said before anything is asked
// for, the file downloaded, and the export recorded in the ledger (by the server, before it
// answers). An export larger than one file holds takes the newest EXPORT_LIMIT and says so.
export function ExportControl({ query, total, more = false, grant }: { query: string; total: number; more?: boolean; grant?: string }) {
  const [state, setState] = useState<{ busy: boolean; done: string | null; error: unknown }>({ busy: false, done: null, error: null });
  if (total === 0) return null;
  const count = Math.min(total, EXPORT_LIMIT);
  const run = async () => {
    setState({ busy: true, done: null, error: null });
    try {
      const res = await fetch(`/api/v1/export${qs({ q: query, grant, limit: count })}`, { credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok) {
        const body = await res.json().catch(() => null) as { error?: { code?: string; message?: string } } | null;
        throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText);
      }
      const file = await res.blob();
      const url = URL.createObjectURL(file);
      const link = document.createElement('a');
      link.href = url;
      link.download = `sealbox-export-${new Date().toISOString().slice(0, 10)}.mbox`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      const n = Number(res.headers.get('x-sealbox-messages') ?? count);
      setState({ busy: false, done: `Exported ${n.toLocaleString('en')} message${n === 1 ? '' : 's'} (${bytes(file.size)}); the export is recorded in the ledger.`, error: null });
    } catch (error) {
      setState({ busy: false, done: null, error });
    }
  };
  return (
    <section className="export" aria-labelledby="export-h">
      <h2 id="export-h">Export</h2>
      <p data-testid="export-count">
        {total > EXPORT_LIMIT || more
          ? <>One export holds at most {EXPORT_LIMIT.toLocaleString('en')} messages: this one takes the newest {count.toLocaleString('en')} of the {found(total, more)} found. Narrow the search (a date range) for the rest.</>
          : <>All {count.toLocaleString('en')} message{count === 1 ? '' : 's'} this search finds, as one mbox file (mboxrd), with their exact bytes.</>}
        {' '}The export is recorded in the ledger{grant ? ' under this grant' : ''}.
      </p>
      <p className="actions">
        <button type="button" onClick={run} disabled={state.busy}>{state.busy ? 'Exporting…' : `Export ${count.toLocaleString('en')} message${count === 1 ? '' : 's'}`}</button>
      </p>
      {state.done && <p role="status" data-testid="export-done">{state.done}</p>}
      <ErrorNote error={state.error} />
    </section>
  );
}
