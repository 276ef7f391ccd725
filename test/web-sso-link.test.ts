// Linking one's own account to the organisation's identity provider, in Debian's Chromium against
// a real OpenID Provider on a loopback port (test/support/oidc-provider.ts): a person made at the
// console signs in on the sign-in page with their password and second factor, opens their
// Account page, links it ("Link my account at Test IdP", then the provider's own page), and from
// then on signs in with the provider's button, Sealbox's own second factor still asked for their
// roles; they unlink it again. An administrator who comes back from the provider as that person
// is told in words that only their own account can be linked, and nothing is linked. Each page
// passes an axe-core audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { startTestProvider } from './support/oidc-provider.ts';
import type { TestAccount } from './support/oidc-provider.ts';
import { tempDataDir } from './support/sealbox.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function audit(page: Page, label: string, found: string[]): Promise<void> {
  await page.evaluate(AXE);
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  for (const v of result.violations) if (v.impact !== 'minor') found.push(`${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

const account = (name: string, groups: string[]): TestAccount => ({
  password: `${name}-idp-password`, amr: ['pwd'], claims: { preferred_username: name, name: `${name[0].toUpperCase()}${name.slice(1)} Example`, email: `${name}@corp.test`, email_verified: true, groups },
});

test('web: a person links their own account to the identity provider, and signs in through it', { timeout: 180_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const idp = await startTestProvider({ erin: account('erin', ['support']) });
  t.after(() => idp.close());
  const secretFile = join(tempDataDir(), 'client-secret');
  writeFileSync(secretFile, 'link-browser-secret\n', { mode: 0o600 });
  const w = await startInProcessWorld({
    messages: { erin: { from: 'x@partner.test', to: 'erin@corp.test', subject: 'Welcome aboard', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'erin@corp.test': 'erin' },
    users: { erin: ['owner', 'requester'], boss: ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'] },
    config: {
      sso: {
        providers: [{ id: 'corp', label: 'Test IdP', issuer: idp.issuer, clientId: 'sealbox', clientSecretFile: secretFile, scopes: ['openid', 'profile', 'email', 'groups'] }],
        roleGroups: { requester: ['support'] },
      },
    },
  }, { listen: true });
  t.after(() => w.stop());
  const url = w.url!;
  idp.register({ clientId: 'sealbox', clientSecret: 'link-browser-secret', redirectUris: [`${url}/api/v1/sso/corp/callback`], postLogoutRedirectUris: [`${url}/`] });
  const violations: string[] = [];
  const errors: string[] = [];
  const fresh = async (label: string, b: Browser = browser) => {
    const page = await (await b.newContext()).newPage();
    page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    return page;
  };
  // The sign-in page's own form: password and a recovery code (the enrolment's) as the second factor.
  const signInLocally = async (page: Page, name: string) => {
    await page.goto(url + '/');
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('User name').fill(name);
    await form.getByLabel('Password').fill(w.passwords[name]);
    await form.getByLabel('One-time code or recovery code').fill(w.as[name].recoveryCodes.shift()!);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('header .who').waitFor();
  };
  const atProvider = async (page: Page, login: string) => {
    await page.getByRole('heading', { name: 'Test IdP' }).waitFor();
    await page.getByLabel('Username').fill(login);
    await page.getByLabel('Password').fill(idp.accounts[login].password);
    await page.getByRole('button', { name: 'Sign in at the Test IdP' }).click();
  };
  const linkedAt = async () => (await w.as.erin.call('GET', '/api/v1/sso/links')).body.links[0].linked;

  // --- erin, signed in with her password, links her account from the Account page
  const erin = await fresh('erin');
  await signInLocally(erin, 'erin');
  await erin.getByRole('link', { name: 'Your account' }).click();
  await erin.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  await erin.getByText('Not linked.').waitFor();
  await audit(erin, 'account page, not linked', violations);
  await screenshot(erin, 'sso-link-account');
  await erin.getByRole('button', { name: 'Link my account at Test IdP' }).click();
  await atProvider(erin, 'erin');
  await erin.getByRole('status').filter({ hasText: 'Your account is now linked to Test IdP' }).waitFor();
  assert.equal(new URL(erin.url()).pathname + new URL(erin.url()).search, '/account', 'the address bar is cleared');
  await erin.getByRole('button', { name: 'Unlink from Test IdP' }).waitFor();
  assert.match(await erin.locator('main').innerText(), /Linked since/);
  await audit(erin, 'account page, linked', violations);
  await screenshot(erin, 'sso-link-linked');
  assert.ok(await linkedAt(), 'linked on the server');
  const entries = await w.takeAll();
  assert.deepEqual(entries.filter((e) => e.operation.startsWith('user.sso')).map((e) => `${e.actor} ${e.operation} ${e.result}`), ['user:erin user.sso.link success']);

  // --- from then on she signs in with the provider's button; her roles still need Sealbox's code
  await erin.getByRole('button', { name: 'Sign out' }).click();
  await erin.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await erin.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  // The provider remembers her from the link's round trip (its session there was not ended), or asks again.
  const step = erin.getByRole('heading', { level: 1, name: 'One more step' });
  await Promise.race([step.waitFor(), erin.getByRole('heading', { name: 'Test IdP' }).waitFor()]);
  if (!await step.isVisible()) await atProvider(erin, 'erin');
  await step.waitFor();
  assert.match(await erin.locator('main').innerText(), /Test IdP signed you in, erin/);
  await erin.getByLabel('One-time code or recovery code').fill(w.as.erin.recoveryCodes.shift()!);
  await erin.getByRole('button', { name: 'Sign in' }).click();
  await erin.locator('header .who').waitFor();
  assert.match(await erin.locator('header .who').innerText(), /\(owner, requester\)/);

  // --- an administrator with every role, back from the provider as erin: refused in words
  const boss = await fresh('boss');
  await signInLocally(boss, 'boss');
  await boss.goto(url + '/account');
  await boss.getByRole('button', { name: 'Link my account at Test IdP' }).click();
  await atProvider(boss, 'erin');
  await boss.getByRole('alert').filter({ hasText: 'Test IdP signed you in as "erin"' }).waitFor();
  assert.match(await boss.getByRole('alert').innerText(), /not as boss: only your own account there/);
  await boss.getByText('Not linked.').waitFor();
  await audit(boss, 'account page, link refused', violations);
  await screenshot(boss, 'sso-link-refused');
  assert.deepEqual((await w.as.boss.call('GET', '/api/v1/sso/links')).body.links[0].linked, null);

  // --- erin unlinks her account again
  await erin.goto(url + '/account');
  await erin.getByRole('button', { name: 'Unlink from Test IdP' }).click();
  await erin.getByRole('status').filter({ hasText: 'Your account is no longer linked to Test IdP' }).waitFor();
  await erin.getByRole('button', { name: 'Link my account at Test IdP' }).waitFor();
  assert.equal(await linkedAt(), null);

  assert.deepEqual(violations, [], 'axe-core: moderate, serious or critical violations');
  assert.deepEqual(errors, [], 'no page error');
});
