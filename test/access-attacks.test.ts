// Attacks on governed access, each through the HTTP API (in this process, on a clock the test
// moves): every one is refused with a clear error code, reveals nothing, and leaves its trace in
// the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ApiClient } from './support/api-client.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';

const LOCKOUT_ATTEMPTS = 3;

test('attacks on governed access are refused, reveal nothing and are recorded', { timeout: 60_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      invoice: { from: 'x@partner.test', to: 'tgt@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 09:00:00 +0000' },
      lunch: { from: 'x@partner.test', to: 'tgt@corp.test', subject: 'Lunch plans', date: 'Wed, 06 Mar 2024 09:00:00 +0000' },
      secret: { from: 'y@partner.test', to: 'other@corp.test', subject: 'Merger codename Bluebird', date: 'Thu, 07 Mar 2024 09:00:00 +0000' },
      payslip: { from: 'hr@corp.test', to: 'anna@corp.test', subject: 'Payslip for Anna', date: 'Fri, 08 Mar 2024 09:00:00 +0000' },
    },
    mailboxes: { 'tgt@corp.test': '', 'other@corp.test': '', 'anna@corp.test': 'anna', 'lock@corp.test': 'lock' },
    // ivan may both request and approve; anna approves and owns a mailbox; eve is another requester.
    users: { ivan: ['requester', 'approver'], eve: ['requester'], bob: ['approver'], anna: ['approver'], lock: ['owner'] },
    access: { lockoutAttempts: LOCKOUT_ATTEMPTS, lockoutMinutes: 60 },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  const request = (input: Record<string, unknown> = {}) => ({ purpose: 'legal-hold', justification: 'case 7', ticket: 'LEG-7', mailboxes: ['tgt@corp.test'], dateFrom: '2024-01-01', dateTo: '2024-12-31', permissions: ['search', 'read'], durationHours: 1, ...input });
  const grant = async (client: ApiClient, input: Record<string, unknown> = {}) => {
    const filed = await client.call('POST', '/api/v1/requests', request(input));
    assert.equal(filed.status, 200, JSON.stringify(filed.body));
    const approved = await as.bob.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'case confirmed' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    return approved.body;
  };
  const g = (await grant(as.ivan)).id;
  const fixed = (await grant(as.ivan, { query: 'invoice' })).id;
  await world.takeAll();
  // The one entry a call left, by that user.
  const one = async (name: string): Promise<LedgerEntryView> => {
    const entries = await world.take(name);
    assert.equal(entries.length, 1, `one entry by ${name}: ${JSON.stringify(entries)}`);
    return entries[0];
  };
  const refusedAs = (r: { status: number; body: any }, status: number, code: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.ok(r.body.error.message.length > 0);
  };

  await t.test('guessing message ids outside the grant: 404 exactly like a missing message, and recorded', async () => {
    const missing = randomBytes(32).toString('hex');
    for (const suffix of ['', '/raw']) {
      const outside = await as.ivan.call('GET', `/api/v1/messages/${sha.secret}${suffix}?grant=${g}`);
      const outsideEntry = await one('ivan');
      const none = await as.ivan.call('GET', `/api/v1/messages/${missing}${suffix}?grant=${g}`);
      const noneEntry = await one('ivan');
      refusedAs(outside, 404, 'SEALBOX_ERR_NOT_FOUND');
      assert.equal(JSON.stringify(outside.body).replace(sha.secret, 'X'), JSON.stringify(none.body).replace(missing, 'X'), 'same answer');
      for (const h of ['content-type', 'content-length', 'cache-control']) assert.equal(outside.headers.get(h), none.headers.get(h), h);
      for (const [e, id] of [[outsideEntry, sha.secret], [noneEntry, missing]] as const) {
        assert.equal(e.type, 'access');
        assert.equal(e.result, 'denied');
        assert.equal(e.grantId, g);
        assert.deepEqual(e.objects.messages, [id]);
      }
    }
    // A grant with a fixed query opens only what that query finds, for reads as for searches.
    const r = await as.ivan.call('GET', `/api/v1/messages/${sha.lunch}?grant=${fixed}`);
    refusedAs(r, 404, 'SEALBOX_ERR_NOT_FOUND');
    assert.equal((await one('ivan')).result, 'denied');
    assert.equal((await as.ivan.call('GET', `/api/v1/messages/${sha.invoice}?grant=${fixed}`)).status, 200);
    assert.equal((await one('ivan')).result, 'success');
  });

  await t.test('searching for a known subject outside the scope: no result, no count, no snippet; the same answer as no hit at all', async () => {
    // Same length as "Bluebird", so even the echoed query cannot tell the two apart by size.
    const known = await as.ivan.call('GET', `/api/v1/search?q=Bluebird&grant=${g}`);
    const knownEntry = await one('ivan');
    const nothing = await as.ivan.call('GET', `/api/v1/search?q=Qzxwvuty&grant=${g}`);
    await one('ivan');
    assert.equal(known.status, 200);
    // The total counts the scope only: 0 for both.
    assert.deepEqual(known.body, { query: 'Bluebird', grant: g, total: 0, offset: 0, sort: 'newest', results: [] });
    assert.deepEqual(nothing.body, { query: 'Qzxwvuty', grant: g, total: 0, offset: 0, sort: 'newest', results: [] });
    const snippets = await as.ivan.call('GET', `/api/v1/search?q=Bluebird&grant=${g}&snippets=1`);
    assert.deepEqual([snippets.body.total, snippets.body.results], [0, []], 'with snippets asked for, nothing either');
    assert.deepEqual((await one('ivan')).objects.messages, []);
    assert.deepEqual([...known.headers.keys()].sort(), [...nothing.headers.keys()].sort());
    for (const h of ['content-type', 'content-length']) assert.equal(known.headers.get(h), nothing.headers.get(h), h);
    assert.equal(knownEntry.result, 'success');
    assert.equal(knownEntry.parameters.results, 0);
    assert.deepEqual(knownEntry.objects.messages, []);
    // Nor through a field that names the other mailbox or the message itself.
    for (const q of ['mailbox:other@corp.test', 'to:other@corp.test', `sha256:${sha.secret.slice(0, 12)}`, 'from:y@partner.test', 'bluebird OR invoice']) {
      const r = await as.ivan.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&grant=${g}`);
      assert.equal(r.status, 200, q);
      assert.ok(r.body.results.every((h: any) => h.sha256 !== sha.secret && h.sha256 !== sha.payslip), q);
      assert.equal((await one('ivan')).result, 'success');
    }
    // A grant's fixed query is ANDed with every search, and cannot be escaped by the query text.
    for (const q of ['lunch', 'x) OR (lunch', 'invoice) OR (lunch', 'NOT invoice', 'plans']) {
      const r = await as.ivan.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&grant=${fixed}`);
      assert.ok(r.status === 200 || r.status === 400, `${q}: ${r.status}`);
      if (r.status === 200) assert.deepEqual(r.body.results, [], `${q} finds nothing outside the fixed query`);
      else assert.equal(r.body.error.code, 'SEALBOX_ERR_QUERY', q);
      assert.equal((await one('ivan')).result, r.status === 200 ? 'success' : 'denied', q);
    }
    const r = await as.ivan.call('GET', `/api/v1/search?q=march&grant=${fixed}`);
    assert.deepEqual(r.body.results.map((h: any) => h.sha256), [sha.invoice]);
    await one('ivan');
  });

  await t.test('approving one\'s own request, or one on one\'s own mailbox (which looks missing), is refused and recorded', async () => {
    const own = await as.ivan.call('POST', '/api/v1/requests', request());
    await world.takeAll();
    for (const decision of ['approve', 'deny']) {
      const r = await as.ivan.call('POST', `/api/v1/requests/${own.body.id}/${decision}`, { reason: 'looks fine to me' });
      refusedAs(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /own request/);
      const e = await one('ivan');
      assert.deepEqual([e.operation, e.result, e.grantId], [`request.${decision}`, 'denied', own.body.id]);
    }
    const onAnna = await as.ivan.call('POST', '/api/v1/requests', request({ mailboxes: ['anna@corp.test'] }));
    await world.takeAll();
    for (const decision of ['approve', 'deny']) {
      const r = await as.anna.call('POST', `/api/v1/requests/${onAnna.body.id}/${decision}`, { reason: 'my own mailbox, fine' });
      // The subject of a request learns nothing of it: it answers like a missing request.
      refusedAs(r, 404, 'SEALBOX_ERR_NOT_FOUND');
      assert.doesNotMatch(r.body.error.message, /anna/);
      const e = await one('anna');
      assert.deepEqual([e.operation, e.result, e.grantId], [`request.${decision}`, 'denied', onAnna.body.id]);
    }
    for (const id of [own.body.id, onAnna.body.id]) assert.equal((await as.bob.call('GET', `/api/v1/requests/${id}`)).body.state, 'pending', 'still pending');
  });

  await t.test('a revoked API token replayed is refused and recorded', async () => {
    const created = await as.ivan.call('POST', '/api/v1/tokens', { name: 'script', scopes: ['content'], days: 1 });
    assert.equal(created.status, 200);
    const bot = world.client();
    bot.token = created.body.token;
    assert.equal((await bot.call('GET', `/api/v1/search?q=invoice&grant=${g}`)).status, 200);
    assert.equal((await as.ivan.call('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 200);
    await world.takeAll();
    const r = await bot.call('GET', `/api/v1/search?q=invoice&grant=${g}`);
    refusedAs(r, 401, 'SEALBOX_ERR_AUTH');
    const e = await one('ivan');
    assert.deepEqual([e.operation, e.result, e.sessionId], ['token.use', 'denied', created.body.id]);
    assert.match(e.parameters.reason, /revoked/);
    // A forged secret for the real token id, too.
    bot.token = created.body.token.slice(0, -4) + 'AAAA';
    refusedAs(await bot.call('GET', `/api/v1/search?q=invoice&grant=${g}`), 401, 'SEALBOX_ERR_AUTH');
    assert.match((await one('ivan')).parameters.reason, /wrong token secret/);
    assert.deepEqual(await world.take('ivan'), [], 'no read happened');
  });

  await t.test('a token without the content scope cannot read content', async () => {
    const created = await as.ivan.call('POST', '/api/v1/tokens', { name: 'requests only', scopes: ['requests'], days: 1 });
    const bot = world.client();
    bot.token = created.body.token;
    await world.takeAll();
    for (const path of [`/api/v1/search?q=invoice&grant=${g}`, `/api/v1/messages/${sha.invoice}?grant=${g}`, `/api/v1/messages/${sha.invoice}/raw?grant=${g}`]) {
      const r = await bot.call('GET', path);
      refusedAs(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /lacks the "content" scope/);
      const e = await one('ivan');
      assert.deepEqual([e.type, e.operation, e.result], ['admin', 'token.use', 'denied']);
    }
    assert.equal((await bot.call('GET', '/api/v1/requests')).status, 200, 'its own scope works');
  });

  await t.test('a session of one user cannot use another user\'s grant', async () => {
    for (const path of [`/api/v1/search?q=invoice&grant=${g}`, `/api/v1/messages/${sha.invoice}?grant=${g}`, `/api/v1/messages/${sha.invoice}/raw?grant=${g}`, `/api/v1/export?q=invoice&grant=${g}`]) {
      const r = await as.eve.call('GET', path);
      refusedAs(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /not given to you/);
      const e = await one('eve');
      assert.deepEqual([e.type, e.result, e.grantId], ['access', 'denied', g]);
    }
    // Nor by carrying the other's session cookie with one's own CSRF token.
    const mixed = world.client();
    mixed.cookie = as.bob.cookie;
    mixed.csrf = as.eve.csrf;
    const r = await mixed.call('POST', '/api/v1/requests', request());
    refusedAs(r, 403, 'SEALBOX_ERR_CSRF');
    assert.equal((await one('bob')).operation, 'session.csrf');
  });

  await t.test('CSRF: a state change without the token or with a wrong one is refused, changes nothing, and is recorded', async () => {
    const before = (await as.eve.call('GET', '/api/v1/requests')).body.requests.length;
    const pending = (await as.ivan.call('POST', '/api/v1/requests', request())).body.id;
    await world.takeAll();
    const forged = world.client();
    forged.cookie = as.eve.cookie;
    for (const csrf of [null, 'wrong-token', as.ivan.csrf]) {
      forged.csrf = csrf;
      const r = await forged.call('POST', '/api/v1/requests', request());
      refusedAs(r, 403, 'SEALBOX_ERR_CSRF');
      const e = await one('eve');
      assert.deepEqual([e.operation, e.result, e.parameters.route], ['session.csrf', 'denied', 'POST /api/v1/requests']);
    }
    assert.equal((await as.eve.call('GET', '/api/v1/requests')).body.requests.length, before, 'nothing was filed');
    const approve = await as.bob.call('POST', `/api/v1/requests/${pending}/approve`, { reason: 'ok' }, { csrf: false });
    refusedAs(approve, 403, 'SEALBOX_ERR_CSRF');
    assert.equal((await one('bob')).operation, 'session.csrf');
    assert.equal((await as.bob.call('GET', `/api/v1/requests/${pending}`)).body.state, 'pending');
  });

  await t.test(`brute-forcing a password locks the account after ${LOCKOUT_ATTEMPTS} attempts; then even the right password is refused`, async () => {
    const mallory = world.client();
    for (let i = 1; i <= LOCKOUT_ATTEMPTS; i++) refusedAs(await mallory.call('POST', '/api/v1/session', { name: 'lock', password: `guess-number-${i}-wrong` }), 401, 'SEALBOX_ERR_AUTH');
    const locked = await mallory.call('POST', '/api/v1/session', { name: 'lock', password: world.passwords.lock });
    // The same answer as a name that is no account: a lockout must not tell which names exist.
    const missing = await mallory.call('POST', '/api/v1/session', { name: 'no-such-person', password: world.passwords.lock });
    refusedAs(locked, 401, 'SEALBOX_ERR_AUTH');
    assert.deepEqual(locked.body, missing.body);
    assert.equal(mallory.cookie, null, 'no session');
    const entries = (await world.takeAll()).filter((e) => e.operation === 'session.create' && e.parameters.name === 'lock');
    assert.equal(entries.length, LOCKOUT_ATTEMPTS + 1);
    assert.ok(entries.every((e) => e.result === 'denied' && e.parameters.name === 'lock'));
    assert.match(entries.at(-1)!.parameters.reason, /locked/);
    // The user's existing session is not the attacker's to end.
    assert.equal((await as.lock.call('GET', '/api/v1/me')).status, 200);
  });

  await t.test('using a grant one second after it expired is refused and recorded', async () => {
    const short = await grant(as.ivan, { durationHours: 0.001 });
    const endsAt = Date.parse(short.endsAt);
    world.clock.advance(endsAt - 1000 - world.clock.now());
    assert.equal((await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${short.id}`)).status, 200, 'it works while it lasts (a second to go)');
    world.clock.advance(endsAt + 1000 - world.clock.now());
    assert.equal((await as.ivan.call('GET', `/api/v1/requests/${short.id}`)).body.state, 'expired');
    await world.takeAll();
    for (const path of [`/api/v1/search?q=invoice&grant=${short.id}`, `/api/v1/messages/${sha.invoice}?grant=${short.id}`]) {
      const r = await as.ivan.call('GET', path);
      refusedAs(r, 403, 'SEALBOX_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /expired/);
      const e = await one('ivan');
      assert.deepEqual([e.type, e.result, e.grantId], ['access', 'denied', short.id]);
    }
  });

  await t.test('SQL and FTS injection in queries: malformed ones are refused with SEALBOX_ERR_QUERY and recorded, the rest stay in scope', async () => {
    const malformed = [`'; DROP TABLE doc; --`, `" OR 1=1`, `x" OR 1=1 --`, `*`, `) OR (1=1`, `body:x`, `doc_fts:invoice`, `sha256:*`, `NEAR(`, `from:`];
    for (const q of malformed) {
      const r = await as.ivan.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&grant=${g}`);
      refusedAs(r, 400, 'SEALBOX_ERR_QUERY');
      assert.match(r.body.error.message, /column \d+/, q);
      const e = await one('ivan');
      assert.deepEqual([e.type, e.operation, e.result, e.grantId, e.parameters.query], ['access', 'search', 'denied', g, q]);
      assert.deepEqual(e.objects.messages, []);
    }
    const wellFormed = [`NEAR(invoice march)`, `NEAR(invoice march, 2)`, `invoice OR 1=1`, `subject:invoice`, `{subject}: lunch`, `from:'or'1'='1`, `invoice*`, `"invoice" OR "merger"`, `subject:bluebird OR subject:payslip`, `invoice -merger`, `NOT merger`];
    for (const q of wellFormed) {
      const r = await as.ivan.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&grant=${g}`);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body.results.every((h: any) => h.sha256 === sha.invoice || h.sha256 === sha.lunch), `${q} stays in scope`);
      assert.equal((await one('ivan')).result, 'success');
    }
    // The index is intact and still answers.
    const r = await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${g}`);
    assert.deepEqual(r.body.results.map((h: any) => h.sha256), [sha.invoice]);
    const health = (await world.client().call('GET', '/api/v1/health')).body;
    assert.equal(health.messages, 4);
    // Nor through the other parameters.
    refusedAs(await as.ivan.call('GET', `/api/v1/messages/${encodeURIComponent("' OR 1=1 --")}?grant=${g}`), 400, 'SEALBOX_ERR_BAD_INPUT');
    refusedAs(await as.ivan.call('GET', `/api/v1/search?q=invoice&grant=${encodeURIComponent("' OR 1=1 --")}`), 403, 'SEALBOX_ERR_FORBIDDEN');
  });
});
