// Leavers (issue 15 item 5; Norway's FOR-2018-07-02-1108), with a moved clock: a leaver's mailbox
// is disposed of retention.leaverMonths (6) after the day they left and not a day before, except
// what a longer rule keeps and what a hold covers; mail shared with someone still there stays; a
// leaving date or an exemption takes effect only with someone else's approval (each refusal in the
// ledger), whether it comes from the API or the directory; an exemption keeps the mail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { addMonths } from '../src/retention/leavers.ts';
import { rfc822, WATCHER } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';

const DAY = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

test('addMonths: calendar months, the last day of a shorter month', () => {
  assert.equal(day(addMonths(Date.parse('2026-01-31'), 6)), '2026-07-31');
  assert.equal(day(addMonths(Date.parse('2025-08-31'), 6)), '2026-02-28');
  assert.equal(day(addMonths(Date.parse('2027-08-31'), 6)), '2028-02-29');
  assert.equal(day(addMonths(Date.parse('2026-10-15'), 6)), '2027-04-15');
});

test("a leaver's mail goes six months after they left, except what a rule, a hold, a colleague or an exemption keeps", { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      olgaOnly: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga lunch menu', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      olgaBob: { from: 'olga@corp.test', to: 'bob@corp.test', subject: 'handover notes for bob', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
      olgaHeld: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms', date: 'Fri, 17 Jan 2025 10:00:00 +0000' },
      dinaOnly: { from: 'x@ext.test', to: 'dina@corp.test', subject: 'dina travel plans', date: 'Fri, 17 Jan 2025 11:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'dina@corp.test': '' },
    users: { olga: ['owner'], bob: ['owner'], both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { disposeEveryHours: 0 }, oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha, archive, clock } = world;
  const { disposal } = archive.services;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const leftOf = async (name: string) => (await call('aud', 'GET', `/api/v1/mailboxes?q=${encodeURIComponent(name)}`)).mailboxes.find((m: any) => m.name === name);

  // Mail a rule keeps for ever (as long as the default: it applies at once), received after the rule.
  await call('adm', 'POST', '/api/v1/retention/rules', { name: 'counsel', domains: ['legal.test'], days: null });
  const legal = rfc822({ from: 'counsel@legal.test', to: 'olga@corp.test', subject: 'contract for olga', date: 'Sat, 18 Jan 2025 10:00:00 +0000' });
  await world.deliver({ from: 'counsel@legal.test', to: ['olga@corp.test'] }, legal);
  const olgaLegal = createHash('sha256').update(legal).digest('hex');
  const hold = await call('adm', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: 'merger' });

  // Olga left ten days ago. Only an admin files it, and it applies only with someone else's approval.
  const leftOn = Date.parse(day(clock.now() - 10 * DAY));
  const left = day(leftOn);
  const disposeFrom = addMonths(leftOn, 6);
  await call('olga', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left, reason: 'I quit' }, 403);
  await call('both', 'POST', '/api/v1/mailboxes/nobody@corp.test/leaver', { left, reason: 'left' }, 404);
  await call('both', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left: '2026-02-30', reason: 'left' }, 400);
  const filed = await call('both', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left, reason: 'resigned, HR ticket 55' });
  assert.deepEqual([filed.state, filed.kind, filed.left, filed.disposeFrom], ['pending', 'leave', left, day(disposeFrom)]);
  assert.equal((await leftOf('olga@corp.test')).left, null, 'filed is not applied');
  const self = await call('both', 'POST', `/api/v1/leaver-changes/${filed.id}/approve`, { reason: 'ok' }, 403);
  assert.match(self.error.message, /no one approves a leaving date or exemption they filed/);
  await call('adm', 'POST', `/api/v1/leaver-changes/${filed.id}/approve`, { reason: 'ok' }, 403);
  const told = await call('olga', 'GET', '/api/v1/me/notifications');
  assert.ok(JSON.stringify(told).includes(filed.id), 'the mailbox owner is told of the filing');
  await call('appr', 'POST', `/api/v1/leaver-changes/${filed.id}/approve`, { reason: 'HR confirmed' });
  await call('appr', 'POST', `/api/v1/leaver-changes/${filed.id}/approve`, { reason: 'again' }, 409);
  const olga = await leftOf('olga@corp.test');
  assert.deepEqual([olga.left, olga.leaver.disposeFrom, olga.leaver.exemption], [left, day(disposeFrom), null]);

  // Dina left the same day, through the directory; her exemption (with a reason, until a date) is approved too.
  const csv = `addresses,owner,left\ndina@corp.test,,${left}\n`;
  const imported = await call('both', 'POST', '/api/v1/mailboxes/import', { csv, fileName: 'hr.csv' });
  assert.deepEqual(imported.leavers.filed.map((l: any) => [l.mailbox, l.left]), [['dina@corp.test', left]]);
  assert.deepEqual((await call('both', 'POST', '/api/v1/mailboxes/import', { csv })).leavers.filed, [], 'the same date again files nothing');
  await call('both', 'POST', '/api/v1/mailboxes/dina@corp.test/leaver/exemption', { reason: 'not a leaver yet' }, 409);
  assert.equal((await leftOf('dina@corp.test')).left, null, 'the directory files, it does not apply');
  await call('appr', 'POST', `/api/v1/leaver-changes/${imported.leavers.filed[0].id}/approve`, { reason: 'HR list' });
  const exemptUntil = disposeFrom + 30 * DAY;
  const exemption = await call('both', 'POST', '/api/v1/mailboxes/dina@corp.test/leaver/exemption', { until: day(exemptUntil), reason: 'claim expected from a customer she handled' });
  await call('both', 'POST', `/api/v1/leaver-changes/${exemption.id}/approve`, { reason: 'fine' }, 403);
  await call('appr', 'POST', `/api/v1/leaver-changes/${exemption.id}/approve`, { reason: 'a reason the law accepts' });
  assert.equal((await leftOf('dina@corp.test')).leaver.exemption.until, day(exemptUntil));

  // The day before: nothing of theirs is due. The day itself: Olga's own mail goes.
  clock.advance(disposeFrom - DAY - clock.now());
  const before = await disposal.run();
  assert.deepEqual([before.plan.due, before.plan.leavers, before.outcomes], [[], [], []], 'not a day before');
  clock.advance(disposeFrom + 60_000 - clock.now());
  const run = await disposal.run();
  assert.deepEqual(run.plan.leavers.map((l) => l.mailbox), ['olga@corp.test'], 'Dina is exempt');
  assert.deepEqual(run.plan.due.map((d) => [d.sha256, d.policy]), [[sha.olgaOnly, `leaver olga@corp.test (left ${left})`]]);
  assert.deepEqual(run.plan.held, [{ sha256: sha.olgaHeld, holds: [hold.id] }]);
  assert.deepEqual(run.plan.keptByRule.map((k) => k.sha256), [olgaLegal], 'the longer rule wins');
  assert.deepEqual(run.outcomes.map((o) => [o.disposed, o.failed]), [[[sha.olgaOnly], []]]);
  for (const who of ['olga', 'bob', 'both', 'appr', 'aud', 'adm', WATCHER]) assert.equal((await as[who].signIn(who, world.passwords[who])).status, 200, `${who} signs in again`);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.olgaOnly}`)).status, 410);
  for (const kept of [sha.olgaBob, sha.olgaHeld, olgaLegal]) assert.equal((await as.olga.call('GET', `/api/v1/messages/${kept}`)).status, 200);
  assert.equal((await as.bob.call('GET', `/api/v1/messages/${sha.olgaBob}`)).status, 200, 'shared with someone still there');

  // The exemption ends: Dina's mail follows the leaver rule.
  clock.advance(exemptUntil + 60_000 - clock.now());
  const after = await disposal.run();
  assert.deepEqual(after.plan.due.map((d) => [d.sha256, d.policy]), [[sha.dinaOnly, `leaver dina@corp.test (left ${left})`]]);

  // The ledger tells it, refusals included.
  for (const who of ['aud', WATCHER]) assert.equal((await as[who].signIn(who, world.passwords[who])).status, 200);
  const entries = await world.takeAll();
  const said = (op: string, result = 'success') => entries.filter((e) => e.operation === op && e.result === result);
  assert.deepEqual(said('leaver.file').map((e) => [e.actor, e.parameters.kind, e.objects.mailboxes]), [['user:both', 'leave', ['olga@corp.test']], ['user:both', 'exempt', ['dina@corp.test']]]);
  assert.ok(said('leaver.file', 'denied').some((e) => e.actor === 'user:olga'), 'the owner refused');
  assert.deepEqual(said('leaver.approve', 'denied').map((e) => e.actor).sort(), ['user:adm', 'user:appr', 'user:both', 'user:both']);
  assert.deepEqual(said('leaver.approve').map((e) => [e.actor, e.parameters.kind]), [['user:appr', 'leave'], ['user:appr', 'leave'], ['user:appr', 'exempt']]);
  assert.deepEqual(said('mailboxes.import').map((e) => e.parameters.leavers?.filed.length ?? 0), [1, 0]);
  assert.deepEqual(said('dispose').map((e) => [e.objects.messages.length, e.parameters.policy]), [[1, `leaver olga@corp.test (left ${left})`], [1, `leaver dina@corp.test (left ${left})`]]);
  const report = await world.verify();
  assert.deepEqual(report.problems, [], 'verify still passes');
});
