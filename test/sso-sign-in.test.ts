// Sign-in through a real OpenID Provider (oidc-provider on a loopback port, test/support/
// oidc-provider.ts) against Sealbox in this process on port 0, driven over HTTP like a browser
// would: the first sign-in makes the person with owner and requester at once and files every
// other role a group gives for an approver (applied once another approver approves); a mailbox
// is linked only where the directory names the person, else filed; Sealbox's own second factor
// is asked where the roles need one and the provider's amr does not say multi-factor (always for
// break-glass). A tampered ID token, a wrong audience, an expired token, a replayed callback
// (state) and an ID token from another sign-in (nonce) are refused, each a denied sign-in in the
// ledger; so are a disabled person, a name that is someone else's, and a local password outside
// sso.localSignIn. Signing out of a provider's session leads to its RP-initiated logout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentStep, totpCode } from '../src/access/totp.ts';
import { base32Decode } from './support/api-client.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { CookieClient, startTestProvider } from './support/oidc-provider.ts';
import type { TestAccount, TestProvider } from './support/oidc-provider.ts';
import { tempDataDir } from './support/sealbox.ts';

const account = (name: string, groups: string[], amr: string[], email = `${name}@corp.test`): TestAccount => ({
  password: `${name}-idp-password`, amr, claims: { preferred_username: name, name: name[0].toUpperCase() + name.slice(1), email, email_verified: true, groups },
});

const SSO = (issuer: string, secretFile: string) => ({
  providers: [{ id: 'test', label: 'Test IdP', issuer, clientId: 'sealbox', clientSecretFile: secretFile, scopes: ['openid', 'profile', 'email', 'groups'], mfaAmr: ['mfa'] }],
  roleGroups: { requester: ['support'], approver: ['legal'], breakglass: ['glass'] },
  // The local accounts the world signs in with; anyone else signs in through the provider.
  localSignIn: ['adm', 'appr', 'appr2', 'ledger-watch'],
});

// A sign-in through the provider as a browser makes it, step by step.
class SsoBrowser {
  readonly http = new CookieClient();
  readonly #world: InProcessWorld;
  readonly #idp: TestProvider;

  constructor(world: InProcessWorld, idp: TestProvider) {
    this.#world = world;
    this.#idp = idp;
  }

  // Start → the provider's login (as `login`) → the callback URL it sends the browser to (not yet followed).
  async toCallback(login: string): Promise<URL> {
    const start = await this.http.fetch(`${this.#world.url}/api/v1/sso/test/start`);
    assert.equal(start.status, 302);
    const location = start.headers.get('location')!;
    assert.ok(location.startsWith(`${this.#idp.issuer}/auth?`), location);
    const auth = new URL(location);
    for (const p of ['state', 'nonce', 'code_challenge']) assert.ok(auth.searchParams.get(p), `${p} sent`);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    const { stoppedAt: page } = await this.http.follow(location, (u) => u.pathname.startsWith('/interaction/'));
    assert.ok(page, 'the provider asks who signs in');
    const posted = await this.http.fetch(`${page.origin}${page.pathname}/login`, { form: { login, password: this.#idp.accounts[login].password } });
    assert.equal(posted.status, 303, await posted.clone().text());
    const { stoppedAt } = await this.http.follow(new URL(posted.headers.get('location')!, page).href, (u) => u.pathname === '/api/v1/sso/test/callback');
    assert.ok(stoppedAt, 'the provider sends the browser back to Sealbox');
    return stoppedAt;
  }

  // Follows the callback: where Sealbox sends the browser (the sign-in page, continue or failed).
  async callback(url: URL): Promise<string> {
    const r = await this.http.fetch(url.href);
    assert.equal(r.status, 302);
    return r.headers.get('location')!;
  }

  async pending(): Promise<any> {
    return (await this.http.fetch(`${this.#world.url}/api/v1/sso/pending`)).json();
  }

  async finish(totp?: string): Promise<{ status: number; body: any }> {
    const r = await this.http.fetch(`${this.#world.url}/api/v1/sso/session`, { json: totp === undefined ? {} : { totp } });
    return { status: r.status, body: await r.json() };
  }

  async call(method: string, path: string, csrf?: string): Promise<{ status: number; body: any }> {
    const r = await this.http.fetch(`${this.#world.url}${path}`, { method, headers: csrf ? { 'x-csrf-token': csrf } : {} });
    return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() };
  }

  // The whole way, up to the step that needs a second factor (or the session, when none is needed).
  async signIn(login: string): Promise<any> {
    assert.equal(await this.callback(await this.toCallback(login)), '/?sso=continue');
    return this.pending();
  }
}

const totpFrom = (uri: string, now: number) => totpCode(base32Decode(/secret=([A-Z2-7]+)/.exec(uri)![1]), currentStep(now));
const jwtClaims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

test('sign-in through a real OpenID provider: people made just in time, never a backdoor', { timeout: 120_000 }, async (t) => {
  const idp = await startTestProvider({
    dana: account('dana', ['support', 'legal'], ['pwd', 'otp', 'mfa']),
    erin: account('erin', ['support'], ['pwd']),
    olga: account('olga', [], ['pwd']),
    glen: account('glen', ['glass'], ['pwd', 'mfa']),
    mallory: account('mallory', ['legal'], ['pwd', 'mfa'], 'ceo@corp.test'),
    appr: account('appr', ['legal'], ['pwd', 'mfa']),
  });
  const secretFile = join(tempDataDir(), 'client-secret');
  writeFileSync(secretFile, 'test-client-secret\n', { mode: 0o600 });
  const world = await startInProcessWorld({
    messages: { dana: { from: 'x@partner.test', to: 'dana@corp.test', subject: 'Dana quarterly', date: 'Mon, 04 Mar 2024 09:00:00 +0000' } },
    mailboxes: { 'dana@corp.test': 'dana', 'erin@corp.test': '', 'ceo@corp.test': 'ceo' },
    users: { appr: ['approver'], appr2: ['approver'] },
    config: { sso: SSO(idp.issuer, secretFile) },
  }, { listen: true });
  idp.register({ clientId: 'sealbox', clientSecret: 'test-client-secret', redirectUris: [`${world.url}/api/v1/sso/test/callback`], postLogoutRedirectUris: [`${world.url}/`] });
  t.after(async () => {
    await world.stop();
    await idp.close();
  });
  const browser = () => new SsoBrowser(world, idp);
  const ops = (entries: LedgerEntryView[]) => entries.map((e) => `${e.actor} ${e.operation} ${e.result}`);
  const deniedSignIn = async (why: RegExp) => {
    const denied = (await world.takeAll()).filter((e) => e.operation === 'session.create' && e.result === 'denied');
    assert.equal(denied.length, 1, `one denied sign-in: ${JSON.stringify(denied)}`);
    assert.match(denied[0].parameters.reason, why);
    assert.equal(denied[0].parameters.provider, 'test');
    return denied[0];
  };
  await world.takeAll();

  await t.test('the sign-in page is told the providers; a local password outside sso.localSignIn is refused', async () => {
    const r = await world.client().call('GET', '/api/v1/sso/providers');
    assert.deepEqual(r.body, { providers: [{ id: 'test', label: 'Test IdP' }], localSignIn: 'named' });
    const added = await world.as.adm.call('POST', '/api/v1/users', { name: 'carl', roles: ['owner'] });
    assert.equal((await world.client().call('POST', '/api/v1/enrol', { name: 'carl', code: added.body.enrolmentCode, password: 'carl-long-password' })).status, 200);
    await world.takeAll();
    const local = await world.client().call('POST', '/api/v1/session', { name: 'carl', password: 'carl-long-password' });
    assert.equal(local.status, 401);
    assert.match(local.body.error.message, /only for a few named accounts here: sign in with Test IdP/);
    const denied = (await world.takeAll()).filter((e) => e.operation === 'session.create');
    assert.deepEqual(denied.map((e) => [e.result, e.parameters.reason]), [['denied', 'local sign-in is only for the accounts sso.localSignIn names']]);
  });

  let danaCsrf = '';
  const dana = browser();
  await t.test('first sign-in: owner and requester at once, approver filed; the mailbox the directory gives is linked', async () => {
    const pending = await dana.signIn('dana');
    // requester needs a strong sign-in; the provider's amr says mfa, which this provider is trusted for.
    assert.deepEqual(pending, { state: 'authenticated', provider: 'Test IdP', name: 'dana', secondFactor: 'none', totpUri: null });
    const done = await dana.finish();
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.user, { name: 'dana', roles: ['owner', 'requester'] });
    danaCsrf = done.body.csrfToken;
    assert.equal(dana.http.cookie(new URL(world.url!).host, 'sealbox_sso'), undefined, 'the sign-in cookie is cleared');
    const me = await dana.call('GET', '/api/v1/me');
    assert.deepEqual({ roles: me.body.roles, mailboxes: me.body.mailboxes }, { roles: ['owner', 'requester'], mailboxes: ['dana@corp.test'] });
    const entries = await world.takeAll();
    assert.deepEqual(ops(entries), ['sso:test user.add success', 'sso:test user.role.file success', 'user:dana session.create success']);
    assert.deepEqual(entries[0].parameters.roles, ['owner', 'requester']);
    assert.equal(entries[1].parameters.role, 'approver');
    assert.match(entries[1].parameters.why, /member of legal at Test IdP/);
    assert.deepEqual([entries[2].parameters.provider, entries[2].parameters.secondFactor], ['test', 'provider:amr:mfa']);
    // Told in the app: the account made, the role waiting.
    const inbox = await dana.call('GET', '/api/v1/me/notifications');
    assert.deepEqual(inbox.body.notifications.map((n: any) => n.subject).sort(), ['The role approver for your Sealbox account waits for approval', 'Your Sealbox account was created']);
  });

  await t.test('the filed role applies once another approver approves it; the person signs in again to use it', async () => {
    const list = await world.as.appr.call('GET', '/api/v1/role-changes');
    const change = list.body.changes.find((c: any) => c.user === 'dana' && c.role === 'approver');
    assert.equal(change.state, 'pending');
    assert.equal(change.filedBy, 'sso:test');
    // Only approvers decide; dana cannot approve her own role (she is no approver yet anyway).
    assert.equal((await world.as.adm.call('POST', `/api/v1/role-changes/${change.id}/approve`, { reason: 'hired into legal' })).status, 403);
    const approved = await world.as.appr.call('POST', `/api/v1/role-changes/${change.id}/approve`, { reason: 'hired into legal' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.state, 'approved');
    assert.equal((await world.as.appr2.call('POST', `/api/v1/role-changes/${change.id}/approve`, { reason: 'again' })).status, 409);
    assert.equal((await dana.call('GET', '/api/v1/me')).status, 401, 'her session ended with the new role');
    const again = browser();
    assert.equal((await again.signIn('dana')).secondFactor, 'none', 'amr mfa still counts for an approver');
    assert.deepEqual((await again.finish()).body.user.roles, ['owner', 'requester', 'approver']);
    const entries = await world.takeAll();
    assert.deepEqual(ops(entries).filter((o) => !o.includes('session.create')), ['user:adm user.role.approve denied', 'user:appr user.role.approve success', 'user:appr2 user.role.approve denied']);
  });

  await t.test('without mfa in amr: Sealbox\'s own second factor, set up at the first sign-in; the mailbox the directory does not give waits', async () => {
    const erin = browser();
    const pending = await erin.signIn('erin');
    assert.equal(pending.secondFactor, 'enrol');
    assert.match(pending.totpUri, /^otpauth:\/\/totp\/Sealbox:erin\?secret=/);
    assert.equal((await erin.finish()).status, 401, 'no code, no session');
    assert.equal((await erin.finish('000000')).status, 401, 'a wrong code, no session');
    const done = await erin.finish(totpFrom(pending.totpUri, world.clock.now()));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.recoveryCodes.length, 10);
    assert.deepEqual((await erin.call('GET', '/api/v1/me')).body.mailboxes, [], 'erin@corp.test is not hers yet');
    const entries = await world.takeAll();
    assert.deepEqual(ops(entries), ['sso:test user.add success', 'sso:test ownership.file success', 'user:erin session.create denied', 'user:erin session.create denied', 'user:erin session.create success']);
    assert.equal(entries[4].parameters.secondFactor, 'totp-enrolled');
    const change = (await world.as.appr.call('GET', '/api/v1/ownership-changes')).body.changes.find((c: any) => c.mailbox === 'erin@corp.test');
    assert.equal(change.to ?? change.ownerAfter, 'erin');
    assert.equal((await world.as.appr.call('POST', `/api/v1/ownership-changes/${change.id}/approve`, { reason: 'erin is erin' })).status, 200);
    assert.deepEqual((await erin.call('GET', '/api/v1/me')).body.mailboxes, ['erin@corp.test']);
    // The next sign-in asks for the authenticator's code (a recovery code stands in for it).
    const next = browser();
    assert.equal((await next.signIn('erin')).secondFactor, 'totp');
    const second = await next.finish(done.body.recoveryCodes[0]);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.recoveryCodesLeft, 9);
  });

  await t.test('a plain owner without mfa needs no second factor; break-glass always needs Sealbox\'s own', async () => {
    const olga = browser();
    assert.equal((await olga.signIn('olga')).secondFactor, 'none');
    assert.deepEqual((await olga.finish()).body.user.roles, ['owner']);
    const glen = browser();
    assert.equal((await glen.signIn('glen')).secondFactor, 'none', 'a plain owner until break-glass is approved');
    assert.equal((await glen.finish()).status, 200);
    const change = (await world.as.appr.call('GET', '/api/v1/role-changes')).body.changes.find((c: any) => c.user === 'glen');
    assert.equal((await world.as.appr.call('POST', `/api/v1/role-changes/${change.id}/approve`, { reason: 'on call' })).status, 200);
    const again = browser();
    assert.equal((await again.signIn('glen')).secondFactor, 'enrol', 'amr mfa does not count for break-glass');
    await world.takeAll();
  });

  await t.test('an e-mail claim on someone else\'s mailbox and the approver group give nothing without someone else', async () => {
    const mallory = browser();
    assert.equal((await mallory.signIn('mallory')).secondFactor, 'none');
    const done = await mallory.finish();
    assert.deepEqual(done.body.user.roles, ['owner']);
    assert.deepEqual((await mallory.call('GET', '/api/v1/me')).body.mailboxes, []);
    const entries = await world.takeAll();
    assert.deepEqual(ops(entries), ['sso:test user.add success', 'sso:test user.role.file success', 'sso:test ownership.file success', 'user:mallory session.create success']);
    assert.equal(entries[2].parameters.from, 'ceo');
    // The account named in the token exists already (a local one): no sign-in binds to it.
    const imposter = browser();
    assert.equal(await imposter.callback(await imposter.toCallback('appr')), '/?sso=failed');
    const pending = await imposter.pending();
    assert.equal(pending.state, 'failed');
    assert.match(pending.message, /a Sealbox account named appr exists already and is not linked to your account at Test IdP/);
    await deniedSignIn(/exists already/);
  });

  await t.test('leaving a group removes its role at once; a disabled person stays disabled', async () => {
    idp.accounts.erin.claims.groups = [];
    const erin = browser();
    const pending = await erin.signIn('erin');
    assert.equal(pending.secondFactor, 'none', 'a plain owner now');
    const entries = await world.takeAll();
    assert.deepEqual(ops(entries), ['sso:test user.roles success']);
    assert.deepEqual([entries[0].parameters.from, entries[0].parameters.to], [['owner', 'requester'], ['owner']]);
    assert.equal((await world.as.adm.call('POST', '/api/v1/users/olga/disable', { disabled: true })).status, 200);
    await world.takeAll();
    const olga = browser();
    assert.equal(await olga.callback(await olga.toCallback('olga')), '/?sso=failed');
    assert.match((await olga.pending()).message, /your Sealbox account olga is disabled/);
    await deniedSignIn(/disabled/);
  });

  await t.test('refused: a tampered ID token, a wrong audience, an expired token, a replayed state or nonce', async () => {
    const refused = async (name: string, edit: ((b: Record<string, any>) => Record<string, any>) | null, why: RegExp, callbackUrl?: URL, client = browser()) => {
      if (edit) idp.editNextToken(edit);
      assert.equal(await client.callback(callbackUrl ?? await client.toCallback('olga')), '/?sso=failed', name);
      await deniedSignIn(why);
      const pending = await client.pending();
      if (pending.state === 'failed') assert.match(pending.message, /failed Sealbox's checks/, name);
      assert.equal((await client.finish()).status, 401, `${name}: no session`);
      await world.takeAll();
    };
    // olga is disabled: were any of these let through, the refusal would say so instead.
    const flip = (jwt: string) => {
      const [h, p, s] = jwt.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
      return [h, Buffer.from(JSON.stringify({ ...claims, groups: ['legal'], sub: 'dana' })).toString('base64url'), s].join('.');
    };
    await refused('tampered', (b) => ({ ...b, id_token: flip(b.id_token) }), /signature/i);
    await refused('wrong audience', (b) => ({ ...b, id_token: idp.sign({ ...jwtClaims(b.id_token), aud: 'someone-else' }) }), /aud/);
    const now = Math.floor(Date.now() / 1000);
    await refused('expired', (b) => ({ ...b, id_token: idp.sign({ ...jwtClaims(b.id_token), iat: now - 7200, exp: now - 3600 }) }), /exp/);
    // An ID token from another sign-in (its nonce) handed to this one.
    let earlier = '';
    idp.editNextToken((b) => { earlier = b.id_token; return b; });
    const first = browser();
    await first.callback(await first.toCallback('dana'));
    await world.takeAll();
    await refused('replayed nonce', (b) => ({ ...b, id_token: earlier }), /nonce/);
    // The same callback twice (its state and code): the second is refused, in this browser or another.
    const twice = browser();
    const url = await twice.toCallback('dana');
    assert.equal(await twice.callback(url), '/?sso=continue');
    assert.equal((await twice.finish()).status, 200);
    await world.takeAll();
    await refused('replayed state, same browser', null, /answered already|no sign-in/, url, twice);
    await refused('replayed state, another browser', null, /no sign-in through this provider was started in this browser/, url);
    // A callback whose state is not the one this browser's sign-in sent.
    const crossed = browser();
    await crossed.toCallback('dana');
    await refused('another sign-in\'s state', null, /state/, url, crossed);
  });

  await t.test('signing out of a session made through the provider leads to its RP-initiated logout', async () => {
    const s = browser();
    await s.signIn('dana');
    const done = await s.finish();
    const out = await s.call('DELETE', '/api/v1/session', done.body.csrfToken);
    assert.equal(out.status, 200);
    const logout = new URL(out.body.logoutUrl);
    assert.equal(`${logout.origin}${logout.pathname}`, `${idp.issuer}/session/end`);
    assert.equal(logout.searchParams.get('post_logout_redirect_uri'), `${world.url}/`);
    assert.ok(logout.searchParams.get('id_token_hint'));
    assert.equal((await s.call('GET', '/api/v1/me')).status, 401);
    // A local session has no provider to sign out of.
    const local = await world.as.appr2.call('DELETE', '/api/v1/session');
    assert.deepEqual(local.body, { ok: true });
    void danaCsrf;
  });
});
