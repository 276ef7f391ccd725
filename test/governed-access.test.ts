import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startInProcessWorld } from './support/in-process.ts';

test('governed access: owners read their own mail, everyone else only under an approved, scoped, time-bound grant; all of it in the ledger', { timeout: 60_000 }, async (t) => {
  // Notifications go to a local SMTP sink: a real peer, reached from this process.
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const inbox = sink.inbox;
  const world = await startInProcessWorld({
    messages: {
      invoice: { from: 'carol@partner.test', to: 'alice@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 10:00:00 +0000' },
      lunch: { from: 'alice@corp.test', to: 'bob@corp.test', subject: 'Lunch plans', date: 'Wed, 06 Mar 2024 10:00:00 +0000' },
      salary: { from: 'bob@corp.test', to: 'dave@partner.test', subject: 'Bob private salary talk', date: 'Thu, 07 Mar 2024 10:00:00 +0000' },
      old: { from: 'alice@corp.test', to: 'carol@partner.test', subject: 'Old contract', date: 'Mon, 01 Jan 2018 10:00:00 +0000' },
    },
    mailboxes: { 'alice@corp.test': 'alice', 'bob@corp.test': 'bob' },
    users: { alice: ['owner'], bob: ['owner', 'approver'], ivan: ['requester', 'approver'], anna: ['approver'], audrey: ['auditor'] },
    config: { notify: { smtp: `127.0.0.1:${sink.port}`, retrySeconds: 1 } },
  });
  const { as } = world;
  try {
    const accessEntries = async () => ((await as.audrey.call('GET', '/api/v1/ledger/entries?limit=1000')).body.entries as any[]).filter((e) => e.type === 'access');

    // The owner reads her own mailbox, and nothing else.
    let r = await as.alice.call('GET', '/api/v1/search?q=body');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.results.map((h: any) => h.subject).sort(), ['Invoice for March', 'Lunch plans', 'Old contract']);
    r = await as.alice.call('GET', '/api/v1/search?q=salary');
    assert.deepEqual(r.body.results, [], "bob's private mail is not in alice's mailbox");

    // No standing access: a requester without a grant sees nothing.
    r = await as.ivan.call('GET', '/api/v1/search?q=invoice');
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'SEALBOX_ERR_FORBIDDEN');

    // A request with purpose, ticket and scope; nobody approves their own, nor one on their own mailbox.
    r = await as.ivan.call('POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'complaint 42 about invoices', ticket: 'HR-42', mailboxes: ['alice@corp.test'], dateFrom: '2024-01-01', dateTo: '2024-12-31', permissions: ['search', 'read'], durationHours: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const request = r.body;
    assert.equal(request.state, 'pending');
    r = await as.ivan.call('POST', `/api/v1/requests/${request.id}/approve`, { reason: 'me' });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /own request/);
    r = await as.anna.call('POST', `/api/v1/requests/${request.id}/approve`, { reason: 'ok' }, { csrf: false });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'SEALBOX_ERR_CSRF', 'a state change without the CSRF token is refused');
    r = await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${request.id}`);
    assert.equal(r.status, 403, 'a pending request grants nothing');
    r = await as.anna.call('POST', `/api/v1/requests/${request.id}/approve`, { reason: 'HR case confirmed' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'active');
    // The requester learns of the decision and the owner of the access, with its reasons.
    const told = (to: string, subject: RegExp) => inbox.some((m) => m.to.includes(to) && subject.test(m.data) && m.data.includes('HR-42'));
    await world.parts.notifications.kick();
    assert.ok(told('ivan@corp.test', /approved by anna/) && told('alice@corp.test', /Access to your mailbox/), `inbox: ${JSON.stringify(inbox.map((m) => m.to))}`);

    // Under the grant: only the scope (alice's mailbox, 2024), and each read is one ledger entry.
    const before = (await accessEntries()).length;
    r = await as.ivan.call('GET', `/api/v1/search?q=body&grant=${request.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((h: any) => h.subject).sort(), ['Invoice for March', 'Lunch plans'], 'the 2018 message is outside the date window');
    const invoice = r.body.results.find((h: any) => h.subject === 'Invoice for March').sha256;
    r = await as.ivan.call('GET', `/api/v1/search?q=salary&grant=${request.id}`);
    assert.deepEqual(r.body.results, [], 'a known subject outside the scope is not found');
    r = await as.ivan.call('GET', `/api/v1/messages/${invoice}?grant=${request.id}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.mailboxes.some((m: any) => m.address === 'alice@corp.test'));
    r = await as.ivan.call('GET', `/api/v1/messages/${invoice}/raw?grant=${request.id}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(world.raw.invoice), 'raw bytes are exact');
    const after = await accessEntries();
    assert.equal(after.length, before + 4, 'four reads, four access entries');
    assert.ok(after.slice(-4).every((e: any) => e.grantId === request.id && e.logonType === 'delegated' && e.actor === 'user:ivan'));
    const salary = (await as.bob.call('GET', '/api/v1/search?q=salary')).body.results[0].sha256;
    r = await as.ivan.call('GET', `/api/v1/messages/${salary}?grant=${request.id}`);
    assert.equal(r.status, 404, 'guessing a message id outside the grant reveals nothing');
    assert.equal((await accessEntries()).at(-1).result, 'denied', 'and the attempt is recorded');

    // "I'm done": revocation is immediate.
    r = await as.ivan.call('POST', `/api/v1/requests/${request.id}/revoke`, { reason: 'done' });
    assert.equal(r.body.state, 'revoked');
    r = await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${request.id}`);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /revoked/);

    // A grant ends by itself.
    r = await as.ivan.call('POST', '/api/v1/requests', { purpose: 'user-support', justification: 'restore a mail', ticket: 'SUP-7', mailboxes: ['alice@corp.test'], permissions: ['search'], durationHours: 0.001 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const short = r.body;
    r = await as.bob.call('POST', `/api/v1/requests/${short.id}/approve`, { reason: 'ok' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    world.clock.advance(Date.parse(r.body.endsAt) - world.clock.now());
    assert.equal((await as.ivan.call('GET', `/api/v1/requests/${short.id}`)).body.state, 'expired');
    r = await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${short.id}`);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /expired/);

    // Bob may not approve access to his own mailbox; to him such a request does not exist.
    r = await as.ivan.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'litigation', ticket: 'LEG-1', mailboxes: ['bob@corp.test'], permissions: ['search'], durationHours: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await as.bob.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'fine by me' });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'SEALBOX_ERR_NOT_FOUND');

    // The owner sees who read her mailbox, when and why.
    r = await as.alice.call('GET', '/api/v1/mailboxes/mine/accesses');
    const byIvan = r.body.accesses.filter((a: any) => a.actor === 'ivan' && a.result === 'success');
    assert.ok(byIvan.length >= 4);
    assert.deepEqual(new Set(byIvan.map((a: any) => a.request.ticket)), new Set(['HR-42']));
    assert.equal(byIvan[0].request.purpose, 'hr-investigation');

    // Brute force: the account locks.
    const mallory = world.client();
    let last = 0;
    for (let i = 0; i < 6; i++) last = (await mallory.call('POST', '/api/v1/session', { name: 'alice', password: `guess-${i}-wrong-password` })).status;
    assert.equal(last, 401, 'locked, answered like a wrong password');

    // API tokens: scoped, revocable, and a revoked one is dead.
    r = await as.alice.call('POST', '/api/v1/tokens', { name: 'script', scopes: ['content'], days: 1 });
    const token = world.client();
    token.token = r.body.token;
    assert.equal((await token.call('GET', '/api/v1/search?q=invoice')).status, 200);
    assert.equal((await token.call('GET', '/api/v1/requests')).status, 403, 'outside its scopes');
    assert.equal((await as.alice.call('DELETE', `/api/v1/tokens/${r.body.id}`)).status, 200);
    assert.equal((await token.call('GET', '/api/v1/search?q=invoice')).status, 401, 'a revoked token is refused');

    const openapi = (await world.client().call('GET', '/api/openapi.json')).body;
    assert.ok(openapi.paths['/api/v1/search'].get && openapi.paths['/api/v1/requests/{id}/approve'].post);
  } finally {
    // As serve stops: the last checkpoint signed.
    await world.stop();
  }
  const verified = await world.verify();
  assert.deepEqual(verified.problems, [], 'the archive verifies');
});
