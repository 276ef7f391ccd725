// Sign-in through the organisation's identity provider, in Debian's Chromium: the sign-in page
// offers "Sign in with Test IdP" (a real OpenID Provider on a loopback port, test/support/
// oidc-provider.ts); a requester whose provider sign-in was a password alone is asked for
// Sealbox's own second factor, sets up an authenticator on the spot (the key read off the page)
// and keeps the recovery codes; signing out leads through the provider's own sign-out back to
// Sealbox; someone whose provider said multi-factor goes straight in; a sign-in Sealbox refuses
// is said in words. Each page passes an axe-core audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { currentStep, totpCode } from '../src/access/totp.ts';
import { base32Decode } from './support/api-client.ts';
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

const account = (name: string, groups: string[], amr: string[]): TestAccount => ({
  password: `${name}-idp-password`, amr, claims: { preferred_username: name, name: `${name[0].toUpperCase()}${name.slice(1)} Example`, email: `${name}@corp.test`, email_verified: true, groups },
});

test('web: sign-in through the identity provider, with Sealbox\'s own second factor where it is needed', { timeout: 180_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const idp = await startTestProvider({ erin: account('erin', ['support'], ['pwd']), dana: account('dana', ['support', 'legal'], ['pwd', 'mfa']), appr: account('appr', [], ['pwd']) });
  t.after(() => idp.close());
  const secretFile = join(tempDataDir(), 'client-secret');
  writeFileSync(secretFile, 'browser-client-secret\n', { mode: 0o600 });
  const w = await startInProcessWorld({
    messages: { erin: { from: 'x@partner.test', to: 'erin@corp.test', subject: 'Welcome aboard', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'erin@corp.test': 'erin' },
    users: { appr: ['approver'] },
    config: {
      sso: {
        providers: [{ id: 'corp', label: 'Test IdP', issuer: idp.issuer, clientId: 'sealbox', clientSecretFile: secretFile, scopes: ['openid', 'profile', 'email', 'groups'], mfaAmr: ['mfa'] }],
        roleGroups: { requester: ['support'], approver: ['legal'] },
      },
    },
  }, { listen: true });
  t.after(() => w.stop());
  const url = w.url!;
  idp.register({ clientId: 'sealbox', clientSecret: 'browser-client-secret', redirectUris: [`${url}/api/v1/sso/corp/callback`], postLogoutRedirectUris: [`${url}/`] });
  const violations: string[] = [];
  const errors: string[] = [];
  const fresh = async (label: string, b: Browser = browser) => {
    const page = await (await b.newContext()).newPage();
    page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
    return page;
  };
  const throughProvider = async (page: Page, login: string) => {
    await page.goto(url + '/');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.getByRole('heading', { name: 'Test IdP' }).waitFor();
    await page.getByLabel('Username').fill(login);
    await page.getByLabel('Password').fill(idp.accounts[login].password);
    await page.getByRole('button', { name: 'Sign in at the Test IdP' }).click();
  };

  // --- the sign-in page offers the provider, and the local form beside it
  const erin = await fresh('erin');
  await erin.goto(url + '/');
  await erin.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
  assert.equal(await erin.getByRole('link', { name: 'Sign in with Test IdP' }).getAttribute('href'), '/api/v1/sso/corp/start');
  await erin.getByRole('form', { name: 'Sign in' }).waitFor();
  await audit(erin, 'sign-in with a provider', violations);
  await screenshot(erin, 'sso-sign-in');

  // --- erin (requester; the provider's amr: a password alone): Sealbox's own second factor, set up now
  await throughProvider(erin, 'erin');
  await erin.getByRole('heading', { level: 1, name: 'Set up your second factor' }).waitFor();
  assert.match(await erin.locator('main').innerText(), /Test IdP signed you in, erin/);
  assert.equal(new URL(erin.url()).search, '', 'the address bar is cleared');
  await audit(erin, 'second factor set-up after the provider', violations);
  await screenshot(erin, 'sso-totp-setup');
  const uri = (await erin.getByTestId('totp-uri').getAttribute('href'))!;
  const secret = base32Decode(/secret=([A-Z2-7]+)/.exec(uri)![1]);
  await erin.getByLabel('One-time code from the app').fill('123456');
  await erin.getByRole('button', { name: 'Sign in' }).click();
  await erin.getByRole('alert').filter({ hasText: 'the code does not match the new key' }).waitFor();
  await erin.getByLabel('One-time code from the app').fill(totpCode(secret, currentStep(w.clock.now())));
  await erin.getByRole('button', { name: 'Sign in' }).click();
  await erin.getByRole('heading', { level: 1, name: 'Keep your recovery codes' }).waitFor();
  assert.equal(await erin.getByTestId('recovery-codes').locator('li').count(), 10);
  await audit(erin, 'recovery codes after the provider', violations);
  await erin.getByRole('button', { name: 'Continue to Sealbox' }).click();
  await erin.locator('header .who').waitFor();
  assert.match(await erin.locator('header .who').innerText(), /Erin Example \(owner, requester\)/);

  // --- signing out ends the provider's session too, and the provider sends the browser back
  await erin.getByRole('button', { name: 'Sign out' }).click();
  await erin.getByRole('heading', { name: 'Sign out of the Test IdP?' }).waitFor();
  await screenshot(erin, 'sso-provider-sign-out');
  await erin.getByRole('button', { name: 'Yes, sign me out' }).click();
  await erin.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  assert.equal(new URL(erin.url()).origin, url);
  assert.equal((await w.as.appr.call('GET', '/api/v1/me')).status, 200, 'other sessions are untouched');

  // --- dana (the provider says mfa): straight in, the approver role waiting for an approver
  const dana = await fresh('dana');
  await throughProvider(dana, 'dana');
  await dana.locator('header .who').waitFor();
  assert.match(await dana.locator('header .who').innerText(), /Dana Example \(owner, requester\)/);
  const filed = (await w.as.appr.call('GET', '/api/v1/role-changes')).body.changes;
  assert.deepEqual(filed.map((c: { user: string; role: string; state: string }) => [c.user, c.role, c.state]), [['dana', 'approver', 'pending']]);

  // --- a sign-in Sealbox refuses: said in words, the buttons offered again
  const imposter = await fresh('imposter');
  await throughProvider(imposter, 'appr');
  await imposter.getByRole('heading', { level: 1, name: 'Sign-in failed' }).waitFor();
  assert.match(await imposter.getByRole('alert').innerText(), /a Sealbox account named appr exists already and is not linked to your account at Test IdP/);
  await imposter.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
  await audit(imposter, 'refused sign-in through the provider', violations);
  await screenshot(imposter, 'sso-refused');

  assert.deepEqual(violations, [], 'axe-core: moderate, serious or critical violations');
  assert.deepEqual(errors, [], 'no page error');
});
