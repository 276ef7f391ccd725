// With notify.smtp unset — the README's set-up — a mailbox policy that promises to tell people
// still tells them: every notice is in its person's Notifications in the app; only that person
// reads or marks it; and Administration names why mail is not delivered and how to fix it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { serve } from '../src/cli/serve.ts';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { tempDataDir } from './support/sealbox.ts';

test('without notify.smtp, notices reach people in the app, only them, and health says why mail does not', { timeout: 60_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: { invoice: { from: 'x@partner.test', to: 'tgt@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 09:00:00 +0000' } },
    mailboxes: { 'tgt@corp.test': 'tgt', 'late@corp.test': 'late' },
    users: { ivan: ['requester'], bob: ['approver'], anna: ['approver'], tgt: ['owner'], late: ['owner'] },
    access: { sessionHours: 24 * 7 },   // sessions outlast the policy's days below
  });
  t.after(() => world.stop());
  const { as } = world;
  const inbox = async (name: string) => {
    const r = await as[name].call('GET', '/api/v1/me/notifications');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { unread: number; notifications: { id: number; kind: string; subject: string; body: string; arrivedAt: string; readAt: string | null }[] };
  };
  const request = (mailbox: string) => ({ purpose: 'legal-hold', justification: 'case 7', ticket: 'LEG-7', mailboxes: [mailbox], dateFrom: '2024-01-01', dateTo: '2024-12-31', permissions: ['search', 'read'], durationHours: 1 });

  const filed = await as.ivan.call('POST', '/api/v1/requests', request('tgt@corp.test'));
  assert.equal(filed.status, 200, JSON.stringify(filed.body));
  const id = filed.body.id as string;

  await t.test('approvers find the request waiting for them; the owner is told nothing before a grant', async () => {
    for (const approver of ['bob', 'anna']) {
      const box = await inbox(approver);
      const waiting = box.notifications.filter((n) => n.kind === 'request.filed');
      assert.equal(waiting.length, 1, `${approver}: ${JSON.stringify(box)}`);
      assert.match(waiting[0].subject, new RegExp(`${id} awaits a decision`));
      assert.equal(waiting[0].readAt, null);
      assert.equal(box.unread, 1);
    }
    assert.deepEqual((await inbox('tgt')).notifications, []);
    assert.deepEqual((await inbox('ivan')).notifications, [], 'a requester is not told of their own request');
  });

  await t.test('approved under "told before access": the owner\'s notice is there with the grant, the requester has the decision', async () => {
    const approved = await as.bob.call('POST', `/api/v1/requests/${id}/approve`, { reason: 'case confirmed' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const owner = await inbox('tgt');
    assert.deepEqual(owner.notifications.map((n) => n.kind), ['mailbox.access-granted']);
    assert.equal(owner.unread, 1);
    assert.match(owner.notifications[0].body, /Your mailbox tgt@corp\.test may be accessed/);
    assert.match(owner.notifications[0].body, new RegExp(`Request:\\s+${id}`));
    assert.deepEqual((await inbox('ivan')).notifications.map((n) => n.kind), ['request.approved']);
  });

  await t.test("no one reads or marks someone else's notices, an admin neither; the try is recorded", async () => {
    const theirs = (await inbox('tgt')).notifications[0].id;
    await world.takeAll();
    for (const who of ['adm', 'bob']) {
      const own = await inbox(who);
      assert.ok(!own.notifications.some((n) => n.id === theirs), `${who} does not list tgt's notice`);
      const sneaky = await as[who].call('GET', '/api/v1/me/notifications?user=tgt');
      assert.ok(!sneaky.body.notifications.some((n: { id: number }) => n.id === theirs), 'no parameter names another person');
      const marked = await as[who].call('POST', '/api/v1/me/notifications/read', { ids: [theirs] });
      assert.equal(marked.status, 404, JSON.stringify(marked.body));
      assert.equal(marked.body.error.code, 'SEALBOX_ERR_NOT_FOUND');
      const missing = await as[who].call('POST', '/api/v1/me/notifications/read', { ids: [987654] });
      assert.equal(JSON.stringify(missing.body).replace('987654', 'X'), JSON.stringify(marked.body).replace(String(theirs), 'X'), 'exactly like a missing one');
      const entries = (await world.take(who)).filter((e) => e.operation === 'notifications.read');
      assert.deepEqual(entries.map((e) => e.result), ['denied', 'denied'], JSON.stringify(entries));
    }
    const owner = await inbox('tgt');
    assert.equal(owner.unread, 1, 'still unread for its owner');

    const read = await as.tgt.call('POST', '/api/v1/me/notifications/read', { ids: [theirs] });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.unread, 0);
    const after = await inbox('tgt');
    assert.equal(after.unread, 0);
    assert.ok(after.notifications[0].readAt, 'the read time is kept');
  });

  await t.test('"told N days after": the owner sees nothing until those days have passed', async () => {
    const policy = await as.adm.call('POST', '/api/v1/mailboxes/late@corp.test/policy', { notifyMode: 'after', notifyAfterDays: 2 });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const r = await as.ivan.call('POST', '/api/v1/requests', request('late@corp.test'));
    assert.equal((await as.bob.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'ok' })).status, 200);
    assert.deepEqual((await inbox('late')).notifications, [], 'not while the grant runs');
    world.clock.advance(3_600_000 + 86_400_000);
    assert.deepEqual((await inbox('late')).notifications, [], 'not one day after the grant ended');
    world.clock.advance(86_400_000 + 1000);
    assert.deepEqual((await inbox('late')).notifications.map((n) => n.kind), ['mailbox.access-granted']);
  });

  await t.test('Administration names why mail is not delivered, and each failing kind with its last error', async () => {
    await world.parts.notifications.kick();
    const health = await as.adm.call('GET', '/api/v1/admin/health');
    assert.equal(health.status, 200, JSON.stringify(health.body));
    const n = health.body.notifications;
    assert.equal(n.mail.state, 'unset');
    assert.equal(n.mail.relay, null);
    assert.match(n.mail.problem, /notify\.smtp is not set/);
    assert.match(n.mail.problem, /only in the app/);
    assert.ok(n.failing > 0);
    const filedFailure = n.failures.find((f: { kind: string; channel: string }) => f.kind === 'request.filed' && f.channel === 'mail');
    assert.ok(filedFailure, JSON.stringify(n.failures));
    assert.equal(filedFailure.failing, 4, 'bob and anna, for each of the two requests');
    assert.match(filedFailure.lastError, /notify\.smtp is not configured/);
    assert.equal(n.failures.reduce((sum: number, f: { failing: number }) => sum + f.failing, 0), n.failing, 'the kinds add up to the count');
  });
});

// serve, started as the README sets it up: the line says what is not delivered and which key fixes it.
test('serve says at start-up when notices cannot be mailed, and why', { timeout: 60_000 }, async (t) => {
  const start = async (notify: Record<string, unknown>, expect: RegExp) => {
    const lines: string[] = [];
    let seen!: () => void;
    const said = new Promise<void>((resolve) => { seen = resolve; });
    const config = loadConfig(testConfig({ smtp: { listen: '127.0.0.1:0' }, lmtp: { enabled: false }, http: { enabled: false }, notify }), { data: tempDataDir() }, {});
    const running = await serve(config, { announce: (line) => { lines.push(line); if (expect.test(line)) seen(); } });
    t.after(() => running.stop());
    await said;   // the relay check answers after start-up; wait for it, not for time
    return lines.filter((l) => l.startsWith('sealbox: notifications:'));
  };

  const unset = await start({}, /notify\.smtp is not set/);
  assert.equal(unset.length, 1, unset.join('\n'));
  assert.match(unset[0], /no notice is mailed: approvers, owners and requesters are told only in the app/);
  assert.match(unset[0], /set notify\.smtp to the HOST:PORT of a mail relay/);

  // A relay that is set but refuses connections: a port just opened and closed again.
  const port = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  const down = await start({ smtp: `127.0.0.1:${port}` }, /does not answer/);
  assert.equal(down.length, 1, down.join('\n'));
  assert.match(down[0], new RegExp(`notify\\.smtp \\(127\\.0\\.0\\.1:${port}\\) does not answer: .*ECONNREFUSED`));
});
