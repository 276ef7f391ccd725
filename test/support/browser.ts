// Debian's Chromium driven by playwright-core (which downloads no browser of its own). In CI a
// missing Chromium fails the test; on a developer's machine without it the test is skipped.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { repoRoot } from './sealbox.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(repoRoot, 'test-results', 'screenshots');

export async function launchBrowser(t: TestContext): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-peers.sh)`);
    t.skip(`${CHROMIUM} is missing (install Debian's chromium to run the browser tests)`);
    return null;
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// A full-page screenshot for review, test-results/screenshots/<name>.png (not committed).
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Navigation Timing of the page's last load: from navigation start to the load event, and to
// the first contentful paint, in milliseconds.
export async function loadTiming(page: Page): Promise<{ load: number; domContentLoaded: number; firstContentfulPaint: number | null }> {
  // Runs in the page; written as a string because the tests are type-checked without the DOM.
  return page.evaluate(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { load: nav.loadEventEnd - nav.startTime, domContentLoaded: nav.domContentLoadedEventEnd - nav.startTime, firstContentfulPaint: fcp ? fcp.startTime : null };
  })()`);
}

// Requests in flight per page, for settled(): since the page was made (openAs, track).
const traffic = new WeakMap<Page, { inFlight: number; last: number }>();

export function track(page: Page): Page {
  const t = { inFlight: 0, last: performance.now() };
  traffic.set(page, t);
  page.on('request', () => { t.inFlight++; t.last = performance.now(); });
  const done = () => { t.inFlight--; t.last = performance.now(); };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return page;
}

// The page has loaded and asked for nothing for `quietMs`: what it shows is complete. Playwright's
// 'networkidle' waits 500 ms of silence after every page; the app answers from the loopback in a
// few milliseconds and does not poll, so a shorter quiet says the same, sooner.
export async function settled(page: Page, quietMs = 150): Promise<void> {
  const t = traffic.get(page);
  if (!t) return page.waitForLoadState('networkidle');
  await page.waitForLoadState('load');
  while (t.inFlight > 0 || performance.now() - t.last < quietMs) await new Promise((r) => setTimeout(r, 25));
}

// A browser context already signed in as one of an access world's users, with the session
// cookie and CSRF token the API handed out (the sign-in page itself is the story test's). Console
// errors, page errors and any request to another origin are collected in `problems`.
export async function openAs(browser: Browser, world: { url: string; as: Record<string, { cookie: string | null; csrf: string | null }> }, name: string, problems: string[], options: BrowserContextOptions = {}): Promise<Page> {
  const client = world.as[name];
  const [cookieName, value] = client.cookie!.split('=');
  const context = await browser.newContext({ acceptDownloads: true, ...options });
  await context.addCookies([{ name: cookieName, value, url: world.url }]);
  // Only the app's own window: the message body's sandboxed frame has no storage (and must not).
  await context.addInitScript(`if (window.top === window) localStorage.setItem('sealbox.csrf', ${JSON.stringify(client.csrf)})`);
  const page = track(await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[34]/.test(m.text())) problems.push(`${name}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith(world.url) && !r.url().startsWith('data:')) problems.push(`${name} fetched ${r.url()}`); });
  return page;
}
