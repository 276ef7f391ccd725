// Mail no mail server handed over says so where it is read. An admin holds the ingest API's
// tokens and could submit a message addressed to anyone — a forged mail planted in someone's
// archive; its receipt in the viewer names who submitted it, with which token and from where,
// beside a message received over SMTP, whose receipt names none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openAs } from './support/browser.ts';
import { rfc822 } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';

test('web: a receipt from the ingest API names who submitted it; one over SMTP does not', { timeout: 120_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const w = await startInProcessWorld({
    messages: { smtp: { from: 'bank@partner.test', to: 'olga@corp.test', subject: 'Statement for March', date: 'Mon, 04 Mar 2024 09:00:00 +0000' } },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'] },
  }, { listen: true });
  t.after(() => w.stop());
  const url = w.url!;

  const minted = await w.as.adm.call('POST', '/api/v1/tokens', { name: 'ticketing', scopes: ['ingest'], days: 1 });
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  const planted = rfc822({ from: 'ceo@corp.test', to: 'olga@corp.test', subject: 'Approve the transfer today', date: 'Tue, 05 Mar 2024 09:00:00 +0000' });
  const posted = await fetch(`${url}/api/v1/ingest`, {
    method: 'POST', body: planted,
    headers: { authorization: `Bearer ${minted.body.token}`, 'content-type': 'message/rfc822', 'x-sealbox-mail-from': 'ceo@corp.test', 'x-sealbox-rcpt-to': 'olga@corp.test' },
  });
  assert.equal(posted.status, 201, await posted.clone().text());
  const { sha256 } = await posted.json() as { sha256: string };
  // The index runs with the next delivery here (the in-process world indexes on delivery).
  await w.deliver({ from: 'x@partner.test', to: ['olga@corp.test'] }, rfc822({ from: 'x@partner.test', to: 'olga@corp.test', subject: 'Lunch', date: 'Wed, 06 Mar 2024 09:00:00 +0000' }));

  const problems: string[] = [];
  const olga = await openAs(browser, { url, as: w.as }, 'olga', problems);
  await olga.goto(`${url}/mailbox/${sha256}`);
  const receipt = olga.getByRole('region', { name: /^Receipt cap_/ });
  await receipt.getByTestId('submitted-by').filter({ hasText: new RegExp(`^Not received from a mail server: submitted through the ingest API by adm \\(token ${minted.body.id}\\) from 127\\.0\\.0\\.1\\.$`) }).waitFor();
  await receipt.getByText(/via api/).waitFor();

  await olga.goto(`${url}/mailbox/${w.sha.smtp}`);
  await olga.getByRole('region', { name: /^Receipt cap_/ }).getByText(/via smtp/).waitFor();
  assert.equal(await olga.getByTestId('submitted-by').count(), 0, 'mail a server handed over names no submitter');
  assert.deepEqual(problems, []);
});
