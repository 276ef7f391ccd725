// The message viewer shows what the message says, in Chromium: names as written in the headers
// (the search index lower-cases them), To and Cc in the header block; "Load remote content" only
// for a body that has remote content; the body's frame as tall as its document (a short mail
// is a short frame, a long one fills the window and scrolls); "Back to my mailbox" returns to the
// search the message was opened from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Frame, Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';

const mail = (headers: string[], body: string, type = 'text/plain; charset=utf-8') => Buffer.from([
  ...headers, 'Date: Wed, 15 Jan 2025 10:00:00 +0000', 'MIME-Version: 1.0', `Content-Type: ${type}`, 'Content-Transfer-Encoding: 8bit', '', body, '',
].join('\r\n'));

test('web viewer: names as written, To and Cc, remote content only when there is some, a frame the size of its body, Back keeps the search', { timeout: 180_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({ messages: {}, mailboxes: { 'olga@corp.test': 'olga' }, users: { olga: ['owner'] } }, { listen: true });
  t.after(() => world.stop());
  const messages = {
    // RFC 2047 encoded names, as real mail carries them.
    short: mail([
      'From: =?utf-8?q?Leverand=C3=B8r_Salg?= <salg@vendor.test>', 'To: =?utf-8?b?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@corp.test>, Olga Berg <olga@corp.test>',
      'Cc: "Ærlig Åse" <ase@corp.test>', 'Subject: fidelity invoice reminder', 'Message-ID: <fidelity-1@vendor.test>',
    ], 'Hei Olga,\r\nthe invoice is overdue.\r\n'),
    long: mail(['From: x@ext.test', 'To: olga@corp.test', 'Subject: fidelity long report', 'Message-ID: <fidelity-2@ext.test>'],
      Array.from({ length: 200 }, (_, i) => `line ${i + 1} of a long plain-text report`).join('\r\n')),
    remote: mail(['From: news@ext.test', 'To: olga@corp.test', 'Subject: fidelity newsletter', 'Message-ID: <fidelity-3@ext.test>'],
      '<html><body><p>News</p><img src="http://127.0.0.1:9/pixel.gif" alt="pixel"></body></html>', 'text/html; charset=utf-8'),
  };
  const sha: Record<string, string> = {};
  for (const [key, raw] of Object.entries(messages)) {
    sha[key] = createHash('sha256').update(raw).digest('hex');
    await world.deliver({ from: 'x@ext.test', to: ['olga@corp.test'] }, raw);
  }
  const site = { url: world.url!, as: world.as };
  const problems: string[] = [];
  const page = await openAs(browser, site, 'olga', problems);
  const bodyFrame = async (p: Page): Promise<Frame> => {
    const handle = await p.locator('iframe[title^="Body of"]').elementHandle();
    const frame = await handle!.contentFrame();
    await frame!.waitForLoadState('load');
    return frame!;
  };
  // The frame's height and its document's, as the browser lays them out (the test can look into
  // the sandboxed frame; the page cannot).
  const heights = async (p: Page) => {
    await p.locator('.message-body[data-body-kind]:not([data-body-kind=""])').waitFor();
    await p.locator('.message-body iframe.sized').waitFor();
    const frame = await bodyFrame(p);
    const content = await frame.evaluate('document.documentElement.scrollHeight') as number;
    const box = await p.locator('iframe[title^="Body of"]').evaluate((el) => (el as unknown as { clientHeight: number }).clientHeight);
    return { frame: box, content, window: page.viewportSize()!.height };
  };

  // Back keeps the search: from results to a message and back.
  await page.goto(`${site.url}/mailbox?q=${encodeURIComponent('fidelity invoice')}`);
  await page.getByRole('link', { name: 'fidelity invoice reminder' }).click();
  await page.getByRole('heading', { level: 1, name: 'fidelity invoice reminder' }).waitFor();

  // The header block: From, To and Cc as written.
  const header = page.locator('article.message > dl').first();
  const field = async (name: string) => (await header.locator(`dt:text-is("${name}") + dd`).textContent())?.trim();
  assert.equal(await field('From'), 'Leverandør Salg <salg@vendor.test>');
  assert.equal(await field('To'), 'Иван Петров <ivan@corp.test>, Olga Berg <olga@corp.test>');
  assert.equal(await field('Cc'), 'Ærlig Åse <ase@corp.test>');
  // Participants: names as the headers write them, never the index's lower case.
  const names = await page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Name' }) }).locator('tbody tr td:nth-child(3)').allTextContents();
  assert.deepEqual(names.filter(Boolean).sort(), ['Olga Berg', 'Ærlig Åse', 'Иван Петров', 'Leverandør Salg'].sort());
  // Plain text, nothing remote: no button; a short body, a short frame that shows all of it.
  let h = await heights(page);
  assert.equal(await page.getByRole('button', { name: 'Load remote content' }).count(), 0, 'nothing remote to load in plain text');
  assert.ok(h.frame >= h.content && h.frame <= h.content + 48, `a short mail's frame fits it: ${JSON.stringify(h)}`);
  await screenshot(page, 'viewer-short-mail');

  await page.getByRole('link', { name: '← Back to my mailbox' }).click();
  await page.getByRole('heading', { level: 1, name: 'My mailbox' }).waitFor();
  assert.equal(new URL(page.url()).search, `?q=${encodeURIComponent('fidelity invoice').replace(/%20/g, '+')}`);
  assert.equal(await page.getByRole('searchbox').inputValue(), 'fidelity invoice');

  // A long body: the frame fills most of the window and the rest scrolls inside it.
  await page.goto(`${site.url}/mailbox/${sha.long}`);
  h = await heights(page);
  assert.ok(h.content > h.window && h.frame >= h.window * 0.6 && h.frame <= h.window, `a long mail's frame: ${JSON.stringify(h)}`);
  // The same at a phone's width: longer lines wrap, the frame still fits a short mail.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${site.url}/mailbox/${sha.short}`);
  h = await heights(page);
  assert.ok(h.frame >= h.content && h.frame <= h.content + 48, `a short mail's frame on a phone: ${JSON.stringify(h)}`);
  await page.setViewportSize({ width: 1280, height: 720 });

  // HTML with a remote image: the button is there, and nothing was fetched.
  await page.goto(`${site.url}/mailbox/${sha.remote}`);
  await page.locator('.message-body[data-body-kind="html"]').waitFor();
  await page.getByRole('button', { name: 'Load remote content' }).waitFor();
  // (The browser reports the blocked image: the document's CSP refused it, so it never left.)
  assert.ok(problems.some((p) => /pixel\.gif' violates the following Content Security Policy directive: "img-src data:"/.test(p)), problems.join('\n'));
  assert.deepEqual(problems.filter((p) => !p.includes('http://127.0.0.1:9/pixel.gif')), []);
});
