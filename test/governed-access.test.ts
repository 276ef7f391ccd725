import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from './support/api-client.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { waitForState } from './support/access-world.ts';

const mail = (from: string, to: string, subject: string, date: string) =>
  Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@corp.test>\r\n\r\n${subject} body\r\n`);

async function addUser(data: string, config: string, name: string, roles: string[], owns: string[] = []): Promise<string> {
  const r = await sealbox(['users', 'add', '--data', data, '--config', config, '--name', name, '--email', `${name}@corp.test`, '--role', ...roles, ...(owns.length ? ['--owns', ...owns] : [])]);
  assert.equal(r.code, 0, r.stderr);
  return /enrolment code (\S+)/.exec(r.stdout.toString())![1];
}

test('governed access: owners read their own mail, everyone else only under an approved, scoped, time-bound grant; all of it in the ledger', { timeout: 300_000 }, async (t) => {
  // Notifications go to a local SMTP sink.
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const inbox = sink.inbox;
  const config = testConfig({ internalDomains: ['corp.test'], access: { secureCookies: false }, notify: { smtp: `127.0.0.1:${sink.port}`, retrySeconds: 1 } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  const data = server.data;
  try {
    const smtp = await RawSmtpClient.connect(server.smtp.port);
    const messages = [
      mail('carol@partner.test', 'alice@corp.test', 'Invoice for March', 'Tue, 05 Mar 2024 10:00:00 +0000'),
      mail('alice@corp.test', 'bob@corp.test', 'Lunch plans', 'Wed, 06 Mar 2024 10:00:00 +0000'),
      mail('bob@corp.test', 'dave@partner.test', 'Bob private salary talk', 'Thu, 07 Mar 2024 10:00:00 +0000'),
      mail('alice@corp.test', 'carol@partner.test', 'Old contract', 'Mon, 01 Jan 2018 10:00:00 +0000'),
    ];
    for (const m of messages) {
      const [, from, to] = /^From: (\S+)\r\nTo: (\S+)/.exec(m.toString())!;
      assert.equal((await smtp.send({ from, to: [to] }, m)).data[0].code, 250);
    }
    await smtp.quit();
    await waitForIndex(data);

    const csv = join(tempDataDir(), 'directory.csv');
    writeFileSync(csv, 'addresses,display_name,owner,sensitivity\nalice@corp.test,Alice,alice,\nbob@corp.test,Bob,bob,\n');
    assert.equal((await sealbox(['mailboxes', 'import', '--data', data, '--config', config, csv])).code, 0);
    const codes = {
      alice: await addUser(data, config, 'alice', ['owner']),
      bob: await addUser(data, config, 'bob', ['owner', 'approver']),
      ivan: await addUser(data, config, 'ivan', ['requester', 'approver']),
      anna: await addUser(data, config, 'anna', ['approver']),
      audrey: await addUser(data, config, 'audrey', ['auditor']),
    };
    const url = server.http!.url;
    const as: Record<string, ApiClient> = {};
    for (const [name, code] of Object.entries(codes)) {
      as[name] = new ApiClient(url);
      await as[name].enrolAndSignIn(name, code, `${name}-correct-horse-battery`);
    }
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
    await waitUntil('requester and owner told', () => told('ivan@corp.test', /approved by anna/) && told('alice@corp.test', /Access to your mailbox/),
      { detail: () => `inbox: ${JSON.stringify(inbox.map((m) => m.to))}` });

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
    assert.ok(r.body.equals(messages[0]), 'raw bytes are exact');
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
    await waitForState(as.ivan, short.id, 'expired');
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
    const mallory = new ApiClient(url);
    let last = 0;
    for (let i = 0; i < 6; i++) last = (await mallory.call('POST', '/api/v1/session', { name: 'alice', password: `guess-${i}-wrong-password` })).status;
    assert.equal(last, 401, 'locked, answered like a wrong password');

    // API tokens: scoped, revocable, and a revoked one is dead.
    r = await as.alice.call('POST', '/api/v1/tokens', { name: 'script', scopes: ['content'], days: 1 });
    const token = new ApiClient(url);
    token.token = r.body.token;
    assert.equal((await token.call('GET', '/api/v1/search?q=invoice')).status, 200);
    assert.equal((await token.call('GET', '/api/v1/requests')).status, 403, 'outside its scopes');
    assert.equal((await as.alice.call('DELETE', `/api/v1/tokens/${r.body.id}`)).status, 200);
    assert.equal((await token.call('GET', '/api/v1/search?q=invoice')).status, 401, 'a revoked token is refused');

    const openapi = await (await fetch(`${url}/api/openapi.json`)).json() as any;
    assert.ok(openapi.paths['/api/v1/search'].get && openapi.paths['/api/v1/requests/{id}/approve'].post);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const verified = await sealbox(['verify', '--data', data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString());
});
