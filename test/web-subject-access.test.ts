// A data subject's access request (GDPR Art. 15) in the web app, in Debian's Chromium against a
// real Sealbox (issue 15, item 7): a requester files one on the Requests page (an address the
// server refuses is said by its field); the filed request is shown with its card, sealed (no
// mailboxes: its filer learns whether the person has mail only once it is approved); an approver
// approves it on Approvals; the requester lists the whole of its scope on the Investigation page and
// exports it: exactly the person's mail, from every mailbox holding it, under the grant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';

const ERIN = 'erin@ext.test';
const ERIN_HOME = 'erin.b@home.test';
const focused = (l: Locator) => l.evaluate((el) => el === (globalThis as any).document.activeElement);

function mail(h: { from: string; to: string; cc?: string; subject: string }): Buffer {
  return Buffer.from(`From: ${h.from}\r\nTo: ${h.to}\r\n${h.cc ? `Cc: ${h.cc}\r\n` : ''}Subject: ${h.subject}\r\n`
    + `Date: Mon, 03 Mar 2025 10:00:00 +0000\r\nMessage-ID: <${h.subject}@corp.test>\r\n\r\n${h.subject} body text\r\n`);
}

test('web: a data subject\'s access request filed, approved and exported in the app', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'carl@corp.test': 'carl' },
    users: { olga: ['owner'], bob: ['owner'], carl: ['owner'], rita: ['requester'], anna: ['approver'] },
  }, { listen: true });
  t.after(() => world.stop());
  const { as } = world;
  const url = world.url!;
  // Erin's mail in olga's and bob's mailboxes (one by her second address, one Bcc by the
  // envelope); other mail in the same mailboxes and in carl's; her mail with no mailbox in it.
  const sent: [{ from: string; to: string[] }, Buffer][] = [
    [{ from: ERIN, to: ['olga@corp.test'] }, mail({ from: ERIN, to: 'olga@corp.test', subject: 's-from' })],
    [{ from: 'olga@corp.test', to: ['bob@corp.test', ERIN_HOME] }, mail({ from: 'olga@corp.test', to: 'bob@corp.test', cc: ERIN_HOME, subject: 's-cc' })],
    [{ from: 'bob@corp.test', to: ['olga@corp.test', ERIN] }, mail({ from: 'bob@corp.test', to: 'olga@corp.test', subject: 's-bcc' })],
    [{ from: 'x@ext.test', to: ['olga@corp.test'] }, mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: 'u-other' })],
    [{ from: 'bob@corp.test', to: ['carl@corp.test'] }, mail({ from: 'bob@corp.test', to: 'carl@corp.test', subject: 'u-carl' })],
    [{ from: ERIN, to: ['friend@other.test'] }, mail({ from: ERIN, to: 'friend@other.test', subject: 'o-outside' })],
  ];
  for (const [envelope, raw] of sent) await world.deliver(envelope, raw);
  await world.takeAll();
  const problems: string[] = [];
  const pageAs = (name: string): Promise<Page> => openAs(browser, { url, as }, name, problems);

  // --- rita files it on the Requests page
  const rita = await pageAs('rita');
  await rita.goto(url + '/requests');
  await rita.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();
  const form = rita.getByRole('form', { name: "Data subject's access request" });
  const addresses = form.getByLabel("The person's e-mail addresses");
  await addresses.fill(`${ERIN}\nerin-at-home`);
  await form.getByLabel(/^Reference/).fill('DSAR-7');
  await form.getByLabel('Justification').fill('Erin asked for a copy of her data on 2 March; identity checked by HR.');
  await form.getByRole('button', { name: 'File the access request' }).click();
  // Refused by the field it names, in the server's words, with the focus there.
  await form.getByTestId('field-error-addresses').filter({ hasText: '"erin-at-home" is not an e-mail address.' }).waitFor();
  assert.equal(await addresses.getAttribute('aria-invalid'), 'true');
  assert.ok(await focused(addresses), 'the focus is on the field to change');
  await addresses.fill(`${ERIN}\n${ERIN_HOME}\n`);
  await form.getByRole('button', { name: 'File the access request' }).click();
  const outcome = rita.getByTestId('outcome').filter({ hasText: /Access request req_\w+ is filed for whatever mail the archive holds of the person: it waits for approval/ });
  await outcome.waitFor();
  assert.ok(await focused(outcome), 'the focus is on the confirmation');
  const id = /(req_\w+)/.exec((await outcome.textContent())!)![1];
  // Its card, like any other request's: purpose in words, the reference as its ticket, its scope.
  const card = rita.getByRole('region', { name: 'My open requests' }).locator(`article[data-request="${id}"][data-state="pending"]`);
  await card.getByText('Subject access request').waitFor();
  assert.equal(await card.locator('dt:text-is("Ticket") + dd').textContent(), 'DSAR-7');
  assert.match((await card.locator('dt:text-is("Scope") + dd').textContent())!, /^search, read, export · mail dated all dates · only from:"erin@ext\.test" OR /);
  await card.getByTestId('sealed-mailboxes').filter({ hasText: "those holding the person's mail, shown once approved" }).waitFor();
  assert.equal(await addresses.inputValue(), '', 'the form is cleared');
  await screenshot(rita, 'requests-subject-access-filed');

  // --- anna approves it on Approvals
  const anna = await pageAs('anna');
  await anna.goto(url + '/approvals');
  const annaCard = anna.locator(`article[data-request="${id}"]`);
  await annaCard.getByText('Erin asked for a copy of her data on 2 March; identity checked by HR.').waitFor();
  await annaCard.getByLabel('Reason').fill('Identity checked; DSAR-7 is in the register.');
  await annaCard.getByRole('button', { name: 'Approve' }).click();
  await anna.getByTestId('outcome').filter({ hasText: new RegExp(`You approved request ${id}: it is now active until`) }).waitFor();

  // --- rita lists the whole of its scope under the grant, and exports it
  await rita.reload();
  await rita.locator(`article[data-request="${id}"][data-state="active"]`).getByRole('link', { name: 'Open in Investigation' }).click();
  await rita.getByRole('heading', { level: 1, name: 'Investigation' }).waitFor();
  await rita.getByTestId('subject-access-scope').getByRole('button', { name: 'List all of it' }).click();
  await rita.getByTestId('result-total').filter({ hasText: '3 messages' }).waitFor();
  assert.equal(await rita.getByTestId('subject-access-scope').count(), 0, 'listed: the note has done its work');
  assert.equal(new URL(rita.url()).searchParams.get('q'), (await as.rita.call('GET', `/api/v1/requests/${id}`)).body.query, 'searched by the grant\'s fixed query');
  await rita.getByTestId('export-count').filter({ hasText: 'All 3 messages this search finds' }).waitFor();
  await screenshot(rita, 'investigation-subject-access');
  const [download] = await Promise.all([rita.waitForEvent('download'), rita.getByRole('button', { name: 'Export 3 messages' }).click()]);
  await rita.getByTestId('export-done').filter({ hasText: 'Exported 3 messages' }).waitFor();
  const mbox = readFileSync((await download.path())!, 'latin1');
  assert.deepEqual([...mbox.matchAll(/^Subject: (\S+)\r?$/gm)].map((m) => m[1]).sort(), ['s-bcc', 's-cc', 's-from'], 'exactly her mail');
  const exported = (await world.take('rita')).filter((e) => e.operation === 'export');
  assert.deepEqual(exported.map((e) => [e.result, e.grantId, e.objects.messages.length]), [['success', id, 3]]);

  // The refusals this story provoked, and nothing else: the address that is none (400).
  assert.deepEqual(problems, ['rita: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
});
