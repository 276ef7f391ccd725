// Retention, legal holds and disposal together, with a moved clock (issue 15): mail kept a year is
// disposed of on day 366 and not on day 365; a legal hold keeps what it covers past its retention,
// and only until a release that someone other than the one who asked for it approves; its
// custodian is told and acknowledges. Everything said here is checked in the ledger too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WATCHER } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';

const DAY = 86_400_000;
// A year's retention; disposal and the oversight sweeps run only when a test says so.
const YEAR_BY_HAND = { retention: { defaultDays: 365, disposeEveryHours: 0 }, oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } };

test('a year of retention ends on day 366; a legal hold keeps its mail until a release someone else approves', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      lunch: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'lunch menu', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      merger: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
      bobs: { from: 'x@ext.test', to: 'bob@corp.test', subject: 'merger terms for bob', date: 'Fri, 17 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob' },
    users: { olga: ['owner'], bob: ['owner'], both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: YEAR_BY_HAND,
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const { disposal } = archive.services;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // A hold on Olga's merger mail (not Bob's, not her lunch).
  await call('adm', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['nobody@corp.test'] }, 400);
  const bad = await call('adm', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: '(merger' }, 400);
  assert.equal(bad.error.code, 'SEALBOX_ERR_QUERY', 'a query the language refuses is refused with the hold');
  await call('olga', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'] }, 403);
  const hold = await call('adm', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: 'merger' });
  assert.equal(hold.state, 'on');
  const told = await call('olga', 'GET', '/api/v1/me/notifications');
  assert.ok(JSON.stringify(told).includes(`legal hold ${hold.id}`), `olga is told: ${JSON.stringify(told)}`);
  await call('bob', 'POST', `/api/v1/holds/${hold.id}/acknowledge`, undefined, 404);
  // Olga's own list of the holds on her mailboxes (the web app's acknowledgement); Bob has none.
  const mine = (await call('olga', 'GET', '/api/v1/holds/mine')).holds;
  assert.deepEqual(mine.map((h: any) => [h.id, h.name, h.matter, h.mailboxes, h.state, h.notified, h.acknowledgedAt]), [[hold.id, 'Merger', 'LEG-7', ['olga@corp.test'], 'on', true, null]]);
  assert.deepEqual((await call('bob', 'GET', '/api/v1/holds/mine')).holds, []);
  await call('olga', 'POST', `/api/v1/holds/${hold.id}/acknowledge`);
  assert.notEqual((await call('olga', 'GET', '/api/v1/holds/mine')).holds[0].acknowledgedAt, null, 'acknowledged');
  const listed = await call('aud', 'GET', '/api/v1/holds');
  assert.deepEqual(listed.holds.map((h: any) => [h.id, h.state, h.custodians, h.query, h.notices.map((n: any) => [n.owner, n.acknowledgedAt !== null])]),
    [[hold.id, 'on', ['olga@corp.test'], 'merger', [['olga', true]]]]);

  // Day 365: nothing is due. Day 366: what no hold covers goes.
  const captured = await archive.stores.meta.read(async (tx) => Promise.all(Object.values(sha).map(async (s) => (await archive.stores.meta.getMessage(tx, s))!.firstSeen)));
  const lastUntil = Math.max(...captured) + 365 * DAY;
  clock.advance(Math.min(...captured) + 365 * DAY - 60_000 - clock.now());
  assert.deepEqual((await disposal.plan()).due, [], 'day 365: nothing is due');
  clock.advance(lastUntil + 60_000 - clock.now());
  const first = await disposal.run();
  assert.deepEqual(first.plan.due.map((d) => d.sha256).sort(), [sha.lunch, sha.bobs].sort(), 'day 366: the mail no hold covers');
  assert.deepEqual(first.plan.held, [{ sha256: sha.merger, holds: [hold.id] }]);
  assert.deepEqual(first.outcomes.map((o) => [o.disposed.length, o.failed]), [[2, []]]);
  for (const who of ['olga', 'bob', 'both', 'appr', 'aud', 'adm', WATCHER]) assert.equal((await as[who].signIn(who, world.passwords[who])).status, 200, `${who} signs in again`);   // a year on: sessions ended
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.lunch}`)).status, 410);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.merger}`)).status, 200, 'held past its retention');

  // Releasing: asked for by one, refused to the same person, approved by another.
  const release = await call('both', 'POST', `/api/v1/holds/${hold.id}/release`, { reason: 'settled' });
  assert.equal(release.state, 'pending');
  const self = await call('both', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'ok' }, 403);
  assert.match(self.error.message, /no one approves the release of a hold they asked to release/);
  await call('olga', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'ok' }, 403);
  assert.equal((await disposal.run()).plan.held.length, 1, 'still held while the release waits');
  await call('appr', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'the matter is settled' });
  await call('appr', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'again' }, 409);
  const after = await disposal.run();
  assert.deepEqual([after.plan.due.map((d) => d.sha256), after.plan.held], [[sha.merger], []], 'released: it follows retention again');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.merger}`)).status, 410);

  // The oversight report counts it.
  const report = await call('aud', 'GET', `/api/v1/oversight/report?from=${new Date(clock.now() - 400 * DAY).toISOString()}&to=${new Date(clock.now() + 60_000).toISOString()}`);
  assert.deepEqual(report.retention, { messagesDisposed: 3, disposeEntries: 2, holdsPlaced: 1, holdsReleased: 1, shortened: 0 });
  assert.ok(report.definitions['retention.messagesDisposed'].means);

  // The ledger tells it all, refusals included.
  const entries = await world.takeAll();
  const said = (op: string, result = 'success') => entries.filter((e) => e.operation === op && e.result === result);
  assert.equal(said('hold.place').length, 1);
  assert.equal(said('hold.place', 'denied').length >= 2, true, 'the refused placements');
  assert.deepEqual(said('hold.release.approve', 'denied').map((e) => e.actor).sort(), ['user:appr', 'user:both', 'user:olga'], 'the self-approval, a non-approver, a second approval');
  assert.deepEqual(said('hold.release.approve').map((e) => e.actor), ['user:appr']);
  assert.deepEqual(said('hold.acknowledge').map((e) => e.actor), ['user:olga']);
  assert.deepEqual(said('dispose').map((e) => [e.actor, e.objects.messages.length, e.parameters.policy]), [['system:retention', 2, 'retention.defaultDays'], ['system:retention', 1, 'retention.defaultDays']]);
});

// A hold that keeps more expired mail than one plan takes (`limit`) does not stall disposal: the
// plan reads past what is held until it has its fill of what may go, or there is no more.
test('mail past retention that no hold covers goes, however much held mail expired before it', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      first: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      second: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms two', date: 'Wed, 15 Jan 2025 11:00:00 +0000' },
      third: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms three', date: 'Wed, 15 Jan 2025 12:00:00 +0000' },
      lunch: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'lunch menu', date: 'Wed, 15 Jan 2025 13:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'] },
    config: YEAR_BY_HAND,
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const hold = await as.adm.call('POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-8', custodians: ['olga@corp.test'], query: 'merger' });
  assert.equal(hold.status, 200, JSON.stringify(hold.body));
  const captured = await archive.stores.meta.read(async (tx) => Promise.all(Object.values(sha).map(async (s) => (await archive.stores.meta.getMessage(tx, s))!.firstSeen)));
  clock.advance(Math.max(...captured) + 366 * DAY - clock.now());
  // The held mail expired first (it came first): two at a time, the plan reads past all three.
  const { plan, outcomes } = await archive.services.disposal.run(undefined, 2);
  assert.deepEqual(plan.due.map((d) => d.sha256), [sha.lunch], 'the lunch menu goes');
  assert.deepEqual(plan.held.map((h) => h.sha256), [sha.first, sha.second], 'held, listed up to the limit, the longest expired first');
  assert.deepEqual(outcomes.map((o) => o.disposed), [[sha.lunch]]);
  assert.deepEqual((await archive.services.disposal.plan(2)).due, [], 'nothing else is due');
});

// A run remembers where the held mail at the head of the expired list ends and reads on from
// there (a hold over a million expired messages was asked about all of them every run); mail that
// expires later is still found, a preview still lists everything held, and a change to the holds
// or to their custodians' addresses makes the next run read it all again.
test('a run reads on after the held mail the last run found, and from the start once the holds change', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      first: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      second: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms two', date: 'Wed, 15 Jan 2025 11:00:00 +0000' },
      lunch: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'lunch menu', date: 'Wed, 15 Jan 2025 13:00:00 +0000' },
      bobs: { from: 'x@ext.test', to: 'bob@corp.test', subject: 'merger terms for bob', date: 'Wed, 15 Jan 2025 14:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob' },
    users: { olga: ['owner'], bob: ['owner'] },
    config: YEAR_BY_HAND,
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const disposal = archive.services.disposal;
  const hold = await as.adm.call('POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-9', custodians: ['olga@corp.test'], query: 'merger' });
  assert.equal(hold.status, 200, JSON.stringify(hold.body));
  const firstSeen = async (s: string) => archive.stores.meta.read(async (tx) => (await archive.stores.meta.getMessage(tx, s))!.firstSeen);
  // Mail that came three days after the rest, so expires three days later.
  clock.advance(3 * DAY);
  const later = Buffer.from('From: x@ext.test\r\nTo: olga@corp.test\r\nSubject: quarterly numbers\r\nDate: Sat, 18 Jan 2025 09:00:00 +0000\r\nMessage-ID: <later@ext.test>\r\n\r\nnumbers\r\n');
  const { result } = await world.deliver({ from: 'x@ext.test', to: ['olga@corp.test'] }, later);
  clock.advance(Math.max(...await Promise.all(Object.values(sha).map(firstSeen))) + 366 * DAY - clock.now());

  const one = await disposal.run();
  assert.equal(one.plan.heldUpTo, null, 'the first run reads from the start');
  assert.deepEqual(one.plan.held.map((h) => h.sha256), [sha.first, sha.second]);
  assert.deepEqual(one.plan.due.map((d) => d.sha256).sort(), [sha.lunch, sha.bobs].sort());

  // The later mail expired since: the next run starts after the held mail and finds it.
  clock.advance(await firstSeen(result.sha256) + 366 * DAY - clock.now());
  const two = await disposal.run();
  assert.equal(two.plan.heldUpTo, (await firstSeen(sha.second)) + 365 * DAY, 'read on after the second held message');
  assert.deepEqual(two.plan.held, [], 'the held mail is not asked about again');
  assert.deepEqual(two.plan.due.map((d) => d.sha256), [result.sha256]);
  assert.deepEqual(two.outcomes.map((o) => o.disposed), [[result.sha256]]);
  const preview = await disposal.plan();
  assert.deepEqual(preview.held.map((h) => h.sha256), [sha.first, sha.second], 'a preview lists everything held');
  assert.equal(preview.heldUpTo, null);

  // A second hold: the holds in force changed, so the next run reads everything again.
  assert.equal((await as.adm.signIn('adm', world.passwords.adm!)).status, 200, 'a year on: signed in again');
  const other = await as.adm.call('POST', '/api/v1/holds', { name: 'Other', matter: 'LEG-10', custodians: ['bob@corp.test'] });
  assert.equal(other.status, 200, JSON.stringify(other.body));
  const three = await disposal.run();
  assert.equal(three.plan.heldUpTo, null);
  assert.deepEqual(three.plan.held.map((h) => h.sha256), [sha.first, sha.second]);
  assert.equal((await disposal.run()).plan.heldUpTo, (await firstSeen(sha.second)) + 365 * DAY, 'and reads on again after that');
});

// A hold covers its custodians' mail by their mailboxes' addresses. Moving an address to another
// mailbox would take its mail out of the hold, and disposal would then take it: one admin letting
// held evidence go. The move waits for someone else's approval, and the mail stays held meanwhile.
test('moving an address out of a custodian\'s mailbox waits for an approver, and its mail stays held', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      merger: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'] },
    config: YEAR_BY_HAND,
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const hold = await as.adm.call('POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-11', custodians: ['olga@corp.test'] });
  assert.equal(hold.status, 200, JSON.stringify(hold.body));
  const imported = await as.adm.call('POST', '/api/v1/mailboxes/import', { csv: 'name,addresses\nelsewhere,olga@corp.test\n', fileName: 'move.csv' });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.equal(imported.body.staged.length, 1, 'the move is staged for approval, not applied');
  assert.match(imported.body.staged[0].why, /out of its legal hold: olga@corp.test from olga@corp.test \(legal hold hold_/);
  const holder = await archive.stores.meta.read((tx) => archive.stores.meta.mailboxForAddress(tx, 'olga@corp.test'));
  assert.equal(holder?.name, 'olga@corp.test', 'the address stays in the custodian\'s mailbox');
  const seen = await archive.stores.meta.read(async (tx) => (await archive.stores.meta.getMessage(tx, sha.merger))!.firstSeen);
  clock.advance(seen + 366 * DAY - clock.now());
  const { plan, outcomes } = await archive.services.disposal.run();
  assert.deepEqual(plan.held.map((h) => h.sha256), [sha.merger], 'still held');
  assert.deepEqual(outcomes, []);
});
