// Deciding on requests and ending grants in the web app, in Debian's Chromium against a real
// Sealbox: a request needing two approvals shows its progress ("1 of 2 approvals") and offers
// no second decision to whoever has decided; each action is confirmed on the page, with the
// focus on the confirmation; an approver ends a grant (reason, then confirm); the server's
// refusal is shown in its words; an admin sees what waits and what is in force; a running
// break-glass grant is ended from the review queue; and a request
// too few people could approve says so where it is filed and on its card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { startWorld } from './support/access-world.ts';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';

const focused = (l: Locator) => l.evaluate((el) => el === (globalThis as any).document.activeElement);

test('web: two approvals, ending a grant, too few approvers', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startWorld({
    messages: { c1: { from: 'x@ext.test', to: 'ceo@corp.test', subject: 'board pack', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    // ceo@ is tagged executive: two approvals (access.sensitivityApprovals by default).
    mailboxes: { 'ceo@corp.test': ',executive', 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], anna: ['approver'], alan: ['approver'], bea: ['breakglass'] },
  });
  t.after(() => world.stop());
  const { as } = world;
  const problems: string[] = [];
  const pageAs = (name: string): Promise<Page> => openAs(browser, world, name, problems);
  const file = async (mailbox: string, ticket: string) => {
    const r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'board dispute', ticket, mailboxes: [mailbox], permissions: ['search', 'read'], durationHours: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.id as string;
  };

  // --- two approvals: anna approves first and is told where the request stands
  const id = await file('ceo@corp.test', 'LEG-1');
  const anna = await pageAs('anna');
  await anna.goto(world.url + '/approvals');
  await anna.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
  const annaCard = anna.locator(`article[data-request="${id}"]`);
  assert.equal(await annaCard.getByTestId('approval-progress').textContent(), '0 of 2 approvals');
  await annaCard.getByLabel('Reason').fill('Board dispute confirmed with legal.');
  await annaCard.getByRole('button', { name: 'Approve' }).click();
  const annaOutcome = anna.getByTestId('outcome');
  await annaOutcome.filter({ hasText: `You approved request ${id}: 1 of 2 approvals — approved by anna. It is still pending` }).waitFor();
  assert.ok(await focused(annaOutcome), 'the focus is on the confirmation');
  // Her decision instead of the buttons: no second try, no 409.
  await annaCard.getByTestId('your-decision').filter({ hasText: /You approved this request on .*; it waits for one more approval from someone else\. Your reason: “Board dispute confirmed with legal\.”/ }).waitFor();
  assert.equal(await annaCard.getByRole('button', { name: 'Approve' }).count(), 0);
  assert.equal(await annaCard.getByRole('button', { name: 'Deny' }).count(), 0);
  await anna.reload();
  await annaCard.getByTestId('your-decision').waitFor();
  assert.equal(await annaCard.getByRole('button', { name: 'Approve' }).count(), 0, 'after a reload too');
  await screenshot(anna, 'approvals-first-of-two');

  // --- the second approver sees "1 of 2" with who approved, and approves
  const alan = await pageAs('alan');
  await alan.goto(world.url + '/approvals');
  const alanCard = alan.locator(`article[data-request="${id}"]`);
  assert.equal(await alanCard.getByTestId('approval-progress').textContent(), '1 of 2 approvals — approved by anna');
  await alanCard.getByLabel('Reason').fill('Second pair of eyes: scope is fine.');
  await alanCard.getByRole('button', { name: 'Approve' }).click();
  const alanOutcome = alan.getByTestId('outcome');
  await alanOutcome.filter({ hasText: new RegExp(`You approved request ${id}: it is now active until`) }).waitFor();
  assert.ok(await focused(alanOutcome));
  const inForce = alan.getByRole('region', { name: 'Grants in force' });
  await inForce.locator(`article[data-request="${id}"][data-state="active"]`).getByText('2 of 2 approvals — approved by anna, alan').waitFor();

  // --- anna ends the grant: the control asks for a reason, then for confirmation
  await anna.reload();
  const grant = anna.getByRole('region', { name: 'Grants in force' }).locator(`article[data-request="${id}"]`);
  await grant.waitFor();
  const endButton = grant.getByRole('button', { name: 'End access now…' });
  await endButton.click();
  const endForm = anna.getByRole('form', { name: `End access under request ${id}` });
  assert.ok(await focused(endForm.getByLabel('Why you are ending this access')), 'the reason field takes the focus');
  await endForm.getByText('rita can no longer search or read under this grant').waitFor();
  await endForm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await endForm.count(), 0);
  assert.ok(await focused(endButton), 'cancelled: the focus goes back to the button');
  assert.equal((await as.anna.call('GET', `/api/v1/requests/${id}`)).body.state, 'active', 'nothing happened yet');
  await endButton.click();
  await endForm.getByLabel('Why you are ending this access').fill('Legal says the dispute is settled.');
  await screenshot(anna, 'approvals-end-access');
  await endForm.getByRole('button', { name: 'Confirm: end access now' }).click();
  await annaOutcome.filter({ hasText: `Access under request ${id} ended: it is now revoked, and rita can no longer use it.` }).waitFor();
  assert.ok(await focused(annaOutcome));
  await anna.getByText('No grant is in force.').waitFor();
  assert.equal((await as.rita.call('GET', `/api/v1/search?q=board&grant=${id}`)).status, 403, 'the grant is over');
  const revoked = (await world.take('anna')).find((e) => e.operation === 'request.revoke' && e.grantId === id);
  assert.equal(revoked?.result, 'success');
  assert.equal(revoked?.parameters.reason, 'Legal says the dispute is settled.');

  // --- a refusal is the server's: the grant ended elsewhere while the page was open
  const second = await file('olga@corp.test', 'LEG-2');
  assert.equal((await as.alan.call('POST', `/api/v1/requests/${second}/approve`, { reason: 'ok' })).status, 200);
  const adm = await pageAs('adm');
  await adm.goto(world.url + '/approvals');
  await adm.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
  await adm.getByText('Approvers decide on these requests; you see what waits, and can end a grant in force.').waitFor();
  const admGrant = adm.getByRole('region', { name: 'Grants in force' }).locator(`article[data-request="${second}"]`);
  await admGrant.getByRole('button', { name: 'End access now…' }).click();
  assert.equal((await as.rita.call('POST', `/api/v1/requests/${second}/revoke`, { reason: 'done' })).status, 200, "rita says she's done meanwhile");
  const admForm = adm.getByRole('form', { name: `End access under request ${second}` });
  await admForm.getByLabel('Why you are ending this access').fill('case closed');
  await admForm.getByRole('button', { name: 'Confirm: end access now' }).click();
  await admForm.getByRole('alert').filter({ hasText: `request ${second} is revoked; nothing to revoke (SEALBOX_ERR_CONFLICT)` }).waitFor();

  // --- a break-glass grant is in the review queue while it runs: a reviewer can end it there
  const bg = await as.bea.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'phishing right now', mailboxes: ['olga@corp.test'], permissions: ['search'], durationHours: 0.5 });
  assert.equal(bg.status, 200, JSON.stringify(bg.body));
  await anna.goto(world.url + '/reviews');
  await anna.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
  await anna.getByRole('row').filter({ hasText: bg.body.id }).getByRole('button', { name: 'break-glass use' }).click();
  const review = anna.getByTestId('review-detail');
  await review.getByRole('button', { name: 'End access now…' }).click();
  const bgForm = review.getByRole('form', { name: `End access under request ${bg.body.id}` });
  await bgForm.getByLabel('Why you are ending this access').fill('The incident is contained.');
  await bgForm.getByRole('button', { name: 'Confirm: end access now' }).click();
  const reviewOutcome = review.getByTestId('outcome').filter({ hasText: `Access under request ${bg.body.id} ended: it is now revoked, and bea can no longer use it.` });
  await reviewOutcome.waitFor();
  assert.ok(await focused(reviewOutcome));
  await review.getByText('(revoked)').waitFor();
  assert.equal(await review.getByRole('button', { name: 'End access now…' }).count(), 0);

  // --- too few approvers: with alan disabled, only anna is left for a two-approval request
  assert.equal((await as.adm.call('POST', '/api/v1/users/alan/disable', { disabled: true, reason: 'on leave' })).status, 200);
  const rita = await pageAs('rita');
  await rita.goto(world.url + '/requests');
  const form = rita.getByRole('form', { name: 'New access request' });
  await form.getByRole('combobox', { name: 'Mailboxes' }).fill('ceo@corp.test');
  await form.getByRole('combobox', { name: 'Mailboxes' }).press('Enter');
  // Enter before the matches arrive picks the first of them when they do.
  await form.getByRole('list', { name: 'Chosen mailboxes' }).getByText('ceo@corp.test').waitFor();
  await form.getByLabel('Purpose').selectOption('legal-hold');
  await form.getByLabel('Justification').fill('Board dispute, part two.');
  await form.getByLabel('Ticket').fill('LEG-3');
  await form.getByRole('button', { name: 'File request' }).click();
  const filedNote = rita.getByRole('status').filter({ hasText: /Request req_\S+ filed/ });
  await filedNote.waitFor();
  const short = /Request (req_\S+) filed/.exec((await filedNote.textContent())!)![1];
  await form.getByRole('alert').filter({ hasText: `Too few approvers: fewer people can approve request ${short} than the 2 approvals it needs` }).waitFor();
  await rita.locator(`article[data-request="${short}"]`).getByTestId('too-few-approvers').filter({ hasText: 'It needs 2 more approvals, but fewer people than that can still give one.' }).waitFor();
  await screenshot(rita, 'requests-too-few-approvers');
  await anna.goto(world.url + '/approvals');
  const shortCard = anna.locator(`article[data-request="${short}"]`);
  await shortCard.getByTestId('too-few-approvers').filter({ hasText: 'It needs 2 more approvals, but only one person can still give one' }).waitFor();
  await adm.reload();
  await adm.locator(`article[data-request="${short}"]`).getByTestId('too-few-approvers').waitFor();
  await adm.locator(`article[data-request="${short}"]`).getByText('You do not decide on this request: only approvers decide on access requests.').waitFor();
  await screenshot(adm, 'approvals-admin');

  assert.deepEqual(problems.filter((p) => !/status of 409/.test(p)), [], 'no script error, CSP violation or outside request');
});
