// Destroying mail before its retention ends (issue 15: "early deletion of anything is a request
// approved by someone else"): an admin alone cannot, the one who asked cannot approve it, an
// approver can — and what a legal hold covers stays even then. Every refusal is in the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWhole } from '../src/cli/commands/verify.ts';
import { startInProcessWorld } from './support/in-process.ts';

test('early disposal needs someone else\'s approval, and a legal hold still wins', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      slip: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'payslips of everyone', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      held: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'dispute letter', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha, archive } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await call('adm', 'POST', '/api/v1/holds', { name: 'Dispute', matter: 'LEG-9', custodians: ['olga@corp.test'], query: 'dispute' });

  await call('olga', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.slip], reason: 'sent by mistake' }, 403);
  await call('both', 'POST', '/api/v1/disposal-requests', { sha256s: ['not-a-sha256'.padEnd(64, 'x')], reason: 'x' }, 400);
  const filed = await call('both', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.slip, sha.held], reason: 'payslips sent to the wrong list' });
  assert.equal(filed.state, 'pending');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.slip}`)).status, 200, 'filing destroys nothing');
  const self = await call('both', 'POST', `/api/v1/disposal-requests/${filed.id}/approve`, { reason: 'ok' }, 403);
  assert.match(self.error.message, /no one approves destroying mail they asked to destroy/);
  const done = await call('appr', 'POST', `/api/v1/disposal-requests/${filed.id}/approve`, { reason: 'confirmed with HR' });
  assert.deepEqual(done.outcome.disposed, [sha.slip]);
  assert.deepEqual(done.outcome.kept.map((k: any) => k.sha256), [sha.held]);
  assert.match(done.outcome.kept[0].why, /under legal hold hold_/);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.slip}`)).status, 410);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.held}`)).status, 200);
  await call('appr', 'POST', `/api/v1/disposal-requests/${filed.id}/approve`, { reason: 'again' }, 409);

  const entries = await world.takeAll();
  const said = (op: string, result = 'success') => entries.filter((e) => e.operation === op && e.result === result).map((e) => e.actor).sort();
  assert.deepEqual(said('disposal.file'), ['user:both']);
  assert.deepEqual(said('disposal.file', 'denied'), ['user:olga']);
  assert.deepEqual(said('disposal.approve', 'denied'), ['user:appr', 'user:both'], 'the filer\'s own approval, and a second one');
  assert.deepEqual(said('disposal.approve'), ['user:appr']);
  const dispose = entries.find((e) => e.operation === 'dispose')!;
  assert.deepEqual([dispose.objects.messages, dispose.parameters.policy], [[sha.slip], `disposal request ${filed.id}`]);
  assert.deepEqual((await verifyWhole(archive)).problems, []);
});
