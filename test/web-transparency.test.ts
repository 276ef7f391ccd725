// "Who accessed my mailbox" in Chromium, after the investigation of transparency-story.ts: one
// card per person and request, with the display name, purpose, justification, ticket, the time
// span and what the person did, the details folded until asked for; never the owner's own reads;
// an owner told two days after the grant ends sees nothing before that. Checked by axe-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { DAY, investigate, storyWorld } from './support/transparency-story.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact !== 'minor').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

test('web: who accessed my mailbox, one card per request with what the person did', { timeout: 180_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await storyWorld({ listen: true });
  t.after(() => world.stop());
  const { main, second, late } = await investigate(world);
  const site = { url: world.url!, as: world.as };
  const problems: string[] = [];

  const olga = await openAs(browser, site, 'olga', problems, { bypassCSP: true });
  await olga.goto(`${site.url}/accesses`);
  await olga.getByRole('heading', { level: 1, name: 'Who accessed my mailbox' }).waitFor();
  const cards = olga.getByTestId('accesses').getByRole('article');
  await cards.first().waitFor();
  assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-request'))), [second, main], 'one card per request, the latest first');
  assert.deepEqual(await olga.getByTestId('accesses').getByRole('heading', { level: 2 }).allTextContents(), ['Иван Петров (ivan)', 'Иван Петров (ivan)'], 'by display name; olga\'s own reads are not there');

  const card = olga.locator(`article[data-request="${main}"]`);
  const text = (await card.textContent())!;
  for (const expected of ['Security incident', 'phishing case SEC-1', 'SEC-1', main, '2 searches · 2 messages read (1 downloaded) · 2 messages exported · 1 attempt refused']) {
    assert.ok(text.includes(expected), `the card says ${expected}: ${text}`);
  }
  assert.match(text, /When.+–/, 'from when to when');
  // The details are folded until asked for: each search, each message once, the export, the refusal.
  const details = card.locator('ol.access-details > li');
  assert.equal(await details.first().isVisible(), false);
  await card.getByText('Details (6)').click();
  await details.first().waitFor();
  const lines = await details.allTextContents();
  assert.equal(lines.length, 6, lines.join('\n'));
  assert.match(lines[0], /searched for invoice: 2 messages of yours found/);
  assert.match(lines[1], new RegExp(`opened message ${world.sha.o1.slice(0, 12)}… \\(headers, body, evidence, its conversation\\), again until`));
  assert.match(lines[2], new RegExp(`opened message ${world.sha.o2.slice(0, 12)}… \\(headers, body, evidence, its conversation, downloaded the \\.eml\\)$`), 'opened once');
  assert.match(lines[4], /exported 2 messages of yours found by invoice/);
  assert.match(lines[5], /refused: opening a message/);
  assert.deepEqual(await axe(olga), [], 'axe-core on Who accessed my mailbox');
  await screenshot(olga, 'accesses-grouped');
  await olga.context().close();

  // The investigator through the pages themselves: a search, a message opened in the viewer
  // (which fetches its headers, body, evidence and conversation), and the card says what the
  // person did: one search, one message read.
  const filed = await world.as.ivan.call('POST', '/api/v1/requests', { purpose: 'security-incident', justification: 'phishing, looked at in the app', ticket: 'SEC-4', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 });
  assert.equal(filed.status, 200, JSON.stringify(filed.body));
  assert.equal((await world.as.appr.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'ok' })).status, 200);
  const ivan = await openAs(browser, site, 'ivan', problems);
  await ivan.goto(`${site.url}/investigation?grant=${filed.body.id}`);
  const form = ivan.getByRole('search', { name: 'Search within the grant' });
  await form.getByRole('searchbox', { name: 'Search' }).fill('budget');
  await form.getByRole('button', { name: 'Search' }).click();
  await ivan.getByRole('link', { name: 'budget draft' }).click();
  await ivan.getByTestId('inclusion-proof').or(ivan.getByText(/not yet in a signed checkpoint/)).first().waitFor();
  await ivan.locator('.message-body[data-body-kind="text"]').waitFor();
  await ivan.waitForLoadState('networkidle');
  await ivan.context().close();
  const again = await openAs(browser, site, 'olga', problems);
  await again.goto(`${site.url}/accesses`);
  const viaApp = again.locator(`article[data-request="${filed.body.id}"]`);
  await viaApp.waitFor();
  assert.match((await viaApp.textContent())!, /1 search · 1 message read(?! \()/);
  await viaApp.getByText('Details (2)').click();
  assert.deepEqual((await viaApp.locator('ol.access-details > li').allTextContents()).map((l) => l.replace(/^.*?(searched|opened)/, '$1')),
    ['searched for budget: 1 message of yours found', `opened message ${world.sha.o3.slice(0, 12)}… (headers, body, evidence, its conversation)`]);
  await again.context().close();

  // petra is told two days after the grant ends: nothing before, then the card.
  const petraSees = async () => {
    const page = await openAs(browser, site, 'petra', problems);
    await page.goto(`${site.url}/accesses`);
    await page.getByRole('heading', { level: 1, name: 'Who accessed my mailbox' }).waitFor();
    await page.getByText(/No one else has accessed|requests? by others/).waitFor();
    const found = await page.locator('article[data-request]').evaluateAll((els) => els.map((e) => e.getAttribute('data-request')));
    await page.context().close();
    return found;
  };
  assert.deepEqual(await petraSees(), [], 'nothing while the grant runs');
  assert.equal((await world.as.ivan.call('POST', `/api/v1/requests/${late}/revoke`, {})).status, 200);
  world.clock.advance(2 * DAY - 60_000);
  assert.equal((await world.as.petra.signIn('petra', world.passwords.petra)).status, 200);
  assert.deepEqual(await petraSees(), [], 'nothing a minute before the two days are over');
  world.clock.advance(2 * 60_000);
  assert.deepEqual(await petraSees(), [late]);
  assert.deepEqual(problems, []);
});
