// The records manager (issue 15): keeps retention rules, legal holds, early disposal, leaving
// dates and data-subject requests, and downloads disposal certificates — and reads no mail by the
// role, administers nobody, and cannot shorten, release or destroy alone. Every refusal is a
// ledger entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

test('a records manager keeps the records, reads no mail and decides nothing alone', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: { plan: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'the project plan', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rec: ['records'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { defaultDays: 3650, disposeEveryHours: 0 }, oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // Keeps the records: a rule that lengthens applies at once; one that shortens waits for an approver.
  const longer = await call('rec', 'POST', '/api/v1/retention/rules', { name: 'Finance', domains: ['ext.test'], days: 4000 });
  assert.equal(longer.applied, true, JSON.stringify(longer));
  const shorter = await call('rec', 'POST', '/api/v1/retention/rules', { name: 'Short', domains: ['ext.test'], days: 30 });
  assert.equal(shorter.applied, false, 'a shorter rule is filed, not applied');
  await call('rec', 'POST', `/api/v1/retention/changes/${shorter.change.id}/approve`, { reason: 'mine' }, 403);
  const hold = await call('rec', 'POST', '/api/v1/holds', { name: 'Dispute', matter: 'LEG-1', custodians: ['olga@corp.test'] });
  const release = await call('rec', 'POST', `/api/v1/holds/${hold.id}/release`, { reason: 'settled' });
  await call('rec', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'mine' }, 403);
  const early = await call('rec', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.plan], reason: 'sent by mistake' });
  await call('rec', 'POST', `/api/v1/disposal-requests/${early.id}/approve`, { reason: 'mine' }, 403);
  await call('rec', 'GET', '/api/v1/leavers');
  await call('rec', 'GET', '/api/v1/subject-requests');
  const none = await call('rec', 'GET', '/api/v1/disposals/certificate?since=2025-01-01', undefined, 404);
  assert.match(none.error.message, /no messages were disposed/, 'admitted, with nothing to certify yet');
  assert.ok((await call('rec', 'GET', '/api/v1/mailboxes?q=olga')).mailboxes.length === 1, 'looks custodians up');

  // Reads no mail, administers nobody.
  await call('rec', 'GET', `/api/v1/messages/${sha.plan}`, undefined, 403);
  await call('rec', 'GET', '/api/v1/search?q=plan', undefined, 403);
  await call('rec', 'POST', '/api/v1/users', { name: 'mallory', roles: ['approver'] }, 403);
  await call('rec', 'POST', '/api/v1/users/rec/roles', { roles: ['records', 'approver'] }, 403);

  // Someone else decides; every refusal above is in the ledger.
  await call('appr', 'POST', `/api/v1/holds/releases/${release.id}/approve`, { reason: 'the matter is settled' });
  const refused = (await call('aud', 'GET', '/api/v1/ledger/entries?result=denied&actor=rec&limit=100')).entries.filter((e: any) => e.actor === 'user:rec').map((e: any) => e.operation);
  for (const op of ['retention.approve', 'hold.release.approve', 'disposal.approve', 'view', 'search', 'user.add', 'user.roles']) {
    assert.ok(refused.includes(op), `the refusal of ${op} is recorded: ${refused.join(', ')}`);
  }
});
