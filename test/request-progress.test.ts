// What a request tells the one who looks at it: how many approvals it has of those it needs,
// whether enough people are left to give them, and what the caller may do about it — the same
// verdicts the routes enforce, so the web app offers nothing the API would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

test('requests: approval progress, too few approvers, and what each caller may do', { timeout: 60_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      board: { from: 'x@partner.test', to: 'ceo@corp.test', subject: 'Board pack', date: 'Tue, 05 Mar 2024 10:00:00 +0000' },
      bob: { from: 'x@partner.test', to: 'bob@corp.test', subject: 'Bob invoice', date: 'Tue, 05 Mar 2024 11:00:00 +0000' },
    },
    // ceo@ is tagged executive: two approvals (access.sensitivityApprovals by default).
    mailboxes: { 'ceo@corp.test': ',executive', 'bob@corp.test': 'bob' },
    users: { rita: ['requester'], anna: ['approver'], alan: ['approver'], bob: ['owner', 'approver'], aud: ['auditor'] },
  });
  t.after(() => world.stop());
  const { as } = world;
  const file = async (mailbox: string) => {
    const r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'case 7', ticket: 'LEG-7', mailboxes: [mailbox], permissions: ['search'], durationHours: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const get = async (who: string, id: string) => {
    const r = await as[who].call('GET', `/api/v1/requests/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  await t.test('two approvals: "1 of 2" after the first, who has decided sees it, no second try', async () => {
    const filed = await file('ceo@corp.test');
    assert.equal(filed.approvalsNeeded, 2);
    assert.equal(filed.approvalsGiven, 0);
    assert.equal(filed.tooFewApprovers, false, 'anna, alan and bob could approve');
    assert.equal(filed.approversLeft, null, 'the requester is not told how many could');
    assert.deepEqual(filed.you, { decision: null, mayDecide: false, cannotDecide: 'only approvers decide on access requests', mayRevoke: true });

    assert.equal((await get('anna', filed.id)).approversLeft, 3);
    assert.deepEqual((await get('anna', filed.id)).you, { decision: null, mayDecide: true, cannotDecide: null, mayRevoke: true });
    assert.deepEqual((await get('aud', filed.id)).you, { decision: null, mayDecide: false, cannotDecide: 'only approvers decide on access requests', mayRevoke: false });
    assert.deepEqual((await get('adm', filed.id)).you, { decision: null, mayDecide: false, cannotDecide: 'only approvers decide on access requests', mayRevoke: true });

    const first = await as.anna.call('POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'case checked' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.state, 'pending');
    assert.equal(first.body.approvalsGiven, 1);
    assert.equal(first.body.approversLeft, 2, 'alan and bob');
    assert.deepEqual(first.body.you, { decision: 'approve', mayDecide: false, cannotDecide: null, mayRevoke: true });
    assert.deepEqual((await get('anna', filed.id)).you.decision, 'approve', 'and so on reading it again');

    const second = await get('alan', filed.id);
    assert.equal(second.approvalsGiven, 1);
    assert.deepEqual(second.approvals.map((a: any) => [a.approver, a.decision]), [['anna', 'approve']]);
    assert.deepEqual(second.you, { decision: null, mayDecide: true, cannotDecide: null, mayRevoke: true });

    // A token without the approvals scope would be refused: it is not offered the decision.
    const minted = await as.alan.call('POST', '/api/v1/tokens', { name: 'read requests', scopes: ['requests'], days: 1 });
    assert.equal(minted.status, 200, JSON.stringify(minted.body));
    const bot = world.client();
    bot.token = minted.body.token;
    const byToken = (await bot.call('GET', `/api/v1/requests/${filed.id}`)).body;
    assert.equal(byToken.you.mayDecide, false);
    assert.match(byToken.you.cannotDecide, /lacks the "approvals" scope/);
    assert.equal((await bot.call('POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'bot' })).status, 403, 'as the view said');

    const done = await as.alan.call('POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'second pair of eyes' });
    assert.equal(done.body.state, 'active');
    assert.equal(done.body.approvalsGiven, 2);
    assert.equal(done.body.approversLeft, null, 'nothing left to approve');
    assert.equal(done.body.tooFewApprovers, false);
    assert.deepEqual(done.body.you, { decision: 'approve', mayDecide: false, cannotDecide: null, mayRevoke: true });
    assert.equal((await get('aud', filed.id)).you.mayRevoke, false, 'auditors do not end grants');

    // An admin ends it; afterwards nobody may revoke it again.
    const ended = await as.adm.call('POST', `/api/v1/requests/${filed.id}/revoke`, { reason: 'case closed' });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal(ended.body.state, 'revoked');
    assert.equal(ended.body.you.mayRevoke, false);
    for (const who of ['rita', 'anna', 'adm']) assert.equal((await get(who, filed.id)).you.mayRevoke, false, who);
  });

  await t.test('too few approvers: told at filing and on the request, and kept in the ledger', async () => {
    // The owner of a mailbox in scope never decides on it; a disabled approver decides nothing.
    assert.equal((await as.adm.call('POST', '/api/v1/users/alan/disable', { disabled: true, reason: 'on leave' })).status, 200);
    await world.takeAll();
    const filed = await file('ceo@corp.test');
    assert.equal(filed.state, 'pending', 'filed all the same: the shortfall may be mended while it waits');
    assert.equal(filed.tooFewApprovers, false, 'anna and bob are two');
    const onBob = await file('bob@corp.test');
    assert.equal(onBob.tooFewApprovers, false, 'anna is one, and one is needed');
    assert.equal((await get('anna', onBob.id)).approversLeft, 1, 'bob owns the mailbox');

    // With bob disabled too, the executive request cannot reach two approvals.
    assert.equal((await as.adm.call('POST', '/api/v1/users/bob/disable', { disabled: true })).status, 200);
    const short = await file('ceo@corp.test');
    assert.equal(short.tooFewApprovers, true);
    assert.equal(short.approversLeft, null);
    const entry = (await world.take('rita')).find((e) => e.operation === 'request.file' && e.grantId === short.id)!;
    assert.equal(entry.parameters.approversLeft, 1, 'the ledger keeps the shortfall at filing');
    const seen = await get('anna', short.id);
    assert.equal(seen.tooFewApprovers, true);
    assert.equal(seen.approversLeft, 1);
    assert.equal((await get('anna', filed.id)).tooFewApprovers, true, 'the earlier one too, now');
    // The first of two approvals given, it still cannot reach the second.
    await as.anna.call('POST', `/api/v1/requests/${short.id}/approve`, { reason: 'ok' });
    const after = await get('aud', short.id);
    assert.deepEqual([after.approvalsGiven, after.approversLeft, after.tooFewApprovers], [1, 0, true]);

    // Enabled again, the approvers are counted again.
    assert.equal((await as.adm.call('POST', '/api/v1/users/alan/disable', { disabled: false })).status, 200);
    const mended = await get('aud', short.id);
    assert.deepEqual([mended.approversLeft, mended.tooFewApprovers], [1, false]);
    assert.equal((await as.alan.signIn('alan', world.passwords.alan)).status, 200, 'disabling ended his session');
    assert.equal((await as.alan.call('POST', `/api/v1/requests/${short.id}/approve`, { reason: 'second' })).body.state, 'active');
  });

  await t.test('four eyes: approvers linked to the requester are not counted', async () => {
    // amos, whom adm made through the API as it made rita (both first codes came to adm), becomes
    // an approver (filed by adm, approved by anna): with the link period on, he may not approve
    // rita. anna and alan, made at the console, may; bob owns the mailbox.
    assert.equal((await as.adm.call('POST', '/api/v1/policy', { linkedPeopleDays: 30 })).status, 200);
    const made = await as.adm.call('POST', '/api/v1/users', { name: 'amos', roles: ['requester', 'approver'] });
    assert.deepEqual([made.status, made.body.filed?.map((f: any) => f.role)], [200, ['approver']], JSON.stringify(made.body));
    const amos = world.client();
    await amos.enrolAndSignIn('amos', made.body.enrolmentCode, 'amos-correct-horse-battery');
    assert.equal((await as.anna.call('POST', `/api/v1/role-changes/${made.body.filed[0].change}/approve`, { reason: 'amos joins legal' })).status, 200);
    assert.equal((await amos.signIn('amos', 'amos-correct-horse-battery')).status, 200);
    const filed = await file('bob@corp.test');
    assert.equal(filed.tooFewApprovers, false);
    const seen = await get('anna', filed.id);
    assert.equal(seen.approversLeft, 2, 'anna and alan, not amos');
    const his = (await amos.call('GET', `/api/v1/requests/${filed.id}`)).body;
    assert.equal(his.you.mayDecide, false);
    assert.match(his.you.cannotDecide, /^four eyes means two people: adm created both/);
    const tried = await amos.call('POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'ok' });
    assert.equal(tried.status, 403, 'as the view said');
    assert.equal(tried.body.error.message, his.you.cannotDecide, 'in the same words');
  });
});
