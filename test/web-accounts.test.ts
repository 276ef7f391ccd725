// People who are not technical, in Debian's Chromium against Sealbox in this process: a signed-out
// visit asks nothing it cannot have (no console error) and starts in the first field; an HR
// requester picks "Ola Nordmann" by name (typed free text that matches nothing never becomes a
// chip) and files, reading purposes in words; an admin adds someone and is given an enrolment
// link, from which the person enrols, scans a QR code (decoded here) and lands signed in; a plain
// owner is never told about recovery codes; an admin unlocks a locked account and asks for an
// account recovery without ever seeing a code; the policy form is in words and shows the
// server's refusal by the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import jsqr from 'jsqr';
import type { Browser, Locator, Page } from 'playwright-core';
import { parseDirectoryCsv } from '../src/access/directory-csv.ts';
import { currentStep, totpCode } from '../src/access/totp.ts';
import { importAtConsole } from '../src/cli/commands/mailboxes.ts';
import { base32Decode } from './support/api-client.ts';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';

const focusedName = (page: Page) => page.evaluate('document.activeElement && document.activeElement.getAttribute("name")');
const focused = (l: Locator) => l.evaluate((el) => el === (globalThis as any).document.activeElement);

// jsqr is CommonJS: its function is the module's `default` export.
type Decode = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = (jsqr as unknown as { default: Decode }).default;

// axe-core, evaluated through the driver (the page's CSP stays on), as web-accessibility.test.ts
// audits: nothing moderate or worse.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function audit(page: Page, label: string, found: string[]): Promise<void> {
  await page.evaluate(AXE);
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  for (const v of result.violations) if (v.impact !== 'minor') found.push(`${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

// A fresh browser with no session, every console error kept (401s included).
async function stranger(browser: Browser, errors: string[], label: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${label}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
  return page;
}

// The QR code as the page draws it, rasterised in the page and decoded here by jsQR.
async function readQr(page: Page): Promise<string | null> {
  const image = await page.evaluate(`(async () => {
    const svg = document.querySelector('[data-testid="totp-qr"]').cloneNode(true);
    const size = 480;
    svg.setAttribute('width', size);
    svg.setAttribute('height', size);
    const img = new Image();
    img.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0, size, size);
    return { size, data: Array.from(ctx.getImageData(0, 0, size, size).data) };
  })()`) as { size: number; data: number[] };
  return jsQR(Uint8ClampedArray.from(image.data), image.size, image.size)?.data ?? null;
}

test('web: the HR requester, a new person, a plain owner and the admin get through on their own', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const w = await startInProcessWorld({
    messages: { ola: { from: 'x@partner.test', to: 'ola.nordmann@corp.test', subject: 'Quarterly figures', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'ola.nordmann@corp.test': 'ola' },
    users: { ola: ['owner'], hanna: ['requester'], anna: ['approver'], locky: ['owner'] },
  }, { listen: true });
  t.after(() => w.stop());
  const url = w.url!;
  // The directory with display names, as HR knows people.
  await importAtConsole(w.archive.services, parseDirectoryCsv('addresses,display_name,owner\nola.nordmann@corp.test,Ola Nordmann,ola\n'), 'directory.csv');
  const problems: string[] = [];
  const errors: string[] = [];
  const violations: string[] = [];

  // --- a signed-out visit: the sign-in form, the focus in its first field, no console error
  const visitor = await stranger(browser, errors, 'visitor');
  await visitor.goto(url + '/');
  await visitor.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await visitor.waitForLoadState('networkidle');
  assert.equal(await focusedName(visitor), 'name', 'the focus is in the user name field');
  assert.deepEqual(errors, [], 'a signed-out visit logs nothing in the console');

  // --- the HR requester: free text that matches nothing is said so in place; a name is picked
  const hanna = await openAs(browser, { url, as: w.as }, 'hanna', problems);
  await hanna.goto(url + '/requests');
  const form = hanna.getByRole('form', { name: 'New access request' });
  const picker = form.getByRole('combobox', { name: 'Mailboxes' });
  await picker.fill('Nobody Here');
  await picker.press('Enter');
  await form.getByTestId('picker-problem').filter({ hasText: 'No mailbox matches “Nobody Here”' }).waitFor();
  assert.equal(await form.getByRole('list', { name: 'Chosen mailboxes' }).count(), 0, 'no chip for text that names no mailbox');
  // Enter at once, before the matches have arrived: the first match is taken when they do.
  await picker.fill('Ola Nordmann');
  await picker.press('Enter');
  const chips = form.getByRole('list', { name: 'Chosen mailboxes' });
  await chips.getByText('Ola Nordmann').waitFor();
  await chips.getByText('ola.nordmann@corp.test').waitFor();
  assert.equal(await picker.inputValue(), '');
  assert.equal(await form.getByTestId('picker-problem').textContent(), '');
  // Text left in the field, never picked, does not look chosen.
  await picker.fill('Kari');
  await picker.press('Tab');
  await form.getByTestId('picker-problem').filter({ hasText: '“Kari” is not chosen yet' }).waitFor();
  await picker.fill('');
  // Purposes in words; the slug is still what is sent.
  const purposes = await form.getByLabel('Purpose').locator('option').allTextContents();
  assert.deepEqual(purposes, ['Choose…', 'Legal hold', 'HR investigation', 'User support', 'Subject access request', 'Security incident']);
  await form.getByLabel('Purpose').selectOption({ label: 'HR investigation' });
  await form.getByLabel('Justification').fill('Complaint about the quarterly figures sent to a partner.');
  await form.getByLabel('Ticket').fill('HR-88');
  await form.getByRole('button', { name: 'File request' }).click();
  const filed = hanna.getByRole('status').filter({ hasText: /Request req_\S+ filed/ });
  await filed.waitFor();
  const id = /Request (req_\S+) filed/.exec((await filed.textContent())!)![1];
  const card = hanna.locator(`article[data-request="${id}"]`);
  await card.getByText('HR investigation').waitFor();
  assert.ok(!(await card.textContent())!.includes('hr-investigation'), 'no slug on the card');
  await screenshot(hanna, 'accounts-hr-request');
  const [request] = (await w.as.hanna.call('GET', '/api/v1/requests')).body.requests;
  assert.deepEqual([request.purpose, request.mailboxes], ['hr-investigation', ['ola.nordmann@corp.test']]);
  // The approvers' notice says it in words too.
  const notice = (await w.as.anna.call('GET', '/api/v1/me/notifications')).body.notifications.find((n: { kind: string }) => n.kind === 'request.filed');
  assert.match(notice.body, /^Purpose: +HR investigation$/m);
  const anna = await openAs(browser, { url, as: w.as }, 'anna', problems);
  await anna.goto(url + '/approvals');
  await anna.locator(`article[data-request="${id}"]`).getByText('HR investigation').waitFor();

  // --- the admin adds a person with a role that needs a second factor: the enrolment link
  const adm = await openAs(browser, { url, as: w.as }, 'adm', problems);
  await adm.goto(url + '/admin');
  const add = adm.getByRole('form', { name: 'Add a user' });
  const addUser = async (name: string, role: string) => {
    await add.getByLabel('User name').fill(name);
    await add.getByLabel('Display name').fill(name === 'nina' ? 'Nina Nilsen' : 'Per Persen');
    await add.getByLabel('Email').fill(`${name}@corp.test`);
    for (const r of ['owner', 'requester']) await add.getByLabel(r, { exact: true }).setChecked(r === role);
    await add.getByRole('button', { name: 'Add user' }).click();
    await add.getByTestId('enrolment-handout').filter({ hasText: `${name} added.` }).waitFor();
    const link = (await add.getByTestId('enrolment-link').textContent())!;
    const code = (await add.getByTestId('enrolment-code').textContent())!;
    assert.equal(link, `${url}/enrol#name=${name}&code=${encodeURIComponent(code)}`, 'name and code in the fragment, never in the query');
    return link;
  };
  const ninaLink = await addUser('nina', 'requester');
  await screenshot(adm, 'accounts-enrolment-link');
  const row = (name: string) => adm.locator(`tr[data-user="${name}"]`);
  await row('nina').getByText('Nina Nilsen').waitFor();
  await row('nina').getByText('nina@corp.test').waitFor();
  assert.equal(await row('ola').getByRole('cell', { name: 'ola.nordmann@corp.test', exact: true }).count(), 2, 'her e-mail address and her mailbox');
  assert.equal(await row('nina').getByTestId('user-status').textContent(), 'waiting for enrolment');
  // Someone the directory already gives mail: their code goes to that mail, the admin never sees it.
  await importAtConsole(w.archive.services, parseDirectoryCsv('addresses,owner\nkari.holm@corp.test,kari\n'), 'kari.csv');
  await add.getByLabel('User name').fill('kari');
  await add.getByLabel('Display name').fill('Kari Holm');
  for (const r of ['owner', 'requester']) await add.getByLabel(r, { exact: true }).setChecked(r === 'owner');
  await add.getByRole('button', { name: 'Add user' }).click();
  await add.getByRole('status').filter({ hasText: 'kari added. They own mailboxes already, so their enrolment code was mailed to kari.holm@corp.test; you do not see it.' }).waitFor();
  await add.getByRole('status').filter({ hasText: 'But notify.smtp is not set, so the mail waits in the outbox until it is' }).waitFor();
  assert.equal(await add.getByTestId('enrolment-code').count(), 0);
  await row('kari').getByTestId('user-status').filter({ hasText: 'waiting for enrolment' }).waitFor();
  assert.equal(await row('kari').getByRole('cell', { name: 'kari.holm@corp.test', exact: true }).count(), 2, 'her e-mail address is her mailbox\'s');
  // Break-glass reads alone: the admin only files it, and the page says who decides.
  await add.getByLabel('User name').fill('glenn');
  await add.getByLabel('Display name').fill('Glenn Glass');
  await add.getByLabel('Email').fill('glenn@corp.test');
  for (const r of ['owner', 'requester', 'breakglass']) await add.getByLabel(r, { exact: true }).setChecked(r !== 'owner');
  await add.getByRole('button', { name: 'Add user' }).click();
  await add.getByRole('status').filter({ hasText: /breakglass \(role change role_\w+\) waits for an approver who is neither you nor linked to you or the person/ }).waitFor();
  await row('glenn').getByRole('cell', { name: 'requester', exact: true }).waitFor();
  // The approver decides it on Approvals, with a reason; it applies then.
  await anna.goto(url + '/approvals');
  const roleCard = anna.getByRole('region', { name: 'Roles waiting for a decision' }).locator('article').filter({ hasText: 'breakglass for glenn' });
  await roleCard.getByText('given by adm through the API').waitFor();
  await roleCard.getByLabel('Reason').fill('on-call security rota, ticket SEC-12');
  await roleCard.getByRole('button', { name: 'Approve' }).click();
  await anna.getByText('You approved the role breakglass for glenn: it applies now, and glenn signs in again to use it.').waitFor();
  await audit(anna, 'approvals-role', violations);
  const glenn = (await w.as.adm.call('GET', '/api/v1/users')).body.users.find((u: { name: string }) => u.name === 'glenn');
  assert.deepEqual(glenn.roles, ['requester', 'breakglass']);
  // A plain owner made auditor has no second factor yet: the card says, before anyone decides,
  // that approving enrols her again and where the code goes; the outcome names the recovery.
  assert.equal((await w.as.adm.call('POST', '/api/v1/users/ola/roles', { roles: ['owner', 'auditor'] })).status, 200);
  await anna.reload();
  const olaCard = anna.getByRole('region', { name: 'Roles waiting for a decision' }).locator('article').filter({ hasText: 'auditor for ola' });
  await olaCard.getByTestId('re-enrolment').filter({ hasText: 'ola has no second factor yet, which auditor needs: approving also enrols them again, with a new code sent to ola.nordmann@corp.test.' }).waitFor();
  await olaCard.getByLabel('Reason').fill('ola joins internal audit, ticket AUD-4');
  await olaCard.getByRole('button', { name: 'Approve' }).click();
  await anna.getByText(/^You approved the role auditor for ola: it applies now, and ola enrols again for the second factor it needs, with a code that goes to their mail \(account recovery rec_\w+\)\.$/).waitFor();

  // --- the person opens the link: enrolment filled in, the focus on the password, a QR code
  const nina = await stranger(browser, errors, 'nina');
  await nina.goto(ninaLink);
  await nina.getByRole('heading', { level: 1, name: 'Enrol' }).waitFor();
  assert.equal(new URL(nina.url()).pathname + new URL(nina.url()).search + new URL(nina.url()).hash, '/', 'the code leaves the address bar');
  const enrol = nina.getByRole('form', { name: 'Enrol' });
  assert.equal(await enrol.getByLabel('User name').inputValue(), 'nina');
  assert.ok(await focused(enrol.getByLabel('New password', { exact: true })), 'the focus is on the first field to fill');
  await audit(nina, 'enrol', violations);
  await enrol.getByLabel('New password', { exact: true }).fill('nina-correct-horse-battery');
  await enrol.getByLabel('New password again').fill('nina-correct-horse-battery');
  await enrol.getByRole('button', { name: 'Enrol' }).click();
  await nina.getByRole('heading', { level: 1, name: 'Set up your second factor' }).waitFor();
  const uri = (await nina.getByTestId('totp-uri').getAttribute('href'))!;
  assert.match(uri, /^otpauth:\/\/totp\/Sealbox:nina\?secret=[A-Z2-7]+/);
  assert.equal(await readQr(nina), uri, 'the QR code holds the otpauth:// link');
  const secret = (await nina.getByTestId('totp-secret').textContent())!;
  assert.equal(new URL(uri).searchParams.get('secret'), secret, 'the key as text, to type or copy');
  assert.equal(await nina.getByTestId('recovery-codes').locator('li').count(), 10);
  await screenshot(nina, 'accounts-second-factor');
  await audit(nina, 'second factor', violations);
  // The app's first code signs her in: no name or password typed again.
  await nina.getByLabel('One-time code from the app').fill(totpCode(base32Decode(secret), currentStep(w.clock.now())));
  await nina.getByRole('button', { name: 'Sign in' }).click();
  await nina.getByRole('heading', { level: 1, name: /^Welcome/ }).waitFor();
  await nina.getByText('Signed in as nina').first().waitFor();

  // --- a plain owner: straight in after enrolling, and never told about recovery codes
  const perLink = await addUser('per', 'owner');
  const per = await stranger(browser, errors, 'per');
  await per.goto(perLink);
  const perForm = per.getByRole('form', { name: 'Enrol' });
  await perForm.getByLabel('New password', { exact: true }).fill('per-correct-horse-battery');
  await perForm.getByLabel('New password again').fill('per-correct-horse-battery');
  await perForm.getByRole('button', { name: 'Enrol' }).click();
  await per.getByRole('heading', { level: 1, name: /^Welcome/ }).waitFor();
  assert.doesNotMatch((await per.locator('body').textContent())!, /recovery code/i, 'nothing about recovery codes for a plain owner');
  assert.deepEqual(errors, [], 'no console error while enrolling');

  // --- the admin unlocks a locked account (the lock said in words) and asks for a recovery
  for (let i = 0; i < 5; i++) await w.client().call('POST', '/api/v1/session', { name: 'locky', password: `not-the-password-${i}` });
  await w.take('adm');
  await adm.reload();
  const status = (await row('locky').getByTestId('user-status').textContent())!;
  assert.match(status, /^locked after failed sign-ins, until /);
  assert.doesNotMatch(status, /\d{4}-\d\d-\d\dT/, 'a time in words, not a time stamp');
  await row('locky').getByLabel('Why unlock now (optional)').fill('he called the help desk');
  await row('locky').getByRole('button', { name: 'Unlock locky' }).click();
  await row('locky').getByTestId('user-outcome').filter({ hasText: 'locky can sign in again' }).waitFor();
  await row('locky').getByTestId('user-status').filter({ hasText: /^enrolled$/ }).waitFor();
  await row('hanna').getByText('Account recovery').click();
  await row('hanna').getByLabel('Reason').fill('lost her phone');
  await row('hanna').getByRole('button', { name: 'Ask for recovery' }).click();
  await row('hanna').getByTestId('user-outcome').filter({ hasText: /Account recovery \S+ waits for someone else's approval; then hanna gets the code by e-mail\. You never see it\./ }).waitFor();
  assert.equal(await row('hanna').getByTestId('enrolment-code').count(), 0, 'no code for an enrolled person');
  // Whoever decides sees where the code will go.
  await adm.reload();
  await adm.getByRole('region', { name: 'Account recoveries' }).getByTestId('code-to').filter({ hasText: 'the code goes to hanna@corp.test' }).waitFor();
  // An approver who is no admin decides it on Approvals, where only what waits is shown.
  await anna.goto(url + '/approvals');
  const recoveries = anna.getByRole('region', { name: 'Account recoveries' });
  await recoveries.getByTestId('code-to').filter({ hasText: 'the code goes to hanna@corp.test' }).waitFor();
  assert.equal(await anna.getByRole('region', { name: 'Ownership changes' }).count(), 0, 'nothing waits there: no section');
  await recoveries.getByLabel('Reason').fill('hanna called the service desk, ticket SD-88');
  await recoveries.getByRole('button', { name: 'Approve' }).click();
  await anna.getByRole('region', { name: 'Account recoveries' }).waitFor({ state: 'detached' });
  assert.ok(await w.archive.services.db.read(async (tx) => (await w.archive.services.recovery.list(tx)).some((r) => r.user === 'hanna' && r.state === 'approved')), 'approved');
  assert.equal(await row('hanna').getByRole('button', { name: /New enrolment code/ }).count(), 0);
  const entries = await w.take('adm');
  assert.deepEqual(entries.filter((e) => e.operation.startsWith('user.') && e.operation !== 'user.list').map((e) => [e.operation, e.result, e.parameters.name]), [['user.unlock', 'success', 'locky'], ['user.recovery.request', 'success', 'hanna']]);
  assert.ok(!JSON.stringify(entries).includes('"code"'), 'no code in what the admin did');

  // --- the policy in words; the server's refusal shown by its field
  const policy = adm.getByRole('form', { name: 'Access policy' });
  const text = (await policy.textContent())!;
  assert.ok(!/lockoutMinutes|approvalsNeeded|\{/.test(text), 'no config keys or JSON on the form');
  assert.equal(await policy.getByLabel('Approvals each request needs').inputValue(), '1');
  const minutes = policy.getByLabel('Minutes a locked account stays locked');
  await minutes.fill('0');
  await policy.getByRole('button', { name: 'Save policy' }).click();
  await policy.getByTestId('policy-error-lockoutMinutes').filter({ hasText: 'must be more than 0' }).waitFor();
  assert.equal(await minutes.getAttribute('aria-invalid'), 'true');
  await waitFocused(minutes);
  // The refusal itself is the one console line expected here (the browser logs every 4xx).
  const refused = problems.findIndex((p) => /^adm: .*status of 400/.test(p));
  assert.ok(refused >= 0);
  problems.splice(refused, 1);
  await screenshot(adm, 'accounts-policy-error');
  await audit(adm, 'administration with a field error', violations);
  // A label for a purpose, saved from the form, is what requesters then read.
  await minutes.fill('15');
  await policy.getByLabel('Purposes a request may give').fill('legal-hold\nhr-investigation: HR case\nuser-support\nsubject-access-request\nsecurity-incident');
  await policy.getByRole('button', { name: 'Save policy' }).click();
  await policy.getByText('Policy saved.').waitFor();
  assert.deepEqual((await w.as.hanna.call('GET', '/api/v1/policy')).body.purposeLabels, { 'hr-investigation': 'HR case' });
  await hanna.reload();
  await hanna.locator(`article[data-request="${id}"]`).getByText('HR case').waitFor();

  // The directory import names every column it reads, the manager's too.
  await adm.getByRole('form', { name: 'Import the directory' }).getByText('manager').waitFor();

  assert.deepEqual(problems, [], 'no script error, CSP violation or outside request');
  assert.deepEqual(errors, []);
  assert.deepEqual(violations, [], 'axe-core: moderate, serious or critical violations');
});

async function waitFocused(l: Locator): Promise<void> {
  const handle = await l.elementHandle();
  await l.page().waitForFunction((el) => el === (globalThis as any).document.activeElement, handle, { timeout: 5_000 });
}
