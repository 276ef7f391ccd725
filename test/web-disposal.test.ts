// Leavers, early disposal and disposal runs in the web app, in Debian's Chromium against a real
// Sealbox (issue 15 item 7): a records manager files a leaving date (the mailbox is asked for by
// its field; a filing the server refuses is said in its words) and an early disposal (a bad sha256
// refused by its field); an approver, sent from Approvals, approves both: the leaver is listed and
// the early disposal says what it destroyed and what a hold kept, named with the hold; the
// records manager sees the leaver's mail due in the next run, runs it now, and the runs list
// shows it by them; the auditor reads it all and runs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';

test('web: leavers, early disposal and disposal runs, filed by a records manager and decided by an approver', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {
      trip: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'dana travel plans', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      slip: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'payslips of everyone', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
      merger: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'merger terms', date: 'Fri, 17 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'dana@corp.test': '' },
    users: { olga: ['owner'], rec: ['records'], appr: ['approver'], aud: ['auditor'] },
  }, { listen: true });
  t.after(() => world.stop());
  const { as, sha } = world;
  const url = world.url!;
  const problems: string[] = [];
  const pageAs = (name: string): Promise<Page> => openAs(browser, { url, as }, name, problems);
  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, 200, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const hold = await api('rec', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: 'merger' });

  // --- the records manager files Dana's leaving date: without a mailbox it is asked for by its field
  const rec = await pageAs('rec');
  await rec.goto(url + '/retention');
  await rec.getByRole('heading', { level: 1, name: 'Retention and legal holds' }).waitFor();
  const leavers = rec.getByRole('region', { name: 'Leavers' });
  await leavers.getByText('No mailbox is marked as belonging to someone who left.').waitFor();
  const fileLeaver = rec.getByRole('form', { name: 'File a leaving date or an exemption' });
  await fileLeaver.getByLabel('Left on').fill('2024-01-31');
  await fileLeaver.getByLabel('Reason').fill('Resigned; HR ticket 55.');
  await fileLeaver.getByRole('button', { name: 'File for approval' }).click();
  await fileLeaver.getByTestId('field-error-mailbox').filter({ hasText: 'Choose the mailbox.' }).waitFor();
  const picker = fileLeaver.getByRole('combobox', { name: 'Mailbox' });
  await picker.fill('dana');
  // Enter takes the first suggestion: wait until the directory has answered.
  await fileLeaver.getByRole('option', { name: /dana@corp\.test/ }).waitFor();
  await picker.press('Enter');
  await fileLeaver.getByRole('list', { name: 'Chosen mailbox' }).getByText('dana@corp.test').waitFor();
  await fileLeaver.getByRole('button', { name: 'File for approval' }).click();
  const recOutcome = rec.getByTestId('outcome');
  await recOutcome.filter({ hasText: /Filed as change lvr_\w+: dana@corp\.test marked as left on 2024-01-31, its mail disposed from 2024-07-31\. Nothing changes until an approver/ }).waitFor();
  const change = (await api('aud', 'GET', '/api/v1/leavers')).changes[0];
  assert.deepEqual([change.mailbox, change.kind, change.state], ['dana@corp.test', 'leave', 'pending']);
  await rec.locator(`article[data-leaver-change="${change.id}"]`).getByText('Waits for an approver\'s decision.').waitFor();

  // …and an exemption for someone who has not left: the server's refusal, in its words
  await picker.fill('olga');
  await fileLeaver.getByRole('option', { name: /olga@corp\.test/ }).waitFor();
  await picker.press('Enter');
  await fileLeaver.getByRole('list', { name: 'Chosen mailbox' }).getByText('olga@corp.test').waitFor();
  await fileLeaver.getByLabel('an exemption from the leaver rule').check();
  await fileLeaver.getByLabel('Reason').fill('a claim is expected');
  await fileLeaver.getByRole('button', { name: 'File for approval' }).click();
  await fileLeaver.getByRole('alert').filter({ hasText: 'mailbox olga@corp.test is not marked as left: there is nothing to be exempted from (SEALBOX_ERR_CONFLICT)' }).waitFor();

  // --- an early disposal of the payslips and the merger terms (under the hold): a bad sha256 is refused by its field
  const fileEarly = rec.getByRole('form', { name: 'Ask for early disposal' });
  const shas = fileEarly.getByLabel('Messages, by their sha256');
  await shas.fill(`${sha.slip}\nnot-a-sha256`);
  await fileEarly.getByLabel('Reason').fill('Payslips sent to the wrong list.');
  await fileEarly.getByRole('button', { name: 'Ask for early disposal' }).click();
  await fileEarly.getByTestId('field-error-sha256s').filter({ hasText: 'Not a message\'s sha256 (64 hex digits).' }).waitFor();
  assert.equal(await shas.getAttribute('aria-invalid'), 'true');
  await shas.fill(`${sha.slip}\n${sha.merger}\n`);
  await fileEarly.getByRole('button', { name: 'Ask for early disposal' }).click();
  await recOutcome.filter({ hasText: /Early disposal dpr_\w+ of 2 messages is filed: nothing is destroyed until an approver who is not you approves it\./ }).waitFor();
  const early = (await api('aud', 'GET', '/api/v1/disposal-requests')).requests[0];
  await rec.locator(`article[data-disposal-request="${early.id}"][data-state="pending"]`).getByText(sha.merger).waitFor();
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.slip}`)).status, 200, 'filing destroys nothing');
  await screenshot(rec, 'retention-records-filed');

  // --- the approver, sent from Approvals, approves both
  const appr = await pageAs('appr');
  await appr.goto(url + '/approvals');
  await appr.getByTestId('records-waiting').filter({ hasText: 'Also waiting for a decision: 1 leaving date or exemption, 1 early disposal.' }).waitFor();
  await appr.getByRole('link', { name: 'Decide on the Retention page' }).click();
  await appr.getByRole('heading', { level: 1, name: 'Retention and legal holds' }).waitFor();
  const leaverCard = appr.locator(`article[data-leaver-change="${change.id}"]`);
  await leaverCard.getByText('Resigned; HR ticket 55.').waitFor();
  await leaverCard.getByLabel('Reason').fill('HR confirmed the last day.');
  await leaverCard.getByRole('button', { name: 'Approve' }).click();
  const apprOutcome = appr.getByTestId('outcome');
  await apprOutcome.filter({ hasText: `You approved leaver change ${change.id}: dana@corp.test is marked as left on 2024-01-31; its mail not kept by a rule's minimum or a legal hold is disposed from 2024-07-31.` }).waitFor();
  await appr.getByTestId('leavers').getByRole('row', { name: 'dana@corp.test 2024-01-31 2024-07-31 none' }).waitFor();
  const earlyCard = appr.locator(`article[data-disposal-request="${early.id}"]`);
  await earlyCard.getByText('Payslips sent to the wrong list.').waitFor();
  await earlyCard.getByLabel('Reason').fill('Confirmed with HR.');
  await earlyCard.getByRole('button', { name: 'Approve' }).click();
  await apprOutcome.filter({ hasText: `You approved early disposal ${early.id}: it is carried out. 1 message destroyed, 1 message kept by legal holds or rules' minimums.` }).waitFor();
  const carried = appr.locator(`article[data-disposal-request="${early.id}"][data-state="carried out"]`).getByTestId('early-disposal-outcome');
  await carried.getByTestId('early-disposed').filter({ hasText: sha.slip }).waitFor();
  assert.equal(await carried.getByTestId('early-kept').textContent(), `1 message${sha.merger}: under legal hold “Merger” (${hold.id})`);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.slip}`)).status, 410);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.merger}`)).status, 200);
  // The approver sees the runs, and runs nothing.
  await appr.reload();
  const apprRuns = appr.getByRole('region', { name: 'Disposal runs' });
  await apprRuns.getByTestId('disposal-runs').getByRole('row', { name: new RegExp(`appr disposal request ${early.id} 1`) }).waitFor();
  assert.equal(await apprRuns.getByRole('button', { name: 'Dispose of what is due now' }).count(), 0);
  await screenshot(appr, 'retention-disposal-approver');

  // --- the records manager: Dana's mail is due in the next run; she runs it now
  await rec.reload();
  const runs = rec.getByRole('region', { name: 'Disposal runs' });
  await runs.getByTestId('disposal-schedule').filter({ hasText: 'Retention disposes of what is due by itself every 24 hours' }).waitFor();
  await runs.getByTestId('plan-due').filter({ hasText: '1 message under leaver dana@corp.test (left 2024-01-31)' }).waitFor();
  await runs.getByTestId('plan-leavers').filter({ hasText: 'dana@corp.test: left 2024-01-31, mail disposed from 2024-07-31' }).waitFor();
  assert.equal(await runs.getByTestId('plan-held').textContent(), 'none', 'the merger terms are not past their retention: no run would take them');
  await runs.getByRole('button', { name: 'Dispose of what is due now' }).click();
  await recOutcome.filter({ hasText: /^Disposal ran: 1 message disposed of, recorded with you as the actor in ledger entry \d+\.$/ }).waitFor();
  await runs.getByTestId('plan-due').filter({ hasText: 'nothing: no message is due' }).waitFor();
  assert.equal(await runs.getByRole('button', { name: 'Dispose of what is due now' }).count(), 0, 'nothing left to run');
  const rows = runs.getByTestId('disposal-runs').locator('tbody tr');
  assert.equal(await rows.count(), 2);
  assert.match((await rows.first().textContent())!, /rec.*leaver dana@corp\.test \(left 2024-01-31\)1\d+$/, 'newest first, by her');
  await screenshot(rec, 'retention-records-ran');

  // --- the auditor reads it all, and files and runs nothing
  const aud = await pageAs('aud');
  await aud.goto(url + '/retention');
  await aud.getByTestId('disposal-runs').locator('tbody tr').nth(1).waitFor();
  await aud.getByTestId('leavers').getByRole('row', { name: /dana@corp\.test/ }).waitFor();
  await aud.getByTestId('early-disposal-outcome').waitFor();
  for (const form of ['File a leaving date or an exemption', 'Ask for early disposal']) assert.equal(await aud.getByRole('form', { name: form }).count(), 0, form);
  assert.equal(await aud.getByRole('button', { name: 'Dispose of what is due now' }).count(), 0);

  // The ledger has each step, by whom.
  const steps = (await world.takeAll()).filter((e) => /^(leaver\.|disposal\.|dispose$)/.test(e.operation) && e.actor.startsWith('user:')).map((e) => [e.actor, e.operation, e.result]);
  for (const step of [
    ['user:rec', 'leaver.file', 'success'], ['user:rec', 'leaver.file', 'denied'], ['user:appr', 'leaver.approve', 'success'],
    ['user:rec', 'disposal.file', 'success'], ['user:appr', 'disposal.approve', 'success'], ['user:appr', 'dispose', 'success'], ['user:rec', 'dispose', 'success'],
  ]) assert.ok(steps.some((s) => JSON.stringify(s) === JSON.stringify(step)), `${step.join(' ')} in ${JSON.stringify(steps)}`);
  // The console shows the refusals this story provoked, and nothing else: the exemption for
  // someone who has not left (409), the bad sha256 (400).
  assert.deepEqual(problems, ['rec: 409 (Conflict)', 'rec: 400 (Bad Request)'].map((s) => s.replace(/^(\w+): /, '$1: Failed to load resource: the server responded with a status of ')));
});
