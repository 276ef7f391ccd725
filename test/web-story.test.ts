// The governed-access story through the web app, by four people in four browser contexts of
// Debian's Chromium against a real Sealbox with mail ingested over SMTP: an admin sets things up
// in the Administration page; an owner reads her own mail and downloads it; a requester asks
// for access to her mailbox with a purpose and a ticket; an approver (neither of them) approves
// with a reason; the requester uses the grant and ends it ("I'm done"); the owner sees who
// accessed her mailbox and why; an auditor sees the Administration page read-only. A
// screenshot of each page goes to test-results/screenshots/, and each page's first load (cold
// cache, production build) is measured with the browser's own timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { base32Decode } from './support/api-client.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { launchBrowser, screenshot } from './support/browser.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { enrolmentCode } from './support/outbox.ts';
import { repoRoot, sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { currentStep, totpCode } from '../src/access/totp.ts';
import { WEB_APP_DIR } from '../src/api/web-app.ts';

const mail = (from: string, to: string, subject: string, date: string) =>
  Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: ${date}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@corp.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${subject}: the body.\r\n`);

const NOTICE = 'All business mail is archived with its envelope for seven years.\n\nNo one reads it without an approved request; you can see every access to your mailbox.';

interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  password: string;
  totpSecret: Buffer | null;
  recoveryCodes: string[];
}

test('web story: four people do the governed-access story through the pages', { timeout: 300_000 }, async (t) => {
  assert.ok(readFileSync(join(WEB_APP_DIR, 'index.html')).length > 0, 'the web app is built (npm run build:web)');
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());

  // One admin makes every account here, as at a fresh site: the four-eyes link between accounts
  // the same person made (access.linkedPeopleDays) is off, as in the shared test world.
  const config = testConfig({ internalDomains: ['corp.test'], access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const url = server.http!.url;

  // Mail over SMTP, the directory and the first admin from the command line, as an operator would.
  const messages = {
    invoice: mail('carol@partner.test', 'alice@corp.test', 'Invoice for March', 'Tue, 05 Mar 2024 10:00:00 +0000'),
    contract: mail('carol@partner.test', 'alice@corp.test', 'Signed contract', 'Wed, 06 Mar 2024 11:00:00 +0000'),
    lunch: mail('alice@corp.test', 'bob@corp.test', 'Lunch on Friday', 'Thu, 07 Mar 2024 12:00:00 +0000'),
    salary: mail('bob@corp.test', 'dave@partner.test', 'Bob private salary talk', 'Fri, 08 Mar 2024 09:00:00 +0000'),
  };
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  for (const m of Object.values(messages)) {
    const [, from, to] = /^From: (\S+)\r\nTo: (\S+)/.exec(m.toString())!;
    assert.equal((await smtp.send({ from, to: [to] }, m)).data[0].code, 250);
  }
  await smtp.quit();
  await waitForIndex(server.data);
  const csv = join(tempDataDir(), 'directory.csv');
  writeFileSync(csv, 'addresses,display_name,owner\nalice@corp.test,Alice Archer,alice\nbob@corp.test,Bob Baker,bob\n');
  assert.equal((await sealbox(['mailboxes', 'import', '--data', server.data, '--config', config, csv])).code, 0);
  const added = await sealbox(['users', 'add', '--data', server.data, '--config', config, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
  assert.equal(added.code, 0, added.stderr);
  // The approver, the auditor and the break-glass holder are named at the console too: an admin
  // in the web app only files such roles for an approver.
  const consoleCodes: Record<string, string> = {};
  for (const [name, role] of [['anna', 'approver'], ['audrey', 'auditor'], ['bea', 'breakglass']] as const) {
    const made = await sealbox(['users', 'add', '--data', server.data, '--config', config, '--name', name, '--email', `${name}@corp.test`, '--role', role]);
    assert.equal(made.code, 0, made.stderr);
    consoleCodes[name] = /enrolment code (\S+)/.exec(made.stdout.toString())![1]!;
  }

  // Every page must keep to its CSP and load nothing from elsewhere.
  const problems: string[] = [];
  const open = async (name: string): Promise<Person> => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(`${name}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
    page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:')) problems.push(`${name} fetched ${r.url()}`); });
    return { name, context, page, password: `${name}-correct-horse-battery`, totpSecret: null, recoveryCodes: [] };
  };

  // Enrolment ends signed in: a plain owner at once, anyone else with the authenticator's first
  // code (or, given `first`, a recovery code) after setting it up.
  const enrol = async (p: Person, code: string, shots = false, first?: (p: Person) => string) => {
    await p.page.goto(url + '/');
    await p.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    if (shots) await screenshot(p.page, 'sign-in');
    await p.page.getByRole('button', { name: 'Enrol with your enrolment code' }).click();
    const form = p.page.getByRole('form', { name: 'Enrol' });
    await form.getByLabel('User name').fill(p.name);
    await form.getByLabel('Enrolment code').fill(code);
    await form.getByLabel('New password', { exact: true }).fill(p.password);
    await form.getByLabel('New password again').fill(p.password);
    await form.getByRole('button', { name: 'Enrol' }).click();
    const setUp = p.page.getByRole('heading', { level: 1, name: 'Set up your second factor' });
    const signedIn = p.page.getByRole('button', { name: 'Sign out' });
    await setUp.or(signedIn).waitFor();
    if (await setUp.isVisible()) {
      p.totpSecret = base32Decode((await p.page.getByTestId('totp-secret').textContent())!);
      p.recoveryCodes = await p.page.getByTestId('recovery-codes').locator('li').allTextContents();
      assert.equal(p.recoveryCodes.length, 10, 'ten recovery codes are shown once');
      assert.match((await p.page.getByTestId('totp-uri').getAttribute('href'))!, /^otpauth:\/\/totp\/Sealbox:/);
      if (shots) await screenshot(p.page, 'enrolment');
      await p.page.getByLabel('One-time code from the app').fill(first?.(p) ?? totpCode(p.totpSecret, currentStep(Date.now())));
      await p.page.getByRole('button', { name: 'Sign in' }).click();
      await signedIn.waitFor();
    }
  };
  const signIn = async (p: Person, second?: string) => {
    await p.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const form = p.page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('User name').fill(p.name);
    await form.getByLabel('Password').fill(p.password);
    const code = second ?? (p.totpSecret ? totpCode(p.totpSecret, currentStep(Date.now())) : '');
    if (code) await form.getByLabel('One-time code or recovery code').fill(code);
    await form.getByRole('button', { name: 'Sign in' }).click();
  };
  const acknowledgeNotice = async (p: Person, shot = false) => {
    await p.page.getByRole('heading', { name: 'Your mail is archived' }).waitFor();
    assert.match((await p.page.getByTestId('notice-text').textContent())!, /archived with its envelope for seven years/);
    assert.equal(await p.page.getByRole('navigation', { name: 'Main' }).getByRole('link').count(), 0, 'nothing else until the notice is acknowledged');
    if (shot) await screenshot(p.page, 'notice');
    await p.page.getByRole('button', { name: 'I have read this notice' }).click();
    await p.page.getByRole('heading', { name: 'Your mail is archived' }).waitFor({ state: 'detached' });
  };
  const navTo = async (p: Person, link: string, heading: string | RegExp) => {
    await p.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
    await p.page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  // --- the admin: enrols with the code from the command line, sets the notice, adds the others
  const adm = await open('adm');
  await enrol(adm, /enrolment code (\S+)/.exec(added.stdout.toString())![1], true);
  await adm.page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  await navTo(adm, 'Administration', 'Administration');
  const noticeForm = adm.page.getByRole('form', { name: 'Archiving notice' });
  await noticeForm.getByLabel('Notice text').fill(NOTICE);
  await noticeForm.getByRole('button', { name: 'Publish notice' }).click();
  await adm.page.getByText('Version 1 published.').waitFor();
  const codes: Record<string, string> = { ...consoleCodes };
  for (const [name, roles] of Object.entries({ alice: ['owner'], rita: ['requester'] })) {
    const form = adm.page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('User name').fill(name);
    await form.getByLabel('Email').fill(`${name}@corp.test`);
    for (const role of ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass']) await form.getByLabel(role, { exact: true }).setChecked(roles.includes(role));
    await form.getByRole('button', { name: 'Add user' }).click();
    await form.getByRole('status').filter({ hasText: `${name} added` }).waitFor();
    if (name === 'alice') {
      // The directory gives alice her mailbox already: her code goes to her mail, not to the admin.
      await form.getByRole('status').filter({ hasText: 'their enrolment code was mailed to alice@corp.test; you do not see it' }).waitFor();
      codes[name] = enrolmentCode(server.data, 'alice@corp.test');
    } else codes[name] = (await form.getByTestId('enrolment-code').textContent())!;
  }
  await adm.page.getByRole('cell', { name: 'rita', exact: true }).waitFor();

  // --- everyone enrols and acknowledges the notice (the admin on the next sign-in)
  const alice = await open('alice');
  const rita = await open('rita');
  const anna = await open('anna');
  const audrey = await open('audrey');
  // The approver finishes with a recovery code instead of the authenticator's; it works once.
  for (const p of [alice, rita, anna, audrey]) await enrol(p, codes[p.name], false, p === anna ? (x) => x.recoveryCodes[0] : undefined);
  assert.equal(alice.totpSecret, null, 'a plain owner needs no second factor');
  await acknowledgeNotice(alice, true);
  await alice.page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  await screenshot(alice.page, 'home');
  await acknowledgeNotice(rita);
  const recovery = anna.recoveryCodes[0];
  await acknowledgeNotice(anna);
  await acknowledgeNotice(audrey);

  // Navigation follows the roles.
  const links = async (p: Person) => (await p.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((l) => l.replace(/ \d+ unread$/, '')).sort();
  assert.deepEqual(await links(alice), ['My mailbox', 'Notifications', 'Who accessed my mailbox']);
  const offered = { rita: await links(rita), anna: await links(anna), audrey: await links(audrey) };
  assert.ok(offered.rita.includes('Requests') && !offered.rita.some((l) => ['Approvals', 'Administration', 'My mailbox'].includes(l)), offered.rita.join());
  assert.ok(offered.anna.includes('Approvals') && !offered.anna.some((l) => ['Requests', 'Administration'].includes(l)), offered.anna.join());
  assert.ok(offered.audrey.includes('Administration') && !offered.audrey.some((l) => ['Requests', 'Approvals'].includes(l)), offered.audrey.join());
  await alice.page.goto(url + '/admin');
  await alice.page.getByText('Your roles do not include this page.').waitFor();

  // --- the owner: her own mailbox, one message, the .eml download
  await alice.page.goto(url + '/');
  await navTo(alice, 'My mailbox', 'My mailbox');
  await alice.page.getByRole('status').filter({ hasText: /^3 messages · 1–3 shown, newest first · \d+ ms/ }).waitFor();
  const rows = await alice.page.getByRole('list', { name: 'Messages found' }).getByRole('link').allTextContents();
  assert.deepEqual(rows.sort(), ['Invoice for March', 'Lunch on Friday', 'Signed contract'], 'her mail and only hers');
  await alice.page.getByRole('searchbox', { name: 'Search' }).fill('invoice');
  await alice.page.getByRole('button', { name: 'Search' }).click();
  await alice.page.getByRole('status').filter({ hasText: /^1 message · / }).waitFor();
  await screenshot(alice.page, 'my-mailbox');
  await alice.page.getByRole('link', { name: 'Invoice for March' }).click();
  await alice.page.getByRole('heading', { level: 1, name: 'Invoice for March' }).waitFor();
  const sha = createHash('sha256').update(messages.invoice).digest('hex');
  await alice.page.getByText(sha).waitFor();
  await alice.page.getByRole('cell', { name: 'carol@partner.test' }).waitFor();
  await screenshot(alice.page, 'message');
  const [download] = await Promise.all([alice.page.waitForEvent('download'), alice.page.getByRole('link', { name: 'Download .eml' }).click()]);
  assert.equal(download.suggestedFilename(), `${sha}.eml`);
  assert.deepEqual(readFileSync((await download.path())!), messages.invoice, 'the exact bytes received over SMTP');

  // --- the requester: a request for the owner's mailbox, found by typing part of her name
  await navTo(rita, 'Requests', 'Requests');
  const requestForm = rita.page.getByRole('form', { name: 'New access request' });
  // The mailbox picker with the keyboard alone: type, arrow down to the suggestion, Enter.
  const picker = requestForm.getByRole('combobox', { name: 'Mailboxes' });
  await picker.fill('Alic');
  await rita.page.getByRole('option', { name: /Alice Archer/ }).waitFor();
  await picker.press('ArrowDown');
  assert.equal(await rita.page.getByRole('option', { name: /Alice Archer/ }).getAttribute('aria-selected'), 'true');
  await picker.press('Enter');
  await requestForm.getByRole('list', { name: 'Chosen mailboxes' }).getByText('alice@corp.test').waitFor();
  await requestForm.getByLabel('Mail dated from').fill('2024-03-01');
  await requestForm.getByLabel('to (inclusive)').fill('2024-03-31');
  await requestForm.getByLabel('Purpose').selectOption('hr-investigation');
  await requestForm.getByLabel('Justification').fill('Complaint about invoices sent to a partner; need the March correspondence.');
  await requestForm.getByLabel('Ticket').fill('HR-4711');
  await requestForm.getByLabel('Duration (hours)').fill('4');
  await requestForm.getByRole('button', { name: 'File request' }).click();
  const filed = rita.page.getByRole('status').filter({ hasText: /Request req_\S+ filed/ });
  await filed.waitFor();
  const requestId = /Request (req_\S+) filed/.exec((await filed.textContent())!)![1];
  const ritaCard = rita.page.locator(`article[data-request="${requestId}"]`);
  assert.equal(await ritaCard.getAttribute('data-state'), 'pending');
  await screenshot(rita.page, 'requests');

  // --- the approver: the whole context, no content; approves with a reason
  await anna.page.goto(url + '/');
  await navTo(anna, 'Approvals', 'Approvals');
  const card = anna.page.locator(`article[data-request="${requestId}"]`);
  await card.waitFor();
  for (const text of ['rita', 'alice@corp.test', 'HR investigation', 'HR-4711', 'Complaint about invoices', 'mail dated 2024-03-01 to 2024-03-31']) await card.getByText(text).first().waitFor();
  assert.equal(await anna.page.getByText('Invoice for March').count(), 0, 'no message content on the approvals page');
  await screenshot(anna.page, 'approvals');
  await card.getByLabel('Reason').fill('Ticket HR-4711 checked with HR; scope limited to March.');
  await card.getByRole('button', { name: 'Approve' }).click();
  await anna.page.getByTestId('outcome').filter({ hasText: `You approved request ${requestId}: it is now active until` }).waitFor();
  await anna.page.getByText('No request is waiting for a decision.').waitFor();
  // The grant is now among those in force, where she could end it (test/web-grants.test.ts).
  await anna.page.getByRole('region', { name: 'Grants in force' }).locator(`article[data-request="${requestId}"]`).getByRole('button', { name: 'End access now…' }).waitFor();

  // --- the requester: the grant is active; she searches within it, then says she is done
  await rita.page.reload();
  await ritaCard.waitFor();
  assert.equal(await ritaCard.getAttribute('data-state'), 'active');
  await ritaCard.getByText(/Approved by anna/).waitFor();
  await ritaCard.getByText(/ends in \d+ h/).waitFor();
  // The Investigation page under the grant: the remaining time on screen, a search that finds
  // only what the grant covers (Bob's own mail stays out), a message opened.
  await ritaCard.getByRole('link', { name: 'Open in Investigation' }).click();
  await rita.page.getByRole('heading', { level: 1, name: 'Investigation' }).waitFor();
  assert.match((await rita.page.getByTestId('grant-remaining').textContent())!, /^3 h 5\d min \d\d s$/);
  const search = rita.page.getByRole('search', { name: 'Search within the grant' });
  await search.getByRole('searchbox', { name: 'Search' }).fill('invoice OR talk');
  await search.getByRole('button', { name: 'Search' }).click();
  await rita.page.getByTestId('result-count').filter({ hasText: /^1 message · 1–1 shown, newest first · \d+ ms/ }).waitFor();
  const results = rita.page.getByRole('region', { name: 'Results' });
  assert.deepEqual(await results.getByRole('listitem').getByRole('link').allTextContents(), ['Invoice for March']);
  await results.getByRole('link', { name: 'Invoice for March' }).click();
  await rita.page.getByRole('heading', { level: 2, name: 'Invoice for March' }).waitFor();
  await screenshot(rita.page, 'investigation');
  await rita.page.goBack();
  await rita.page.goBack();
  await rita.page.goBack();
  await ritaCard.waitFor();
  rita.page.once('dialog', (d) => void d.accept());
  await ritaCard.getByRole('button', { name: /I'm done/ }).click();
  await rita.page.locator(`article[data-request="${requestId}"][data-state="revoked"]`).waitFor();
  const after = await rita.page.evaluate(async ([grant]) => (await fetch(`/api/v1/search?q=invoice&grant=${grant}`)).status, [requestId]);
  assert.equal(after, 403, 'nothing more once the grant is ended (the browser session asking the API directly)');

  // --- break-glass: opened alone from the Requests page, active at once, ended by its holder
  const bea = await open('bea');
  await enrol(bea, codes.bea);
  await acknowledgeNotice(bea);
  await navTo(bea, 'Requests', 'Requests');
  const emergency = bea.page.getByRole('form', { name: 'New access request' });
  assert.equal(await emergency.getByRole('button', { name: 'File request' }).count(), 0, 'a break-glass holder files no ordinary request');
  await emergency.getByRole('combobox', { name: 'Mailboxes' }).fill('bob@corp.test');
  await emergency.getByRole('combobox', { name: 'Mailboxes' }).press('Enter');
  // Enter before the matches arrive picks the first of them when they do: a chip, then filing.
  await emergency.getByRole('list', { name: 'Chosen mailboxes' }).getByText('bob@corp.test').waitFor();
  await emergency.getByLabel('Purpose').selectOption('security-incident');
  await emergency.getByLabel('Justification').fill('Phishing mail being forwarded from this mailbox right now.');
  bea.page.once('dialog', (d) => void d.accept());
  await emergency.getByRole('button', { name: /Open emergency access/ }).click();
  const bg = bea.page.locator('article[data-state="active"]').filter({ hasText: 'EMERGENCY' });
  await bg.getByText('bob@corp.test').waitFor();
  assert.match((await bg.getAttribute('data-request'))!, /^bg_/);
  await screenshot(bea.page, 'requests-breakglass');
  bea.page.once('dialog', (d) => void d.accept());
  await bg.getByRole('button', { name: /I'm done/ }).click();
  await bea.page.locator('article[data-state="revoked"]').filter({ hasText: 'EMERGENCY' }).waitFor();

  // --- the owner: who accessed her mailbox, with person, purpose and ticket
  await navTo(alice, 'Who accessed my mailbox', 'Who accessed my mailbox');
  const accesses = alice.page.getByTestId('accesses');
  const group = accesses.getByRole('article').filter({ hasText: 'rita' }).filter({ hasText: requestId });
  await group.waitFor();
  for (const text of ['HR investigation', 'HR-4711', /search/, /message(s)? read/]) await group.getByText(text).first().waitFor();
  await group.getByText(/^Details/).click();
  await group.getByText(/opened message/).first().waitFor();
  await screenshot(alice.page, 'accesses');

  // --- the auditor and the admin: Administration (read-only for the auditor)
  await navTo(audrey, 'Administration', 'Administration');
  await audrey.page.getByText('You see this as an auditor: read only.').waitFor();
  assert.match((await audrey.page.getByTestId('health').textContent())!, /http 127\.0\.0\.1:\d+/);
  // The index thread checked the index when it was first idle (index.checkEveryMinutes); mail
  // that came in while it checked is counted as not indexed yet.
  const indexCheck = (await audrey.page.getByTestId('index-check').textContent())!;
  const checked = /^yes: (\d+) of (\d+) messages(?: \((\d+) not indexed yet, (\d+) failing\))?, checked /.exec(indexCheck);
  assert.ok(checked, indexCheck);
  assert.equal(Number(checked[1]) + Number(checked[3] ?? 0) + Number(checked[4] ?? 0), Number(checked[2]), indexCheck);
  assert.equal(await audrey.page.getByRole('form', { name: 'Add a user' }).count(), 0);
  await audrey.page.getByRole('cell', { name: 'alice@corp.test' }).first().waitFor();
  await screenshot(audrey.page, 'admin-auditor');
  await adm.page.reload();
  await acknowledgeNotice(adm);
  await navTo(adm, 'Administration', 'Administration');
  await adm.page.getByTestId('health').getByText(/smtp 127\.0\.0\.1/).waitFor();
  await screenshot(adm.page, 'admin');
  // Disabling someone ends their session at once.
  const beaRow = adm.page.getByRole('row').filter({ hasText: 'bea' });
  adm.page.once('dialog', (d) => void d.accept());
  await beaRow.getByRole('button', { name: 'Disable bea' }).click();
  await beaRow.getByRole('cell', { name: 'disabled', exact: true }).waitFor();
  await bea.page.reload();
  await bea.page.getByRole('heading', { name: 'Sign in' }).waitFor();

  // The recovery code was used up: signing in with it again fails.
  await anna.page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(anna, recovery);
  await anna.page.getByRole('alert').filter({ hasText: /recovery code/ }).waitFor();

  // The ledger, read by the auditor, holds the story.
  type Entry = { actor: string; operation: string; result: string; grantId: string | null; parameters: Record<string, unknown> };
  const entries: Entry[] = (await audrey.page.evaluate(async () => (await fetch('/api/v1/ledger/entries?limit=1000')).json()) as { entries: Entry[] }).entries;
  const has = (actor: string, operation: string, extra: (e: Entry) => boolean = () => true) =>
    assert.ok(entries.some((e) => e.actor === `user:${actor}` && e.operation === operation && e.result === 'success' && extra(e)), `${actor} ${operation}`);
  has('adm', 'notice.set');
  for (const who of ['alice', 'rita', 'anna', 'audrey']) has(who, 'notice.acknowledge');
  has('anna', 'session.create', (e) => e.parameters.secondFactor === 'recovery-code');
  has('alice', 'search');
  has('alice', 'view');
  has('alice', 'raw');
  has('rita', 'request.file', (e) => e.grantId === requestId);
  has('anna', 'request.approve', (e) => e.grantId === requestId);
  has('rita', 'search', (e) => e.grantId === requestId);
  has('rita', 'view', (e) => e.grantId === requestId);
  has('rita', 'request.revoke', (e) => e.grantId === requestId);
  has('bea', 'breakglass.open');

  // First load of each page with the production build: a fresh navigation with the browser
  // cache off, timed by the browser (navigation start to the page's content on screen).
  const timings: Record<string, { load: number; ready: number }> = {};
  const measure = async (p: Person, path: string, ready: string | RegExp, key: string) => {
    const cdp = await p.context.newCDPSession(p.page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await p.page.goto(url + path);
    await p.page.getByRole('heading', { level: 1, name: ready }).waitFor();
    timings[key] = await p.page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { load: Math.round(nav.loadEventEnd - nav.startTime), ready: Math.round(performance.now()) };
    })()`);
    await cdp.detach();
  };
  await anna.page.goto(url + '/');
  await measure(anna, '/', 'Sign in', 'sign-in');
  await measure(alice, '/', /^Welcome/, 'start');
  await measure(alice, '/mailbox', 'My mailbox', 'my-mailbox');
  await measure(alice, `/mailbox/${sha}`, 'Invoice for March', 'message');
  await measure(alice, '/accesses', 'Who accessed my mailbox', 'accesses');
  await measure(rita, '/requests', 'Requests', 'requests');
  await measure(rita, '/investigation', 'Investigation', 'investigation');
  await measure(audrey, '/admin', 'Administration', 'admin');
  await measure(audrey, '/ledger', 'Ledger and checkpoints', 'ledger');
  mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
  writeFileSync(join(repoRoot, 'test-results', 'web-first-load.json'), JSON.stringify(timings, null, 2) + '\n');
  t.diagnostic(`first load, ms (load event / content on screen): ${Object.entries(timings).map(([k, v]) => `${k} ${v.load}/${v.ready}`).join(', ')}`);
  for (const [page, v] of Object.entries(timings)) assert.ok(v.ready > 0 && v.load > 0, `${page} was timed`);

  assert.deepEqual(problems, [], 'no script error, CSP violation or outside request on any page');
});
