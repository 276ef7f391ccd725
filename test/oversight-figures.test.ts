// Every figure of the Oversight report against a tally this test keeps of what it did: requests
// and their fates, grants that ran to expiry, were revoked, end later today (after now), end after
// the period or have not started, break-glass and its reviews, searches, reads, raw downloads and
// exports, leaving dates and exemptions filed and decided, and the leavers due or exempt. The tally is written from the figures' definitions and the test's own record; only the
// time and index of each action come from the ledger entry it left. Each report is compared whole,
// for periods whose edges fall exactly on every event and one millisecond after it, while the
// clock stands before and after the grants' ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filedRoleHolders } from './support/access-world.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { reportText } from '../src/oversight/oversight-report.ts';
import type { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const BULK = 3;   // oversight.bulkSearchResults: a search with this many results is high impact

const MESSAGES = {
  o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
  o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga two', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
  o3: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga three', date: 'Thu, 15 May 2025 10:00:00 +0000' },
  h1: { from: 'x@ext.test', to: 'hr@corp.test', subject: 'hr one', date: 'Fri, 14 Feb 2025 10:00:00 +0000' },
  h2: { from: 'x@ext.test', to: 'hr@corp.test', subject: 'hr two', date: 'Fri, 20 Jun 2025 10:00:00 +0000' },
};
type Key = keyof typeof MESSAGES;
const OWNER: Record<string, string | null> = { 'olga@corp.test': 'olga', 'hr@corp.test': null };
const SENSITIVITY: Record<string, string | null> = { 'olga@corp.test': null, 'hr@corp.test': 'hr' };

// What the test did, as it knows it; `time` and `index` are those of the entry the action left.
interface Did {
  who: string;
  op: string;
  ok: boolean;
  access: boolean;                 // a read of content (an `access` entry)
  grant: string | null;
  mailboxes: string[];
  messages: string[];
  bytes: number;
  why: string | null;              // high impact, and why
  time: number;
  index: number;
}

// A request as the test filed and decided it, with the times the API answered.
interface Req {
  id: string;
  requester: string;
  ticket: string | null;
  breakglass: boolean;
  mailboxes: string[];
  window: { from: number | null; to: number | null };
  createdAt: number;
  lapsesAt: number;
  approvedAt: number | null;
  deniedAt: number | null;
  revokedAt: number | null;
  startsAt: number | null;
  endsAt: number | null;
  approvals: { approver: string; at: number }[];
  review: string | null;           // a break-glass use's review, as the test left it
}

// A leaving date or an exemption as the test filed and decided it, with the times the API answered.
interface Lvr {
  id: string;
  kind: 'leave' | 'exempt';
  mailbox: string;
  left: string | null;
  disposeFrom: string | null;
  until: string | null;
  filedAt: number;
  decision: 'approve' | 'deny' | null;
  decidedAt: number | null;
}

const USERS = { rita: ['requester'], adm2: ['requester'], bob: ['requester', 'breakglass'], alan: ['approver'], amy: ['requester'], olga: ['owner'], aud: ['auditor'] };

test('every Oversight figure matches an independent tally, at the edges of the period and of now', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: MESSAGES,
    mailboxes: { 'olga@corp.test': 'olga', 'hr@corp.test': ',hr' },
    users: USERS,
    access: { sessionHours: 720, pendingLapseHours: 6 },
    config: { oversight: { bulkSearchResults: BULK, auditorDigest: 'off', ownerDigest: 'off' }, retention: { disposeEveryHours: 0 } },
  });
  t.after(() => world.stop());
  const { as, sha, raw, clock } = world;
  // amy, whom adm made as it made rita, becomes an approver as an admin's approver does: filed by
  // adm, approved by alan (made at the console). adm2, an admin adm made the same way, makes
  // mona. amy's approvals of their requests are between linked people: of rita's directly, of
  // mona's through adm2 (adm made both amy's account and the one that made mona's).
  const filedRole = async (name: string, roles: string[]) => {
    const filed = await as.adm.call('POST', `/api/v1/users/${name}/roles`, { roles });
    assert.equal(filed.status, 200, JSON.stringify(filed.body));
    assert.equal((await as.alan.call('POST', `/api/v1/role-changes/${filed.body.filed[0].change}/approve`, { reason: `${name} as asked` })).status, 200);
    assert.equal((await as[name].signIn(name, world.passwords[name]!)).status, 200);
  };
  await filedRole('amy', ['requester', 'approver']);
  await filedRole('adm2', ['requester', 'admin']);
  const mona = await as.adm2.call('POST', '/api/v1/users', { name: 'mona', roles: ['requester'] });
  assert.equal(mona.status, 200, JSON.stringify(mona.body));
  as.mona = world.client();
  await as.mona.enrolAndSignIn('mona', mona.body.enrolmentCode, 'mona-correct-horse-battery');
  await world.takeAll();
  const keyOf = Object.fromEntries(Object.entries(sha).map(([k, s]) => [s, k as Key]));
  const dateOf = (s: string) => Date.parse(MESSAGES[keyOf[s]].date);

  // Each call's entries are matched to what the test says it did; nothing else may be written
  // (but the auditor's own readings of the report and review steps).
  const done: Did[] = [];
  const reqs = new Map<string, Req>();
  const lvrs = new Map<string, Lvr>();
  let unmatched: LedgerEntryView[] = [];
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    unmatched.push(...await world.takeAll());
    return r;
  };
  const did = (d: Omit<Did, 'time' | 'index' | 'access' | 'grant' | 'mailboxes' | 'messages' | 'bytes' | 'why'> & Partial<Did>) => {
    const i = unmatched.findIndex((e) => e.actor === `user:${d.who}` && e.operation === d.op);
    assert.ok(i >= 0, `an entry of ${d.who} ${d.op} in ${JSON.stringify(unmatched)}`);
    const [e] = unmatched.splice(i, 1);
    assert.equal(e.result, d.ok ? 'success' : 'denied', `${d.who} ${d.op}`);
    done.push({ access: false, grant: null, mailboxes: [], messages: [], bytes: 0, why: null, ...d, time: e.time, index: e.index });
    assert.deepEqual(unmatched.filter((x) => x.actor !== 'user:aud'), [], 'every entry is one the test accounts for');
  };

  const asReq = (b: any, who: string, window: Req['window']): Req => ({
    id: b.id, requester: who, ticket: b.ticket, breakglass: b.breakglass, mailboxes: b.mailboxes, window,
    createdAt: Date.parse(b.createdAt), lapsesAt: Date.parse(b.lapsesAt), approvedAt: b.breakglass ? Date.parse(b.createdAt) : null, deniedAt: null,
    revokedAt: null, startsAt: b.startsAt && Date.parse(b.startsAt), endsAt: b.endsAt && Date.parse(b.endsAt), approvals: [], review: b.breakglass ? 'open' : null,
  });
  const file = async (who: string, input: { mailbox: string; ticket?: string; permissions: string[]; hours: number; window?: [string, string]; startsAt?: number }) => {
    const r = await call(who, 'POST', '/api/v1/requests', {
      purpose: 'legal-hold', justification: 'a case', ticket: input.ticket ?? null, mailboxes: [input.mailbox], permissions: input.permissions, durationHours: input.hours,
      ...(input.window ? { dateFrom: input.window[0], dateTo: input.window[1] } : {}), ...(input.startsAt ? { startsAt: new Date(input.startsAt).toISOString() } : {}),
    });
    // The window as filed: from its first day to the end of its last (YYYY-MM-DD, UTC, inclusive).
    const window = input.window ? { from: Date.parse(`${input.window[0]}T00:00:00Z`), to: Date.parse(`${input.window[1]}T00:00:00Z`) + 24 * HOUR } : { from: null, to: null };
    reqs.set(r.body.id, asReq(r.body, who, window));
    did({ who, op: 'request.file', ok: true });
    return r.body.id as string;
  };
  const decide = async (who: string, id: string, decision: 'approve' | 'deny') => {
    const r = await call(who, 'POST', `/api/v1/requests/${id}/${decision}`, { reason: 'checked' });
    const q = reqs.get(id)!;
    const at = Date.parse(r.body.approvals.at(-1).at);
    if (decision === 'deny') q.deniedAt = at;
    else Object.assign(q, { approvedAt: at, startsAt: Date.parse(r.body.startsAt), endsAt: Date.parse(r.body.endsAt) }), q.approvals.push({ approver: who, at });
    did({ who, op: `request.${decision}`, ok: true, grant: id, why: decision === 'approve' ? 'access approved' : null });
  };
  const revoke = async (who: string, id: string) => {
    const r = await call(who, 'POST', `/api/v1/requests/${id}/revoke`, {});
    reqs.get(id)!.revokedAt = Date.parse(r.body.revokedAt);
    did({ who, op: 'request.revoke', ok: true, grant: id });
  };
  const breakglass = async (who: string, mailbox: string) => {
    const r = await call(who, 'POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'phishing', mailboxes: [mailbox], permissions: ['search', 'read'], durationHours: 0.25 });
    reqs.set(r.body.id, asReq(r.body, who, { from: null, to: null }));
    did({ who, op: 'breakglass.open', ok: true, why: 'break-glass access opened', grant: r.body.id });
    return r.body.id as string;
  };
  const search = async (who: string, grant: string | null, mailbox: string, expect: Key[]) => {
    const r = await call(who, 'GET', `/api/v1/search?q=body${grant ? `&grant=${grant}` : ''}`);
    const hits = expect.map((k) => sha[k]).sort();
    assert.deepEqual(r.body.results.map((h: any) => h.sha256).sort(), hits);
    did({ who, op: 'search', ok: true, access: true, grant, mailboxes: [mailbox], messages: hits, why: hits.length >= BULK ? `bulk search (${hits.length} results)` : null });
  };
  const open = async (who: string, op: 'view' | 'body' | 'raw', grant: string | null, mailbox: string, key: Key) => {
    const r = await call(who, 'GET', `/api/v1/messages/${sha[key]}${op === 'view' ? '' : `/${op}`}${grant ? `?grant=${grant}` : ''}`);
    if (op === 'raw') assert.ok(Buffer.compare(r.body, raw[key]) === 0, 'the exact bytes');
    did({ who, op, ok: true, access: true, grant, mailboxes: [mailbox], messages: [sha[key]], bytes: op === 'raw' ? raw[key].length : 0 });
  };
  const exportAll = async (who: string, grant: string, mailbox: string, expect: Key[]) => {
    const r = await call(who, 'GET', `/api/v1/export?q=body&grant=${grant}`);
    assert.equal(Number(r.headers.get('x-sealbox-messages')), expect.length);
    did({ who, op: 'export', ok: true, access: true, grant, mailboxes: [mailbox], messages: expect.map((k) => sha[k]).sort(), bytes: (r.body as Buffer).length, why: 'messages exported' });
  };
  const refused = async (who: string, op: string, path: string, status: number) => {
    await call(who, 'GET', path, undefined, status);
    did({ who, op, ok: false, access: true });
  };
  const fileLeaver = async (mailbox: string, what: { left: string } | { until: string }) => {
    const r = await call('adm', 'POST', `/api/v1/mailboxes/${mailbox}/leaver${'until' in what ? '/exemption' : ''}`, { ...what, reason: 'HR says so' });
    const b = r.body;
    lvrs.set(b.id, { id: b.id, kind: b.kind, mailbox, left: b.left ?? null, disposeFrom: b.disposeFrom ?? null, until: b.until ?? null, filedAt: Date.parse(b.filedAt), decision: null, decidedAt: null });
    did({ who: 'adm', op: 'leaver.file', ok: true, why: 'leaving date or leaver exemption asked for' });
    return b.id as string;
  };
  const decideLeaver = async (who: string, id: string, decision: 'approve' | 'deny') => {
    const r = await call(who, 'POST', `/api/v1/leaver-changes/${id}/${decision}`, { reason: 'checked with HR' });
    Object.assign(lvrs.get(id)!, { decision, decidedAt: Date.parse(r.body.decidedAt) });
    did({ who, op: `leaver.${decision}`, ok: true, why: decision === 'approve' ? 'leaving date or leaver exemption approved' : null });
  };
  const review = async (id: string, steps: ('claim' | 'review' | 'escalate')[]) => {
    for (const step of steps) await call('aud', 'POST', `/api/v1/reviews/rev_${id}/${step}`, step === 'claim' ? {} : { note: 'looked at it' });
    reqs.get(id)!.review = { claim: 'claimed', review: 'reviewed', escalate: 'escalated' }[steps.at(-1)!];
  };

  // The history. A: rita, a date window, runs to expiry after an hour of reads and a download.
  const A = await file('rita', { mailbox: 'olga@corp.test', ticket: 'LH-1', permissions: ['search', 'read'], hours: 1, window: ['2025-01-01', '2025-03-31'] });
  await decide('alan', A, 'approve');
  await search('rita', A, 'olga@corp.test', ['o1', 'o2']);
  await open('rita', 'view', A, 'olga@corp.test', 'o1');
  await open('rita', 'raw', A, 'olga@corp.test', 'o2');
  await refused('rita', 'view', `/api/v1/messages/${sha.h1}?grant=${A}`, 404);
  // B: mona on the sensitive hr mailbox: an export and the same message downloaded twice, then revoked when done.
  const B = await file('mona', { mailbox: 'hr@corp.test', ticket: 'LH-2', permissions: ['search', 'read', 'export'], hours: 8 });
  await decide('amy', B, 'approve');
  await search('mona', B, 'hr@corp.test', ['h1', 'h2']);
  await exportAll('mona', B, 'hr@corp.test', ['h1', 'h2']);
  await open('mona', 'raw', B, 'hr@corp.test', 'h1');
  await open('mona', 'raw', B, 'hr@corp.test', 'h1');
  await revoke('mona', B);
  // C: bob, five hours: it ends later today, after the first reports' now.
  const C = await file('bob', { mailbox: 'olga@corp.test', ticket: 'LH-3', permissions: ['search', 'read'], hours: 5 });
  await decide('alan', C, 'approve');
  await search('bob', C, 'olga@corp.test', ['o1', 'o2', 'o3']);
  await open('bob', 'view', C, 'olga@corp.test', 'o3');
  await open('bob', 'body', C, 'olga@corp.test', 'o3');
  // The owner reads her own mailbox: activity, but not access by others.
  await search('olga', null, 'olga@corp.test', ['o1', 'o2', 'o3']);
  await open('olga', 'view', null, 'olga@corp.test', 'o1');
  // D: the ticket of A again, 48 hours: it ends after every period but the last.
  const D = await file('rita', { mailbox: 'olga@corp.test', ticket: 'LH-1', permissions: ['search'], hours: 48 });
  await decide('amy', D, 'approve');
  await search('rita', D, 'olga@corp.test', ['o1', 'o2', 'o3']);
  // E pending (it lapses in 6 hours), F denied, G withdrawn, H approved to start in 30 hours.
  await file('rita', { mailbox: 'olga@corp.test', ticket: 'LH-5', permissions: ['search'], hours: 1 });
  const F = await file('mona', { mailbox: 'olga@corp.test', ticket: 'LH-6', permissions: ['search'], hours: 1 });
  await decide('alan', F, 'deny');
  const G = await file('mona', { mailbox: 'olga@corp.test', ticket: 'LH-7', permissions: ['search'], hours: 1 });
  await revoke('mona', G);
  const H = await file('mona', { mailbox: 'olga@corp.test', ticket: 'LH-8', permissions: ['search'], hours: 1, startsAt: clock.now() + 30 * HOUR });
  await decide('amy', H, 'approve');
  // Break-glass: one reviewed, one escalated, one left for review.
  const BG1 = await breakglass('bob', 'hr@corp.test');
  await search('bob', BG1, 'hr@corp.test', ['h1', 'h2']);
  const BG2 = await breakglass('bob', 'olga@corp.test');
  await review(BG1, ['claim', 'review']);
  await review(BG2, ['claim', 'escalate']);
  // Leavers: Olga left long ago (due once approved, until her exemption is approved); the hr
  // mailbox's date is denied, and filed again (pending).
  const L1 = await fileLeaver('olga@corp.test', { left: isoDay(clock.now() - 400 * DAY) });
  await decideLeaver('alan', L1, 'approve');
  const L2 = await fileLeaver('hr@corp.test', { left: isoDay(clock.now() - 10 * DAY) });
  await decideLeaver('amy', L2, 'deny');
  await fileLeaver('hr@corp.test', { left: isoDay(clock.now() - 9 * DAY) });
  const X1 = await fileLeaver('olga@corp.test', { until: isoDay(clock.now() + 30 * DAY) });
  await decideLeaver('amy', X1, 'approve');
  // An hour and a half later A has run out: using it is refused.
  clock.advance(1.5 * HOUR);
  await refused('rita', 'search', `/api/v1/search?q=body&grant=${A}`, 403);
  await breakglass('bob', 'hr@corp.test');
  clock.advance(0.5 * HOUR);
  unmatched = [];   // the auditor's review steps

  // ---- The tally, from the definitions and the test's own record. ----
  const tally = (from: number, to: number, now: number) => {
    // A time "has come" in the report when it lies before the period's end and not after now.
    const come = (t: number | null) => t !== null && t < to && t <= now;
    const begun = from <= now;
    const inPeriod = (t: number) => t >= from && t < to;
    const all = [...reqs.values()];
    const filed = all.filter((r) => inPeriod(r.createdAt));
    const normal = filed.filter((r) => !r.breakglass);
    const stateOf = (r: Req) => (come(r.deniedAt) ? 'denied' : come(r.approvedAt) ? 'approved' : come(r.revokedAt) ? 'withdrawn' : come(r.lapsesAt) ? 'lapsed' : 'pending');
    const grants = all.filter((r) => !r.breakglass && come(r.approvedAt)).map((r) => ({ r, end: r.revokedAt ?? r.endsAt! }));
    const ended = grants.filter((g) => g.end >= from && come(g.end));
    const running = grants.filter((g) => begun && !come(g.end));
    const hours = ended.map((g) => ({ id: g.r.id, hours: (g.end - g.r.startsAt!) / HOUR })).sort((a, b) => a.hours - b.hours);
    const mid = hours.length >> 1;
    const bg = filed.filter((r) => r.breakglass);
    const tickets = new Map<string, string[]>();
    for (const r of normal) if (r.ticket) tickets.set(r.ticket, [...(tickets.get(r.ticket) ?? []), r.id]);

    const acts = done.filter((d) => inPeriod(d.time));
    const reads = acts.filter((d) => d.ok && d.access);
    const byOthers = reads.flatMap((d) => d.mailboxes.filter((m) => OWNER[m] !== d.who).map((m) => ({ d, m })));
    const people = [...new Set(acts.filter((d) => d.access || !d.ok).map((d) => d.who))].sort().map((user) => {
      const mine = reads.filter((d) => d.who === user);
      const of = (op: string) => mine.filter((d) => d.op === op);
      const takenOut = [...of('export'), ...of('raw')];
      return {
        user, searches: of('search').length, messagesRead: new Set(mine.filter((d) => ['view', 'body', 'raw'].includes(d.op)).flatMap((d) => d.messages)).size,
        exports: of('export').length, downloads: of('raw').length,
        messagesExported: takenOut.reduce((n, d) => n + d.messages.length, 0), bytesExported: takenOut.reduce((n, d) => n + d.bytes, 0),
        denied: acts.filter((d) => d.who === user && !d.ok).length,
      };
    });
    const underGrant = reads.filter((d) => d.grant).flatMap((d) => d.messages.map((s) => ({ d, s })));
    const outside = underGrant.filter(({ d, s }) => {
      const w = reqs.get(d.grant!)!.window;
      return (w.from !== null && dateOf(s) < w.from) || (w.to !== null && dateOf(s) >= w.to);
    });
    const day = (time: number) => new Date(time).toISOString().slice(0, 10);
    const days = [...new Set(byOthers.map(({ d }) => day(d.time)))].sort();
    const sensitive = [...new Set(byOthers.filter(({ m }) => SENSITIVITY[m]).map(({ m }) => m))].sort();
    // Leavers at the report's last moment: the approvals that had come, in the order they came.
    const last = Math.min(to - 1, now);
    const lvFiled = [...lvrs.values()].filter((c) => inPeriod(c.filedAt));
    const lvState = (c: Lvr) => (come(c.decidedAt) ? c.decision : null);
    const leavers = new Map<string, { mailbox: string; left: string; disposeFrom: string; change: string; exemption: { change: string; until: string | null } | null }>();
    for (const c of [...lvrs.values()].filter((c) => lvState(c) === 'approve').sort((a, b) => a.decidedAt! - b.decidedAt!)) {
      if (c.kind === 'leave') leavers.set(c.mailbox, { mailbox: c.mailbox, left: c.left!, disposeFrom: c.disposeFrom!, change: c.id, exemption: leavers.get(c.mailbox)?.exemption ?? null });
      else if (leavers.has(c.mailbox)) leavers.get(c.mailbox)!.exemption = { change: c.id, until: c.until };
    }
    const exempt = [...leavers.values()].filter((l) => l.exemption && (l.exemption.until === null || Date.parse(l.exemption.until) > last));
    return {
      period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      requests: Object.fromEntries(['approved', 'denied', 'lapsed', 'pending', 'withdrawn'].map((s) => [s, normal.filter((r) => stateOf(r) === s).length]).concat([['filed', normal.length]])),
      grants: {
        ended: ended.length, ranToExpiry: ended.filter((g) => g.r.revokedAt === null).length, revoked: ended.filter((g) => g.r.revokedAt !== null).length,
        stillRunning: running.filter((g) => come(g.r.startsAt)).length, notStarted: running.filter((g) => !come(g.r.startsAt)).length,
        medianHours: hours.length === 0 ? null : hours.length % 2 ? hours[mid].hours : (hours[mid - 1].hours + hours[mid].hours) / 2,
        longest: hours.at(-1) ?? null,
      },
      breakglass: {
        uses: bg.length, reviewed: bg.filter((r) => r.review === 'reviewed').length, escalated: bg.filter((r) => r.review === 'escalated').length,
        awaitingReview: bg.filter((r) => r.review === 'open' || r.review === 'claimed').length,
        list: bg.map((r) => ({ id: r.id, holder: r.requester, at: r.createdAt, mailboxes: r.mailboxes, review: r.review })),
      },
      tickets: { withoutTicket: normal.filter((r) => !r.ticket).map((r) => r.id), reused: [...tickets].filter(([, ids]) => ids.length > 1).map(([ticket, requests]) => ({ ticket, requests })) },
      sensitiveAccess: sensitive.map((m) => ({ mailbox: m, sensitivity: SENSITIVITY[m], accesses: byOthers.filter((x) => x.m === m).length, people: [...new Set(byOthers.filter((x) => x.m === m).map((x) => x.d.who))].sort() })),
      people,
      highImpact: acts.filter((d) => d.ok && d.why).map((d) => ({ index: d.index, time: d.time, actor: `user:${d.who}`, operation: d.op, why: d.why, grantId: d.grant })),
      // Everyone here but the break-glass holders (made at the console: an admin only files that
      // role) was added by adm, so every other approval is between two people the same person made.
      linkedApprovals: all.filter((r) => !filedRoleHolders(USERS).includes(r.requester)).flatMap((r) => r.approvals.filter((a) => a.approver === 'amy' && inPeriod(a.at)).map((a) => ({ request: r.id, approver: a.approver, requester: r.requester, at: a.at, link: r.requester === 'mona' ? "adm created both your account and mona's, and was handed their first enrolment codes" : `adm created both your account and ${r.requester}'s before` }))),
      outsideDateWindow: { readsChecked: underGrant.length, violations: outside.map(({ d, s }) => ({ index: d.index, grantId: d.grant, sha256: s, date: dateOf(s) })) },
      // This history disposes of nothing and holds nothing (test/legal-holds.test.ts counts those).
      retention: { messagesDisposed: 0, disposeEntries: 0, holdsPlaced: 0, holdsReleased: 0, shortened: 0 },
      leavers: {
        filed: lvFiled.filter((c) => c.kind === 'leave').length,
        approved: lvFiled.filter((c) => c.kind === 'leave' && lvState(c) === 'approve').length,
        denied: lvFiled.filter((c) => c.kind === 'leave' && lvState(c) === 'deny').length,
        pending: lvFiled.filter((c) => c.kind === 'leave' && lvState(c) === null).length,
        exemptionsFiled: lvFiled.filter((c) => c.kind === 'exempt').length,
        exemptionsApproved: lvFiled.filter((c) => c.kind === 'exempt' && lvState(c) === 'approve').length,
        due: [...leavers.values()].filter((l) => Date.parse(l.disposeFrom) <= last && !exempt.includes(l)).sort((a, b) => a.mailbox.localeCompare(b.mailbox)),
        exempt: exempt.sort((a, b) => a.mailbox.localeCompare(b.mailbox)),
      },
      heatMap: {
        days,
        mailboxes: [...new Set(byOthers.map((x) => x.m))].sort().map((m) => ({ mailbox: m, counts: days.map((dd) => byOthers.filter((x) => x.m === m && day(x.d.time) === dd).length) })),
      },
    };
  };
  // Lists whose order is no figure are compared as sets.
  const normalize = (r: any) => ({
    ...r,
    breakglass: { ...r.breakglass, list: [...r.breakglass.list].sort((a: any, b: any) => a.at - b.at) },
    tickets: { withoutTicket: [...r.tickets.withoutTicket].sort(), reused: r.tickets.reused.map((x: any) => ({ ticket: x.ticket, requests: [...x.requests].sort() })).sort((a: any, b: any) => a.ticket.localeCompare(b.ticket)) },
    linkedApprovals: [...r.linkedApprovals].sort((a: any, b: any) => a.at - b.at),
    requests: Object.fromEntries(Object.entries(r.requests).sort()),
  });
  const report = async (from: number, to: number) => {
    const before = clock.now();
    const r = (await call('aud', 'GET', `/api/v1/oversight/report?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)).body;
    const after = clock.now();
    // No time the figures turn on lies in the moment the report took: its now is known exactly enough.
    const asOf = Date.parse(r.period.asOf);
    if (to <= before) assert.equal(asOf, to, 'a period over is given as of its end');
    else assert.ok(asOf >= before && asOf <= after, 'a period not over is given as of now');
    const { asOf: _asOf, ...period } = r.period;
    const { definitions, ...figures } = r;
    assert.deepEqual(normalize({ ...figures, period }), normalize(tally(from, to, before)), `[${new Date(from).toISOString()}, ${new Date(to).toISOString()}) at ${new Date(before).toISOString()}`);
    assert.deepEqual(normalize(tally(from, to, after)), normalize(tally(from, to, before)), 'nothing turned on the instant of the report');
    for (const figure of [...Object.keys(r.requests).map((k) => `requests.${k}`), ...Object.keys(r.grants).map((k) => `grants.${k}`), ...Object.keys(r.leavers).map((k) => `leavers.${k}`), ...Object.keys(r.people[0] ?? {}).filter((k) => k !== 'user').map((k) => `people.${k}`)]) {
      assert.ok(definitions[figure]?.label && definitions[figure]?.means, `${figure} is labelled and defined`);
    }
    return r;
  };
  // Every period whose start or end falls exactly on a time of the history, or a millisecond after it.
  const edges = () => {
    const times = new Set<number>();
    for (const r of reqs.values()) for (const x of [r.createdAt, r.lapsesAt, r.approvedAt, r.deniedAt, r.revokedAt, r.startsAt, r.endsAt, ...r.approvals.map((a) => a.at)]) if (x !== null) times.add(x);
    for (const d of done) times.add(d.time);
    for (const c of lvrs.values()) for (const x of [c.filedAt, c.decidedAt]) if (x !== null) times.add(x);
    return [...times].sort((a, b) => a - b);
  };
  const checkAllEdges = async () => {
    const times = edges();
    const start = times[0];
    const end = times.at(-1)! + HOUR;
    let n = 0;
    for (const x of times) {
      for (const [from, to] of [[start, x], [start, x + 1], [x, end], [x + 1, end]]) if (from < to) (await report(from, to), n++);
    }
    return n;
  };

  const first = reqs.get(A)!.createdAt;
  const now = clock.now();

  // The issue's case: the period runs to the end of the day, C ends later today, after now.
  const today = await report(first, now + 10 * HOUR);
  assert.ok(reqs.get(C)!.endsAt! > now && reqs.get(C)!.endsAt! < now + 10 * HOUR, 'C ends inside the period, after now');
  assert.deepEqual(today.grants, { ended: 2, ranToExpiry: 1, revoked: 1, stillRunning: 2, notStarted: 1, medianHours: today.grants.medianHours, longest: { id: A, hours: 1 } });
  assert.deepEqual(today.requests, { filed: 8, approved: 5, denied: 1, lapsed: 0, pending: 1, withdrawn: 1 }, 'E lapses later today: still pending');
  const monaToday = today.people.find((p: any) => p.user === 'mona');
  assert.deepEqual([monaToday.exports, monaToday.downloads, monaToday.messagesExported, monaToday.messagesRead], [1, 2, 4, 1]);
  const monaExport = done.find((d) => d.who === 'mona' && d.op === 'export')!;
  assert.equal(monaToday.bytesExported, monaExport.bytes + 2 * raw.h1.length, 'bytes of exactly the messages counted as exported');
  assert.deepEqual(today.people.find((p: any) => p.user === 'rita'), { user: 'rita', searches: 2, messagesRead: 2, exports: 0, downloads: 1, messagesExported: 1, bytesExported: raw.o2.length, denied: 2 });
  assert.equal(today.outsideDateWindow.violations.length, 0);
  const olga = { mailbox: 'olga@corp.test', left: lvrs.get(L1)!.left, disposeFrom: lvrs.get(L1)!.disposeFrom, change: L1 };
  assert.deepEqual(today.leavers, {
    filed: 3, approved: 1, denied: 1, pending: 1, exemptionsFiled: 1, exemptionsApproved: 1, due: [], exempt: [{ ...olga, exemption: { change: X1, until: lvrs.get(X1)!.until } }],
  }, 'Olga is exempt now');
  assert.deepEqual((await report(first, lvrs.get(X1)!.decidedAt!)).leavers.due, [{ ...olga, exemption: null }], 'until her exemption was approved, Olga was due');
  // Its text and CSV say so in words.
  const text = reportText(today);
  assert.match(text, /States as of: \S+ \(now: the period has not ended\)/);
  assert.match(text, /Grants ended: 2 \(ran to expiry 1, revoked 1\); still running: 2; approved, not started: 1/);
  assert.match(text, new RegExp(`Longest grant ended: 1 h \\(${A}\\)`));
  assert.match(text, /mona: searches 1, messages opened 1, exports 1, raw downloads 2, messages exported 4, bytes exported \d+, refused attempts 0/);
  assert.match(text, /^Leaving dates filed: 3 \(approved 1, denied 1, pending 1\); Leaver exemptions filed: 1 \(approved 1\)$/m);
  assert.match(text, new RegExp(`^Leavers due for disposal: none; Leavers exempt: olga@corp\\.test \\(until ${lvrs.get(X1)!.until}\\)$`, 'm'));
  const csv = (await call('aud', 'GET', `/api/v1/oversight/report?from=${new Date(first).toISOString()}&to=${new Date(now + 10 * HOUR).toISOString()}&format=csv`)).body.toString();
  assert.match(csv, /^grants,stillRunning,2,"grants in force at the period's end \(or now\)/m);
  assert.match(csv, /^person,mona\.messagesExported,4,Messages exported\r$/m);
  assert.match(csv, /^leavers,pending,1,of the leaving dates filed: still waiting for a decision then\r$/m);
  assert.match(csv, new RegExp(`^leaver-exempt,olga@corp\\.test,${lvrs.get(X1)!.until},${X1}\r$`, 'm'));

  // The edges: the first filing exactly at `from` counts, a millisecond later it does not; the
  // last action just before `to` counts, exactly at `to` it does not.
  assert.equal((await report(first, now)).requests.filed, 8);
  assert.equal((await report(first + 1, now)).requests.filed, 7);
  const last = done.at(-1)!;
  assert.equal(last.op, 'breakglass.open');
  assert.equal((await report(first, last.time + 1)).highImpact.at(-1).index, last.index);
  assert.ok((await report(first, last.time)).highImpact.every((h: any) => h.index !== last.index));
  // A past period that ended while A still ran: A is still running in it, not ended.
  const midA = reqs.get(A)!.endsAt! - 1;
  const pastA = await report(first, midA);
  assert.equal(pastA.grants.ranToExpiry, 0);
  assert.equal((await report(first, reqs.get(A)!.endsAt! + 1)).grants.ranToExpiry, 1);

  const n1 = await checkAllEdges();

  // Later: C has run to expiry (now the longest), E has lapsed; D still ends after the period.
  clock.advance(5 * HOUR);
  const later = await report(first, clock.now() + HOUR);
  assert.deepEqual([later.grants.ended, later.grants.ranToExpiry, later.grants.stillRunning, later.grants.longest.id], [3, 2, 1, C]);
  assert.deepEqual([later.requests.pending, later.requests.lapsed], [0, 1]);
  const n2 = await checkAllEdges();
  assert.ok(n1 > 100 && n2 > 100, `${n1} and ${n2} periods checked`);

  // The enforcement figure counts what it must: A's window narrowed under the reads (as if it
  // had not held) puts o2, read under A, outside it.
  (world.archive.stores.meta as SqliteMetadataStore).db.prepare('UPDATE access_request SET date_to = ? WHERE id = ?').run(Date.parse('2025-02-01T00:00:00Z'), A);
  reqs.get(A)!.window.to = Date.parse('2025-02-01T00:00:00Z');
  const tampered = await report(first, clock.now());
  assert.deepEqual(tampered.outsideDateWindow.violations.map((v: any) => v.sha256), [sha.o2, sha.o2], 'the search hit and the raw download of o2');
  for (const [from, to] of [[first, clock.now()], [done.find((d) => d.op === 'raw')!.time, clock.now()], [first, done.find((d) => d.op === 'raw')!.time]]) await report(from, to);
});
