// Disposal runs over the API (issue 15 item 7): those who see the records see what retention
// destroyed, as the ledger's dispose entries record it, newest first, and what a run now would do
// (due by policy, kept by which hold, leavers due) — looking disposes of nothing; a records
// manager runs it now, and its entry names them; owners, approvers and auditors are refused, each
// refusal in the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

test('disposal runs: the dispose entries and the next run, seen by record readers and run by keepers', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      danaOnly: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'dana travel plans', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      danaHeld: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'merger terms', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
      slip: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'payslips of everyone', date: 'Fri, 17 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'dana@corp.test': '' },
    users: { olga: ['owner'], rec: ['records'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { disposeEveryHours: 0 }, oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // Nothing disposed, nothing due: the default keeps mail for ever.
  await call('olga', 'GET', '/api/v1/disposals', undefined, 403);
  const empty = await call('rec', 'GET', '/api/v1/disposals');
  assert.deepEqual([empty.disposeEveryHours, empty.recent, empty.next.due, empty.next.held, empty.next.leavers, empty.next.complete], [0, [], [], [], [], true]);

  // Dana left two years ago (approved): her own mail is due at once, but a hold keeps the merger terms.
  const hold = await call('rec', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['dana@corp.test'], query: 'merger' });
  const left = await call('rec', 'POST', '/api/v1/mailboxes/dana@corp.test/leaver', { left: '2024-01-31', reason: 'resigned, HR ticket 55' });
  await call('appr', 'POST', `/api/v1/leaver-changes/${left.id}/approve`, { reason: 'HR confirmed' });
  const policy = 'leaver dana@corp.test (left 2024-01-31)';
  for (const who of ['aud', 'appr', 'rec']) {
    const { next, recent } = await call(who, 'GET', '/api/v1/disposals');
    assert.deepEqual(recent, [], 'looking disposes of nothing');
    assert.deepEqual(next.due, [{ policy, messages: 1 }], who);
    assert.deepEqual([next.held, next.heldMessages], [[{ hold: hold.id, name: 'Merger', messages: 1 }], 1]);
    assert.deepEqual(next.leavers, [{ mailbox: 'dana@corp.test', left: '2024-01-31', disposeFrom: '2024-07-31' }]);
    assert.deepEqual([next.keptByRule, next.unindexed, next.complete], [0, 0, true]);
  }

  // Only keepers run it; the run's entry names the records manager, not the schedule.
  for (const who of ['olga', 'appr', 'aud']) await call(who, 'POST', '/api/v1/disposals/run', {}, 403);
  const ran = await call('rec', 'POST', '/api/v1/disposals/run', {});
  assert.deepEqual(ran.ran.due, [{ policy, messages: 1 }]);
  assert.deepEqual(ran.ran.held, [{ hold: hold.id, name: 'Merger', messages: 1 }]);
  assert.equal(ran.entries.length, 1);
  assert.deepEqual([ran.entries[0].messages, ran.notErasedYet], [1, 0]);
  const again = await call('rec', 'POST', '/api/v1/disposals/run', {});
  assert.deepEqual([again.ran.due, again.entries], [[], []], 'what went is not due again');

  // An early disposal writes a dispose entry too: newest first.
  const early = await call('rec', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.slip], reason: 'sent to the wrong list' });
  const done = await call('appr', 'POST', `/api/v1/disposal-requests/${early.id}/approve`, { reason: 'confirmed with HR' });
  const after = await call('aud', 'GET', '/api/v1/disposals');
  assert.deepEqual(after.recent.map((r: any) => [r.index, r.actor, r.policy, r.messages]), [
    [done.outcome.disposeEntry, 'user:appr', `disposal request ${early.id}`, 1],
    [ran.entries[0].index, 'user:rec', policy, 1],
  ]);
  assert.ok(after.recent.every((r: any) => /^\d{4}-\d\d-\d\dT/.test(r.time)));
  assert.deepEqual([after.next.due, after.next.heldMessages], [[], 1], 'the held message stays, and stays held');

  // The ledger: the run's dispose entry by the records manager, naming the message; each refusal.
  const entries = await world.takeAll();
  const dispose = entries.find((e) => e.operation === 'dispose' && e.index === ran.entries[0].index)!;
  assert.deepEqual([dispose.actor, dispose.objects.messages, dispose.parameters.policy], ['user:rec', [sha.danaOnly], policy]);
  const refused = (op: string) => entries.filter((e) => e.operation === op && e.result === 'denied').map((e) => e.actor).sort();
  assert.deepEqual(refused('disposal.runs'), ['user:olga']);
  assert.deepEqual(refused('disposal.run'), ['user:appr', 'user:aud', 'user:olga']);
  assert.deepEqual((await world.verify()).problems, []);
});
