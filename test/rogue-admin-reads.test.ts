// The administrator is the threat model, part B: reads. Each finding of issue 12 about reading
// (a grant kept after its role is gone, the subject of a covert investigation seeing and stopping
// it, existence leaks across scope and through Bcc, grants starting before their time, the
// sign-in rate limit bypassed by percent-encoding, enumeration and 500s on bad input, CLI
// refusals left out of the ledger) tried as an attacker would, through the HTTP API (in this
// process, on a clock the test moves) and the CLI (its own process): each refused, and each
// refusal in the ledger.
import { openArchive } from '../src/archive.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ApiClient } from './support/api-client.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { sealbox } from './support/sealbox.ts';
import { loadConfig } from '../src/core/config.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SIGNIN_PER_MINUTE = 60;

test('the administrator cannot read around the rules: every read decided on the present, nothing learnt across scope', { timeout: 90_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      minutes: { from: 'x@partner.test', to: 'ceo@corp.test', subject: 'Board minutes', date: 'Tue, 05 Mar 2024 09:00:00 +0000' },
      annaMail: { from: 'x@partner.test', to: 'anna@corp.test', subject: 'Quarterly numbers for anna', date: 'Wed, 06 Mar 2024 09:00:00 +0000' },
      omniMail: { from: 'x@partner.test', to: 'omni@corp.test', subject: 'Omni private note', date: 'Wed, 06 Mar 2024 10:00:00 +0000' },
    },
    mailboxes: { 'ceo@corp.test': '', 'anna@corp.test': 'anna', 'omni@corp.test': 'omni', 'sam@corp.test': 'sam', 'carl@corp.test': 'carl' },
    // anna: the subject of a covert investigation who is also an approver and an auditor; omni:
    // every role at once; rita and rex request, bob approves; sam sends, carl is Bcc'd.
    users: {
      anna: ['owner', 'approver', 'auditor'], omni: ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'],
      rita: ['requester'], rex: ['requester'], bob: ['approver'], sam: ['owner'], carl: ['owner'],
    },
    access: { signinPerMinute: SIGNIN_PER_MINUTE, lockoutAttempts: 3, lockoutMinutes: 60 },
    // Listening too: the bad-input sweep (10.) goes through Node's HTTP parser, as an attacker's does.
  }, { listen: true });
  let stopped = false;
  t.after(async () => {
    if (!stopped) await world.stop();
  });
  const { as, sha } = world;

  // Two more messages, committed as the SMTP receiver commits what an attacker and a sender send:
  // one planted in anna's mailbox with the CEO's Message-ID, and one from sam to anna with carl
  // Bcc'd (only in the envelope).
  const ceoMessageId = `<${createHash('sha256').update('Board minutes').digest('hex').slice(0, 16)}@corp.test>`;
  const planted = Buffer.from(`From: x@partner.test\r\nTo: anna@corp.test\r\nSubject: planted copy\r\nDate: Thu, 07 Mar 2024 09:00:00 +0000\r\nMessage-ID: ${ceoMessageId}\r\n\r\nsame id, other bytes\r\n`);
  const bccd = Buffer.from('From: Sam <sam@corp.test>\r\nTo: Anna <anna@corp.test>\r\nSubject: salary review\r\nDate: Fri, 08 Mar 2024 09:00:00 +0000\r\nMessage-ID: <salary-review@corp.test>\r\n\r\nquietly copied to carl\r\n');
  assert.deepEqual((await world.deliver({ from: 'x@partner.test', to: ['anna@corp.test'] }, planted)).result.sha256, sha256(planted));
  assert.deepEqual((await world.deliver({ from: 'sam@corp.test', to: ['anna@corp.test', 'carl@corp.test'] }, bccd)).result.sha256, sha256(bccd));
  await world.takeAll();

  const request = (input: Record<string, unknown> = {}) => ({ purpose: 'hr-investigation', justification: 'case 12: suspected leak by the subject', ticket: 'HR-12', mailboxes: ['ceo@corp.test'], permissions: ['search', 'read'], durationHours: 1, ...input });
  const file = async (client: ApiClient, input: Record<string, unknown> = {}) => {
    const r = await client.call('POST', '/api/v1/requests', request(input));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const approve = async (id: string) => {
    const r = await as.bob.call('POST', `/api/v1/requests/${id}/approve`, { reason: 'case confirmed' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const refused = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
  };
  // The one entry a call left, by that user: a refusal, of this operation.
  const deniedEntry = async (name: string, operation: string): Promise<LedgerEntryView> => {
    const entries = await world.take(name);
    assert.equal(entries.length, 1, `one entry by ${name}: ${JSON.stringify(entries)}`);
    assert.deepEqual([entries[0].operation, entries[0].result], [operation, 'denied'], JSON.stringify(entries[0]));
    return entries[0];
  };

  await t.test('4. a role taken away takes the grant with it, at the next read; the owner role likewise', async () => {
    const g = (await approve((await file(as.rita)).id)).id;
    assert.equal((await as.rita.call('GET', `/api/v1/search?q=minutes&grant=${g}`)).status, 200);
    assert.equal((await as.adm.call('POST', '/api/v1/users/rita/roles', { roles: ['owner'] })).status, 200);
    await world.takeAll();
    for (const path of [`/api/v1/search?q=minutes&grant=${g}`, `/api/v1/messages/${sha.minutes}?grant=${g}`, `/api/v1/messages/${sha.minutes}/raw?grant=${g}`]) {
      const r = await as.rita.call('GET', path);
      refused(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /requester role/);
      const e = (await world.take('rita'))[0];
      assert.deepEqual([e.type, e.result, e.grantId], ['access', 'denied', g], JSON.stringify(e));
    }
    // Given back, the same grant (still in its window) works again: the decision is on the present.
    assert.equal((await as.adm.call('POST', '/api/v1/users/rita/roles', { roles: ['requester'] })).status, 200);
    assert.equal((await as.rita.call('GET', `/api/v1/search?q=minutes&grant=${g}`)).status, 200);

    // An owner without the owner role reads nothing of her own mailbox.
    assert.equal((await as.anna.call('GET', '/api/v1/search?q=quarterly')).status, 200);
    assert.equal((await as.adm.call('POST', '/api/v1/users/anna/roles', { roles: ['approver', 'auditor'] })).status, 200);
    await world.takeAll();
    for (const path of ['/api/v1/search?q=quarterly', `/api/v1/messages/${sha.annaMail}`]) {
      const r = await as.anna.call('GET', path);
      refused(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /owner role/);
      assert.equal((await world.take('anna'))[0].result, 'denied');
    }
    assert.equal((await as.adm.call('POST', '/api/v1/users/anna/roles', { roles: ['owner', 'approver', 'auditor'] })).status, 200);
    assert.equal((await as.anna.call('GET', '/api/v1/search?q=quarterly')).status, 200);
  });

  await t.test('5. the subject of a covert investigation (an approver and auditor) cannot see, decide on or stop it', async () => {
    const policy = await as.adm.call('POST', '/api/v1/mailboxes/anna@corp.test/policy', { notifyMode: 'none', legalBasis: 'works council agreement §4, case HR-12' });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const covert = await file(as.rex, { mailboxes: ['anna@corp.test'], justification: 'anna is suspected of leaking the board minutes' });
    await world.takeAll();
    // Not in her list, not by id, not to approve, deny or revoke: exactly like a missing request.
    const list = await as.anna.call('GET', '/api/v1/requests');
    assert.equal(list.status, 200);
    assert.ok(!list.body.requests.some((r: any) => r.id === covert.id), 'not listed to the subject');
    assert.ok(!JSON.stringify(list.body).includes('leaking the board minutes'), 'the justification is not shown to the subject');
    const missing = await as.anna.call('GET', '/api/v1/requests/req_00000000000000000000000000');
    const byId = await as.anna.call('GET', `/api/v1/requests/${covert.id}`);
    refused(byId, 404, 'SEALBOX_ERR_NOT_FOUND');
    assert.equal(byId.body.error.message.replace(covert.id, 'X'), missing.body.error.message.replace('req_00000000000000000000000000', 'X'));
    await world.takeAll();
    for (const action of ['approve', 'deny']) {
      refused(await as.anna.call('POST', `/api/v1/requests/${covert.id}/${action}`, { reason: 'nothing to see here' }), 404, 'SEALBOX_ERR_NOT_FOUND');
      assert.equal((await deniedEntry('anna', `request.${action}`)).grantId, covert.id);
    }
    // The approvers and auditors who are not its subject see it; an admin does not (policy none).
    assert.ok((await as.bob.call('GET', '/api/v1/requests')).body.requests.some((r: any) => r.id === covert.id));
    assert.ok((await as['ledger-watch'].call('GET', '/api/v1/requests')).body.requests.some((r: any) => r.id === covert.id));
    assert.ok(!(await as.adm.call('GET', '/api/v1/requests')).body.requests.some((r: any) => r.id === covert.id), 'not to an admin under notification policy none');
    refused(await as.adm.call('GET', `/api/v1/requests/${covert.id}`), 404, 'SEALBOX_ERR_NOT_FOUND');
    await approve(covert.id);
    await world.takeAll();
    refused(await as.anna.call('POST', `/api/v1/requests/${covert.id}/revoke`, { reason: 'stop spying on me' }), 404, 'SEALBOX_ERR_NOT_FOUND');
    assert.equal((await deniedEntry('anna', 'request.revoke')).grantId, covert.id);
    refused(await as.adm.call('POST', `/api/v1/requests/${covert.id}/revoke`, { reason: 'as a favour' }), 404, 'SEALBOX_ERR_NOT_FOUND');
    assert.equal((await deniedEntry('adm', 'request.revoke')).grantId, covert.id);
    assert.equal((await as.rex.call('GET', `/api/v1/requests/${covert.id}`)).body.state, 'active', 'the investigation goes on');
    // Nor does the transparency page tell her (policy none).
    assert.equal((await as.rex.call('GET', `/api/v1/search?q=quarterly&grant=${covert.id}`)).status, 200);
    const accesses = await as.anna.call('GET', '/api/v1/mailboxes/mine/accesses');
    assert.ok(!accesses.body.accesses.some((a: any) => a.actor === 'rex'), JSON.stringify(accesses.body));
  });

  await t.test('5. someone with every role at once is still only the subject of a request on their own mailbox', async () => {
    const onOmni = await file(as.rex, { mailboxes: ['omni@corp.test'] });
    await world.takeAll();
    assert.ok(!(await as.omni.call('GET', '/api/v1/requests')).body.requests.some((r: any) => r.id === onOmni.id));
    for (const [method, path, body, operation] of [
      ['GET', `/api/v1/requests/${onOmni.id}`, undefined, 'request.read'],
      ['POST', `/api/v1/requests/${onOmni.id}/approve`, { reason: 'fine' }, 'request.approve'],
      ['POST', `/api/v1/requests/${onOmni.id}/deny`, { reason: 'no' }, 'request.deny'],
      ['POST', `/api/v1/requests/${onOmni.id}/revoke`, { reason: 'no' }, 'request.revoke'],
    ] as const) {
      refused(await as.omni.call(method, path, body), 404, 'SEALBOX_ERR_NOT_FOUND');
      await deniedEntry('omni', operation);
    }
    assert.equal((await as.bob.call('GET', `/api/v1/requests/${onOmni.id}`)).body.state, 'pending', 'untouched');
  });

  await t.test('6. a message of one\'s own names no message outside one\'s scope (same Message-ID)', async () => {
    const view = await as.anna.call('GET', `/api/v1/messages/${sha256(planted)}`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.deepEqual(view.body.sameMessageId, [], 'the CEO\'s message is not named');
    assert.ok(!JSON.stringify(view.body).includes(sha.minutes));
    // Someone whose grant covers both sees the link.
    const g = (await approve((await file(as.rita, { mailboxes: ['ceo@corp.test', 'carl@corp.test'] })).id)).id;
    const both = await file(as.rita, { mailboxes: ['ceo@corp.test', 'anna@corp.test'] });
    await approve(both.id);
    const linked = await as.rita.call('GET', `/api/v1/messages/${sha256(planted)}?grant=${both.id}`);
    assert.deepEqual(linked.body.sameMessageId, [sha.minutes]);
    const one = await as.rita.call('GET', `/api/v1/messages/${sha.minutes}?grant=${g}`);
    assert.deepEqual(one.body.sameMessageId, [], 'anna\'s planted copy is outside this grant');
  });

  await t.test('6. a To recipient does not learn who was Bcc\'d; the sender, the Bcc recipient and a grant holder do', async () => {
    const bccSha = sha256(bccd);
    const roles = (body: any) => body.mailboxes.map((m: any) => `${m.role}:${m.address}`).sort();
    const rcpts = (body: any) => body.captures.flatMap((c: any) => c.envelope.rcptTo.map((r: any) => r.address)).sort();
    const anna = await as.anna.call('GET', `/api/v1/messages/${bccSha}`);
    assert.equal(anna.status, 200, JSON.stringify(anna.body));
    assert.deepEqual(roles(anna.body), ['from:sam@corp.test', 'to:anna@corp.test']);
    assert.deepEqual(rcpts(anna.body), ['anna@corp.test']);
    assert.ok(!JSON.stringify(anna.body).includes('carl'), 'carl appears nowhere in anna\'s copy');
    const sam = await as.sam.call('GET', `/api/v1/messages/${bccSha}`);
    assert.deepEqual(roles(sam.body), ['bcc:carl@corp.test', 'from:sam@corp.test', 'to:anna@corp.test']);
    assert.deepEqual(rcpts(sam.body), ['anna@corp.test', 'carl@corp.test']);
    const carl = await as.carl.call('GET', `/api/v1/messages/${bccSha}`);
    assert.deepEqual(roles(carl.body), ['bcc:carl@corp.test', 'from:sam@corp.test', 'to:anna@corp.test']);
    assert.deepEqual(rcpts(carl.body), ['carl@corp.test']);
    const covering = (await as.rita.call('GET', '/api/v1/requests')).body.requests.find((r: any) => r.state === 'active' && r.mailboxes.includes('anna@corp.test'));
    const held = await as.rita.call('GET', `/api/v1/messages/${bccSha}?grant=${covering.id}`);
    assert.deepEqual(roles(held.body), ['bcc:carl@corp.test', 'from:sam@corp.test', 'to:anna@corp.test'], 'the grant holder sees the envelope');
    // bcc: and mailbox: find it for the sender and the Bcc recipient, never for anna.
    const hits = async (client: ApiClient, q: string) => (await client.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`)).body.results.map((r: any) => r.sha256);
    for (const q of ['bcc:carl@corp.test', 'bcc:carl', 'bcc:@corp.test', 'mailbox:carl@corp.test', 'salary AND bcc:carl@corp.test']) assert.deepEqual(await hits(as.anna, q), [], q);
    for (const q of ['bcc:carl@corp.test', 'mailbox:carl@corp.test']) {
      assert.deepEqual(await hits(as.sam, q), [bccSha], `sender: ${q}`);
      assert.deepEqual(await hits(as.carl, q), [bccSha], `Bcc recipient: ${q}`);
    }
    assert.deepEqual(await hits(as.anna, 'salary'), [bccSha], 'the message itself is hers');
    // Nor does a plain search: carl's address is only in the envelope, never in the full text.
    for (const q of ['carl@corp.test', '"carl@corp.test"', 'salary carl@corp.test']) assert.deepEqual(await hits(as.anna, q), [], `plain: ${q}`);
    // The evidence of her copy lists the receipt that reached her, and nothing about carl.
    const evidence = await as.anna.call('GET', `/api/v1/messages/${bccSha}/evidence`);
    assert.equal(evidence.status, 200);
    assert.equal(evidence.body.captures.length, 1);
  });

  // The commands themselves, each in a process of its own against the data folder the world holds
  // open, as someone with a stolen token would run them beside a running server.
  await t.test('6. the CLI shows a stolen token\'s holder the same reduced copy; a revoked or unscoped token is refused and recorded', async () => {
    const created = await as.anna.call('POST', '/api/v1/tokens', { name: 'laptop', scopes: ['content'], days: 1 });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const cli = ['--data', world.data, '--config', world.config];
    const shown = await sealbox(['show', ...cli, '--json', sha256(bccd), '--token', created.body.token]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(!shown.stdout.toString().includes('carl'), shown.stdout.toString());
    const found = await sealbox(['search', ...cli, '--json', 'bcc:carl@corp.test', '--token', created.body.token]);
    assert.equal(found.code, 0, found.stderr);
    assert.equal(found.stdout.toString(), '');
    await world.takeAll();

    assert.equal((await as.anna.call('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 200);
    await world.takeAll();
    for (const command of ['search', 'show']) {
      const r = await sealbox([command, ...cli, ...(command === 'show' ? [sha256(bccd)] : ['salary']), '--token', created.body.token]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /SEALBOX_ERR_AUTH/);
      const e = await deniedEntry('anna', 'token.use');
      assert.equal(e.parameters.reason, 'token revoked');
      assert.equal(e.parameters.tokenId, created.body.id);
    }
    const unscoped = await as.anna.call('POST', '/api/v1/tokens', { name: 'requests only', scopes: ['requests'], days: 1 });
    await world.takeAll();
    const r = await sealbox(['search', ...cli, 'salary', '--token', unscoped.body.token]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SEALBOX_ERR_FORBIDDEN/);
    assert.match((await deniedEntry('anna', 'token.use')).parameters.reason, /content/);
    // A stolen requests token files nothing on its holder's behalf without the requester role.
    const thief = world.client();
    thief.token = unscoped.body.token;
    refused(await thief.call('POST', '/api/v1/requests', request()), 403, 'SEALBOX_ERR_FORBIDDEN');
    await deniedEntry('anna', 'request.file');
  });

  await t.test('7. a grant with a future start waits for it, and ends a duration after it', async () => {
    const startsAt = new Date(world.clock.now() + 4000);
    const state = async () => (await as.rita.call('GET', `/api/v1/requests/${filed.id}`)).body.state;
    const filed = await file(as.rita, { startsAt: startsAt.toISOString(), durationHours: 0.001 });
    assert.equal(filed.startsAt, startsAt.toISOString(), 'the start is kept');
    assert.equal(filed.state, 'pending');
    const approved = await approve(filed.id);
    assert.equal(approved.startsAt, startsAt.toISOString());
    assert.equal(Date.parse(approved.endsAt) - Date.parse(approved.startsAt), Math.round(0.001 * 3600) * 1000, 'its duration from its start');
    await world.takeAll();
    // Before its start (the clock is moved, nobody waits; none of this is "if still early enough").
    assert.equal(approved.state, 'approved');
    const early = await as.rita.call('GET', `/api/v1/search?q=minutes&grant=${filed.id}`);
    refused(early, 403, 'SEALBOX_ERR_FORBIDDEN');
    assert.match(early.body.error.message, /approved, not active/);
    assert.equal((await deniedEntry('rita', 'search')).grantId, filed.id);
    world.clock.advance(startsAt.getTime() - 500 - world.clock.now());
    assert.equal(await state(), 'approved', 'not active before its start');
    world.clock.advance(startsAt.getTime() - world.clock.now());
    assert.equal(await state(), 'active', 'active from its start');
    const during = await as.rita.call('GET', `/api/v1/search?q=minutes&grant=${filed.id}`);
    assert.equal(during.status, 200, JSON.stringify(during.body));
    world.clock.advance(Date.parse(approved.endsAt) - world.clock.now());
    assert.equal(await state(), 'expired');
    refused(await as.rita.call('GET', `/api/v1/search?q=minutes&grant=${filed.id}`), 403, 'SEALBOX_ERR_FORBIDDEN');
  });

  await t.test('10. malformed input is a 4xx with its own code, recorded where it reached the decision point', async () => {
    // A NUL in a query: a bad query, not a ledger failure, and the attempt is in the ledger.
    await world.takeAll();
    for (const q of ['a\u0000b', 'salary\u0000', 'from:"sam\u0000"']) {
      const r = await as.anna.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
      refused(r, 400, 'SEALBOX_ERR_QUERY');
      assert.match(r.body.error.message, /control character U\+0000/);
      await deniedEntry('anna', 'search');
    }
    // A cookie that is not percent-encoding is no session.
    const res = await world.request({ method: 'GET', path: '/api/v1/me', headers: { cookie: 'sealbox_session=%' } });
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.payload.toString('utf8')).error.code, 'SEALBOX_ERR_AUTH');
    // A locked account answers exactly like one that does not exist.
    const mallory = world.client();
    for (let i = 0; i < 3; i++) refused(await mallory.call('POST', '/api/v1/session', { name: 'carl', password: `guess-${i}-wrong-password` }), 401, 'SEALBOX_ERR_AUTH');
    const locked = await mallory.call('POST', '/api/v1/session', { name: 'carl', password: world.passwords.carl });
    const nobody = await mallory.call('POST', '/api/v1/session', { name: 'nobody-here', password: world.passwords.carl });
    assert.deepEqual([locked.status, locked.body], [nobody.status, nobody.body]);
    assert.equal(locked.status, 401);
    const lockEntry = (await world.takeAll()).filter((e) => e.operation === 'session.create' && e.parameters.name === 'carl').at(-1)!;
    assert.match(lockEntry.parameters.reason, /locked/, 'the ledger keeps the real reason');
  });

  await t.test('9. percent-encoding the sign-in path does not escape the sign-in rate limit', async () => {
    const spray = async (path: string) => {
      const r = await world.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', password: 'spray-password-1' }) });
      return { status: r.status, body: JSON.parse(r.payload.toString('utf8')) };
    };
    // It is sign-in that the encoded paths reach …
    const first = await spray('/api/v1/%73ession');
    assert.ok(first.status === 401 || first.status === 429, JSON.stringify(first));
    // … so they count as sign-in: more than a minute's budget (over any window boundary) is refused.
    const answers: { status: number; body: any }[] = [];
    for (let i = 0; i < SIGNIN_PER_MINUTE * 2 + 5; i++) answers.push(await spray(['/api/v1/sessio%6E', '/api/v1/%73ession', '/api/v1/%73%65ssion'][i % 3]));
    assert.ok(answers.every((a) => a.status === 401 || a.status === 429), answers.map((a) => a.status).join(' '));
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, `no 429 among ${answers.length} encoded sign-ins`);
    assert.equal(limited.body.error.code, 'SEALBOX_ERR_RATE_LIMITED');
  });

  await t.test('10. no 500 for bad input on any route: malformed ids, queries, bodies and headers', async () => {
    const url = world.url!;
    const openapi = (await (await fetch(`${url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const weird = ['%', '%00', '%E0%A4%A', '..%2F..%2Fetc', 'x'.repeat(5000), '%F0%9F%92%A9', '-1', '1e999', 'NaN', "'", '[]'];
    const bodies = ['{', '[]', 'null', '"x"', '{"a":', JSON.stringify({ reason: { $ne: 1 } }), JSON.stringify({ roles: 'admin' }), '\u0000'];
    const queries = ['q=%00', 'q=', 'q=a&q=b', 'limit=-5', 'limit=abc', 'offset=1e400', 'grant=%', 'at=nope', 'from=%ZZ', 'grant[]=x', 'q[$gt]=a'];
    const failures: string[] = [];
    const check = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
      const headers: Record<string, string> = { ...(as.adm.cookie ? { cookie: as.adm.cookie } : {}), 'x-csrf-token': as.adm.csrf ?? '', ...init.headers };
      const r = await fetch(url + path, { body: init.body, method, headers });
      if (r.status >= 500) failures.push(`${method} ${path.slice(0, 120)} ${init.body ? String(init.body).slice(0, 40) : ''} -> ${r.status} ${(await r.text()).slice(0, 200)}`);
      else await r.arrayBuffer();
    };
    for (const [template, methods] of Object.entries(openapi.paths)) {
      if (template.includes('/ingest')) continue;
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        if (method === 'DELETE' && template === '/api/v1/session') continue;   // would sign the fuzzer out
        for (const w of weird) await check(method, template.replace(/\{\w+\}/g, w));
        const path = template.replace(/\{\w+\}/g, 'x');
        for (const q of queries) await check(method, `${path}?${q}`);
        if (method !== 'GET') for (const b of bodies) await check(method, path, { body: b, headers: { 'content-type': 'application/json' } });
        await check(method, path, { headers: { authorization: 'Bearer ', cookie: 'sealbox_session=%; x=%%' } });
        await check(method, path, { headers: { authorization: 'Bearer sbx_tok_%_x' } });
        await check(method, path, { headers: { cookie: 'sealbox_session=%' } });
      }
    }
    assert.deepEqual(failures, []);
  });

  // The edges of a scheduled grant, on the real database with the clock moved: approved up to the
  // millisecond before its start, active from its start to the millisecond before its end.
  await world.stop();
  stopped = true;
  const config = loadConfig(world.config, { data: world.data });
  let now = world.clock.now();
  const archive = await openArchive(config, 'console', { clock: { now: () => now } });
  const s = archive.services;
  try {
    const rita = (await s.db.read((tx) => s.people.byName(tx, 'rita')))!;
    const bob = (await s.db.read((tx) => s.people.byName(tx, 'bob')))!;
    const start = now + 3_600_000;
    const r = await s.db.write((tx) => s.grants.file(tx, rita, { ...request(), startsAt: new Date(start).toISOString(), durationHours: 2 } as any));
    assert.equal(r.startsAt, start);
    await s.db.write((tx) => s.grants.decide(tx, bob, r.id, 'approve', 'scheduled'));
    const decideAt = async (t: number) => {
      now = t;
      try {
        return (await s.db.read((tx) => s.decision.decide(tx, rita, 'search', r.id))).logonType;
      } catch (err) {
        return (err as Error).message;
      }
    };
    assert.match(await decideAt(start - 1), /approved, not active/);
    assert.equal(await decideAt(start), 'delegated');
    assert.equal(await decideAt(start + 2 * 3_600_000 - 1), 'delegated');
    assert.match(await decideAt(start + 2 * 3_600_000), /expired/);
  } finally {
    archive.close();
  }
});
