import type { Config } from '../core/config.ts';
import type { Tx } from '../core/transactions.ts';
import type { AccessRequest } from '../access/grants.ts';
import type { Grants } from '../access/grants.ts';
import type { People } from '../access/people.ts';
import { chainLink, linkBetween } from '../access/four-eyes.ts';
import type { PersonLinkStore } from '../access/person-link-store.ts';
import type { Leavers, LeaverTerms } from '../retention/leavers.ts';
import { applyApproved, exemptAt, leaverDueAt, leaverInForce } from '../retention/leavers.ts';
import { highImpact } from './high-impact.ts';
import type { LedgerHistory } from './ledger-history.ts';
import { userOf } from './ledger-history.ts';
import type { MessageDates } from './message-dates.ts';
import type { OversightStore } from './oversight-store.ts';
import type { ReviewState } from './review-queue.ts';
import type { ReviewStore } from './review-store.ts';

export interface ReportDeps {
  store: OversightStore;
  reviewStore: ReviewStore;
  history: LedgerHistory;
  dates: MessageDates;
  grants: Grants;
  people: People;
  links: Pick<PersonLinkStore, 'touching'>;
  leavers: Pick<Leavers, 'changesBefore'>;
  config: Config['oversight'];
}

export interface PersonActivity {
  user: string;
  searches: number;
  messagesRead: number;
  exports: number;
  downloads: number;
  messagesExported: number;
  bytesExported: number;
  denied: number;
}

// What every figure of the report means: the one place it is said. The report carries these
// (`definitions`), so the text, the CSV and the web page label each figure with the same words.
// "The period" is [from, to); "its end" is `to`, or now when the period ends later (`asOf`):
// a time still to come (an end, a lapse, a start) has not happened, whatever the period says.
export const FIGURES = {
  'period.asOf': { label: 'States as of', means: "the moment the states below are given at: the period's end, or now if the period ends later" },
  'requests.filed': { label: 'Requests filed', means: "access requests filed in the period (break-glass apart); the next five figures split them by how they stood at the period's end (or now)" },
  'requests.approved': { label: 'approved', means: 'of the requests filed: approved by then, including grants since revoked or run out' },
  'requests.denied': { label: 'denied', means: 'of the requests filed: denied by then' },
  'requests.lapsed': { label: 'lapsed', means: 'of the requests filed: never decided, and their lapse time had come by then' },
  'requests.pending': { label: 'pending', means: 'of the requests filed: still waiting for a decision then, their lapse time not yet come' },
  'requests.withdrawn': { label: 'withdrawn', means: 'of the requests filed: revoked before any approval' },
  'grants.ended': { label: 'Grants ended', means: 'grants (break-glass apart) whose end fell in the period and is not after now: revoked, or their end time reached' },
  'grants.ranToExpiry': { label: 'ran to expiry', means: 'of the grants ended: those that reached their end time' },
  'grants.revoked': { label: 'revoked', means: 'of the grants ended: those revoked before their end time (by the requester when done, an approver or an admin)' },
  'grants.stillRunning': { label: 'still running', means: "grants in force at the period's end (or now): started, not revoked, end time later, in the period or after it; not counted as ended" },
  'grants.notStarted': { label: 'approved, not started', means: "grants approved by the period's end (or now) whose start was still to come then" },
  'grants.medianHours': { label: 'Median time in force', means: 'over the grants ended in the period: from start to end (revocation or end time), the whole grant' },
  'grants.longest': { label: 'Longest grant ended', means: 'the grant ended in the period that was in force longest, and for how long; grants still running are not in it' },
  'breakglass.uses': { label: 'Break-glass uses', means: 'break-glass grants opened in the period; their reviews as they stand now' },
  'breakglass.reviewed': { label: 'reviewed', means: 'of the break-glass uses: review marked reviewed, or closed' },
  'breakglass.escalated': { label: 'escalated', means: 'of the break-glass uses: review escalated and not closed' },
  'breakglass.awaitingReview': { label: 'awaiting review', means: 'of the break-glass uses: review not yet done (open, claimed, or not yet queued)' },
  'tickets.withoutTicket': { label: 'Requests without a ticket', means: 'requests filed in the period (break-glass apart) that name no ticket' },
  'tickets.reused': { label: 'Tickets used more than once', means: 'tickets named by more than one request filed in the period (an extension names its grant\'s ticket again)' },
  'sensitiveAccess': { label: 'Sensitive mailboxes', means: 'mailboxes with a sensitivity tag: successful access entries in the period (searches, reads, downloads, exports) naming them, by people other than their owner, and who' },
  'people': { label: 'Activity per person', means: 'everyone the ledger names in the period for a successful access or a refusal; owners reading their own mail included' },
  'people.searches': { label: 'Searches', means: 'successful searches' },
  'people.messagesRead': { label: 'Messages opened', means: 'distinct messages opened one by one: viewed, shown in the viewer, downloaded raw, their evidence or remote content loaded (search hits and exports apart)' },
  'people.exports': { label: 'Exports', means: 'export files (mbox) made' },
  'people.downloads': { label: 'Raw downloads', means: 'messages downloaded as their exact bytes (.eml)' },
  'people.messagesExported': { label: 'Messages exported', means: 'messages taken out as files: each message of each export, plus each raw download (a message taken out twice counts twice)' },
  'people.bytesExported': { label: 'Bytes exported', means: 'the size of those files: the export files and the raw downloads, so exactly the messages counted as exported' },
  'people.denied': { label: 'Refused attempts', means: 'ledger entries refused to them, of any kind (reads, requests, approvals, oversight …)' },
  'highImpact': { label: 'High-impact actions', means: 'successful actions in the period that someone else reviews: approvals, break-glass, exports, role, directory and policy changes, API tokens, key operations, bulk searches' },
  'linkedApprovals': { label: 'Approvals between linked people', means: 'approvals given in the period between two people one of whom created, enrolled or changed the roles of the other, or whom the same person made, also through accounts in between' },
  'outsideDateWindow.readsChecked': { label: 'Messages checked', means: "every message a successful access under a grant named in the period (search hits, views, bodies, downloads, exports …), once per entry, looked up against the grant's date window" },
  'outsideDateWindow.violations': { label: "Outside their grant's date window", means: 'checked messages dated outside the window (or undated, under a window): must be none' },
  'retention.messagesDisposed': { label: 'Messages disposed', means: 'messages destroyed in the period because their retention had ended (keys destroyed, bytes and index rows removed), over all dispose entries' },
  'retention.disposeEntries': { label: 'Disposal entries', means: 'dispose entries written in the period (one per policy per run)' },
  'retention.holdsPlaced': { label: 'Legal holds placed', means: 'legal holds placed in the period' },
  'retention.holdsReleased': { label: 'Legal holds released', means: 'legal holds whose release was approved in the period: their mail follows retention again' },
  'retention.shortened': { label: 'Retention shortened', means: "retention changes approved in the period that could shorten what mail is kept or lower a rule's minimum (each one filed by someone else)" },
  'leavers.filed': { label: 'Leaving dates filed', means: "leaving dates filed in the period (API, console or directory import; withdrawals apart); the next three split them by how they stood at the period's end (or now)" },
  'leavers.approved': { label: 'approved', means: 'of the leaving dates filed: approved by then, each by someone other than its filer' },
  'leavers.denied': { label: 'denied', means: 'of the leaving dates filed: denied by then' },
  'leavers.pending': { label: 'pending', means: 'of the leaving dates filed: still waiting for a decision then' },
  'leavers.exemptionsFiled': { label: 'Leaver exemptions filed', means: 'exemptions from the leaver rule filed in the period' },
  'leavers.exemptionsApproved': { label: 'approved', means: 'of the exemptions filed: approved by then' },
  'leavers.due': { label: 'Leavers due for disposal', means: "mailboxes marked as left whose disposal day had come by the period's end (or now), with no exemption in force then: their mail not kept by a retention rule's minimum or a legal hold goes, or has gone" },
  'leavers.exempt': { label: 'Leavers exempt', means: "mailboxes marked as left with an exemption from the leaver rule in force at the period's end (or now)" },
  'heatMap': { label: 'Access by others per mailbox and day', means: 'successful access entries in the period naming the mailbox, by people other than its owner, per UTC day' },
} as const satisfies Record<string, { label: string; means: string }>;

export type Figure = keyof typeof FIGURES;

const PERSON_FIGURES = ['searches', 'messagesRead', 'exports', 'downloads', 'messagesExported', 'bytesExported', 'denied'] as const;

const HOUR = 3_600_000;
// Entries that open one message (a search lists hits, an export takes many: counted apart).
const OPENS = new Set(['view', 'body', 'raw', 'evidence', 'remote-content', 'attachment-text']);

// The oversight report for one period [from, to), made at `now`. Request and grant figures are
// states at the period's end, or at now when it ends later (see FIGURES); activity figures come
// from the ledger entries written in the period; the metadata is read in the caller's transaction.
export async function buildReport(tx: Tx, d: ReportDeps, period: { from: number; to: number }, now: number) {
  const { from, to } = period;
  // The last moment the report describes: a time after it has not happened yet.
  const at = Math.min(to - 1, now);
  const happened = (t: number | null): t is number => t !== null && t <= at;
  const name = await d.people.names(tx);
  const all = await d.grants.list(tx);
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

  const breakglass: { id: string; holder: string; at: number; mailboxes: string[]; review: ReviewState | 'none' }[] = [];
  for (const r of filed.filter((r) => r.breakglass)) {
    breakglass.push({ id: r.id, holder: name(r.requesterId), at: r.createdAt, mailboxes: r.mailboxes.map((m) => m.name), review: (await d.reviewStore.stateOf(tx, r.id, 'breakglass')) ?? 'none' });
  }

  const byTicket = new Map<string, string[]>();
  for (const r of normal) if (r.ticket) byTicket.set(r.ticket, [...(byTicket.get(r.ticket) ?? []), r.id]);

  // The ledger side.
  const people = new Map<string, PersonActivity & { opened: Set<string> }>();
  const person = (u: string) => {
    let p = people.get(u);
    if (!p) people.set(u, (p = { user: u, searches: 0, messagesRead: 0, exports: 0, downloads: 0, messagesExported: 0, bytesExported: 0, denied: 0, opened: new Set() }));
    return p;
  };
  const mailboxes = new Map((await d.store.mailboxes(tx)).map((m) => [m.name, m]));
  const sensitive = new Map<string, { mailbox: string; sensitivity: string; accesses: number; people: Set<string> }>();
  const heat = new Map<string, Map<string, number>>();
  const highImpactActions: { index: number; time: number; actor: string; operation: string; why: string; grantId: string | null }[] = [];
  const requests = new Map(all.map((r) => [r.id, r]));
  let readsChecked = 0;
  const outsideWindow: { index: number; grantId: string; sha256: string; date: number | null }[] = [];
  const windowChecks: { index: number; grant: (typeof all)[number]; sha256: string }[] = [];

  const retention = { messagesDisposed: 0, disposeEntries: 0, holdsPlaced: 0, holdsReleased: 0, shortened: 0 };

  for await (const e of d.history.actionsBetween(tx, from, to)) {
    if (e.result === 'success') {
      if (e.operation === 'dispose') {
        retention.disposeEntries++;
        retention.messagesDisposed += e.objects.messages.length;
      } else if (e.operation === 'hold.place') retention.holdsPlaced++;
      else if (e.operation === 'hold.release.approve') retention.holdsReleased++;
      else if (e.operation === 'retention.approve') retention.shortened++;
    }
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
    if (grant) for (const sha of e.objects.messages) windowChecks.push({ index: e.index, grant, sha256: sha });
  }
  const dates = await d.dates.datesOf(windowChecks.map((c) => c.sha256));
  for (const { index, grant, sha256 } of windowChecks) {
    readsChecked++;
    const date = dates.get(sha256) ?? null;
    const inside = (grant.dateFrom === null || (date !== null && date >= grant.dateFrom)) && (grant.dateTo === null || (date !== null && date < grant.dateTo));
    if (!inside) outsideWindow.push({ index, grantId: grant.id, sha256, date });
  }

  // Four eyes that may have been one pair of hands: approvals in the period between people one
  // of whom created, enrolled or changed the roles of the other, or whom the same person made,
  // however long ago (the approval rule only refuses within access.linkedPeopleDays), also
  // through accounts in between (an admin who made an admin who made the approver).
  const linkedApprovals: { request: string; approver: string; requester: string; at: number; link: string }[] = [];
  for (const r of all) {
    for (const a of r.approvals.filter((a) => a.decision === 'approve' && a.at >= from && a.at < to)) {
      const why = linkBetween(await d.links.touching(tx, [a.approverId, r.requesterId]), a.approverId, r.requesterId, -Infinity, 'before', name)
        ?? await chainLink(d.links, tx, a.approverId, r.requesterId, name);
      if (why) linkedApprovals.push({ request: r.id, approver: name(a.approverId), requester: name(r.requesterId), at: a.at, link: why });
    }
  }

  // Leavers: the leaving dates and exemptions filed in the period, as they stood at its last
  // moment; the leavers in force then, rebuilt from the changes approved by then as each applied.
  const leaverChanges = await d.leavers.changesBefore(tx, to);
  const decidedBy = (c: (typeof leaverChanges)[number]) => (happened(c.decidedAt) ? c.decision : null);
  const datesFiled = leaverChanges.filter((c) => c.kind === 'leave' && c.filedAt >= from);
  const exemptionsFiled = leaverChanges.filter((c) => c.kind === 'exempt' && c.filedAt >= from);
  const leavers = new Map<string, LeaverTerms>();
  for (const c of leaverChanges.filter((c) => decidedBy(c) === 'approve').sort((a, b) => a.decidedAt! - b.decidedAt!)) applyApproved(leavers, c);
  const inForce = [...leavers.values()].sort((a, b) => a.mailbox.localeCompare(b.mailbox));

  // A review escalated is done but not settled: neither reviewed nor still awaiting a reviewer.
  const reviewed = (b: { review: string }) => b.review === 'reviewed' || b.review === 'closed';
  const days = [...new Set([...heat.values()].flatMap((r) => [...r.keys()]))].sort();
  return {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), asOf: new Date(Math.min(to, now)).toISOString() },
    requests: {
      filed: normal.length, approved: count('approved'), denied: count('denied'), lapsed: count('lapsed'), pending: count('pending'), withdrawn: count('withdrawn'),
    },
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
    retention,
    leavers: {
      filed: datesFiled.length, approved: datesFiled.filter((c) => decidedBy(c) === 'approve').length, denied: datesFiled.filter((c) => decidedBy(c) === 'deny').length,
      pending: datesFiled.filter((c) => decidedBy(c) === null).length,
      exemptionsFiled: exemptionsFiled.length, exemptionsApproved: exemptionsFiled.filter((c) => decidedBy(c) === 'approve').length,
      due: inForce.filter((l) => leaverDueAt(l, at)).map(leaverInForce),
      exempt: inForce.filter((l) => exemptAt(l, at)).map(leaverInForce),
    },
    heatMap: { days, mailboxes: [...heat].map(([mailbox, row]) => ({ mailbox, counts: days.map((day) => row.get(day) ?? 0) })).sort((a, b) => a.mailbox.localeCompare(b.mailbox)) },
    definitions: FIGURES,
  };
}

export type Report = Awaited<ReturnType<typeof buildReport>>;

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

// The report as a person reads it (the CLI's text output and the auditors' digest): every figure
// under its label, and at the end what each label means.
export function reportText(r: Report): string {
  const L = (k: Figure) => FIGURES[k].label;
  const g = r.grants;
  const lv = r.leavers;
  const at = r.period.asOf === r.period.to ? "the period's end" : 'now: the period has not ended';
  return [
    `Oversight report for ${r.period.from} (inclusive) to ${r.period.to} (exclusive)`,
    `${L('period.asOf')}: ${r.period.asOf} (${at})`, '',
    `${L('requests.filed')}: ${r.requests.filed} (${(['approved', 'denied', 'lapsed', 'pending', 'withdrawn'] as const).map((k) => `${L(`requests.${k}`)} ${r.requests[k]}`).join(', ')})`,
    `${L('grants.ended')}: ${g.ended} (${L('grants.ranToExpiry')} ${g.ranToExpiry}, ${L('grants.revoked')} ${g.revoked}); ${L('grants.stillRunning')}: ${g.stillRunning}; ${L('grants.notStarted')}: ${g.notStarted}`,
    `${L('grants.medianHours')}: ${hours(g.medianHours)}; ${L('grants.longest')}: ${hours(g.longest?.hours ?? null)}${g.longest ? ` (${g.longest.id})` : ''}`,
    `${L('breakglass.uses')}: ${r.breakglass.uses} (${L('breakglass.reviewed')} ${r.breakglass.reviewed}, ${L('breakglass.escalated')} ${r.breakglass.escalated}, ${L('breakglass.awaitingReview')} ${r.breakglass.awaitingReview})`,
    `${L('tickets.withoutTicket')}: ${r.tickets.withoutTicket.length}; ${L('tickets.reused')}: ${r.tickets.reused.map((t) => `${t.ticket} (${t.requests.length})`).join(', ') || 'none'}`,
    `${L('sensitiveAccess')}: ${r.sensitiveAccess.map((s) => `${s.mailbox} ${s.accesses}× by ${s.people.join(', ')}`).join('; ') || 'none accessed by others'}`,
    `${L('highImpact')}: ${r.highImpact.length}`,
    `${L('linkedApprovals')}: ${r.linkedApprovals.length}${r.linkedApprovals.map((l) => `\n  ${l.request}: ${l.approver} approved ${l.requester} (${l.link})`).join('')}`,
    `${L('outsideDateWindow.violations')}: ${r.outsideDateWindow.violations.length} of ${r.outsideDateWindow.readsChecked} ${L('outsideDateWindow.readsChecked').toLowerCase()}`,
    `${L('retention.messagesDisposed')}: ${r.retention.messagesDisposed} (${L('retention.disposeEntries').toLowerCase()} ${r.retention.disposeEntries}); ${L('retention.holdsPlaced')}: ${r.retention.holdsPlaced}; ${L('retention.holdsReleased')}: ${r.retention.holdsReleased}; ${L('retention.shortened')}: ${r.retention.shortened}`,
    `${L('leavers.filed')}: ${lv.filed} (${(['approved', 'denied', 'pending'] as const).map((k) => `${L(`leavers.${k}`)} ${lv[k]}`).join(', ')}); ${L('leavers.exemptionsFiled')}: ${lv.exemptionsFiled} (${L('leavers.exemptionsApproved')} ${lv.exemptionsApproved})`,
    `${L('leavers.due')}: ${lv.due.map((l) => `${l.mailbox} (left ${l.left}, from ${l.disposeFrom})`).join(', ') || 'none'}; ${L('leavers.exempt')}: ${lv.exempt.map((l) => `${l.mailbox} (until ${l.exemption!.until ?? 'decided otherwise'})`).join(', ') || 'none'}`,
    '', `${L('people')}:`,
    ...r.people.map((p) => `  ${p.user}: ${PERSON_FIGURES.map((k) => `${L(`people.${k}`).toLowerCase()} ${p[k]}`).join(', ')}`),
    ...(r.people.length ? [] : ['  none']),
    '', 'What each figure means:',
    ...Object.values(FIGURES).map((f) => `  ${f.label}: ${f.means}`),
  ].join('\n') + '\n';
}

function hours(h: number | null): string {
  return h === null ? '-' : `${Math.round(h * 100) / 100} h`;
}

// CSV: one row per figure, section and key naming it and the detail saying what it means, so any
// spreadsheet can chart it and nobody reads it wrong.
export function reportCsv(r: Report): string {
  const rows: (string | number | null)[][] = [['section', 'key', 'value', 'detail']];
  const means = (k: Figure) => FIGURES[k].means;
  for (const k of ['filed', 'approved', 'denied', 'lapsed', 'pending', 'withdrawn'] as const) rows.push(['requests', k, r.requests[k], means(`requests.${k}`)]);
  const g = r.grants;
  for (const k of ['ended', 'ranToExpiry', 'revoked', 'stillRunning', 'notStarted', 'medianHours'] as const) rows.push(['grants', k, g[k], means(`grants.${k}`)]);
  rows.push(['grants', 'longestHours', g.longest?.hours ?? null, `${g.longest?.id ?? '-'}: ${means('grants.longest')}`]);
  for (const k of ['uses', 'reviewed', 'escalated', 'awaitingReview'] as const) rows.push(['breakglass', k, r.breakglass[k], means(`breakglass.${k}`)]);
  for (const b of r.breakglass.list) rows.push(['breakglass-use', b.id, b.holder, `${new Date(b.at).toISOString()} ${b.mailboxes.join(' ')} review:${b.review}`]);
  for (const id of r.tickets.withoutTicket) rows.push(['tickets', 'withoutTicket', id, '']);
  for (const t of r.tickets.reused) rows.push(['tickets', 'reused', t.ticket, t.requests.join(' ')]);
  for (const s of r.sensitiveAccess) rows.push(['sensitive', s.mailbox, s.accesses, `${s.sensitivity}: ${s.people.join(' ')}`]);
  for (const p of r.people) for (const k of PERSON_FIGURES) rows.push(['person', `${p.user}.${k}`, p[k], FIGURES[`people.${k}`].label]);
  for (const h of r.highImpact) rows.push(['high-impact', String(h.index), h.operation, `${new Date(h.time).toISOString()} ${h.actor} ${h.why}${h.grantId ? ` ${h.grantId}` : ''}`]);
  for (const l of r.linkedApprovals) rows.push(['linked-approval', l.request, `${l.approver}>${l.requester}`, l.link]);
  rows.push(['enforcement', 'readsChecked', r.outsideDateWindow.readsChecked, means('outsideDateWindow.readsChecked')], ['enforcement', 'outsideDateWindow', r.outsideDateWindow.violations.length, means('outsideDateWindow.violations')]);
  for (const v of r.outsideDateWindow.violations) rows.push(['enforcement-violation', String(v.index), v.sha256, v.grantId]);
  for (const k of ['messagesDisposed', 'disposeEntries', 'holdsPlaced', 'holdsReleased', 'shortened'] as const) rows.push(['retention', k, r.retention[k], means(`retention.${k}`)]);
  for (const k of ['filed', 'approved', 'denied', 'pending', 'exemptionsFiled', 'exemptionsApproved'] as const) rows.push(['leavers', k, r.leavers[k], means(`leavers.${k}`)]);
  for (const k of ['due', 'exempt'] as const) rows.push(['leavers', k, r.leavers[k].length, means(`leavers.${k}`)]);
  for (const l of r.leavers.due) rows.push(['leaver-due', l.mailbox, l.disposeFrom, `left ${l.left} ${l.change}`]);
  for (const l of r.leavers.exempt) rows.push(['leaver-exempt', l.mailbox, l.exemption!.until ?? 'until decided otherwise', l.exemption!.change]);
  for (const m of r.heatMap.mailboxes) m.counts.forEach((n, i) => { if (n) rows.push(['heat', `${m.mailbox}@${r.heatMap.days[i]}`, n, '']); });
  rows.push(['period', 'from', r.period.from, 'inclusive'], ['period', 'to', r.period.to, 'exclusive'], ['period', 'asOf', r.period.asOf, means('period.asOf')]);
  for (const [k, f] of Object.entries(FIGURES)) rows.push(['definition', k, f.label, f.means]);
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  // A cell that a spreadsheet would run as a formula is quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
