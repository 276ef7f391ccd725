import '../oversight/oversight.css';
import { useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { BarChart } from '../oversight/bar-chart.tsx';
import { PageTitle } from '../page-title.tsx';
import { useLoad } from '../use-load.ts';

interface Report {
  period: { from: string; to: string; asOf: string };
  requests: { filed: number; approved: number; denied: number; lapsed: number; pending: number; withdrawn: number };
  grants: { ended: number; ranToExpiry: number; revoked: number; stillRunning: number; notStarted: number; medianHours: number | null; longest: { id: string; hours: number } | null };
  breakglass: { uses: number; reviewed: number; escalated: number; awaitingReview: number; list: { id: string; holder: string; at: number; mailboxes: string[]; review: string }[] };
  tickets: { withoutTicket: string[]; reused: { ticket: string; requests: string[] }[] };
  sensitiveAccess: { mailbox: string; sensitivity: string; accesses: number; people: string[] }[];
  people: { user: string; searches: number; messagesRead: number; exports: number; downloads: number; messagesExported: number; bytesExported: number; denied: number }[];
  highImpact: { index: number; time: number; actor: string; operation: string; why: string; grantId: string | null }[];
  outsideDateWindow: { readsChecked: number; violations: { index: number; grantId: string; sha256: string }[] };
  heatMap: { days: string[]; mailboxes: { mailbox: string; counts: number[] }[] };
}

interface Inventory {
  at: number;
  source: 'live' | 'ledger';
  grants: { id: string; holder: string; mailboxes: string[]; permissions: string[]; endsAt: number; secondsLeft: number; breakglass: boolean }[];
  breakglassHolders: string[];
  owners: { mailbox: string; owner: string }[];
  contentTokens: { id: string; user: string; scopes: string[]; expiresAt: number }[];
}

const dayIso = (d: Date) => d.toISOString().slice(0, 10);
const hours = (h: number | null | undefined) => (h === null || h === undefined ? '—' : h < 1 ? `${Math.round(h * 60)} min` : `${Math.round(h * 10) / 10} h`);

// For auditors: the period report (charts, tables, CSV/JSON) and the permission inventory,
// now or as of a past date (rebuilt from the ledger). Every look is itself in the ledger.
export function OversightPage() {
  const today = new Date();
  const [period, setPeriod] = useState({ from: dayIso(new Date(today.getTime() - 29 * 86_400_000)), to: dayIso(today) });
  const [draft, setDraft] = useState(period);
  const [asOf, setAsOf] = useState('');
  const range = { from: `${period.from}T00:00:00Z`, to: new Date(Date.parse(`${period.to}T00:00:00Z`) + 86_400_000).toISOString() };
  const report = useLoad(() => api.get<Report>(`/api/v1/oversight/report${qs(range)}`), [period.from, period.to]);
  const inventory = useLoad(() => api.get<Inventory>(`/api/v1/oversight/inventory${qs({ at: asOf ? `${asOf}T23:59:59Z` : null })}`), [asOf]);
  const r = report.data;
  return (
    <>
      <PageTitle>Oversight</PageTitle>
      <form className="row" onSubmit={(e) => { e.preventDefault(); setPeriod(draft); }} aria-label="Report period">
        <label>From <input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} required /></label>
        <label>To (inclusive) <input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} required /></label>
        <button type="submit">Show report</button>
        <a href={`/api/v1/oversight/report${qs({ ...range, format: 'csv' })}`} download="sealbox-report.csv">Download CSV</a>
        <a href={`/api/v1/oversight/report${qs(range)}`} download="sealbox-report.json">Download JSON</a>
      </form>
      {report.loading && <Loading what="the report" />}
      <ErrorNote error={report.error} />
      {r && (
        <section aria-labelledby="report-h" data-testid="report">
          <h2 id="report-h">Report {r.period.from.slice(0, 10)} to {day(r.period.to)}</h2>
          <p className="muted" data-testid="as-of">
            States as of {when(r.period.asOf)}{r.period.asOf !== r.period.to ? ': now, since the period has not ended. A grant or request whose time is still to come is not counted as ended or lapsed.' : ", the period's end."}
          </p>
          <p className={r.outsideDateWindow.violations.length === 0 ? 'success' : 'error'} data-testid="enforcement">
            Messages read outside their grant's date window: <strong>{r.outsideDateWindow.violations.length}</strong> of {r.outsideDateWindow.readsChecked} checked (every message a search, read, download or export under a grant named)
            {r.outsideDateWindow.violations.length === 0 ? ' — the date windows held.' : ' — investigate at once.'}
          </p>
          <div className="charts">
            <BarChart title="Access requests filed in the period" bars={[
              { label: 'approved', value: r.requests.approved }, { label: 'denied', value: r.requests.denied },
              { label: 'lapsed', value: r.requests.lapsed }, { label: 'pending', value: r.requests.pending }, { label: 'withdrawn', value: r.requests.withdrawn },
            ]} />
            <BarChart title="Grants ended in the period, and grants in force at its end" bars={[
              { label: 'ran to expiry', value: r.grants.ranToExpiry }, { label: 'revoked', value: r.grants.revoked },
              { label: 'still running', value: r.grants.stillRunning }, { label: 'approved, not started', value: r.grants.notStarted },
            ]} />
          </div>
          <dl>
            <dt>Median time in force (grants ended)</dt><dd>{hours(r.grants.medianHours)}</dd>
            <dt>Longest grant ended</dt><dd>{hours(r.grants.longest?.hours)} {r.grants.longest && <code>{r.grants.longest.id}</code>}</dd>
            <dt>Break-glass uses</dt><dd>{r.breakglass.uses} ({r.breakglass.reviewed} reviewed, {r.breakglass.escalated} escalated, {r.breakglass.awaitingReview} awaiting review — as they stand now)</dd>
            <dt>Requests without a ticket</dt><dd>{r.tickets.withoutTicket.length}</dd>
            <dt>Tickets used more than once</dt><dd>{r.tickets.reused.length === 0 ? 'none' : r.tickets.reused.map((t) => `${t.ticket} (${t.requests.length} requests)`).join(', ')}</dd>
          </dl>
          <h3>Activity per person</h3>
          <table>
            <thead><tr><th scope="col">Person</th><th scope="col">Searches</th><th scope="col">Messages opened</th><th scope="col">Exports</th><th scope="col">Raw downloads</th><th scope="col">Messages exported</th><th scope="col">Bytes exported</th><th scope="col">Refused attempts</th></tr></thead>
            <tbody>
              {r.people.map((p) => <tr key={p.user}><th scope="row">{p.user}</th><td>{p.searches}</td><td>{p.messagesRead}</td><td>{p.exports}</td><td>{p.downloads}</td><td>{p.messagesExported}</td><td>{bytes(p.bytesExported)}</td><td>{p.denied}</td></tr>)}
            </tbody>
          </table>
          <h3>Access by others per mailbox and day</h3>
          {r.heatMap.mailboxes.length === 0 ? <p className="muted">No mailbox was accessed by anyone but its owner.</p> : <HeatMap map={r.heatMap} />}
          <h3>Sensitive mailboxes</h3>
          {r.sensitiveAccess.length === 0 ? <p className="muted">None accessed.</p> : (
            <ul>{r.sensitiveAccess.map((s) => <li key={s.mailbox}><strong>{s.mailbox}</strong> ({s.sensitivity}): {s.accesses} accesses by {s.people.join(', ')}</li>)}</ul>
          )}
          <h3>High-impact actions ({r.highImpact.length})</h3>
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Entry</th></tr></thead>
            <tbody>
              {r.highImpact.slice(-200).reverse().map((h) => <tr key={h.index}><td>{when(new Date(h.time).toISOString())}</td><td>{h.actor}</td><td>{h.why}{h.grantId && <> — <code>{h.grantId}</code></>}</td><td>{h.index}</td></tr>)}
            </tbody>
          </table>
        </section>
      )}
      <section aria-labelledby="inv-h">
        <h2 id="inv-h">Who can read which mailbox</h2>
        <form className="row" onSubmit={(e) => e.preventDefault()} aria-label="Inventory date">
          <label>As of (empty: now) <input type="date" value={asOf} onChange={(e) => setAsOf(e.target.value)} /></label>
        </form>
        {inventory.loading && <Loading what="the inventory" />}
        <ErrorNote error={inventory.error} />
        {inventory.data && <InventoryView inv={inventory.data} />}
      </section>
    </>
  );
}

function day(iso: string): string {
  return new Date(Date.parse(iso) - 1).toISOString().slice(0, 10);
}

function HeatMap({ map }: { map: Report['heatMap'] }) {
  const max = Math.max(1, ...map.mailboxes.flatMap((m) => m.counts));
  return (
    <div className="scroll">
      <table className="heat" data-testid="heat-map">
        <thead><tr><th scope="col">Mailbox</th>{map.days.map((d) => <th scope="col" key={d}>{d.slice(5)}</th>)}</tr></thead>
        <tbody>
          {map.mailboxes.map((m) => (
            <tr key={m.mailbox}>
              <th scope="row">{m.mailbox}</th>
              {m.counts.map((n, i) => <td key={map.days[i]} className={`heat-${n === 0 ? 0 : Math.min(4, 1 + Math.floor((3 * n) / max))}`}>{n || ''}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function InventoryView({ inv }: { inv: Inventory }) {
  return (
    <div data-testid="inventory">
      <p className="muted">{inv.source === 'live' ? 'Now' : `As of ${when(new Date(inv.at).toISOString())}, rebuilt from the ledger alone`}.</p>
      <h3>Grants in force ({inv.grants.length})</h3>
      {inv.grants.length === 0 ? <p className="muted">None.</p> : (
        <table>
          <thead><tr><th scope="col">Grant</th><th scope="col">Holder</th><th scope="col">Mailboxes</th><th scope="col">Permissions</th><th scope="col">Ends</th></tr></thead>
          <tbody>
            {inv.grants.map((g) => (
              <tr key={g.id}><td><code>{g.id}</code>{g.breakglass && <strong> break-glass</strong>}</td><td>{g.holder}</td><td>{g.mailboxes.join(', ')}</td><td>{g.permissions.join(', ')}</td>
                <td>{when(new Date(g.endsAt).toISOString())} ({Math.round(g.secondsLeft / 60)} min left)</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>May open a break-glass grant</h3>
      <p>{inv.breakglassHolders.join(', ') || 'No one.'}</p>
      <h3>Owners (read their own mailbox)</h3>
      <p>{inv.owners.map((o) => `${o.mailbox}: ${o.owner}`).join('; ') || 'None registered.'}</p>
      <h3>API tokens with the content scope</h3>
      <p>{inv.contentTokens.map((t) => `${t.user} (${t.id}, until ${new Date(t.expiresAt).toISOString().slice(0, 10)})`).join('; ') || 'None.'}</p>
    </div>
  );
}
