import '../oversight/oversight.css';
import { useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { bytes, when } from '../format.ts';
import { BarChart } from '../oversight/bar-chart.tsx';
import { PageTitle } from '../page-title.tsx';
import { useLoad } from '../use-load.ts';

// The report as the API gives it. What each figure means is the report's own (`definitions`,
// from src/oversight/oversight-report.ts): this page shows those words, it does not re-derive them.
interface Report {
  period: { from: string; to: string; asOf: string };
  requests: { filed: number; approved: number; denied: number; lapsed: number; pending: number; withdrawn: number };
  grants: { ended: number; ranToExpiry: number; revoked: number; stillRunning: number; notStarted: number; medianHours: number | null; longest: { id: string; hours: number } | null };
  breakglass: { uses: number; reviewed: number; escalated: number; awaitingReview: number; list: { id: string; holder: string; at: number; mailboxes: string[]; review: string }[] };
  tickets: { withoutTicket: string[]; reused: { ticket: string; requests: string[] }[] };
  sensitiveAccess: { mailbox: string; sensitivity: string; accesses: number; people: string[] }[];
  people: ({ user: string } & Record<PersonFigure, number>)[];
  highImpact: { index: number; time: number; actor: string; operation: string; why: string; grantId: string | null }[];
  outsideDateWindow: { readsChecked: number; violations: { index: number; grantId: string; sha256: string }[] };
  retention: { messagesDisposed: number; disposeEntries: number; holdsPlaced: number; holdsReleased: number; shortened: number };
  leavers: { filed: number; approved: number; denied: number; pending: number; exemptionsFiled: number; exemptionsApproved: number; due: Leaver[]; exempt: Leaver[] };
  heatMap: { days: string[]; mailboxes: { mailbox: string; counts: number[] }[] };
  definitions: Record<string, { label: string; means: string }>;
}

// A leaver in force at the period's end (or now): src/retention/leavers.ts leaverInForce.
interface Leaver {
  mailbox: string;
  left: string;
  disposeFrom: string;
  exemption: { until: string | null } | null;
}

const PERSON_FIGURES = ['searches', 'messagesRead', 'exports', 'downloads', 'messagesExported', 'bytesExported', 'denied'] as const;
type PersonFigure = typeof PERSON_FIGURES[number];

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
      {r && <ReportView r={r} />}
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

function ReportView({ r }: { r: Report }) {
  const L = (k: string) => r.definitions[k]?.label ?? k;
  const ongoing = r.period.asOf !== r.period.to;
  const g = r.grants;
  const b = r.breakglass;
  const violations = r.outsideDateWindow.violations.length;
  const shown = r.highImpact.slice(-200).reverse();
  return (
    <section aria-labelledby="report-h" data-testid="report">
      <h2 id="report-h">Report {r.period.from.slice(0, 10)} to {day(r.period.to)}</h2>
      <p className="muted" data-testid="as-of">
        {L('period.asOf')} {when(r.period.asOf)}{ongoing ? ': now, since the period has not ended. A grant or request whose time is still to come is not counted as ended or lapsed.' : ", the period's end."}
      </p>
      <p className={violations === 0 ? 'success' : 'error'} data-testid="enforcement">
        {L('outsideDateWindow.violations')}: <strong>{violations}</strong> of {r.outsideDateWindow.readsChecked} {L('outsideDateWindow.readsChecked').toLowerCase()}
        {violations === 0 ? ' — the date windows held.' : ' — investigate at once.'}
      </p>
      <div className="charts">
        <BarChart title={`Access requests filed in the period (${r.requests.filed}), as they stood ${ongoing ? 'now' : "at the period's end"}`} bars={(['approved', 'denied', 'lapsed', 'pending', 'withdrawn'] as const).map((k) => ({ label: L(`requests.${k}`), value: r.requests[k] }))} />
        <BarChart title={`Grants ended in the period (${g.ended}), and grants ${ongoing ? 'in force now' : "in force at the period's end"}`} bars={(['ranToExpiry', 'revoked', 'stillRunning', 'notStarted'] as const).map((k) => ({ label: L(`grants.${k}`), value: g[k] }))} />
      </div>
      <dl>
        <dt>{L('grants.medianHours')}</dt><dd>{hours(g.medianHours)}</dd>
        <dt>{L('grants.longest')}</dt><dd>{hours(g.longest?.hours)} {g.longest && <code>{g.longest.id}</code>}</dd>
        <dt>{L('breakglass.uses')}</dt><dd>{b.uses} ({b.reviewed} {L('breakglass.reviewed')}, {b.escalated} {L('breakglass.escalated')}, {b.awaitingReview} {L('breakglass.awaitingReview')})</dd>
        <dt>{L('tickets.withoutTicket')}</dt><dd>{r.tickets.withoutTicket.length}</dd>
        <dt>{L('tickets.reused')}</dt><dd>{r.tickets.reused.length === 0 ? 'none' : r.tickets.reused.map((t) => `${t.ticket} (${t.requests.length} requests)`).join(', ')}</dd>
      </dl>
      <RetentionFigures r={r} L={L} />
      <h3 id="people-h">{L('people')}</h3>
      <div className="scroll" tabIndex={0} role="region" aria-labelledby="people-h">
      <table>
        <thead><tr><th scope="col">Person</th>{PERSON_FIGURES.map((k) => <th scope="col" key={k}>{L(`people.${k}`)}</th>)}</tr></thead>
        <tbody>
          {r.people.map((p) => <tr key={p.user}><th scope="row">{p.user}</th>{PERSON_FIGURES.map((k) => <td key={k}>{k === 'bytesExported' ? bytes(p[k]) : p[k]}</td>)}</tr>)}
        </tbody>
      </table>
      </div>
      <h3>{L('heatMap')}</h3>
      {r.heatMap.mailboxes.length === 0 ? <p className="muted">No mailbox was accessed by anyone but its owner.</p> : <HeatMap map={r.heatMap} />}
      <h3>{L('sensitiveAccess')}</h3>
      {r.sensitiveAccess.length === 0 ? <p className="muted">None accessed by others.</p> : (
        <ul>{r.sensitiveAccess.map((s) => <li key={s.mailbox}><strong>{s.mailbox}</strong> ({s.sensitivity}): {s.accesses} access entries by {s.people.join(', ')}</li>)}</ul>
      )}
      <h3>{L('highImpact')} ({r.highImpact.length}{r.highImpact.length > shown.length ? `, the latest ${shown.length} shown` : ''})</h3>
      <table>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Entry</th></tr></thead>
        <tbody>
          {shown.map((h) => <tr key={h.index}><td>{when(new Date(h.time).toISOString())}</td><td>{h.actor}</td><td>{h.why}{h.grantId && <> — <code>{h.grantId}</code></>}</td><td>{h.index}</td></tr>)}
        </tbody>
      </table>
      <details data-testid="definitions">
        <summary>What each figure means</summary>
        <dl>
          {Object.entries(r.definitions).map(([k, f]) => <div key={k}><dt>{f.label}</dt><dd>{f.means}</dd></div>)}
        </dl>
      </details>
    </section>
  );
}

// Disposal, legal holds and leavers, a small table each: the figures with the report's labels,
// a part of a figure indented under it; then the leavers due or exempt by mailbox.
function RetentionFigures({ r, L }: { r: Report; L: (k: string) => string }) {
  const lv = r.leavers;
  const kinds: { title: string; rows: [string, number, boolean?][] }[] = [
    { title: 'Disposal', rows: [['retention.messagesDisposed', r.retention.messagesDisposed], ['retention.disposeEntries', r.retention.disposeEntries]] },
    { title: 'Legal holds and rules', rows: [['retention.holdsPlaced', r.retention.holdsPlaced], ['retention.holdsReleased', r.retention.holdsReleased], ['retention.shortened', r.retention.shortened]] },
    { title: 'Leavers', rows: [
      ['leavers.filed', lv.filed], ['leavers.approved', lv.approved, true], ['leavers.denied', lv.denied, true], ['leavers.pending', lv.pending, true],
      ['leavers.exemptionsFiled', lv.exemptionsFiled], ['leavers.exemptionsApproved', lv.exemptionsApproved, true], ['leavers.due', lv.due.length], ['leavers.exempt', lv.exempt.length],
    ] },
  ];
  const leavers = [...lv.due.map((l) => ({ l, standing: 'due' })), ...lv.exempt.map((l) => ({ l, standing: `exempt until ${l.exemption?.until ?? 'decided otherwise'}` }))];
  return (
    <div data-testid="retention-figures">
      <h3>Retention</h3>
      <div className="figures">
        {kinds.map((k) => (
          <table key={k.title}>
            <caption>{k.title}</caption>
            <tbody>
              {k.rows.map(([key, n, part]) => <tr key={key} className={part ? 'part' : undefined}><th scope="row">{L(key)}</th><td>{n}</td></tr>)}
            </tbody>
          </table>
        ))}
      </div>
      {leavers.length > 0 && (
        <table data-testid="leavers-in-force">
          <caption>Leavers due or exempt {r.period.asOf === r.period.to ? "at the period's end" : 'now'}</caption>
          <thead><tr><th scope="col">Mailbox</th><th scope="col">Left on</th><th scope="col">Mail disposed from</th><th scope="col">Standing</th></tr></thead>
          <tbody>{leavers.map(({ l, standing }) => <tr key={l.mailbox}><th scope="row">{l.mailbox}</th><td>{l.left}</td><td>{l.disposeFrom}</td><td>{standing}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

function day(iso: string): string {
  return new Date(Date.parse(iso) - 1).toISOString().slice(0, 10);
}

function HeatMap({ map }: { map: Report['heatMap'] }) {
  const max = Math.max(1, ...map.mailboxes.flatMap((m) => m.counts));
  return (
    // Many days are wider than a phone: the map scrolls in a region of its own (focusable, so the
    // keyboard can scroll it too), the page does not.
    <div className="scroll" tabIndex={0} role="region" aria-label="Heat map, mailbox by day (scrolls sideways)">
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
