import type { Config } from '../core/config.ts';
import type { AccessRequest } from '../access/grants.ts';
import type { Grants } from '../access/grants.ts';
import type { People } from '../access/people.ts';
import { linkBetween } from '../access/four-eyes.ts';
import type { PersonLinkStore } from '../access/person-link-store.ts';
import { highImpact } from './high-impact.ts';
import type { LedgerHistory } from './ledger-history.ts';
import { userOf } from './ledger-history.ts';
import type { MessageDates } from './message-dates.ts';
import type { OversightStore } from './oversight-store.ts';
import type { ReviewStore } from './review-store.ts';

export interface ReportDeps {
  store: OversightStore;
  reviewStore: ReviewStore;
  history: LedgerHistory;
  dates: MessageDates;
  grants: Grants;
  people: People;
  links: Pick<PersonLinkStore, 'touching'>;
  config: Config['oversight'];
}

export interface PersonActivity {
  user: string;
  searches: number;
  messagesRead: number;       // distinct messages opened one by one (view, body, raw, evidence, remote content)
  exports: number;            // export files made
  downloads: number;          // raw downloads (.eml)
  messagesExported: number;   // each message of each export plus each raw download
  bytesExported: number;      // the bytes of those same files
  denied: number;             // refused attempts
}

const HOUR = 3_600_000;
// Entries that open one message (a search lists hits, an export takes many: counted apart).
const OPENS = new Set(['view', 'body', 'raw', 'evidence', 'remote-content']);

// The oversight report for one period [from, to), made at `now`: what was asked for and granted,
// how grants ended, break-glass and its reviews, ticket hygiene, who read how much, the
// high-impact actions, and the enforcement check (reads outside a grant's date window — must be
// none). Request and grant figures are states at the period's end, or at now when the period
// ends later: a time still to come (an end, a lapse, a start) has not happened, whatever the
// period says. Activity figures come from the ledger entries written in the period.
export function buildReport(d: ReportDeps, period: { from: number; to: number }, now: number) {
  const { from, to } = period;
  // The last moment the report describes: a time after it has not happened yet.
  const at = Math.min(to - 1, now);
  const happened = (t: number | null): t is number => t !== null && t <= at;
  const name = (id: number) => d.people.byId(id)?.name ?? `#${id}`;
  const all = d.grants.list();
  const filed = all.filter((r) => r.createdAt >= from && r.createdAt < to);
  const normal = filed.filter((r) => !r.breakglass);
  const states = normal.map((r) => requestStateAt(r, happened));
  const count = (s: RequestState) => states.filter((x) => x === s).length;

  // Grants: each ends at its revocation or its end time, whichever came first; one ending after
  // `at` has not ended in the period.
  const grants = all.filter((r) => !r.breakglass && happened(r.approvedAt)).map((r) => {
    const revoked = r.revokedAt !== null && r.revokedAt < r.endsAt!;
    return { r, revoked, end: revoked ? r.revokedAt! : r.endsAt! };
  });
  const ended = grants.filter(({ end }) => end >= from && happened(end));
  const open = at >= from ? grants.filter(({ end }) => !happened(end)) : [];
  const used = ended.map(({ r, end }) => ({ id: r.id, hours: Math.max(0, end - r.startsAt!) / HOUR })).sort((a, b) => a.hours - b.hours);

  const breakglass = filed.filter((r) => r.breakglass).map((r) => ({
    id: r.id, holder: name(r.requesterId), at: r.createdAt, mailboxes: r.mailboxes.map((m) => m.name), review: d.reviewStore.stateOf(r.id, 'breakglass') ?? 'none',
  }));

  const byTicket = new Map<string, string[]>();
  for (const r of normal) if (r.ticket) byTicket.set(r.ticket, [...(byTicket.get(r.ticket) ?? []), r.id]);

  // The ledger side.
  const people = new Map<string, PersonActivity & { opened: Set<string> }>();
  const person = (u: string) => {
    let p = people.get(u);
    if (!p) people.set(u, (p = { user: u, searches: 0, messagesRead: 0, exports: 0, downloads: 0, messagesExported: 0, bytesExported: 0, denied: 0, opened: new Set() }));
    return p;
  };
  const mailboxes = new Map(d.store.mailboxes().map((m) => [m.name, m]));
  const sensitive = new Map<string, { mailbox: string; sensitivity: string; accesses: number; people: Set<string> }>();
  const heat = new Map<string, Map<string, number>>();
  const highImpactActions: { index: number; time: number; actor: string; operation: string; why: string; grantId: string | null }[] = [];
  const requests = new Map(all.map((r) => [r.id, r]));
  let readsChecked = 0;
  const outsideWindow: { index: number; grantId: string; sha256: string; date: number | null }[] = [];

  for (const e of d.history.entriesBetween(from, to)) {
    const user = userOf(e.actor);
    if (user && e.result === 'denied') person(user).denied++;
    const why = highImpact(e, d.config.bulkSearchResults);
    if (why) highImpactActions.push({ index: e.index, time: e.time, actor: e.actor, operation: e.operation, why, grantId: e.grantId });
    if (e.type !== 'access' || e.result !== 'success' || !user) continue;
    const p = person(user);
    if (e.operation === 'search') p.searches++;
    if (OPENS.has(e.operation)) for (const m of e.objects.messages) p.opened.add(m);
    // Taken out as a file: an export's messages, or one message's exact bytes. Bytes and messages
    // come from the same entries, so the two figures agree.
    if (e.operation === 'raw') {
      p.downloads++;
      p.messagesExported += e.objects.messages.length;
      p.bytesExported += Number(e.parameters.bytes ?? 0);
    }
    if (e.operation === 'export') {
      p.exports++;
      p.messagesExported += e.objects.messages.length;
      p.bytesExported += Number(e.parameters.bytes ?? 0);
    }
    for (const mb of e.objects.mailboxes) {
      const m = mailboxes.get(mb);
      if (m?.owner === user) continue;   // an owner's own reads are not access by others
      if (m?.sensitivity) {
        const s = sensitive.get(mb) ?? { mailbox: mb, sensitivity: m.sensitivity, accesses: 0, people: new Set<string>() };
        s.accesses++;
        s.people.add(user);
        sensitive.set(mb, s);
      }
      const day = new Date(e.time).toISOString().slice(0, 10);
      const row = heat.get(mb) ?? new Map<string, number>();
      row.set(day, (row.get(day) ?? 0) + 1);
      heat.set(mb, row);
    }
    // Enforcement: every message an access under a grant named — a search hit as much as a
    // message opened or exported — must lie inside the grant's date window.
    const grant = e.grantId ? requests.get(e.grantId) : undefined;
    if (grant) {
      for (const sha of e.objects.messages) {
        readsChecked++;
        const date = d.dates.dateOf(sha);
        const inside = (grant.dateFrom === null || (date !== null && date >= grant.dateFrom)) && (grant.dateTo === null || (date !== null && date < grant.dateTo));
        if (!inside) outsideWindow.push({ index: e.index, grantId: grant.id, sha256: sha, date });
      }
    }
  }

  // Four eyes that may have been one pair of hands: approvals in the period between people one
  // of whom created, enrolled or changed the roles of the other, or whom the same person made,
  // however long ago (the approval rule only refuses within access.linkedPeopleDays).
  const linkedApprovals = all.flatMap((r) => r.approvals.filter((a) => a.decision === 'approve' && a.at >= from && a.at < to).flatMap((a) => {
    const why = linkBetween(d.links.touching([a.approverId, r.requesterId]), a.approverId, r.requesterId, -Infinity, 'before', name);
    return why ? [{ request: r.id, approver: name(a.approverId), requester: name(r.requesterId), at: a.at, link: why }] : [];
  }));

  // A review escalated is done but not settled: neither reviewed nor still awaiting a reviewer.
  const reviewed = (b: { review: string }) => b.review === 'reviewed' || b.review === 'closed';
  const days = [...new Set([...heat.values()].flatMap((r) => [...r.keys()]))].sort();
  return {
    // asOf: the moment the states are given at (the period's end, or now if it ends later).
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), asOf: new Date(Math.min(to, now)).toISOString() },
    requests: {
      filed: normal.length, approved: count('approved'), denied: count('denied'), lapsed: count('lapsed'), pending: count('pending'), withdrawn: count('withdrawn'),
    },
    // Ended in the period (ran to expiry, or revoked before its end time); in force at its end or
    // now (still running, whether its end time falls in the period or after it); approved with a
    // start still to come. Durations are of the grants ended, whole.
    grants: {
      ended: ended.length,
      ranToExpiry: ended.filter((g) => !g.revoked).length,
      revoked: ended.filter((g) => g.revoked).length,
      stillRunning: open.filter(({ r }) => happened(r.startsAt)).length,
      notStarted: open.filter(({ r }) => !happened(r.startsAt)).length,
      medianHours: median(used.map((u) => u.hours)),
      longest: used.length ? { id: used.at(-1)!.id, hours: used.at(-1)!.hours } : null,
    },
    breakglass: {
      uses: breakglass.length,
      reviewed: breakglass.filter(reviewed).length,
      escalated: breakglass.filter((b) => b.review === 'escalated').length,
      awaitingReview: breakglass.filter((b) => !reviewed(b) && b.review !== 'escalated').length,
      list: breakglass,
    },
    tickets: {
      withoutTicket: normal.filter((r) => !r.ticket).map((r) => r.id),
      reused: [...byTicket].filter(([, ids]) => ids.length > 1).map(([ticket, ids]) => ({ ticket, requests: ids })),
    },
    sensitiveAccess: [...sensitive.values()].map((s) => ({ ...s, people: [...s.people].sort() })).sort((a, b) => a.mailbox.localeCompare(b.mailbox)),
    people: [...people.values()].map(({ opened, ...p }): PersonActivity => ({ ...p, messagesRead: opened.size })).sort((a, b) => a.user.localeCompare(b.user)),
    highImpact: highImpactActions,
    linkedApprovals,
    outsideDateWindow: { readsChecked, violations: outsideWindow },
    heatMap: { days, mailboxes: [...heat].map(([mailbox, row]) => ({ mailbox, counts: days.map((day) => row.get(day) ?? 0) })).sort((a, b) => a.mailbox.localeCompare(b.mailbox)) },
  };
}

export type Report = ReturnType<typeof buildReport>;

type RequestState = 'approved' | 'denied' | 'withdrawn' | 'lapsed' | 'pending';

// How a request stood at the report's last moment: decisions and lapses after it left out.
function requestStateAt(r: AccessRequest, happened: (t: number | null) => boolean): RequestState {
  if (happened(r.deniedAt)) return 'denied';
  if (happened(r.approvedAt)) return 'approved';
  if (happened(r.revokedAt)) return 'withdrawn';
  return happened(r.lapsesAt) ? 'lapsed' : 'pending';
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

// The report as a person reads it (the CLI's text output and the auditors' digest).
export function reportText(r: Report): string {
  return [
    `Oversight report ${r.period.from} to ${r.period.to}`,
    `States as of ${r.period.asOf}${r.period.asOf === r.period.to ? " (the period's end)" : ' (now: the period has not ended)'}`, '',
    `Requests filed: ${r.requests.filed} (approved ${r.requests.approved}, denied ${r.requests.denied}, lapsed ${r.requests.lapsed}, pending ${r.requests.pending}, withdrawn ${r.requests.withdrawn})`,
    `Grants ended: ${r.grants.ended} (ran to expiry ${r.grants.ranToExpiry}, revoked ${r.grants.revoked}); still running ${r.grants.stillRunning}; approved, not started ${r.grants.notStarted}`,
    `Time in force of the grants ended: median ${hours(r.grants.medianHours)}, longest ${hours(r.grants.longest?.hours ?? null)}${r.grants.longest ? ` (${r.grants.longest.id})` : ''}`,
    `Break-glass uses: ${r.breakglass.uses} (reviews now: reviewed ${r.breakglass.reviewed}, escalated ${r.breakglass.escalated}, awaiting review ${r.breakglass.awaitingReview})`,
    `Requests without a ticket: ${r.tickets.withoutTicket.length}; tickets used more than once: ${r.tickets.reused.map((t) => `${t.ticket} (${t.requests.length})`).join(', ') || 'none'}`,
    `Sensitive mailboxes accessed: ${r.sensitiveAccess.map((s) => `${s.mailbox} ${s.accesses}× by ${s.people.join(', ')}`).join('; ') || 'none'}`,
    `High-impact actions: ${r.highImpact.length}`,
    `Approvals between linked people: ${r.linkedApprovals.length}${r.linkedApprovals.map((l) => `\n  ${l.request}: ${l.approver} approved ${l.requester} (${l.link})`).join('')}`,
    `Messages outside their grant's date window: ${r.outsideDateWindow.violations.length} of ${r.outsideDateWindow.readsChecked} checked (every message a search, read, download or export under a grant named)`,
    '', 'Per person (searches / messages opened / exports / raw downloads / messages exported / bytes exported / refused attempts):',
    ...r.people.map((p) => `  ${p.user}: ${p.searches} / ${p.messagesRead} / ${p.exports} / ${p.downloads} / ${p.messagesExported} / ${p.bytesExported} / ${p.denied}`),
  ].join('\n') + '\n';
}

function hours(h: number | null): string {
  return h === null ? '-' : `${Math.round(h * 100) / 100} h`;
}

// CSV: one row per figure, section and key naming it, so any spreadsheet can chart it.
export function reportCsv(r: Report): string {
  const rows: (string | number | null)[][] = [['section', 'key', 'value', 'detail']];
  for (const [k, v] of Object.entries(r.requests)) rows.push(['requests', k, v, '']);
  const g = r.grants;
  rows.push(['grants', 'ended', g.ended, ''], ['grants', 'ranToExpiry', g.ranToExpiry, ''], ['grants', 'revoked', g.revoked, ''],
    ['grants', 'stillRunning', g.stillRunning, ''], ['grants', 'notStarted', g.notStarted, ''],
    ['grants', 'medianHours', g.medianHours, ''], ['grants', 'longestHours', g.longest?.hours ?? null, g.longest?.id ?? '']);
  rows.push(['breakglass', 'uses', r.breakglass.uses, ''], ['breakglass', 'reviewed', r.breakglass.reviewed, ''], ['breakglass', 'escalated', r.breakglass.escalated, ''], ['breakglass', 'awaitingReview', r.breakglass.awaitingReview, '']);
  for (const b of r.breakglass.list) rows.push(['breakglass-use', b.id, b.holder, `${new Date(b.at).toISOString()} ${b.mailboxes.join(' ')} review:${b.review}`]);
  for (const id of r.tickets.withoutTicket) rows.push(['tickets', 'withoutTicket', id, '']);
  for (const t of r.tickets.reused) rows.push(['tickets', 'reused', t.ticket, t.requests.join(' ')]);
  for (const s of r.sensitiveAccess) rows.push(['sensitive', s.mailbox, s.accesses, `${s.sensitivity}: ${s.people.join(' ')}`]);
  for (const p of r.people) for (const [k, v] of Object.entries(p)) if (k !== 'user') rows.push(['person', `${p.user}.${k}`, v as number, '']);
  for (const h of r.highImpact) rows.push(['high-impact', String(h.index), h.operation, `${new Date(h.time).toISOString()} ${h.actor} ${h.why}${h.grantId ? ` ${h.grantId}` : ''}`]);
  for (const l of r.linkedApprovals) rows.push(['linked-approval', l.request, `${l.approver}>${l.requester}`, l.link]);
  rows.push(['enforcement', 'readsChecked', r.outsideDateWindow.readsChecked, ''], ['enforcement', 'outsideDateWindow', r.outsideDateWindow.violations.length, '']);
  for (const v of r.outsideDateWindow.violations) rows.push(['enforcement-violation', String(v.index), v.sha256, v.grantId]);
  for (const m of r.heatMap.mailboxes) m.counts.forEach((n, i) => { if (n) rows.push(['heat', `${m.mailbox}@${r.heatMap.days[i]}`, n, '']); });
  rows.push(['period', 'from', r.period.from, ''], ['period', 'to', r.period.to, ''], ['period', 'asOf', r.period.asOf, '']);
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  // A cell that a spreadsheet would run as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
