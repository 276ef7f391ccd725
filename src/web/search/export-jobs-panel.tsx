import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { found } from './search-results.tsx';

// The most messages one evidence package holds (POST /api/v1/exports's default limit).
export const PACKAGE_LIMIT = 10_000;

interface ExportJobView {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  grant: string;
  query: string;
  createdAt: string;
  finishedAt: string | null;
  found: number;
  progress: { phase: string; messages: number; messagesTotal: number; bytes: number; bytesTotal: number; resumed: number };
  error: string | null;
  ledgerIndex: number | null;
  manifestSha256: string | null;
  files: { name: string; size: number; sha256: string; messages: number }[];
  hold: { id: string; name: string; matter: string } | null;
  subjectAccess: { otherParties: 'withhold' | 'include'; withheld: number } | null;
}

const ACTIVE = new Set(['queued', 'running']);
const PHASE: Record<string, string> = { messages: 'writing messages', package: 'signing the manifest', zip: 'zipping' };

// Evidence packages of what the search finds, made by the server in the background (export
// jobs): started here, their progress shown while they run (asked for again every second),
// cancelled, and their zip files downloaded once done; each download is recorded by the server.
// Under a data subject's access grant (subjectAccess), the person's copy: mail of which others
// are the main party is withheld unless the requester chooses to include it. A case (legal hold)
// is exported by its id, under this grant when it covers the hold.
export function ExportJobsPanel({ query, total, more = false, grant, subjectAccess = false }: { query: string; total: number; more?: boolean; grant: string; subjectAccess?: boolean }) {
  const jobs = useLoad(() => api.get<{ jobs: ExportJobView[] }>('/api/v1/exports'), []);
  const [busy, setBusy] = useState(false);
  const [mbox, setMbox] = useState(false);
  const [otherParties, setOtherParties] = useState<'withhold' | 'include'>('withhold');
  const [hold, setHold] = useState('');
  const [error, setError] = useState<unknown>(null);
  const mine = (jobs.data?.jobs ?? []).filter((j) => j.grant === grant);
  const active = mine.some((j) => ACTIVE.has(j.state));
  const { reload } = jobs;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reload, 1000);
    return () => clearInterval(timer);
  }, [active, reload]);

  const count = Math.min(total, PACKAGE_LIMIT);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/exports', { q: query, grant, limit: count, mbox, ...(subjectAccess ? { otherParties } : {}) });
      reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const startCase = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/holds/${encodeURIComponent(hold.trim())}/export`, { grant, mbox });
      setHold('');
      reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async (id: string) => {
    setError(null);
    try {
      await api.post(`/api/v1/exports/${id}/cancel`);
    } catch (err) {
      setError(err);
    }
    reload();
  };

  return (
    <section className="export export-jobs" aria-labelledby="export-jobs-h">
      <h2 id="export-jobs-h">Evidence package</h2>
      {total > 0 && (
        <>
          <p data-testid="package-count">
            {total > PACKAGE_LIMIT || more
              ? <>A package holds at most {PACKAGE_LIMIT.toLocaleString('en')} messages: this one takes the newest {count.toLocaleString('en')} of the {found(total, more)} found.</>
              : <>All {count.toLocaleString('en')} message{count === 1 ? '' : 's'} this search finds, with every receipt's envelope and its ledger proof, load files for review tools and a signed manifest, checked by the verify.py inside.</>}
            {' '}Made by the server in the background, as zip files; the export and every download are recorded in the ledger under this grant.
          </p>
          <p>
            <label><input type="checkbox" checked={mbox} onChange={(e) => setMbox(e.target.checked)} /> Also one mbox file per custodian (mboxrd, for mail clients and review tools that take mbox)</label>
          </p>
          {subjectAccess && (
            <fieldset data-testid="other-parties">
              <legend>Mail of which others are the main party</legend>
              <p className="field-help">The person is only a copy (Cc), a blind copy (Bcc) or a mailing list's receiver, and neither sent it nor is in its To line. The package counts what is withheld, never shows it.</p>
              <label><input type="radio" name="otherParties" checked={otherParties === 'withhold'} onChange={() => setOtherParties('withhold')} /> Withhold it (GDPR Art. 15(4): others' rights)</label>{' '}
              <label><input type="radio" name="otherParties" checked={otherParties === 'include'} onChange={() => setOtherParties('include')} /> Include it</label>
            </fieldset>
          )}
          <p className="actions">
            <button type="button" onClick={start} disabled={busy}>{busy ? 'Starting…' : `Make an evidence package of ${count.toLocaleString('en')} message${count === 1 ? '' : 's'}`}</button>
          </p>
        </>
      )}
      {!subjectAccess && (
        <form className="actions" onSubmit={startCase} aria-label="Export a legal hold">
          <label>Legal hold (case) id <input value={hold} onChange={(e) => setHold(e.target.value)} placeholder="hold_…" required pattern="hold_[0-9a-z]{25}" /></label>{' '}
          <button type="submit" disabled={busy || hold.trim() === ''}>Export the case</button>
          <span className="field-help">Everything the hold covers (its custodians' mail in its window, matching its query), when this grant covers all of it; the package names the hold.</span>
        </form>
      )}
      <ErrorNote error={error ?? jobs.error} />
      {mine.length > 0 && (
        <ul className="export-job-list" aria-label="Export jobs under this grant">
          {mine.map((j) => <JobItem key={j.id} job={j} cancel={() => cancel(j.id)} />)}
        </ul>
      )}
    </section>
  );
}

function JobItem({ job: j, cancel }: { job: ExportJobView; cancel: () => void }) {
  const { messages, messagesTotal, bytes: done, bytesTotal } = j.progress;
  return (
    <li data-job={j.id} data-state={j.state}>
      <p>
        <strong>{j.state}</strong> · {j.hold ? <>legal hold <code>{j.hold.id}</code> “{j.hold.name}” (matter {j.hold.matter})</> : <code>{j.query}</code>} · started {when(j.createdAt)}
        {j.progress.resumed > 0 && <> · resumed {j.progress.resumed}×</>}
        {j.subjectAccess && <> · <span data-testid="job-withheld">{j.subjectAccess.otherParties === 'withhold' ? `${j.subjectAccess.withheld.toLocaleString('en')} message${j.subjectAccess.withheld === 1 ? '' : 's'} of which others are the main party withheld` : "others' mail included"}</span></>}
      </p>
      {j.state === 'cancelled' && <p data-testid="job-cancelled">Cancelled {j.finishedAt && when(j.finishedAt)} after {messages.toLocaleString('en')} of {messagesTotal.toLocaleString('en')} messages; nothing of it was handed out. The cancel is recorded in the ledger.</p>}
      {ACTIVE.has(j.state) && (
        <p>
          <progress max={Math.max(messagesTotal, 1)} value={messages} aria-label={`Export ${j.id} progress`} />{' '}
          <span data-testid="job-progress">{messages.toLocaleString('en')} of {messagesTotal.toLocaleString('en')} messages ({bytes(done)} of {bytes(bytesTotal)}){j.state === 'running' ? `, ${PHASE[j.progress.phase] ?? j.progress.phase}` : ', waiting to start'}</span>{' '}
          <button type="button" onClick={cancel}>Cancel</button>
        </p>
      )}
      {j.state === 'failed' && <p className="error" role="alert">It failed: {j.error}</p>}
      {j.state === 'done' && (
        <>
          <p data-testid="job-done">
            {messagesTotal.toLocaleString('en')} message{messagesTotal === 1 ? '' : 's'}, recorded as ledger entry {j.ledgerIndex}; manifest SHA-256 <code>{j.manifestSha256}</code>.
            {' '}Unzip every file into one folder and run <code>python3 verify.py FOLDER</code>.
          </p>
          <ul className="export-files">
            {j.files.map((f) => (
              <li key={f.name}>
                <a href={`/api/v1/exports/${j.id}/files/${encodeURIComponent(f.name)}`} download={f.name}>{f.name}</a> ({bytes(f.size)}, {f.messages.toLocaleString('en')} message{f.messages === 1 ? '' : 's'})
              </li>
            ))}
          </ul>
        </>
      )}
    </li>
  );
}
