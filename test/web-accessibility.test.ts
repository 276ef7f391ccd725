import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { startWorld } from './support/access-world.ts';
import { launchBrowser, openAs, settled, track } from './support/browser.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Every page, as the person who uses it, checked by axe-core (WCAG 2 A/AA and best practice:
// landmarks, labels, names, contrast, headings). The audit script is injected into the page, so
// these contexts bypass the app's CSP — the other browser tests keep it.
test('web: every page passes an axe-core audit (no moderate, serious or critical violations)', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startWorld({
    messages: {
      o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga quarterly', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga planning', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
      spare: { from: 'x@ext.test', to: 'ceo@corp.test', subject: 'sent by mistake', date: 'Sun, 16 Feb 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga', 'ceo@corp.test': ',executive' },
    users: { olga: ['owner'], rita: ['requester'], alan: ['approver'], aud: ['auditor'] },
    config: { oversight: { sweepSeconds: 0.2, sampleRate: 1 } },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  // Something on every page: an active grant with reads, a closed one (in the review queue),
  // and a pending request for the approver.
  const file = async (ticket: string) => (await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'hold', ticket, mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).body.id as string;
  const active = await file('LH-1');
  assert.equal((await as.alan.call('POST', `/api/v1/requests/${active}/approve`, { reason: 'ok' })).status, 200);
  assert.equal((await as.rita.call('GET', `/api/v1/messages/${sha.o1}?grant=${active}`)).status, 200);
  const closed = await file('LH-2');
  assert.equal((await as.alan.call('POST', `/api/v1/requests/${closed}/approve`, { reason: 'ok' })).status, 200);
  assert.equal((await as.rita.call('POST', `/api/v1/requests/${closed}/revoke`, {})).status, 200);
  await file('LH-3');
  // A data subject's access request, approved: its card, and its grant on Investigation.
  const sar = (await as.rita.call('POST', '/api/v1/subject-requests/access', { addresses: ['x@ext.test'], reference: 'DSAR-1', justification: 'asked for a copy', durationHours: 1 })).body.id as string;
  assert.equal((await as.alan.call('POST', `/api/v1/requests/${sar}/approve`, { reason: 'ok' })).status, 200);
  // One needing two approvals, with one approver in the world: the too-few-approvers warning.
  assert.equal((await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'hold', ticket: 'LH-4', mailboxes: ['ceo@corp.test'], permissions: ['search'], durationHours: 1 })).body.tooFewApprovers, true);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.o1}`)).status, 200);
  // Retention: a rule change, a hold (on Olga's mailbox: her notice to acknowledge) with a release
  // asked for, and an erasure request, each waiting for an approver.
  assert.equal((await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Newsletters', domains: ['news.example'], days: 30, note: 'not records' })).body.applied, false);
  const hold = (await as.adm.call('POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['olga@corp.test'], dateFrom: '2025-01-01', query: 'merger' })).body.id as string;
  assert.equal((await as.adm.call('POST', `/api/v1/holds/${hold}/release`, { reason: 'settled' })).status, 200);
  assert.equal((await as.adm.call('POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: ['pat@ext.test'], reference: 'DSR-1', reason: 'asked' })).status, 200);
  // Leavers and early disposal: Olga's leaving date approved (the leavers table, her mail due in
  // the next run) and an exemption waiting; an early disposal carried out (its outcome, a dispose
  // entry among the runs) and one waiting.
  const left = (await as.adm.call('POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left: '2024-01-31', reason: 'resigned' })).body.id as string;
  assert.equal((await as.alan.call('POST', `/api/v1/leaver-changes/${left}/approve`, { reason: 'HR confirmed' })).status, 200);
  assert.equal((await as.adm.call('POST', '/api/v1/mailboxes/olga@corp.test/leaver/exemption', { reason: 'a claim is expected' })).status, 200);
  const early = (await as.adm.call('POST', '/api/v1/disposal-requests', { sha256s: [sha.spare], reason: 'sent by mistake' })).body.id as string;
  assert.equal((await as.alan.call('POST', `/api/v1/disposal-requests/${early}/approve`, { reason: 'checked' })).status, 200);
  assert.equal((await as.adm.call('POST', '/api/v1/disposal-requests', { sha256s: [sha.o2], reason: 'sent by mistake' })).status, 200);

  const pages: [string, string, string | RegExp][] = [
    ['olga', '/', /^Welcome/], ['olga', '/mailbox', 'My mailbox'], ['olga', `/mailbox/${sha.o1}`, 'olga quarterly'], ['olga', '/accesses', 'Who accessed my mailbox'], ['olga', '/notifications', 'Notifications'], ['olga', '/account', 'Your account'],
    ['rita', '/requests', 'Requests'], ['rita', `/investigation?grant=${active}`, 'Investigation'], ['rita', `/investigation?grant=${sar}`, 'Investigation'],
    ['alan', '/approvals', 'Approvals'], ['alan', '/notifications', 'Notifications'], ['alan', '/reviews', 'Review queue'],
    ['aud', '/ledger', /Ledger/], ['aud', '/oversight', 'Oversight'], ['aud', '/admin', 'Administration'], ['adm', '/admin', 'Administration'], ['adm', '/approvals', 'Approvals'],
    ['alan', '/retention', 'Retention and legal holds'], ['aud', '/retention', 'Retention and legal holds'], ['adm', '/retention', 'Retention and legal holds'],
  ];
  const problems: string[] = [];
  const found: string[] = [];
  const audit = async (page: Page, label: string) => {
    await settled(page);
    await page.addScriptTag({ content: AXE });
    const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
    for (const v of result.violations) {
      if (v.impact !== 'minor') found.push(`${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
    }
  };
  const signInPage = track(await (await browser.newContext({ bypassCSP: true })).newPage());
  await signInPage.goto(world.url + '/');
  await signInPage.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await audit(signInPage, 'sign-in');
  for (const [who, path, heading] of pages) {
    const page = await openAs(browser, world, who, problems, { bypassCSP: true });
    await page.goto(world.url + path);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    assert.equal(await page.getByRole('main').count(), 1, `${path}: one main landmark`);
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 1, `${path}: the navigation landmark`);
    // The admin's Approvals page with "End access now" opened: its reason and confirmation.
    if (who === 'adm' && path === '/approvals') await page.getByRole('button', { name: 'End access now…' }).click();
    // Requests with the Art. 15 form's address refused by its field.
    if (who === 'rita' && path === '/requests') {
      const form = page.getByRole('form', { name: "Data subject's access request" });
      await form.getByLabel("The person's e-mail addresses").fill('not-an-address');
      await form.getByLabel(/^Reference/).fill('DSAR-2');
      await form.getByLabel('Justification').fill('asked');
      await form.getByRole('button', { name: 'File the access request' }).click();
      await form.getByTestId('field-error-addresses').filter({ hasText: /./ }).waitFor();
    }
    await audit(page, `${who} ${path}`);
    await page.context().close();
  }
  assert.deepEqual(found, [], 'axe-core: moderate, serious or critical violations');
  // The console shows the one refusal provoked: the Art. 15 form's bad address (400).
  assert.deepEqual(problems, ['rita: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
});
