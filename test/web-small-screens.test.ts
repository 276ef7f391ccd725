// Every page, as every role that has it, on a phone (390 × 844 CSS pixels) and in the dark:
// nothing scrolls sideways (document.scrollingElement.scrollWidth <= 390), and axe-core finds
// nothing moderate or worse, in the light scheme and in the dark one (prefers-color-scheme, which
// the app follows: contrast is checked in both). Widths are written to
// test-results/web-phone-widths.json, screenshots to test-results/screenshots/phone-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot, settled, track } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { repoRoot } from './support/sealbox.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };

// Long words where people put them: a subject, names and addresses, a justification, a query.
const LONG = 'Quarterly-reconciliation-of-intercompany-balances-Leverandørreskontro-2025';

test('web: every page fits a 390 px phone for every role, and passes axe in the light and the dark scheme', { timeout: 600_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {
      o1: { from: `Leverandør Salg <sales-department-invoices@very-long-vendor-domain.example>`, to: 'olga@corp.test', subject: `${LONG} and the rest of a long subject line`, date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'olga planning', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
      spare: { from: 'x@ext.test', to: 'ceo@corp.test', subject: 'sent by mistake', date: 'Sun, 16 Feb 2025 10:00:00 +0000' },
    },
    // al2 owns the executive mailbox, so cannot approve LH-4 on it (one too few could); a data
    // subject's request, sealed, needs the executive's two approvals wherever the mail is: both.
    mailboxes: { 'olga@corp.test': 'olga', 'ceo@corp.test': 'al2,executive' },
    users: { olga: ['owner'], rita: ['requester'], bea: ['breakglass'], alan: ['approver'], al2: ['approver'], aud: ['auditor'] },
    config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off', sampleRate: 1 } },
  }, { listen: true });
  t.after(() => world.stop());
  const { as, sha } = world;
  // A reply to o1, so that its page has a conversation to step through.
  const o1Id = `${createHash('sha256').update(`${LONG} and the rest of a long subject line`).digest('hex').slice(0, 16)}@corp.test`;
  await world.deliver({ from: 'x@ext.test', to: ['olga@corp.test'] }, Buffer.from(`From: x@ext.test\r\nTo: olga@corp.test\r\nSubject: Re: ${LONG}\r\nDate: Thu, 16 Jan 2025 10:00:00 +0000\r\nMessage-ID: <reply-1@ext.test>\r\nIn-Reply-To: <${o1Id}>\r\n\r\nagreed\r\n`));
  const ok = async (who: string, method: string, p: string, body?: unknown) => {
    const r = await as[who].call(method, p, body);
    assert.ok(r.status < 300, `${who} ${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // Something on every page: an active grant with reads and an export, a closed one, a pending
  // request, one too few could approve, an emergency grant, review items.
  const file = async (ticket: string, mailboxes = ['olga@corp.test'], permissions = ['search', 'read', 'export']) =>
    (await ok('rita', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: `${LONG} hold for the ${ticket} matter`, ticket, mailboxes, permissions, durationHours: 1 })).id as string;
  const active = await file(`LH-${LONG}`);
  await ok('alan', 'POST', `/api/v1/requests/${active}/approve`, { reason: 'ok' });
  await ok('rita', 'GET', `/api/v1/search?q=${LONG}&grant=${active}`);
  for (const part of ['', '/body', '/evidence']) await ok('rita', 'GET', `/api/v1/messages/${sha.o1}${part}?grant=${active}`);
  await ok('rita', 'GET', `/api/v1/export?q=olga&grant=${active}`);
  // A data subject's access request for the long address, approved: its long fixed query on its
  // card, and its grant on Investigation offering the whole of it.
  const sar = (await ok('rita', 'POST', '/api/v1/subject-requests/access', { addresses: ['sales-department-invoices@very-long-vendor-domain.example'], reference: `DSAR-${LONG}`, justification: LONG, durationHours: 1 })).id as string;
  for (const who of ['alan', 'al2']) await ok(who, 'POST', `/api/v1/requests/${sar}/approve`, { reason: 'ok' });
  const closed = await file('LH-2');
  await ok('alan', 'POST', `/api/v1/requests/${closed}/approve`, { reason: 'ok' });
  await ok('rita', 'POST', `/api/v1/requests/${closed}/revoke`, {});
  await file('LH-3');
  await file('LH-4', ['ceo@corp.test'], ['search']);
  const bg = (await ok('bea', 'POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'phishing being forwarded right now', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).id as string;
  await ok('bea', 'GET', `/api/v1/messages/${sha.o1}?grant=${bg}`);
  await ok('olga', 'GET', `/api/v1/messages/${sha.o1}`);
  // Retention: a rule change, a hold on Olga's mailbox with a release asked for, an erasure
  // request carried out (its certificate) and one waiting, with long names and references.
  await ok('adm', 'POST', '/api/v1/retention/rules', { name: `${LONG} rule`, domains: ['very-long-vendor-domain.example'], days: 30, note: LONG });
  const hold = (await ok('adm', 'POST', '/api/v1/holds', { name: `${LONG} hold`, matter: `LEG-${LONG}`, custodians: ['olga@corp.test'], dateFrom: '2025-01-01', dateTo: '2025-03-01', query: `subject:${LONG}` })).id as string;
  await ok('adm', 'POST', `/api/v1/holds/${hold}/release`, { reason: LONG });
  const erased = (await ok('adm', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: ['someone-with-a-long-address@very-long-vendor-domain.example'], reference: `DSR-${LONG}`, reason: LONG })).id as string;
  await ok('alan', 'POST', `/api/v1/subject-requests/${erased}/approve`, { reason: 'checked' });
  await ok('adm', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: ['pat@ext.test'], reference: 'DSR-2', reason: 'asked' });
  // Leavers and early disposal, with long reasons: Olga's leaving date approved (her mail due in
  // the next run, some kept by the hold with its long name), the CEO's with an exemption, one
  // waiting; an early disposal carried out (one message destroyed, one kept by the hold) and one waiting.
  for (const box of ['olga@corp.test', 'ceo@corp.test']) await ok('alan', 'POST', `/api/v1/leaver-changes/${(await ok('adm', 'POST', `/api/v1/mailboxes/${box}/leaver`, { left: '2024-01-31', reason: LONG })).id}/approve`, { reason: 'HR confirmed' });
  await ok('alan', 'POST', `/api/v1/leaver-changes/${(await ok('adm', 'POST', '/api/v1/mailboxes/ceo@corp.test/leaver/exemption', { until: '2099-01-01', reason: LONG })).id}/approve`, { reason: 'ok' });
  await ok('adm', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver/exemption', { reason: LONG });
  await ok('alan', 'POST', `/api/v1/disposal-requests/${(await ok('adm', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.spare, sha.o1], reason: LONG })).id}/approve`, { reason: 'checked' });
  await ok('adm', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.o2], reason: LONG });
  await world.parts.oversight.kick();

  // [who, path, h1, then] — every page of the navigation for each role that has it.
  type Visit = [string, string, string | RegExp, ((page: Page) => Promise<void>)?];
  const openFirstReview = async (page: Page) => {
    await page.getByTestId('reviews').getByRole('button').first().click();
    await page.getByRole('heading', { level: 2 }).filter({ hasText: /./ }).first().waitFor();
  };
  const visits: Visit[] = [
    ...['olga', 'rita', 'bea', 'alan', 'aud', 'adm'].flatMap((who): Visit[] => [[who, '/', /^Welcome/], [who, '/notifications', 'Notifications']]),
    ['olga', '/mailbox', 'My mailbox'], ['olga', `/mailbox/${sha.o1}`, /Quarterly/, (page) => page.getByRole('link', { name: /Next in conversation/ }).waitFor()],
    ['olga', '/accesses', 'Who accessed my mailbox'], ['olga', '/account', 'Your account'],
    ['rita', '/requests', 'Requests'], ['rita', `/investigation?grant=${active}&q=olga`, 'Investigation'], ['rita', `/investigation?grant=${active}&m=${sha.o1}`, 'Investigation'],
    ['rita', `/investigation?grant=${sar}`, 'Investigation', (page) => page.getByTestId('subject-access-scope').waitFor()],
    ['bea', '/requests', 'Requests'], ['bea', `/investigation?grant=${bg}&m=${sha.o1}`, 'Investigation'],
    ['alan', '/approvals', 'Approvals'], ['alan', '/reviews', 'Review queue', openFirstReview],
    ['aud', '/ledger', /Ledger/], ['aud', '/oversight', 'Oversight'], ['aud', '/reviews', 'Review queue', openFirstReview], ['aud', '/admin', 'Administration'],
    ['adm', '/admin', 'Administration'], ['adm', '/approvals', 'Approvals'], ['adm', '/ledger', /Ledger/],
    ['alan', '/retention', 'Retention and legal holds'], ['aud', '/retention', 'Retention and legal holds'], ['adm', '/retention', 'Retention and legal holds'],
  ];

  const widths: Record<string, number> = {};
  const tooWide: string[] = [];
  const found: string[] = [];
  const problems: string[] = [];
  // (SEALBOX_TEST_SCHEMES=light runs one scheme, while working on a page.)
  const schemes = (process.env.SEALBOX_TEST_SCHEMES?.split(',') ?? ['light', 'dark']) as ('light' | 'dark')[];
  for (const scheme of schemes) {
    const check = async (page: Page, label: string) => {
      await settled(page);
      const width = await page.evaluate('document.scrollingElement.scrollWidth') as number;
      widths[`${scheme} ${label}`] = width;
      if (width > PHONE.width) tooWide.push(`${scheme} ${label}: ${width} px — ${await widest(page)}`);
      found.push(...(await axe(page)).map((v) => `${scheme} ${label}: ${v}`));
      if (scheme === 'light' || label.includes('/mailbox/')) await screenshot(page, `phone-${scheme}-${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
    };
    const signIn = track(await (await browser.newContext({ bypassCSP: true, viewport: PHONE, colorScheme: scheme })).newPage());
    await signIn.goto(`${world.url}/`);
    await signIn.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await check(signIn, 'sign-in');
    await signIn.context().close();
    for (const [who, p, heading, then] of visits) {
      const page = await openAs(browser, { url: world.url!, as }, who, problems, { bypassCSP: true, viewport: PHONE, colorScheme: scheme });
      await page.goto(world.url + p);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      if (then) await then(page);
      await check(page, `${who} ${p.replace(/[0-9a-f]{64}/, 'SHA').replace(/grant=[^&]+/, 'grant=G')}`);
      await page.context().close();
    }
  }
  // The Ledger on a desktop: an entry's time on two lines (the day, the time to the second), the
  // actor's details each under a label.
  const ledger = await openAs(browser, { url: world.url!, as }, 'aud', problems, { viewport: { width: 1280, height: 800 } });
  await ledger.goto(`${world.url}/ledger`);
  const first = ledger.locator('table.ledger tbody tr').first();
  await first.waitFor();
  const time = first.locator('td.time');
  // Each of its two parts on one line.
  const lines = await time.locator('time > span').evaluateAll((spans) => spans.map((el) => {
    const e = el as unknown as { getBoundingClientRect(): { height: number }; ownerDocument: { defaultView: { getComputedStyle(e: unknown): { lineHeight: string } } } };
    return e.getBoundingClientRect().height / parseFloat(e.ownerDocument.defaultView.getComputedStyle(el).lineHeight);
  }));
  assert.equal(lines.length, 2);
  assert.ok(lines.every((n) => n < 1.5), `the time's parts take ${lines} lines`);
  assert.match((await time.locator('time').getAttribute('datetime'))!, /^\d{4}-\d\d-\d\dT/);
  assert.match((await time.textContent())!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  assert.deepEqual(await first.locator('td[data-label="Actor"] dt').allTextContents(), ['entry', 'logon', 'from']);
  // An entry's parameters are written out when opened, not before.
  assert.equal(await ledger.locator('table.ledger pre').count(), 0);
  await ledger.locator('table.ledger summary').first().click();
  assert.match((await ledger.locator('table.ledger details[open] pre').textContent())!, /^\{\n "/);
  await ledger.context().close();

  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'test-results', 'web-phone-widths.json'), JSON.stringify(widths, null, 2));
  assert.deepEqual({ tooWide, axe: found, problems }, { tooWide: [], axe: [], problems: [] }, 'pages that scroll sideways at 390 px; axe-core findings (moderate or worse); page errors');
});

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact !== 'minor').map((v) => `${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

// What makes a page too wide: the elements wider than their parent's box, or reaching past
// the window, the innermost first.
async function widest(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      const p = el.parentElement && el.parentElement.getBoundingClientRect();
      if (r.width > 0 && p && r.right > ${PHONE.width} + 0.5 && r.width > p.width + 0.5) out.push([r.width, el, r.right]);
    }
    out.sort((a, b) => a[0] - b[0]);
    const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
    return out.slice(0, 5).map(([, el, right]) => name(el) + ' ' + Math.round(right)).join(', ');
  })()`);
}
