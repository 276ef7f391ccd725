// The message viewer in Debian's Chromium against a real Sealbox with mail over SMTP: a hostile
// HTML message (scripts, handlers, javascript: links, remote images, CSS exfiltration, refresh,
// forms, frames, objects, SVG script) runs nothing and fetches nothing — counted on a local HTTP
// server standing in for the sender's and in every request the browser makes — until "Load
// remote content" has been recorded in the ledger; then the remote image loads and still no
// script runs. A cid: image shows inline, legacy charsets read correctly, an attachment
// downloads, the evidence panel verifies the inclusion proof in the browser, and the auditor's
// Ledger page filters, exports and shows the checkpoint history. Screenshots go to
// test-results/screenshots/.
import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { startWorld } from './support/access-world.ts';
import type { World } from './support/access-world.ts';
import { waitForIndex } from './support/archive.ts';
import { SCREENSHOTS, launchBrowser, loadTiming, screenshot } from './support/browser.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { CHARSET_TEXT, charsetMail, cidImageMail, hostileHtmlMail } from './support/viewer-mail.ts';
import { parseCheckpoint } from '../src/ledger/checkpoint.ts';
import { WEB_APP_DIR } from '../src/api/web-app.ts';

const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

// The sender's server: counts every request by path, and when each came.
async function startRemote() {
  const hits: { path: string; at: number }[] = [];
  const server = createServer((req, res) => {
    hits.push({ path: (req.url ?? '').split('?')[0], at: Date.now() });
    if (req.url?.startsWith('/pixel.gif')) res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { hits, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('web viewer: hostile HTML runs nothing and fetches nothing until remote content is recorded; cid images, charsets, attachments, evidence, ledger page', { timeout: 300_000 }, async (t) => {
  assert.ok(readFileSync(join(WEB_APP_DIR, 'index.html')).length > 0, 'the web app is built (npm run build:web)');
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const remote = await startRemote();
  t.after(() => remote.close());

  const world: World = await startWorld({
    messages: { plain: { from: 'carol@partner.test', to: 'olga@corp.test', subject: 'Quarterly planning notes', date: 'Fri, 01 Mar 2024 10:00:00 +0000' } },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], alex: ['approver'], aud: ['auditor'] },
    config: { ledger: { checkpointEverySeconds: 1 } },
  });
  t.after(() => world.stop());
  const { as, url } = world;

  // The viewer's mail over SMTP; each also to an address only in the envelope (a Bcc).
  const mails = { hostile: hostileHtmlMail(remote.base), cid: cidImageMail(), charset: charsetMail() };
  const smtp = await RawSmtpClient.connect(world.server.smtp.port);
  const sha: Record<string, string> = {};
  for (const [key, m] of Object.entries(mails)) {
    const r = await smtp.send({ from: m.from, to: [m.to, 'hidden-bcc@corp.test'] }, m.raw);
    assert.equal(r.data[0].code, 250);
    sha[key] = createHash('sha256').update(m.raw).digest('hex');
  }
  await smtp.quit();
  await waitForIndex(world.server.data, undefined, { config: world.config });

  // A grant for rita on olga's mailbox, approved by alex.
  let r = await as.rita.call('POST', '/api/v1/requests', { purpose: 'security-incident', justification: 'phishing reported by olga', ticket: 'SEC-77', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 2 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const grant = r.body.id as string;
  assert.equal((await as.alex.call('POST', `/api/v1/requests/${grant}/approve`, { reason: 'ticket checked' })).status, 200);

  // A signed checkpoint that covers the captures (signed every second here), so the evidence has proofs.
  const captureIndex = Math.max(...await Promise.all(Object.values(sha).map(async (s) => (await as.olga.call('GET', `/api/v1/messages/${s}`)).body.captures[0].ledgerIndex as number)));
  await waitUntil('a checkpoint covers the captures', async () => {
    const cp = await fetch(`${url}/api/v1/ledger/checkpoint`);
    return cp.status === 200 && parseCheckpoint(await cp.text()).size > captureIndex;
  });
  await world.takeAll();

  // Browser contexts signed in with the API clients' sessions (the sign-in pages are the web
  // story's test). Every request the browser makes, in any frame, is watched.
  const requests: string[] = [];
  const routed: string[] = [];
  const failed = new Map<string, string>();
  const problems: string[] = [];
  const dialogs: string[] = [];
  const openAs = async (name: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ acceptDownloads: true });
    await context.addCookies([{ name: 'sealbox_session', value: as[name].cookie!.split('=').slice(1).join('='), url }]);
    await context.addInitScript(`try { if (location.origin === ${JSON.stringify(url)}) localStorage.setItem('sealbox.csrf', ${JSON.stringify(as[name].csrf)}); } catch {}`);
    context.on('request', (req) => requests.push(req.url()));
    context.on('requestfailed', (req) => failed.set(req.url(), req.failure()?.errorText ?? ''));
    // Every request that would reach the network passes here; one for the sender is counted.
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith(remote.base)) routed.push(route.request().url());
      return route.continue();
    });
    const page = await context.newPage();
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
    return { context, page };
  };
  // The body frame lives in a process of its own (opaque origin): a full-page capture may miss
  // its paint, so the viewer's screenshots are of the frame itself.
  const frameShot = async (p: Page, name: string) => {
    await p.getByTestId('inclusion-proof').getByText(/✓ verified/).waitFor();
    await p.locator('iframe[title^="Body of"]').screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  };
  const remoteRequests = () => requests.filter((u) => u.startsWith(remote.base));
  const pwned = async (page: Page) => page.evaluate('window.__sealboxPwned ?? null');

  // --- the hostile message under the grant ---------------------------------------------------
  const rita = await openAs('rita');
  const page = rita.page;
  await page.goto(`${url}/investigation?grant=${grant}&q=quarterly`);
  await page.getByTestId('grant-remaining').waitFor();
  const remaining1 = await page.getByTestId('grant-remaining').textContent();
  assert.match(remaining1!, /^1 h \d\d min \d\d s$/, 'the grant\'s remaining time is on screen');
  const investigationLoad = await loadTiming(page);
  await page.getByRole('link', { name: /Quarterly figures/ }).click();
  await page.getByRole('heading', { name: 'Quarterly figures (hostile HTML)' }).waitFor();
  const bodyFrame = async (): Promise<Frame> => {
    const handle = await page.waitForSelector('iframe[title^="Body of"]');
    const frame = await handle.contentFrame();
    assert.ok(frame);
    await frame.waitForLoadState('load');
    return frame;
  };
  let frame = await bodyFrame();
  const iframeAttrs = await page.$eval('iframe[title^="Body of"]', (el) => ({ sandbox: el.getAttribute('sandbox'), src: el.getAttribute('src') }));
  assert.equal(iframeAttrs.sandbox, '', 'the frame is sandboxed with no permission at all');
  await frame.getByText('End of hostile message.').waitFor();
  await frame.getByText('Quarterly figures', { exact: true }).waitFor();
  // The countdown moves.
  await waitUntil('the countdown moves', async () => (await page.getByTestId('grant-remaining').textContent()) !== remaining1, { timeoutMs: 5_000, intervalMs: 100 });

  // Nothing ran, nothing was fetched from the sender, in the page or in the frame.
  assert.equal(await pwned(page), null);
  assert.deepEqual(dialogs, []);
  assert.equal(remote.hits.length, 0, 'the sender\'s server saw no request');
  assert.deepEqual(routed, [], 'no request for the sender reached the network');
  // What the document names is refused by its CSP before it leaves the browser.
  assert.ok(remoteRequests().length >= 5, 'the hostile document did try');
  for (const u of remoteRequests()) assert.match(failed.get(u) ?? 'not failed', /^(csp|net::ERR_BLOCKED_BY_CSP)$/, u);
  assert.ok(requests.every((u) => u.startsWith(url) || u.startsWith('data:') || u.startsWith(remote.base)), `only Sealbox itself: ${requests.filter((u) => !u.startsWith(url)).join(' ')}`);
  // The ordinary link cannot navigate anywhere (no popups, no top navigation) and the javascript: link is gone.
  assert.equal(await frame.locator('#jslink').getAttribute('href'), null);
  await frame.locator('#weblink').click();
  assert.equal(await pwned(page), null);
  await page.getByText('Evidence', { exact: true }).first().waitFor();
  await screenshot(page, 'viewer-hostile-page');
  await frameShot(page, 'viewer-hostile-blocked');

  // The evidence panel: the inclusion proof verified here, the checkpoint's signature checked here.
  await page.getByTestId('inclusion-proof').getByText(/✓ verified/).waitFor();
  await page.getByTestId('checkpoint-signature').getByText(/✓ signature valid \(checked here\)/).waitFor();
  await page.getByRole('heading', { name: 'Evidence' }).scrollIntoViewIfNeeded();
  await screenshot(page, 'viewer-evidence');
  // Envelope: the envelope-only recipient is marked Bcc.
  await page.getByRole('region', { name: /^Receipt / }).getByText('hidden-bcc@corp.test').waitFor();
  assert.ok(await page.getByRole('region', { name: /^Receipt / }).getByText('Bcc', { exact: true }).count() >= 1);

  // --- remote content: recorded first, then it loads; still no script ----------------------
  const before = (await world.takeAll()).filter((e) => e.operation === 'remote-content');
  assert.deepEqual(before, []);
  await page.getByRole('button', { name: 'Load remote content' }).click();
  await page.getByText(/Remote content loaded; recorded in the ledger as entry \d+/).waitFor();
  await waitUntil('the remote image loads', () => remote.hits.some((h) => h.path === '/pixel.gif'), { timeoutMs: 20_000 });
  const recorded = (await world.takeAll()).filter((e) => e.operation === 'remote-content');
  assert.deepEqual(recorded.map((e) => [e.actor, e.result, e.grantId, e.objects.messages]), [['user:rita', 'success', grant, [sha.hostile]]]);
  const full = (await as.aud.call('GET', `/api/v1/ledger/entries?from=${recorded[0].index}&limit=1`)).body.entries[0];
  const firstHit = Math.min(...remote.hits.map((h) => h.at));
  assert.ok(full.time <= firstHit, `the ledger entry (${full.time}) was written before the first remote request (${firstHit})`);
  frame = await bodyFrame();
  await frame.getByText('End of hostile message.').waitFor();
  assert.equal(await pwned(page), null);
  assert.deepEqual(dialogs, []);
  const paths = new Set(remote.hits.map((h) => h.path));
  for (const never of ['/script-fetch', '/onerror', '/refresh', '/form', '/iframe', '/object.swf', '/embed.swf', '/link.css', '/dns', '/clicked', '/audio.mp3']) {
    assert.ok(!paths.has(never), `${never} was requested: ${[...paths].join(' ')}`);
  }
  await frameShot(page, 'viewer-hostile-remote-loaded');

  // --- cid: image inline, charsets, an attachment --------------------------------------------
  const routedBefore = routed.length;
  await page.goto(`${url}/investigation?grant=${grant}&q=${encodeURIComponent('logo OR charset')}&m=${sha.cid}`);
  frame = await bodyFrame();
  await frame.getByText('Our new logo:').waitFor();
  const logo = frame.locator('#logo');
  assert.match((await logo.getAttribute('src'))!, /^data:image\/png;base64,/);
  const box = await logo.boundingBox();
  // The <img> has no width or height of its own: 40 × 24 is the decoded PNG's size (a broken
  // image would show as its alt text or an icon).
  assert.ok(box && Math.round(box.width) === 40 && Math.round(box.height) === 24, `the inline image is decoded and laid out: ${JSON.stringify(box)}`);
  await frameShot(page, 'viewer-cid-image');

  await page.goto(`${url}/investigation?grant=${grant}&q=${encodeURIComponent('logo OR charset')}&m=${sha.charset}`);
  frame = await bodyFrame();
  await frame.getByText(CHARSET_TEXT.cyrillic).waitFor();
  await frame.getByText(CHARSET_TEXT.latin1).waitFor();
  await page.getByRole('heading', { name: /Отчет Charset test/ }).waitFor();
  await frameShot(page, 'viewer-charset');
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'figures.csv', exact: true }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'figures.csv');
  assert.equal(readFileSync((await download.path())!).toString('utf8').replace(/\r\n/g, '\n').trim(), 'quarter,revenue\nQ1,100');
  await page.getByRole('button', { name: 'View raw source' }).click();
  await page.getByLabel('Raw source').getByText(/Message-ID: <charset-1@partner\.test>/).waitFor();
  await screenshot(page, 'viewer-charset-page');
  assert.equal(routed.length, routedBefore, 'the other messages asked the sender for nothing');

  // Every read the viewer made is in the ledger under the grant.
  const reads = (await world.takeAll()).filter((e) => e.actor === 'user:rita' && e.type === 'access');
  const ops = new Set(reads.map((e) => e.operation));
  for (const op of ['search', 'view', 'body', 'evidence', 'raw']) assert.ok(ops.has(op), `${op} recorded: ${[...ops].join(' ')}`);
  assert.ok(reads.every((e) => e.grantId === grant && e.result === 'success'));

  // --- the Ledger page (auditor) --------------------------------------------------------------
  const aud = await openAs('aud');
  await aud.page.goto(`${url}/ledger?actor=rita&operation=remote-content`);
  const rows = aud.page.locator('table.ledger tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.match((await rows.first().textContent())!, /user:rita.*remote-content.*success/);
  const history = aud.page.getByTestId('checkpoint-history');
  await history.waitFor();
  assert.ok(await history.locator('tbody tr').count() >= 1);
  assert.equal(await history.getByText('✗').count(), 0);
  await screenshot(aud.page, 'ledger-page');
  const ledgerLoad = await loadTiming(aud.page);
  t.diagnostic(`first load, ms (load event / first paint): investigation ${Math.round(investigationLoad.load)}/${Math.round(investigationLoad.firstContentfulPaint ?? -1)}, ledger ${Math.round(ledgerLoad.load)}/${Math.round(ledgerLoad.firstContentfulPaint ?? -1)}`);
  const exporting = aud.page.waitForEvent('download');
  await aud.page.getByRole('link', { name: 'Export CSV' }).click();
  const csv = readFileSync((await (await exporting).path())!).toString('utf8').trimEnd().split('\r\n');
  assert.equal(csv.length, 2);
  assert.match(csv[1], /,user:rita,.*,remote-content,/);
  assert.deepEqual(problems, []);
});
