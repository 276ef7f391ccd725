// Notifications in the web app, in Debian's Chromium against a real Sealbox started as the README
// sets it up (no notify.smtp): the approver and the owner see their unread count in the
// navigation and their notices on the Notifications page, which marks them read; the
// Administration page says why mail is not delivered and how to fix it, with each failing kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startWorld } from './support/access-world.ts';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { waitUntil } from './support/wait.ts';

test('web: notices in the app without mail, and why mail is not delivered', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startWorld({
    messages: { o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga quarterly', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], alan: ['approver'] },
  });
  t.after(() => world.stop());
  const { as } = world;
  const problems: string[] = [];
  const pageAs = (name: string): Promise<Page> => openAs(browser, world, name, problems);
  const filed = await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'hold', ticket: 'LH-1', mailboxes: ['olga@corp.test'], permissions: ['search'], durationHours: 1 });
  assert.equal(filed.status, 200, JSON.stringify(filed.body));
  const id = filed.body.id as string;

  // The approver: one unread notice in the navigation; the page shows it and marks it read.
  const alan = await pageAs('alan');
  await alan.goto(world.url + '/');
  const nav = alan.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Notifications 1 unread' }).click();
  await alan.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
  await alan.getByRole('heading', { level: 2, name: `New: Access request ${id} awaits a decision` }).waitFor();
  await nav.getByRole('link', { name: 'Notifications', exact: true }).waitFor();   // the count is gone
  assert.equal(await alan.getByTestId('unread-count').count(), 0);

  // Approved: the owner is told in the app, though no mail can be sent.
  assert.equal((await as.alan.call('POST', `/api/v1/requests/${id}/approve`, { reason: 'ok' })).status, 200);
  const olga = await pageAs('olga');
  await olga.goto(world.url + '/notifications');
  await olga.getByRole('heading', { level: 2, name: 'New: Access to your mailbox olga@corp.test' }).waitFor();
  assert.match(await olga.getByTestId('notifications').innerText(), /may be accessed from/);
  await screenshot(olga, 'notifications-owner');
  await olga.reload();
  await olga.getByRole('heading', { level: 2, name: 'Access to your mailbox olga@corp.test' }).waitFor();   // read now: no longer new

  // Administration: why notices are not mailed, and what fails, once the sender has tried.
  await waitUntil('the sender tried the notices', async () => (await as.adm.call('GET', '/api/v1/admin/health')).body.notifications.failures.length > 0, { timeoutMs: 30_000, intervalMs: 200 });
  const adm = await pageAs('adm');
  await adm.goto(world.url + '/admin');
  const problem = adm.getByTestId('mail-problem');
  await problem.waitFor();
  assert.match(await problem.innerText(), /Notices are not mailed\. notify\.smtp is not set.*set notify\.smtp to the HOST:PORT/s);
  assert.match(await adm.getByTestId('notification-failures').innerText(), /request\.filed by mail: \d+ failing — last error: notify\.smtp is not configured/);
  await screenshot(adm, 'notifications-admin');
  assert.deepEqual(problems, []);
});
