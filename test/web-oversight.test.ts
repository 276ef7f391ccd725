import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startWorld } from './support/access-world.ts';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';

// The oversight pages in Debian's Chromium against a real Sealbox: the auditor's report with
// its charts, heat map, CSV download and inventory; the review queue worked through by an
// auditor, and refused to the person reviewed.
test('web: the Oversight page and the review queue', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startWorld({
    messages: {
      o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga two', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
      d1: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'dana travel plans', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'dana@corp.test': '' },
    users: { olga: ['owner'], rita: ['requester'], alan: ['approver'], amy: ['approver'], aud: ['auditor'] },
    config: { oversight: { sweepSeconds: 0.2, sampleRate: 1 } },
  });
  t.after(() => world.stop());
  const { as, sha } = world;

  // A small history: two grants approved and used, one denied.
  const ids: string[] = [];
  for (const [i, decision] of (['approve', 'approve', 'deny'] as const).entries()) {
    const r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: `case ${i}`, ticket: `LH-${i}`, mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await as.alan.call('POST', `/api/v1/requests/${r.body.id}/${decision}`, { reason: 'checked' })).status, 200);
    ids.push(r.body.id);
    if (decision === 'approve') {
      assert.equal((await as.rita.call('GET', `/api/v1/search?q=body&grant=${r.body.id}`)).status, 200);
      assert.equal((await as.rita.call('GET', `/api/v1/messages/${sha.o1}?grant=${r.body.id}`)).status, 200);
      assert.equal((await as.rita.call('POST', `/api/v1/requests/${r.body.id}/revoke`, {})).status, 200);
    }
  }
  // Retention in the period: a hold placed; Dana's leaving date approved, another waiting and
  // one denied; her mail disposed of by a run, as due.
  const ok = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, 200, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await ok('adm', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], query: 'merger' });
  await ok('alan', 'POST', `/api/v1/leaver-changes/${(await ok('adm', 'POST', '/api/v1/mailboxes/dana@corp.test/leaver', { left: '2024-01-31', reason: 'resigned' })).id}/approve`, { reason: 'HR confirmed' });
  await ok('alan', 'POST', `/api/v1/leaver-changes/${(await ok('adm', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left: '2024-02-29', reason: 'a mistake' })).id}/deny`, { reason: 'she has not left' });
  await ok('adm', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left: '2099-01-31', reason: 'leaves at the end of the century' });
  assert.deepEqual((await ok('adm', 'POST', '/api/v1/disposals/run', {})).entries.map((e: { messages: number }) => e.messages), [1]);
  // The sweep queues the approvals (high impact) and samples the closed grants (rate 1 here).
  await waitUntil('the sweep queued the sample', async () => (await as.aud.call('GET', '/api/v1/reviews?kind=sample')).body.reviews.length >= 2);

  const problems: string[] = [];
  const pageAs = async (name: string): Promise<Page> => openAs(browser, world, name, problems);

  // A grant still running: its holder asks for more time from the Requests page; the extension
  // is a new request linked to it, waiting for approval like any other.
  const running = (await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'ongoing', ticket: 'LH-9', mailboxes: ['olga@corp.test'], dateFrom: '2025-01-01', dateTo: '2025-01-31', permissions: ['search'], durationHours: 2 })).body.id;
  assert.equal((await as.amy.call('POST', `/api/v1/requests/${running}/approve`, { reason: 'ok' })).status, 200);
  const rita = await pageAs('rita');
  await rita.goto(world.url + '/requests');
  const card = rita.locator(`article[data-request="${running}"]`);
  await card.getByText('Ask for more time').click();
  await card.getByLabel('Why the work needs more time').fill('the custodian interviews moved to next week');
  await card.getByRole('button', { name: 'File the extension' }).click();
  await card.getByRole('status').filter({ hasText: 'filed' }).waitFor();
  const extension = ((await as.aud.call('GET', '/api/v1/requests')).body.requests as any[]).find((r) => r.extends === running);
  assert.deepEqual([extension.state, extension.mailboxes, extension.dateFrom, extension.dateTo, extension.ticket], ['pending', ['olga@corp.test'], '2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', 'LH-9']);

  // The auditor's report.
  const aud = await pageAs('aud');
  await aud.goto(world.url + '/oversight');
  await aud.getByRole('heading', { level: 1, name: 'Oversight' }).waitFor();
  const report = aud.getByTestId('report');
  await report.waitFor();
  // Every message a grant was used on is checked: the two views and the four search hits.
  assert.match((await aud.getByTestId('enforcement').textContent())!, /Outside their grant's date window: 0 of 6 messages checked/);
  assert.match((await aud.getByRole('img', { name: /Access requests filed in the period/ }).getAttribute('aria-labelledby'))!, /access-requests/);
  assert.match((await aud.locator('svg title').first().textContent())!, /approved 3, denied 1, lapsed 0, pending 1/);
  // The default period runs to the end of today: the grant ending in two hours is still running,
  // not run to expiry, and is not the longest grant ended.
  assert.match((await aud.getByTestId('as-of').textContent())!, /now, since the period has not ended/);
  assert.match((await aud.locator('svg title').nth(1).textContent())!, /ran to expiry 0, revoked 2, still running 1, approved, not started 0/);
  const longest = (await report.locator('dt:text-is("Longest grant ended") + dd').first().textContent())!;
  assert.ok(ids.includes(longest.match(/req_\w+/)![0]) && !longest.includes(running), `the longest grant ended is a revoked one: ${longest}`);
  assert.match((await aud.getByTestId('heat-map').textContent())!, /olga@corp\.test/);
  const ritaRow = aud.getByRole('row', { name: /^rita/ });
  assert.deepEqual((await ritaRow.locator('td').allTextContents()).slice(0, 3), ['2', '1', '0'], 'searches, messages read, exports');
  assert.match((await aud.getByTestId('inventory').textContent())!, /olga@corp\.test: olga/);
  // Retention: a small table per kind, with the report's labels.
  const retention = aud.getByTestId('retention-figures');
  const figures = async (table: string) => (await retention.getByRole('table', { name: table, exact: true }).getByRole('row').allTextContents());
  assert.deepEqual(await figures('Disposal'), ['Messages disposed1', 'Disposal entries1']);
  assert.deepEqual(await figures('Legal holds and rules'), ['Legal holds placed1', 'Legal holds released0', 'Retention shortened0']);
  assert.deepEqual(await figures('Leavers'), ['Leaving dates filed3', 'approved1', 'denied1', 'pending1', 'Leaver exemptions filed0', 'approved0', 'Leavers due for disposal1', 'Leavers exempt0']);
  assert.deepEqual(await retention.getByTestId('leavers-in-force').locator('tbody tr').allTextContents(), ['dana@corp.test2024-01-312024-07-31due']);
  await screenshot(aud, 'oversight');
  const [download] = await Promise.all([aud.waitForEvent('download'), aud.getByRole('link', { name: 'Download CSV' }).click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  assert.match(csv, /^section,key,value,detail\r\nrequests,filed,5,/);

  // The review queue: the auditor claims and reviews a sampled grant, seeing its activity.
  await aud.goto(world.url + '/reviews');
  await aud.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
  await aud.getByLabel('Kind').selectOption('sample');
  await aud.getByTestId('reviews').getByRole('button', { name: 'random sample' }).first().click();
  const detail = aud.getByTestId('review-detail');
  await detail.getByTestId('review-activity').waitFor();
  const activity = (await detail.getByTestId('review-activity').textContent())!;
  assert.match(activity, /search/);
  assert.match(activity, new RegExp(`view.*${sha.o1.slice(0, 12)}`));
  assert.ok(!activity.includes('body text'), 'metadata only');
  await detail.getByRole('button', { name: 'Claim' }).click();
  await detail.getByText('claimed by aud').waitFor();
  assert.equal(await detail.getByRole('button', { name: 'Mark reviewed' }).isDisabled(), true, 'a decision needs a note');
  await detail.getByLabel(/^Note/).fill('queries and reads match the purpose');
  await detail.getByRole('button', { name: 'Mark reviewed' }).click();
  await detail.getByText('last note: “queries and reads match the purpose”').waitFor();
  await screenshot(aud, 'reviews');

  // The approver may not review his own approval.
  const alan = await pageAs('alan');
  await alan.goto(world.url + '/reviews');
  await alan.getByLabel('Kind').selectOption('high-impact');
  await alan.getByTestId('reviews').getByRole('row').filter({ has: alan.getByRole('cell', { name: 'alan', exact: true }) }).getByRole('button', { name: 'high-impact action' }).first().click();
  const own = alan.getByTestId('review-detail');
  await own.getByText('Person reviewed').waitFor();
  assert.equal(await own.locator('dd').nth(1).textContent(), 'alan');
  await own.getByRole('button', { name: 'Claim' }).click();
  await own.getByRole('alert').filter({ hasText: 'no one reviews their own actions' }).waitFor();

  // The ledger has the steps, with who and the note.
  const steps = (await world.takeAll()).filter((e) => e.operation.startsWith('review.') && e.operation !== 'review.read' && e.actor.startsWith('user:'));
  assert.deepEqual(steps.map((e) => [e.actor, e.operation, e.result]), [['user:aud', 'review.claim', 'success'], ['user:aud', 'review.review', 'success'], ['user:alan', 'review.claim', 'denied']]);
  assert.equal(steps[1].parameters.note, 'queries and reads match the purpose');
  // The enrolment link `sealbox users add` prints opens enrolment filled in, and the code
  // leaves the address bar at once.
  const added = await as.adm.call('POST', '/api/v1/users', { name: 'newbie', roles: ['owner'] });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const invited = await (await browser.newContext()).newPage();
  await invited.goto(`${world.url}/enrol?name=newbie&code=${encodeURIComponent(added.body.enrolmentCode)}`);
  await invited.getByRole('heading', { level: 1, name: 'Enrol' }).waitFor();
  assert.equal(new URL(invited.url()).pathname + new URL(invited.url()).search, '/');
  const enrolForm = invited.getByRole('form', { name: 'Enrol' });
  assert.equal(await enrolForm.getByLabel('Enrolment code').inputValue(), added.body.enrolmentCode);
  await enrolForm.getByLabel('New password', { exact: true }).fill('newbie-correct-horse-battery');
  await enrolForm.getByLabel('New password again').fill('newbie-correct-horse-battery');
  await enrolForm.getByRole('button', { name: 'Enrol' }).click();
  // A plain owner has no second factor to set up: enrolling signs them in.
  await invited.getByRole('button', { name: 'Sign out' }).waitFor();
  await invited.context().close();

  assert.deepEqual(problems, [], 'no console errors, CSP violations or outside requests');
});
