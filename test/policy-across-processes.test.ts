// Issue 17: several processes on one archive, and a policy change made through one applies on
// all. Node A is the in-process server world; node B is a second opening of the same archive
// (same data folder, or same PostgreSQL database) with an HTTP API of its own, reached with the
// sessions people signed in with on A (sessions live in the database). Nothing is restarted: what
// A's admin changes, B decides by at once (grants, four eyes), or within RECENT_POLICY_MS where
// it is read outside a transaction (the rate limits, the cookies' Secure flag).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RECENT_POLICY_MS } from '../src/access/policy.ts';
import { buildHttpServer } from '../src/api/http-server.ts';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { ApiClient } from './support/api-client.ts';
import type { Transport } from './support/api-client.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';

let cluster: Postgres | null = null;
before(async () => { cluster = await startPostgres(); }, { timeout: 120_000 });
// Stopped once this process has nothing left to do: archive.close() does not wait for its pools
// to end, and the server's lock connection (claimServer) hears a cluster stopping under it.
after(() => { process.once('beforeExit', () => void cluster?.stop()); });

async function twoNodes(store: Record<string, unknown> | null) {
  const world = await startInProcessWorld({
    messages: { memo: { from: 'x@partner.test', to: 'bob@corp.test', subject: 'Quarterly memo', date: 'Tue, 05 Mar 2024 10:00:00 +0000' } },
    mailboxes: { 'bob@corp.test': 'bob' },
    users: { bob: ['owner'], rita: ['requester'], anna: ['approver'], alan: ['approver'] },
    ...(store ? { config: { store } } : {}),
  });
  let b: Awaited<ReturnType<typeof openArchive>> | null = null;
  let app: ReturnType<typeof buildHttpServer> | null = null;
  try {
    // The second process: the same config and data, opened as a console command opens it.
    b = await openArchive(loadConfig(world.config, { data: world.data }, {}), 'console', { clock: world.clock });
    app = buildHttpServer({ services: b.services, verifierKey: b.verifierKey, log: b.log });
  } catch (err) {
    b?.close();
    await world.stop();
    throw err;
  }
  const onB: Transport = async ({ method, path, headers, body }) => {
    const res = await app.inject({ method: method as 'GET', url: path, headers, payload: body });
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) for (const v of [value].flat()) if (v !== undefined) out.append(name, String(v));
    return { status: res.statusCode, headers: out, payload: res.rawPayload };
  };
  // The same person on node B, with the session they signed in with on A.
  const atB = (name: string) => {
    const c = new ApiClient(onB, { clock: world.clock });
    c.cookie = world.as[name].cookie;
    c.csrf = world.as[name].csrf;
    return c;
  };
  const stop = async () => {
    await app.close();
    b!.close();
    await world.stop();
  };
  return { world, atB, anonymousAtB: () => new ApiClient(onB, { clock: world.clock }), stop };
}

async function scenario(store: Record<string, unknown> | null): Promise<void> {
  const { world, atB, anonymousAtB, stop } = await twoNodes(store);
  try {
    const a = world.as;
    const b = { adm: atB('adm'), rita: atB('rita'), anna: atB('anna') };
    const request = (durationHours: number) => ({ purpose: 'legal-hold', justification: 'case 9', ticket: 'LEG-9', mailboxes: ['bob@corp.test'], permissions: ['search'], durationHours });

    // B has read the policy (the config file's) before A changes it.
    assert.equal((await b.adm.call('GET', '/api/v1/policy')).body.approvalsNeeded, 1);
    const filedBefore = await b.rita.call('POST', '/api/v1/requests', request(48));
    assert.equal(filedBefore.status, 200, JSON.stringify(filedBefore.body));
    assert.equal(filedBefore.body.approvalsNeeded, 1);

    const set = await a.adm.call('POST', '/api/v1/policy', { approvalsNeeded: 2, maxGrantHours: 24 });
    assert.equal(set.status, 200, JSON.stringify(set.body));

    // B, with no restart and no time passing, reads what A committed.
    assert.deepEqual((await b.adm.call('GET', '/api/v1/policy/overrides')).body, { overrides: { approvalsNeeded: 2, maxGrantHours: 24 } });
    const tooLong = await b.rita.call('POST', '/api/v1/requests', request(48));
    assert.equal(tooLong.status, 400, 'maxGrantHours 24, set on A, refuses 48 hours on B');
    assert.match(tooLong.body.error.message, /at most 24 hours/);
    const filed = await b.rita.call('POST', '/api/v1/requests', request(8));
    assert.equal(filed.status, 200, JSON.stringify(filed.body));
    assert.equal(filed.body.approvalsNeeded, 2, 'filed on B under the two approvals A asked for');
    const first = await b.anna.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'case checked' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.state, 'pending', 'one approval on B is not enough');
    const second = await a.alan.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'agreed' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.state, 'active');

    // Four eyes only tightens through the API: B compares a change with the policy A set, not
    // with the one it opened with (which would let approvalsNeeded 1 through, undoing A's 2).
    const loosen = await b.adm.call('POST', '/api/v1/policy', { approvalsNeeded: 1, maxGrantHours: 24 });
    assert.equal(loosen.status, 403, JSON.stringify(loosen.body));
    assert.match(loosen.body.error.message, /loosening approvalsNeeded/);
    assert.equal((await a.adm.call('GET', '/api/v1/policy')).body.approvalsNeeded, 2, 'A keeps the two approvals');
    const refused = (await world.take('adm')).filter((e) => e.operation === 'policy.set');
    assert.deepEqual(refused.map((e) => e.result), ['success', 'denied'], 'the set on A and the refusal on B, both in the ledger');

    // The Secure flag of the session cookie follows the policy too (within RECENT_POLICY_MS): the
    // world's config file turns it off, A's admin turns it on.
    const bobSignsInAtB = async () => (await anonymousAtB().call('POST', '/api/v1/session', { name: 'bob', password: world.passwords.bob })).headers.get('set-cookie') ?? '';
    assert.doesNotMatch(await bobSignsInAtB(), /; Secure/);
    const secure = await a.adm.call('POST', '/api/v1/policy', { approvalsNeeded: 2, maxGrantHours: 24, secureCookies: true });
    assert.equal(secure.status, 200, JSON.stringify(secure.body));
    world.clock.advance(RECENT_POLICY_MS);
    assert.match(await bobSignsInAtB(), /^sealbox_session=[^;]+;.*; Secure$/);

    // The rate limits are read outside a transaction: B follows A within RECENT_POLICY_MS. B
    // reads its limit once (a second sign-in try in the minute), then A lowers it.
    const guess = () => anonymousAtB().call('POST', '/api/v1/session', { name: 'nobody', password: 'guess-guess-guess' });
    for (let i = 0; i < 2; i++) assert.equal((await guess()).status, 401);
    const lowered = await a.adm.call('POST', '/api/v1/policy', { approvalsNeeded: 2, maxGrantHours: 24, secureCookies: true, signinPerMinute: 3 });
    assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
    world.clock.advance(RECENT_POLICY_MS);
    // Whether or not the minute turned with the clock, the fourth try in it is refused.
    const tries = [];
    for (let i = 0; i < 4; i++) tries.push((await guess()).status);
    assert.equal(tries.at(-1), 429, `tries on B after the bound: ${tries.join(', ')}`);
  } finally {
    await stop();
  }
}

test('a policy change made through one process applies on another on the same SQLite archive', { timeout: 120_000 }, () => scenario(null));

test('a policy change made through one node applies on another on the same PostgreSQL archive', { timeout: 180_000 }, async () => {
  await scenario((await postgresStore(cluster!)).store);
});
