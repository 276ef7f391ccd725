// Linking an account someone has here already to their account at an identity provider, against a
// real OpenID Provider (oidc-provider on a loopback port, test/support/oidc-provider.ts), driven
// over HTTP like a browser: only from a session signed in with the Sealbox password, only the
// session's own account, only the provider account that bears this account's name, finished only
// by the session that started it, and once. An administrator holding every role links nobody
// else's account. Then the person signs in through the provider as themselves, their roles
// following the groups (each change an entry); they unlink, and the provider signs them in no
// more. Each link and unlink is a ledger entry, and the person is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from './support/api-client.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { CookieClient, startTestProvider } from './support/oidc-provider.ts';
import type { TestAccount, TestProvider } from './support/oidc-provider.ts';
import { tempDataDir } from './support/sealbox.ts';

const account = (name: string, groups: string[], amr: string[]): TestAccount => ({
  password: `${name}-idp-password`, amr, claims: { preferred_username: name, name: name[0].toUpperCase() + name.slice(1), email: `${name}@corp.test`, email_verified: true, groups },
});

// A browser: its cookie jar holds a Sealbox session (signed in with a password, taken from an
// ApiClient, or made through the provider) and the link's own cookie.
class Browser {
  readonly http = new CookieClient();
  csrf = '';
  readonly #w: InProcessWorld;
  readonly #idp: TestProvider;

  constructor(w: InProcessWorld, idp: TestProvider, signedIn?: ApiClient) {
    this.#w = w;
    this.#idp = idp;
    if (signedIn) {
      const [name, value] = signedIn.cookie!.split('=');
      this.http.setCookie(this.host, name, value);
      this.csrf = signedIn.csrf!;
    }
  }

  get host(): string {
    return new URL(this.#w.url!).host;
  }

  async call(method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
    const r = await this.http.fetch(`${this.#w.url}${path}`, { method, json, headers: method === 'GET' ? {} : { 'x-csrf-token': this.csrf } });
    return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() };
  }

  // At the provider's page as `login`, up to the callback URL it sends the browser to (not followed).
  async atProvider(location: string, login: string): Promise<URL> {
    const { stoppedAt: page } = await this.http.follow(location, (u) => u.pathname.startsWith('/interaction/'));
    assert.ok(page, 'the provider asks who signs in');
    const posted = await this.http.fetch(`${page.origin}${page.pathname}/login`, { form: { login, password: this.#idp.accounts[login].password } });
    assert.equal(posted.status, 303, await posted.clone().text());
    const { stoppedAt } = await this.http.follow(new URL(posted.headers.get('location')!, page).href, (u) => u.pathname === '/api/v1/sso/test/callback');
    assert.ok(stoppedAt, 'the provider sends the browser back to Sealbox');
    return stoppedAt;
  }

  // Start a link, sign in at the provider as `login`, and come back: where Sealbox sends the browser.
  async linkRoundTrip(login: string): Promise<string> {
    const started = await this.call('POST', '/api/v1/sso/test/link');
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const auth = new URL(started.body.location);
    assert.equal(`${auth.origin}${auth.pathname}`, `${this.#idp.issuer}/auth`);
    for (const p of ['state', 'nonce', 'code_challenge']) assert.ok(auth.searchParams.get(p), `${p} sent`);
    const back = await this.http.fetch((await this.atProvider(started.body.location, login)).href);
    assert.equal(back.status, 302);
    return back.headers.get('location')!;
  }

  // A whole sign-in through the provider; the pending step it reaches.
  async signInThrough(login: string): Promise<{ location: string; pending: any }> {
    const start = await this.http.fetch(`${this.#w.url}/api/v1/sso/test/start`);
    const back = await this.http.fetch((await this.atProvider(start.headers.get('location')!, login)).href);
    return { location: back.headers.get('location')!, pending: await (await this.http.fetch(`${this.#w.url}/api/v1/sso/pending`)).json() };
  }
}

test('linking one\'s own account to the identity provider, and never anyone else\'s', { timeout: 180_000 }, async (t) => {
  const idp = await startTestProvider({ erin: account('erin', [], ['pwd']), olga: account('olga', [], ['pwd']) });
  t.after(() => idp.close());
  const secretFile = join(tempDataDir(), 'client-secret');
  writeFileSync(secretFile, 'link-client-secret\n', { mode: 0o600 });
  const w = await startInProcessWorld({
    messages: { erin: { from: 'x@partner.test', to: 'erin@corp.test', subject: 'Welcome', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'erin@corp.test': 'erin' },
    // boss holds every role there is; erin is a requester and an auditor, made at the console.
    users: { appr: ['approver'], erin: ['requester', 'auditor'], boss: ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'] },
    config: {
      sso: {
        providers: [{ id: 'test', label: 'Test IdP', issuer: idp.issuer, clientId: 'sealbox', clientSecretFile: secretFile, scopes: ['openid', 'profile', 'email', 'groups'] }],
        roleGroups: { requester: ['support'], approver: ['legal'] },
      },
    },
  }, { listen: true });
  idp.register({ clientId: 'sealbox', clientSecret: 'link-client-secret', redirectUris: [`${w.url}/api/v1/sso/test/callback`], postLogoutRedirectUris: [`${w.url}/`] });
  t.after(() => w.stop());
  const ops = (entries: LedgerEntryView[]) => entries.map((e) => `${e.actor} ${e.operation} ${e.result}`);
  const linked = async (name: string) => (await w.as[name].call('GET', '/api/v1/sso/links')).body.links.filter((l: any) => l.linked).map((l: any) => l.provider);
  await w.takeAll();

  await t.test('before a link, a sign-in through the provider under an existing name is refused', async () => {
    const b = new Browser(w, idp);
    const { location, pending } = await b.signInThrough('erin');
    assert.equal(location, '/?sso=failed');
    assert.match(pending.message, /a Sealbox account named erin exists already and is not linked/);
    assert.deepEqual((await w.as.erin.call('GET', '/api/v1/sso/links')).body.links, [{ provider: 'test', label: 'Test IdP', linked: null }]);
    await w.takeAll();
  });

  await t.test('an administrator with every role cannot link another person\'s account', async () => {
    const boss = new Browser(w, idp, w.as.boss);
    // No route names a person: the finish takes no name, and there is no per-user link route.
    assert.equal((await boss.call('POST', '/api/v1/sso/link', { name: 'erin' })).status, 400);
    assert.equal((await boss.call('POST', '/api/v1/users/erin/sso/test/link')).status, 404);
    // The round trip comes back as erin's provider account: it is not linked to boss, nor to erin.
    assert.equal(await boss.linkRoundTrip('erin'), '/account?sso=link');
    const refused = await boss.call('POST', '/api/v1/sso/link', {});
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /Test IdP signed you in as "erin" \(its preferred_username claim\), not as boss/);
    assert.deepEqual(await linked('boss'), []);
    assert.deepEqual(await linked('erin'), []);
    const entries = await w.takeAll();
    assert.deepEqual(ops(entries), ['user:boss user.sso.link denied']);
    assert.match(entries[0].parameters.reason, /not as boss/);
    // Handing boss's link cookie to erin's session finishes nothing either: it is bound to boss's session.
    const erin = new Browser(w, idp, w.as.erin);
    erin.http.setCookie(erin.host, 'sealbox_sso', boss.http.cookie(boss.host, 'sealbox_sso')!);
    const crossed = await erin.call('POST', '/api/v1/sso/link', {});
    assert.equal(crossed.status, 403);
    assert.match(crossed.body.error.message, /started by another session/);
    assert.deepEqual(await linked('erin'), []);
    assert.deepEqual(ops(await w.takeAll()), ['user:erin user.sso.link denied']);
    // And an API token links nothing.
    const token = await w.as.boss.call('POST', '/api/v1/tokens', { name: 'link', scopes: ['admin'], days: 1 });
    const r = await w.request({ method: 'POST', path: '/api/v1/sso/test/link', headers: { authorization: `Bearer ${token.body.token}` } });
    assert.equal(r.status, 403);
    assert.deepEqual(ops(await w.takeAll()).filter((o) => !o.includes('token.create')), ['user:boss user.sso.link denied']);
  });

  await t.test('the person links their own account, from the session that started it, once', async () => {
    const erin = new Browser(w, idp, w.as.erin);
    assert.equal(await erin.linkRoundTrip('erin'), '/account?sso=link');
    // Another session of erin's own (signed in again) with the same browser cookie: not the one that started it.
    const other = new Browser(w, idp);
    const second = await w.as.erin.signIn('erin', w.passwords.erin);
    assert.equal(second.status, 200);
    const otherSession = new Browser(w, idp, w.as.erin);
    other.http.setCookie(other.host, 'sealbox_session', otherSession.http.cookie(otherSession.host, 'sealbox_session')!);
    other.http.setCookie(other.host, 'sealbox_sso', erin.http.cookie(erin.host, 'sealbox_sso')!);
    other.csrf = otherSession.csrf;
    assert.equal((await other.call('POST', '/api/v1/sso/link', {})).status, 403);
    // The pending round trip signs no one in.
    assert.equal((await erin.http.fetch(`${w.url}/api/v1/sso/pending`).then((r) => r.json()) as any).state, 'none');
    assert.equal((await erin.call('POST', '/api/v1/sso/session', {})).status, 401);
    await w.takeAll();
    const done = await erin.call('POST', '/api/v1/sso/link', {});
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body, { linked: { provider: 'test', label: 'Test IdP' } });
    assert.equal((await erin.call('POST', '/api/v1/sso/link', {})).status, 403, 'taken once');
    const entries = await w.takeAll();
    assert.deepEqual(ops(entries), ['user:erin user.sso.link success', 'user:erin user.sso.link denied']);
    assert.deepEqual([entries[0].parameters.name, entries[0].parameters.provider, entries[0].parameters.subject], ['erin', 'test', 'erin']);
    const links = (await erin.call('GET', '/api/v1/sso/links')).body.links;
    assert.equal(links[0].provider, 'test');
    assert.ok(links[0].linked?.since);
    const inbox = (await erin.call('GET', '/api/v1/me/notifications')).body.notifications;
    assert.ok(inbox.some((n: any) => n.subject === 'Your Sealbox account was linked to Test IdP' && /follow your groups at Test IdP/.test(n.body)), JSON.stringify(inbox));
    // Linked already: a second link there is refused until unlinked.
    assert.equal((await erin.call('POST', '/api/v1/sso/test/link')).status, 409);
    await w.takeAll();
  });

  let erinSso: Browser;
  await t.test('signed in through the provider as that account; roles follow its groups, each change recorded', async () => {
    erinSso = new Browser(w, idp);
    const { location, pending } = await erinSso.signInThrough('erin');
    assert.equal(location, '/?sso=continue');
    // Her provider groups give no requester: it goes, recorded and told; owner comes (no group is
    // named for it: everyone is an owner); auditor, which no group is mapped to, stays, and needs
    // Sealbox's own second factor (the provider said only pwd).
    assert.deepEqual([pending.name, pending.secondFactor], ['erin', 'totp']);
    const done = await erinSso.http.fetch(`${w.url}/api/v1/sso/session`, { json: { totp: w.as.erin.recoveryCodes.shift() } });
    const body = await done.json() as any;
    assert.equal(done.status, 200, JSON.stringify(body));
    assert.deepEqual([body.user.name, [...body.user.roles].sort()], ['erin', ['auditor', 'owner']]);
    erinSso.csrf = body.csrfToken;
    const entries = await w.takeAll();
    assert.deepEqual(ops(entries), ['sso:test user.roles success', 'user:erin session.create success']);
    assert.ok(entries[0].parameters.from.includes('requester'), JSON.stringify(entries[0].parameters));
    assert.ok(!entries[0].parameters.to.includes('requester'));
    assert.deepEqual([...entries[0].parameters.to].sort(), ['auditor', 'owner']);
    // A session made through the provider starts no link (it is linked there already, and a link
    // needs the Sealbox password's session).
    const again = await erinSso.call('POST', '/api/v1/sso/test/link');
    assert.equal(again.status, 403);
    assert.match(again.body.error.message, /from a session signed in with your Sealbox password/);
    assert.deepEqual(ops(await w.takeAll()), ['user:erin user.sso.link denied']);
  });

  await t.test('the person unlinks their own account; the provider signs them in no more', async () => {
    const boss = new Browser(w, idp, w.as.boss);
    const notMine = await boss.call('DELETE', '/api/v1/sso/links/test');
    assert.equal(notMine.status, 404, 'boss has no link of their own to undo, and names nobody else');
    assert.deepEqual(ops(await w.takeAll()), ['user:boss user.sso.unlink denied']);
    const out = await erinSso.call('DELETE', '/api/v1/sso/links/test');
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.deepEqual(ops(await w.takeAll()), ['user:erin user.sso.unlink success']);
    const inbox = (await erinSso.call('GET', '/api/v1/me/notifications')).body.notifications;
    assert.ok(inbox.some((n: any) => n.subject === 'Your Sealbox account was unlinked from Test IdP'));
    const { location } = await new Browser(w, idp).signInThrough('erin');
    assert.equal(location, '/?sso=failed');
    await w.takeAll();
  });

  await t.test('someone made through the provider, who has no password, cannot unlink their only way in', async () => {
    const olga = new Browser(w, idp);
    const { pending } = await olga.signInThrough('olga');
    assert.equal(pending.state, 'authenticated');
    const done = await olga.http.fetch(`${w.url}/api/v1/sso/session`, { json: {} });
    olga.csrf = (await done.json() as any).csrfToken;
    const r = await olga.call('DELETE', '/api/v1/sso/links/test');
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /no Sealbox password/);
    assert.deepEqual(ops(await w.takeAll()).slice(-1), ['user:olga user.sso.unlink denied']);
  });
});
