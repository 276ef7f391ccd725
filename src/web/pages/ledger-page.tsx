import { useState } from 'react';
import type { FormEvent } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { clockTime, when } from '../format.ts';
import { PageTitle } from '../page-title.tsx';
import { navigate } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { hasRole, useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface Entry {
  index: number;
  time: number;
  type: string;
  actor: string;
  logonType: string;
  clientIp: string | null;
  operation: string;
  objects: { mailboxes: string[]; messages: string[] };
  grantId: string | null;
  result: string;
  parameters: Record<string, unknown>;
}

interface CheckpointStatus {
  size: number;
  createdAt: string;
  rootHash: string;
  signatureValid: boolean;
  consistent: boolean;
  problem: string | null;
}

const FIELDS = ['actor', 'mailbox', 'operation', 'type', 'result', 'grant', 'since', 'until'] as const;
type Field = (typeof FIELDS)[number];
const PAGE = 100;
const CHECKPOINT_PAGE = 25;

// The ledger for auditors: every entry, filtered (the filters are in the address, so a view can
// be bookmarked or handed on), newest first, exported as CSV or JSON; and the history of signed
// checkpoints with each one's verdict (admins see that part too). Reading it is itself an entry.
export function LedgerPage({ query }: PageProps) {
  const { me } = useSession();
  const auditor = hasRole(me, ['auditor']);
  const filters = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ''])) as Record<Field, string>;
  const to = query.get('to') ?? '';
  const apiFilters = { ...filters, since: toIso(filters.since), until: toIso(filters.until) };
  const entries = useLoad(async () => (auditor ? api.get<{ entries: Entry[] }>(`/api/v1/ledger/entries${qs({ ...apiFilters, to, order: 'desc', limit: PAGE })}`) : null), [auditor, query.toString()]);
  // Checkpoints a page at a time, newest first: null for the newest page, else the size the
  // page goes below.
  const [before, setBefore] = useState<number | null>(null);
  const checkpoints = useLoad(() => api.get<{ ledgerSize: number; verifierKey: string; total: number; older: number | null; checkpoints: CheckpointStatus[] }>(
    `/api/v1/ledger/checkpoints${qs({ limit: CHECKPOINT_PAGE, before: before ?? '' })}`), [before]);
  const exportHref = (format: 'csv' | 'json') => `/api/v1/ledger/export${qs({ ...apiFilters, format, order: 'desc' })}`;

  return (
    <>
      <PageTitle>Ledger and checkpoints</PageTitle>
      {auditor ? (
        <>
          <FilterForm key={query.toString()} initial={filters} />
          <p className="actions">
            <a className="button" href={exportHref('csv')} download>Export CSV</a>
            <a className="button" href={exportHref('json')} download>Export JSON</a>
            <span className="muted">The export holds every entry these filters find (up to 100,000), and is itself recorded.</span>
          </p>
          {entries.loading && <Loading what="ledger entries" />}
          <ErrorNote error={entries.error} />
          {entries.data && (
            <section aria-labelledby="entries-h">
              <h2 id="entries-h">Entries</h2>
              <p role="status" className="muted">{entries.data.entries.length === 0 ? 'No entry matches.' : `Entries ${entries.data.entries[0].index} down to ${entries.data.entries.at(-1)!.index}, newest first (${entries.data.entries.length}).`}</p>
              {entries.data.entries.length > 0 && (
                <div className="scroll">
                  <table className="ledger">
                    <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Operation</th><th scope="col">Result</th><th scope="col">Mailboxes</th><th scope="col">Messages</th><th scope="col">Grant</th><th scope="col">Details</th></tr></thead>
                    <tbody>
                      {entries.data.entries.map((e) => (
                        <tr key={e.index} className={e.result !== 'success' ? 'refused' : undefined}>
                          <td data-label="#">{e.index}</td>
                          <td data-label="Time" className="time"><Stamp ms={e.time} /></td>
                          <td data-label="Actor">
                            {e.actor}
                            <dl className="facts">
                              <dt>entry</dt><dd>{e.type}</dd>
                              <dt>logon</dt><dd>{e.logonType}</dd>
                              {e.clientIp && <><dt>from</dt><dd>{e.clientIp}</dd></>}
                            </dl>
                          </td>
                          <td data-label="Operation">{e.operation}</td>
                          <td data-label="Result">{e.result}</td>
                          <td data-label="Mailboxes">{e.objects.mailboxes.join(', ')}</td>
                          <td data-label="Messages">{e.objects.messages.length === 1 ? <code title={e.objects.messages[0]}>{e.objects.messages[0].slice(0, 12)}…</code> : e.objects.messages.length || ''}</td>
                          <td data-label="Grant">{e.grantId ?? ''}</td>
                          <td data-label="Details">{Object.keys(e.parameters).length > 0 && <Parameters value={e.parameters} />}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <p className="actions">
                {to && <button type="button" className="secondary" onClick={() => navigate(`/ledger${qs({ ...filters })}`)}>Newest</button>}
                {entries.data.entries.length === PAGE && (
                  <button type="button" className="secondary" onClick={() => navigate(`/ledger${qs({ ...filters, to: entries.data!.entries.at(-1)!.index })}`)}>Older entries</button>
                )}
              </p>
            </section>
          )}
        </>
      ) : <p className="muted">Ledger entries are for auditors; the checkpoint history below is open to administrators too.</p>}

      <section aria-labelledby="checkpoints-h">
        <h2 id="checkpoints-h">Checkpoint history</h2>
        {checkpoints.loading && <Loading what="checkpoints" />}
        <ErrorNote error={checkpoints.error} />
        {checkpoints.data && (
          <>
            <p className="muted">The ledger holds {checkpoints.data.ledgerSize} entries and {checkpoints.data.total} signed checkpoints. Each is checked with the verifier key <code>{checkpoints.data.verifierKey}</code> and against the ledger's tree as stored now; <code>sealbox verify</code> and the server's periodic check (hourly by default) also rehash every entry.</p>
            {checkpoints.data.checkpoints.length === 0 ? <p>No checkpoint has been signed yet.</p> : (
              <table data-testid="checkpoint-history">
                <thead><tr><th scope="col">Size</th><th scope="col">Signed</th><th scope="col">Root hash</th><th scope="col">Signature</th><th scope="col">Consistent with the ledger</th></tr></thead>
                <tbody>
                  {checkpoints.data.checkpoints.map((c) => (
                    <tr key={c.size}>
                      <td>{c.size}</td>
                      <td>{when(c.createdAt)}</td>
                      <td><code>{c.rootHash}</code></td>
                      <td>{c.signatureValid ? <span className="verdict ok">✓ valid</span> : <span className="verdict bad">✗ invalid</span>}</td>
                      <td>{c.consistent ? <span className="verdict ok">✓ yes</span> : <span className="verdict bad">✗ no</span>}{c.problem && <div className="error">{c.problem}</div>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p className="actions">
              {before !== null && <button type="button" className="secondary" onClick={() => setBefore(null)}>Newest checkpoints</button>}
              {checkpoints.data.older !== null && <button type="button" className="secondary" onClick={() => setBefore(checkpoints.data!.older)}>Older checkpoints</button>}
            </p>
          </>
        )}
      </section>
    </>
  );
}

// An entry's time in two short lines that do not wrap: the day, then the time to the second
// with the zone (entries a second apart are told apart).
function Stamp({ ms }: { ms: number }) {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return <time dateTime={d.toISOString()}><span>{day}</span> <span>{clockTime(d)}</span></time>;
}

// An entry's parameters, written out once opened: a page holds 100 entries, and their text,
// laid out hidden, was a fifth of the page's first load.
function Parameters({ value }: { value: Record<string, unknown> }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>parameters</summary>
      {open && <pre>{JSON.stringify(value, null, 1)}</pre>}
    </details>
  );
}

// A datetime-local value (the browser's zone) as an ISO instant; anything else as typed.
function toIso(value: string): string {
  if (!value) return '';
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? value : t.toISOString();
}

function FilterForm({ initial }: { initial: Record<Field, string> }) {
  const [f, setF] = useState(initial);
  const set = (k: Field) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/ledger${qs(f)}`);
  };
  return (
    <form className="stack" aria-label="Filter the ledger" onSubmit={submit}>
      <fieldset>
        <legend>Filters</legend>
        <div className="row">
          <label>Actor <input value={f.actor} onChange={set('actor')} placeholder="user name, or system:…" /></label>
          <label>Mailbox <input value={f.mailbox} onChange={set('mailbox')} placeholder="alice@corp.example" /></label>
          <label>Operation <input value={f.operation} onChange={set('operation')} placeholder="view, search, raw, export, remote-content, request.approve…" list="ledger-operations" /></label>
          <datalist id="ledger-operations">
            {['search', 'view', 'raw', 'body', 'evidence', 'remote-content', 'export', 'request.file', 'request.approve', 'request.deny', 'request.revoke', 'breakglass.open', 'ledger.read', 'ledger.export', 'user.add', 'policy.set', 'session.csrf'].map((o) => <option key={o} value={o} />)}
          </datalist>
          <label>Type
            <select value={f.type} onChange={set('type')}>
              <option value="">any</option><option value="capture">capture</option><option value="access">access</option><option value="admin">admin</option><option value="system">system</option>
            </select>
          </label>
          <label>Result
            <select value={f.result} onChange={set('result')}>
              <option value="">any</option><option value="success">success</option><option value="denied">denied</option><option value="error">error</option>
            </select>
          </label>
          <label>Grant <input value={f.grant} onChange={set('grant')} placeholder="req_…" /></label>
          <label>From (time) <input type="datetime-local" value={f.since} onChange={set('since')} /></label>
          <label>Until <input type="datetime-local" value={f.until} onChange={set('until')} /></label>
        </div>
      </fieldset>
      <p className="actions">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => navigate('/ledger')}>Clear</button>
      </p>
    </form>
  );
}
