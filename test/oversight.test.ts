import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startWorld, waitForState } from './support/access-world.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { sealbox } from './support/sealbox.ts';
import { startWebhookSink } from './support/webhook-sink.ts';
import { isSampled } from '../src/oversight/review-sampler.ts';
import type { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';

// The sample's draw, written out here from its definition (sha256 of seed, NUL, grant id; the
// top 53 bits of the first 8 bytes as a fraction), to check the server's draw independently.
function drawn(seed: string, id: string, rate: number): boolean {
  const h = createHash('sha256').update(`${seed}\0${id}`).digest();
  return Number(h.readBigUInt64BE(0) >> 11n) / 2 ** 53 < rate;
}

test('the review sample is reproducible from its seed and hits its rate on a large history', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `req_${i.toString(36)}_${(i * 7919).toString(16)}`);
  for (const rate of [0.01, 0.1, 0.25]) {
    const picked = ids.filter((id) => isSampled('seed-one-abc', id, rate));
    assert.ok(Math.abs(picked.length / ids.length - rate) < Math.max(0.01, rate * 0.1), `rate ${rate}: ${picked.length} of ${ids.length}`);
    assert.deepEqual(ids.filter((id) => isSampled('seed-one-abc', id, rate)), picked, 'the same seed draws the same grants');
    assert.deepEqual(ids.filter((id) => drawn('seed-one-abc', id, rate)), picked, 'the draw is the documented one');
  }
  const other = ids.filter((id) => isSampled('another-seed', id, 0.1));
  const one = new Set(ids.filter((id) => isSampled('seed-one-abc', id, 0.1)));
  assert.ok(other.filter((id) => one.has(id)).length < other.length * 0.2, 'another seed draws other grants');
});

// A deterministic generator, so a failure can be replayed.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('oversight over a generated history: reports match an independent tally, the inventory is rebuilt from the ledger, the sample, self-review refused, alerts by mail and signed webhook, a tampered ledger alerted', { timeout: 600_000 }, async (t) => {
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const webhook = await startWebhookSink();
  t.after(() => webhook.close());
  const hooks = webhook.posts;
  const SEED = 'oversight-test-seed';
  const RATE = 0.3;

  const world = await startWorld({
    messages: {
      o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga two', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
      o3: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga three', date: 'Tue, 15 Apr 2025 10:00:00 +0000' },
      o4: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga four', date: 'Thu, 15 May 2025 10:00:00 +0000' },
      p1: { from: 'x@ext.test', to: 'pete@corp.test', subject: 'pete one', date: 'Mon, 10 Mar 2025 10:00:00 +0000' },
      p2: { from: 'x@ext.test', to: 'pete@corp.test', subject: 'pete two', date: 'Sun, 01 Jun 2025 10:00:00 +0000' },
      h1: { from: 'x@ext.test', to: 'hr@corp.test', subject: 'hr one', date: 'Fri, 14 Feb 2025 10:00:00 +0000' },
      h2: { from: 'x@ext.test', to: 'hr@corp.test', subject: 'hr two', date: 'Fri, 20 Jun 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'pete@corp.test': 'pete,,mona', 'hr@corp.test': 'hanna,hr' },
    users: {
      olga: ['owner'], pete: ['owner'], hanna: ['owner'],
      rita: ['requester', 'approver'], mona: ['requester'], bob: ['requester', 'breakglass'], bea: ['breakglass'],
      alan: ['approver'], amy: ['approver'], aud: ['auditor'],
    },
    access: { pendingLapseHours: 0.001 },
    config: {
      notify: { smtp: `127.0.0.1:${sink.port}`, from: 'sealbox@corp.test', webhooks: [{ url: webhook.url, secretFile: webhook.secretFile }], retrySeconds: 1 },
      oversight: { sampleRate: RATE, sampleSeed: SEED, alertMessagesPerGrant: 3, alertExtensions: 2, verifyEveryMinutes: 0.02, sweepSeconds: 0.2, auditorDigest: 'off', ownerDigest: 'off' },
    },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await as[who].call(method, path, body);
    assert.ok(r.status < 300, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };

  const from = Date.now();
  const rand = prng(20261124);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const mailboxOf: Record<string, string> = { olga: 'olga@corp.test', pete: 'pete@corp.test', hr: 'hr@corp.test' };
  const inside: Record<string, string[]> = { olga: ['o1', 'o2'], pete: ['p1'], hr: ['h1'] };      // 2025-01-01 … 2025-03-31
  const all: Record<string, string[]> = { olga: ['o1', 'o2', 'o3', 'o4'], pete: ['p1', 'p2'], hr: ['h1', 'h2'] };

  // The independent tally, kept as the history is made.
  const tally = {
    filed: 0, approved: 0, denied: 0, lapsed: 0, approveCalls: 0, exports: 0, breakglass: 0, readsChecked: 0,
    people: {} as Record<string, { searches: number; read: Set<string>; exports: number; messagesExported: number; bytesExported: number }>,
    heat: {} as Record<string, number>,
    tickets: {} as Record<string, string[]>,
    grants: [] as string[],
  };
  const person = (u: string) => (tally.people[u] ??= { searches: 0, read: new Set(), exports: 0, messagesExported: 0, bytesExported: 0 });
  const touch = (mailbox: string) => (tally.heat[mailboxOf[mailbox]] = (tally.heat[mailboxOf[mailbox]] ?? 0) + 1);
  let inventorySnapshot: any = null;
  let sampleActivity: { grant: string; who: string; viewed: string[] } | null = null;

  // Reads under a grant: a search, then views of what it found, maybe an export.
  const use = async (who: string, grant: string, box: string, windowed: boolean, exportToo: boolean) => {
    const found = (await api(who, 'GET', `/api/v1/search?q=body&grant=${grant}`)).body.results.map((h: any) => h.sha256) as string[];
    const expected = (windowed ? inside[box] : all[box]).map((k) => sha[k]).sort();
    assert.deepEqual([...found].sort(), expected, 'the search holds exactly the scope');
    person(who).searches++;
    tally.readsChecked += found.length;
    touch(box);
    const viewed = found.slice(0, 1 + Math.floor(rand() * found.length));
    for (const s of viewed) {
      await api(who, 'GET', `/api/v1/messages/${s}?grant=${grant}`);
      person(who).read.add(s);
      tally.readsChecked++;
      touch(box);
    }
    if (exportToo) {
      const r = await api(who, 'GET', `/api/v1/export?q=body&grant=${grant}`);
      person(who).exports++;
      person(who).messagesExported += Number(r.headers.get('x-sealbox-messages'));
      person(who).bytesExported += (r.body as Buffer).length;
      tally.exports++;
      tally.readsChecked += Number(r.headers.get('x-sealbox-messages'));
      touch(box);
    }
    return viewed;
  };

  const N = 150;
  for (let i = 0; i < N; i++) {
    const who = pick(['rita', 'mona', 'bob']);
    const box = pick(['olga', 'pete', 'hr']);
    const windowed = rand() < 0.5;
    const exportToo = rand() < 0.2;
    const ticket = i > 0 && rand() < 0.06 ? `INC-${i - 1}` : `INC-${i}`;
    const short = rand() < 0.25;
    const r = await api(who, 'POST', '/api/v1/requests', {
      purpose: 'legal-hold', justification: `case ${i}`, ticket, mailboxes: [mailboxOf[box]], permissions: exportToo ? ['search', 'read', 'export'] : ['search', 'read'],
      durationHours: short ? 0.0004 : 1, ...(windowed ? { dateFrom: '2025-01-01', dateTo: '2025-03-31' } : {}),
    });
    const id = r.body.id as string;
    tally.filed++;
    (tally.tickets[ticket] ??= []).push(id);
    const fate = rand();
    if (fate < 0.15) {
      await api(pick(['alan', 'amy']), 'POST', `/api/v1/requests/${id}/deny`, { reason: 'not proportionate' });
      tally.denied++;
      continue;
    }
    if (fate < 0.27) {
      tally.lapsed++;   // left alone: it lapses
      continue;
    }
    await api(who === 'rita' ? 'alan' : pick(['alan', 'amy', 'rita']), 'POST', `/api/v1/requests/${id}/approve`, { reason: 'ok' });
    tally.approved++;
    tally.approveCalls++;
    tally.grants.push(id);
    if (!short) {
      const viewed = await use(who, id, box, windowed, exportToo);
      if (rand() < 0.85) {
        await api(who, 'POST', `/api/v1/requests/${id}/revoke`, { reason: 'done' });
        if (!sampleActivity && drawn(SEED, id, RATE)) sampleActivity = { grant: id, who, viewed };
      }
    }
    if (i === Math.floor(N / 2)) {
      // Role changes and a disabled account count for the inventory (and are high impact).
      // Break-glass, which reads alone, is filed when an admin gives it; rita (an approver adm
      // made: linked people are off here) applies it, and mona signs in again to hold it.
      const given = await api('adm', 'POST', '/api/v1/users/mona/roles', { roles: ['requester', 'breakglass'] });
      await api('rita', 'POST', `/api/v1/role-changes/${given.body.filed[0].change}/approve`, { reason: 'the on-call rota' });
      assert.equal((await as.mona.signIn('mona', world.passwords.mona!)).status, 200);
      await api('adm', 'POST', '/api/v1/users/bea/disable', { disabled: true, reason: 'left the company' });
      await api('rita', 'POST', '/api/v1/tokens', { name: 'automation', scopes: ['content'], days: 30 });
      inventorySnapshot = (await api('aud', 'GET', '/api/v1/oversight/inventory')).body;
      assert.ok(inventorySnapshot.grants.length > 0, 'some grants are active mid-history');
      await api('adm', 'POST', '/api/v1/users/bea/disable', { disabled: false, reason: 'rehired' });
    }
  }

  // Break-glass uses by bob, two of them reviewed by the auditor.
  const bg: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await api('bob', 'POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: `phish ${i}`, mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 0.25 });
    bg.push(r.body.id);
    tally.breakglass++;
    const found = (await api('bob', 'GET', `/api/v1/search?q=body&grant=${r.body.id}`)).body.results;
    assert.equal(found.length, 4);
    person('bob').searches++;
    tally.readsChecked += found.length;
    touch('olga');
    await api('bob', 'POST', `/api/v1/requests/${r.body.id}/revoke`, {});
  }
  for (const id of bg.slice(0, 2)) {
    await api('aud', 'POST', `/api/v1/reviews/rev_${id}/claim`, {});
    await api('aud', 'POST', `/api/v1/reviews/rev_${id}/review`, { note: 'incident confirmed, proportionate' });
  }

  // Alert material: a grant that reads 4 messages (volume), rita extending twice (extensions),
  // mona — pete's manager — reading his mailbox (manager), and hr (sensitive) read above.
  const vol = (await api('mona', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'volume', ticket: 'VOL-1', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).body.id;
  await api('alan', 'POST', `/api/v1/requests/${vol}/approve`, { reason: 'ok' });
  tally.filed++; tally.approved++; tally.approveCalls++; tally.grants.push(vol);
  (tally.tickets['VOL-1'] ??= []).push(vol);
  person('mona').searches++;
  touch('olga');
  assert.equal((await api('mona', 'GET', `/api/v1/search?q=body&grant=${vol}`)).body.results.length, all.olga.length);
  tally.readsChecked += all.olga.length;
  for (const k of all.olga) {
    await api('mona', 'GET', `/api/v1/messages/${sha[k]}?grant=${vol}`);
    person('mona').read.add(sha[k]);
    tally.readsChecked++;
    touch('olga');
  }
  const mgr = (await api('mona', 'POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'manager looks', ticket: 'MGR-1', mailboxes: ['pete@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).body.id;
  await api('amy', 'POST', `/api/v1/requests/${mgr}/approve`, { reason: 'ok' });
  tally.filed++; tally.approved++; tally.approveCalls++; tally.grants.push(mgr);
  (tally.tickets['MGR-1'] ??= []).push(mgr);
  assert.equal((await api('mona', 'GET', `/api/v1/search?q=body&grant=${mgr}`)).body.results.length, all.pete.length);
  person('mona').searches++;
  tally.readsChecked += all.pete.length;
  touch('pete');
  let prior = '';
  for (let i = 0; i < 3; i++) {
    const r = (await api('rita', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: `ext ${i}`, ticket: `EXT-${i}`, mailboxes: ['olga@corp.test'], permissions: ['search'], durationHours: 1, ...(prior ? { extends: prior } : {}) })).body.id;
    await api('alan', 'POST', `/api/v1/requests/${r}/approve`, { reason: 'ok' });
    tally.filed++; tally.approved++; tally.approveCalls++; tally.grants.push(r);
    (tally.tickets[`EXT-${i}`] ??= []).push(r);
    prior = r;
  }
  const lastExtension = prior;

  // Everything pending has lapsed and every short grant has run out; then the report.
  const lapsedIds = (await api('aud', 'GET', '/api/v1/requests')).body.requests.filter((r: any) => !r.breakglass && r.approvals.length === 0 && r.state !== 'revoked').map((r: any) => r.id);
  for (const id of lapsedIds) await waitForState(world.as.aud, id, 'lapsed');
  const requests = (await api('aud', 'GET', '/api/v1/requests')).body.requests as any[];
  const shortOnes = requests.filter((r) => !r.breakglass && r.endsAt && r.revokedAt === null && Date.parse(r.endsAt) - Date.parse(r.startsAt) < 10_000);
  for (const r of shortOnes) await waitForState(world.as.aud, r.id, 'expired');
  // The period is over before it is reported on, so the API and the command line, asked at
  // different moments, both give it as of its end.
  const to = Date.now() + 1;
  await waitUntil('the period is over', () => Date.now() > to, { intervalMs: 1 });

  const report = (await api('aud', 'GET', `/api/v1/oversight/report?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)).body;
  const byId = new Map(((await api('aud', 'GET', '/api/v1/requests')).body.requests as any[]).map((r) => [r.id, r]));
  assert.deepEqual(report.requests, { filed: tally.filed, approved: tally.approved, denied: tally.denied, lapsed: tally.lapsed, pending: 0, withdrawn: 0 });
  // Grant endings, from each grant's own times as the API shows them.
  const ended = tally.grants.map((id) => byId.get(id)).filter((r) => r.revokedAt !== null || Date.parse(r.endsAt) < to);
  const hours = ended.map((r) => ((r.revokedAt ? Date.parse(r.revokedAt) : Date.parse(r.endsAt)) - Date.parse(r.startsAt)) / 3_600_000).sort((a, b) => a - b);
  assert.equal(report.period.asOf, new Date(to).toISOString(), 'the period is over: as of its end');
  assert.equal(report.grants.ended, ended.length);
  assert.equal(report.grants.revoked, ended.filter((r) => r.revokedAt !== null).length);
  assert.equal(report.grants.ranToExpiry, ended.filter((r) => r.revokedAt === null).length);
  // The hour-long grants not revoked (volume, manager, the extensions …) outlast the period.
  assert.equal(report.grants.stillRunning, tally.grants.length - ended.length);
  assert.equal(report.grants.notStarted, 0);
  const mid = hours.length >> 1;
  assert.ok(Math.abs(report.grants.medianHours - (hours.length % 2 ? hours[mid] : (hours[mid - 1] + hours[mid]) / 2)) < 1e-9);
  assert.ok(Math.abs(report.grants.longest.hours - hours.at(-1)!) < 1e-9);
  assert.deepEqual({ uses: report.breakglass.uses, reviewed: report.breakglass.reviewed, escalated: report.breakglass.escalated, awaiting: report.breakglass.awaitingReview }, { uses: 4, reviewed: 2, escalated: 0, awaiting: 2 });
  assert.deepEqual(report.tickets.withoutTicket, []);
  const reused = Object.entries(tally.tickets).filter(([, ids]) => ids.length > 1).map(([ticket, ids]) => ({ ticket, requests: [...ids].sort() }));
  assert.ok(reused.length > 0, 'the history reuses some tickets');
  assert.deepEqual(report.tickets.reused.map((x: any) => ({ ticket: x.ticket, requests: [...x.requests].sort() })).sort((a: any, b: any) => a.ticket.localeCompare(b.ticket)), reused.sort((a, b) => a.ticket.localeCompare(b.ticket)));
  for (const [user, p] of Object.entries(tally.people)) {
    const got = report.people.find((x: any) => x.user === user);
    assert.deepEqual({ searches: got.searches, messagesRead: got.messagesRead, exports: got.exports, downloads: got.downloads, messagesExported: got.messagesExported, bytesExported: got.bytesExported },
      { searches: p.searches, messagesRead: p.read.size, exports: p.exports, downloads: 0, messagesExported: p.messagesExported, bytesExported: p.bytesExported }, user);
  }
  assert.deepEqual(report.outsideDateWindow, { readsChecked: tally.readsChecked, violations: [] }, 'no message was read outside its grant\'s date window');
  const ops = (report.highImpact as any[]).reduce((m: Record<string, number>, h) => ({ ...m, [h.operation]: (m[h.operation] ?? 0) + 1 }), {});
  assert.deepEqual(ops, { 'request.approve': tally.approveCalls, export: tally.exports, 'breakglass.open': tally.breakglass, 'token.create': 1, 'user.roles': 1, 'user.role.approve': 1, 'user.disable': 1, 'user.enable': 1 });
  const heat = Object.fromEntries((report.heatMap.mailboxes as any[]).map((m) => [m.mailbox, m.counts.reduce((a: number, b: number) => a + b, 0)]));
  assert.deepEqual(heat, tally.heat);
  const hr = report.sensitiveAccess.find((s: any) => s.mailbox === 'hr@corp.test');
  assert.equal(hr.accesses, tally.heat['hr@corp.test']);
  const csv = await as.aud.call('GET', `/api/v1/oversight/report?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&format=csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.body.toString(), new RegExp(`^requests,filed,${tally.filed},`, 'm'));
  assert.match(csv.body.toString(), /^enforcement,outsideDateWindow,0,/m);
  assert.equal((await as.rita.call('GET', '/api/v1/oversight/report')).status, 403, 'reports are for auditors');
  // The same report on the command line, with an auditor's ledger-scoped token.
  const audToken = (await api('aud', 'POST', '/api/v1/tokens', { name: 'reports', scopes: ['ledger'], days: 1 })).body.token;
  const cli = await sealbox(['report', '--data', world.server.data, '--config', world.config, '--token', audToken, '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '--format', 'json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(JSON.parse(cli.stdout.toString()), report);
  const text = await sealbox(['report', '--data', world.server.data, '--config', world.config, '--token', audToken, '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString()]);
  assert.match(text.stdout.toString(), new RegExp(`Requests filed: ${tally.filed} \\(approved ${tally.approved}, denied ${tally.denied}, lapsed ${tally.lapsed}`));
  const ritaToken = (await api('rita', 'POST', '/api/v1/tokens', { name: 'mine', scopes: ['ledger'], days: 1 })).body.token;
  const refusedCli = await sealbox(['report', '--data', world.server.data, '--config', world.config, '--token', ritaToken]);
  assert.notEqual(refusedCli.code, 0);
  assert.match(refusedCli.stderr, /only auditors/);
  const badCli = await sealbox(['report', '--data', world.server.data, '--config', world.config, '--token', audToken, '--from', 'yesterday']);
  assert.notEqual(badCli.code, 0);
  assert.match(badCli.stderr, /--from "yesterday" is not an ISO date/);

  // The inventory of mid-history, rebuilt from the ledger alone, is the one taken live then.
  const rebuilt = (await api('aud', 'GET', `/api/v1/oversight/inventory?at=${new Date(inventorySnapshot.at).toISOString()}`)).body;
  const strip = (inv: any) => ({ grants: inv.grants.map(({ secondsLeft: _s, ...g }: any) => g), breakglassHolders: inv.breakglassHolders, owners: inv.owners, contentTokens: inv.contentTokens });
  assert.deepEqual(strip(rebuilt), strip(inventorySnapshot));
  const invCli = await sealbox(['inventory', '--data', world.server.data, '--config', world.config, '--token', audToken, '--json', '--at', new Date(inventorySnapshot.at).toISOString()]);
  assert.equal(invCli.code, 0, invCli.stderr);
  assert.deepEqual(strip(JSON.parse(invCli.stdout.toString())), strip(inventorySnapshot));
  assert.deepEqual(inventorySnapshot.breakglassHolders, ['bob', 'mona'], 'bea was disabled then');
  assert.deepEqual((await api('aud', 'GET', '/api/v1/oversight/inventory')).body.breakglassHolders, ['bea', 'bob', 'mona']);
  assert.equal(inventorySnapshot.contentTokens.length, 1);

  // The sample: exactly the closed grants the seed draws.
  const closed = tally.grants.map((id) => byId.get(id)).filter((r) => r.revokedAt !== null || Date.parse(r.endsAt) < Date.now()).map((r) => r.id);
  const expectedSample = closed.filter((id) => drawn(SEED, id, RATE)).sort();
  assert.ok(expectedSample.length > 0 && expectedSample.length < closed.length);
  let sample: any[] = [];
  await waitUntil('the sweep samples the closed grants', async () => (sample = (await api('aud', 'GET', '/api/v1/reviews?kind=sample')).body.reviews).length >= expectedSample.length,
    { timeoutMs: 60_000, detail: () => JSON.stringify(sample.map((i) => i.requestId)) });
  assert.deepEqual(sample.map((i: any) => i.requestId).sort(), expectedSample);

  // A reviewer sees the grant's activity in metadata form; the person reviewed cannot review.
  assert.ok(sampleActivity, 'the history holds a sampled grant with reads');
  const item = (await api('aud', 'GET', `/api/v1/reviews/rev_sample_${sampleActivity!.grant}`)).body;
  assert.equal(item.subject, sampleActivity!.who);
  assert.ok(item.activity.some((e: any) => e.operation === 'search' && e.query), 'the queries are shown');
  assert.deepEqual(item.activity.filter((e: any) => e.operation === 'view').map((e: any) => e.messages[0]).sort(), [...sampleActivity!.viewed].sort());
  assert.ok(!JSON.stringify(item).includes('body text'), 'no content');

  // Alerts: by mail to the auditors and by signed webhook, one per rule and subject.
  const waitFor = (what: string, ok: () => boolean) => waitUntil(what, ok, { timeoutMs: 60_000, detail: () => world.server.stderr().slice(-3000) });
  const mailed = (rule: string) => sink.inbox.filter((m) => m.data.includes(`X-Sealbox-Event: alert.${rule}`));
  const hooked = (rule: string) => hooks.filter((h) => JSON.parse(h.body).kind === `alert.${rule}`);
  for (const rule of ['breakglass', 'sensitive-mailbox', 'volume', 'extensions', 'manager']) {
    await waitFor(`alert ${rule}`, () => mailed(rule).length > 0 && hooked(rule).length > 0);
    await waitFor(`alert ${rule} to aud`, () => mailed(rule).some((m) => m.to.includes('aud@corp.test')));
    assert.ok(mailed(rule).every((m) => m.to.every((a) => a === 'aud@corp.test' || a === 'ledger-watch@corp.test')), `${rule} goes to the auditors only`);
  }
  assert.equal(hooked('breakglass').length, 4, 'one break-glass alert per use');
  assert.ok(hooked('volume').some((h) => JSON.parse(h.body).text.includes(vol)), 'the grant that read 4 messages is alerted');
  assert.equal(new Set(hooked('volume').map((h) => JSON.parse(h.body).text)).size, hooked('volume').length, 'once per grant');
  assert.match(JSON.parse(hooked('manager')[0].body).text, /mona, the manager of its owner pete/);
  assert.match(JSON.parse(hooked('extensions')[0].body).text, new RegExp(lastExtension));
  for (const h of hooks) assert.ok(webhook.signedOk(h), 'webhook signature verifies');
  // The extension alert is about rita: she may not review it, and the refusal is recorded.
  const ext = (await api('aud', 'GET', '/api/v1/reviews?kind=alert')).body.reviews.find((i: any) => i.id.startsWith('rev_alert_extensions:'));
  assert.equal(ext.subject, 'rita');
  const refused = await as.rita.call('POST', `/api/v1/reviews/${ext.id}/claim`, {});
  assert.equal(refused.status, 403);
  assert.match(refused.body.error.message, /own actions/);
  // Each alert raised is in the ledger too, naming the entry that raised it.
  const raised = (await world.takeAll()).filter((e) => e.actor === 'system:oversight' && e.operation === 'alert.raise').flatMap((e) => e.parameters.alerts as any[]);
  assert.deepEqual([...new Set(raised.map((a) => a.rule))].sort(), ['breakglass', 'extensions', 'manager', 'sensitive-mailbox', 'volume']);
  assert.ok(raised.some((a) => a.rule === 'extensions' && a.grantId === lastExtension && Number.isInteger(a.ledgerIndex)));
  await api('alan', 'POST', `/api/v1/reviews/${ext.id}/claim`, {});
  await api('alan', 'POST', `/api/v1/reviews/${ext.id}/escalate`, { note: 'three extensions: ask legal' });
  await api('aud', 'POST', `/api/v1/reviews/${ext.id}/close`, { note: 'legal confirmed' });
  assert.equal((await as.alan.call('POST', `/api/v1/reviews/${ext.id}/close`, { note: 'again' })).status, 409);
  await api('aud', 'POST', `/api/v1/reviews/${ext.id}/reopen`, { note: 'new facts' });
  const steps = (await world.takeAll()).filter((e) => e.operation.startsWith('review.') && e.parameters.review === ext.id);
  assert.deepEqual(steps.map((e) => [e.actor, e.operation, e.result, e.parameters.to ?? null]), [
    ['user:alan', 'review.claim', 'success', 'claimed'], ['user:alan', 'review.escalate', 'success', 'escalated'],
    ['user:aud', 'review.close', 'success', 'closed'], ['user:alan', 'review.close', 'denied', null], ['user:aud', 'review.reopen', 'success', 'open'],
  ]);
  assert.equal(steps[1].parameters.note, 'three extensions: ask legal');

  // Until now the tables and the ledger agreed on who can read what all along: no verify alert.
  assert.equal(hooked('verify-failure').length, 0, 'no verification failure during the history');
  const db = new DatabaseSync(join(world.server.data, 'sealbox.db'));
  db.exec('PRAGMA busy_timeout = 10000');
  const alerted = (pattern: RegExp) => hooked('verify-failure').some((h) => pattern.test(JSON.parse(h.body).text));
  // An owner given in the database, past the ledger, is caught by the background verification.
  assert.equal(Number(db.prepare("UPDATE mailbox SET owner = 'alan' WHERE name = 'olga@corp.test'").run().changes), 1);
  await waitFor('alert: access state', () => alerted(/access state: owner of mailbox olga@corp\.test in the database differs from the ledger/));
  // A ledger changed under the server likewise.
  assert.equal(Number(db.prepare("UPDATE ledger SET leaf = leaf || X'20' WHERE idx = 10").run().changes), 1);
  db.close();
  await waitFor('alert verify-failure', () => mailed('verify-failure').length > 0 && alerted(/leaf bytes do not match/));
});

test('digests: the auditors daily, each owner as their mailbox policy allows (delayed, or never)', { timeout: 300_000 }, async () => {
  const world = await startWorld({
    messages: {
      o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      p1: { from: 'x@ext.test', to: 'pete@corp.test', subject: 'pete one', date: 'Mon, 10 Mar 2025 10:00:00 +0000' },
      h1: { from: 'x@ext.test', to: 'hanna@corp.test', subject: 'hanna one', date: 'Fri, 14 Feb 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'pete@corp.test': 'pete', 'hanna@corp.test': 'hanna' },
    users: { olga: ['owner'], pete: ['owner'], hanna: ['owner'], rita: ['requester'], alan: ['approver'], aud: ['auditor'] },
    config: { oversight: { auditorDigest: 'off', ownerDigest: 'off' } },
  });
  let stopped = false;
  try {
    const { as, sha } = world;
    assert.equal((await as.adm.call('POST', '/api/v1/mailboxes/pete@corp.test/policy', { notifyMode: 'after', notifyAfterDays: 3 })).status, 200);
    assert.equal((await as.adm.call('POST', '/api/v1/mailboxes/hanna@corp.test/policy', { notifyMode: 'none', legalBasis: 'covert investigation, works agreement §4' })).status, 200);
    const from = Date.now();
    for (const [box, key] of [['olga', 'o1'], ['pete', 'p1'], ['hanna', 'h1']] as const) {
      const r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: `hold ${box}`, ticket: `LH-${box}`, mailboxes: [`${box}@corp.test`], permissions: ['search', 'read'], durationHours: 1 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((await as.alan.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'ok' })).status, 200);
      assert.equal((await as.rita.call('GET', `/api/v1/messages/${sha[key]}?grant=${r.body.id}`)).status, 200);
    }
    await world.stop();
    stopped = true;

    // The sweep in this process, on the same data, with a clock the test moves.
    const { loadConfig } = await import('../src/core/config.ts');
    const { openArchive } = await import('../src/archive.ts');
    const { OversightSweep } = await import('../src/oversight/oversight-sweep.ts');
    const { pino } = await import('pino');
    const config = loadConfig(world.config, { data: world.server.data });
    let now = from - 60_000;
    const clock = { now: () => now };
    const archive = await openArchive(config, 'console', { clock });
    const { stores, services: s } = archive;
    const sweep = new OversightSweep({
      ...s.oversightStores, grants: s.grants, people: s.people, leavers: s.leavers, audit: s.audit, notifier: s.notifier, reviews: s.reviews, clock, log: pino({ level: 'silent' }),
      config: { ...config.oversight, auditorDigest: 'daily', ownerDigest: 'daily' }, verifyLedger: async () => [], sampleSeed: () => 'digest-test-seed',
    });
    const digests = () => (stores.meta as SqliteMetadataStore).db.prepare("SELECT kind, recipient, body FROM notification WHERE kind LIKE 'digest.%' ORDER BY id").all() as { kind: string; recipient: string; body: string }[];
    try {
      await sweep.run();
      assert.deepEqual(digests(), [], 'the first period starts now');
      now = from + 86_400_000;
      await sweep.run();
      const day1 = digests();
      const auditors = day1.filter((d) => d.kind === 'digest.auditors');
      assert.deepEqual(auditors.map((d) => d.recipient).sort(), ['aud@corp.test', 'ledger-watch@corp.test']);
      assert.match(auditors[0].body, /Requests filed: 3 \(approved 3, denied 0/);
      assert.match(auditors[0].body, /Review queue: \d+ item/);
      assert.match(auditors[0].body, /Outside their grant's date window: 0 of 3 messages checked/);
      assert.match(auditors[0].body, /rita: searches 0, messages opened 3, exports 0, raw downloads 0, messages exported 0, bytes exported 0, refused attempts 0/);
      assert.match(auditors[0].body, /Grants ended: 3 \(ran to expiry 3, revoked 0\); still running: 0/);
      const owners = day1.filter((d) => d.kind === 'digest.owner');
      assert.deepEqual(owners.map((d) => d.recipient), ['olga@corp.test'], 'pete is told after 3 days; hanna, under "none", never');
      assert.match(owners[0].body, /rita {2}view \(1 message\(s\)\) {2}mailbox olga@corp\.test {2}request req_\S+, purpose Legal hold, ticket LH-olga/);
      assert.ok(!owners[0].body.includes('pete') && !owners[0].body.includes('hanna'), 'only her own mailbox');
      now = from + 4 * 86_400_000 + 60_000;
      await sweep.run();
      const later = digests().slice(day1.length).filter((d) => d.kind === 'digest.owner');
      assert.deepEqual(later.map((d) => d.recipient), ['pete@corp.test']);
      assert.match(later[0].body, /ticket LH-pete/);
      assert.ok(!digests().some((d) => d.recipient === 'hanna@corp.test'));
    } finally {
      await sweep.stop();
      archive.close();
    }
  } finally {
    if (!stopped) await world.stop();
  }
});
