import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { ApiClient } from '../test/support/api-client.ts';
import { consoleAdds, directoryCsv, signInEveryone } from '../test/support/access-world.ts';
import { enrolmentCode } from '../test/support/outbox.ts';
import { CHROMIUM } from '../test/support/browser.ts';
import { sealbox, startSealbox } from '../test/support/sealbox.ts';
import { corpusArchive } from './corpus-archive.ts';
import { median } from './figures.ts';
import type { Figure } from './figures.ts';
import type { BenchOptions } from './run.ts';

// Who opens which page: every page of the web app, each as the people it is for.
const PEOPLE: Record<string, string[]> = { olga: ['owner'], rita: ['requester'], anna: ['approver'], aud: ['auditor'], adm: ['admin'] };
const PAGES: { path: string; as: string[] }[] = [
  { path: '/', as: ['olga', 'rita', 'anna', 'aud', 'adm'] },
  { path: '/mailbox', as: ['olga'] },
  { path: '/accesses', as: ['olga'] },
  { path: '/notifications', as: ['olga', 'anna'] },
  { path: '/requests', as: ['rita'] },
  { path: '/investigation', as: ['rita'] },
  { path: '/approvals', as: ['anna', 'adm'] },
  { path: '/reviews', as: ['anna', 'aud'] },
  { path: '/ledger', as: ['aud', 'adm'] },
  { path: '/oversight', as: ['aud'] },
  { path: '/admin', as: ['aud', 'adm'] },
];
const TARGET_MS = 1000;
// Evaluated in the page, polled (a string: the benchmarks are type-checked without the DOM;
// waitForFunction would need eval, which the app's CSP refuses).
const SHOWN = `document.querySelector('main h1') !== null && ![...document.querySelectorAll('[role=status]')].some((e) => /^Loading/.test(e.textContent ?? ''))`;

// First load of every page with the corpus archived (6,046 messages; one owner holds four of
// the seven corpus recipients' mail, some 3,450 messages, and an investigator an active grant
// over another): a fresh browser context per visit (nothing cached), from navigation until the
// page shows its heading and nothing on it still says "Loading …". In Debian's
// Chromium, against `sealbox serve`. The figure per page is its slowest visit over the repetitions.
export async function webBenchmark(o: BenchOptions): Promise<Figure[]> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-peers.sh)`);
  const { sealbox: ingest } = await corpusArchive(o);
  const config = join(ingest.dir, 'web-config.json');
  writeFileSync(config, JSON.stringify({
    auth: { dns: join(ingest.dir, 'zone.json') }, log: { level: 'warn' }, internalDomains: ['example.test'],
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 },
  }));
  const server = await startSealbox({ data: ingest.data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  let browser: Browser | null = null;
  try {
    const csv = join(ingest.dir, 'directory.csv');
    writeFileSync(csv, directoryCsv({ 'rcpt0@example.test': 'olga', 'rcpt1@example.test': 'olga', 'rcpt2@example.test': 'olga', 'rcpt3@example.test': 'olga', 'rcpt4@example.test': '' }));
    const run = async (args: string[]) => {
      const r = await sealbox([...args, '--data', ingest.data, '--config', config]);
      if (r.code !== 0) throw new Error(`sealbox ${args[0]}: ${r.stderr}`);
      return r.stdout.toString();
    };
    await run(['mailboxes', 'import', csv]);
    const code = /enrolment code (\S+)/.exec(await run(['users', 'add', '--name', 'adm', '--email', 'adm@example.test', '--role', 'admin']))![1]!;
    const url = server.http!.url;
    const world = { url, ...(await signInEveryone(() => new ApiClient(url), code, Object.fromEntries(Object.entries(PEOPLE).filter(([n]) => n !== 'adm')), { mailedCode: async (a) => enrolmentCode(server.data, a), atConsole: consoleAdds(['--data', ingest.data, '--config', config]) })) };
    // An active grant for the investigator, so Investigation and the approvals have something to show.
    const filed = await world.as.rita!.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'dispute', ticket: 'LEG-1', mailboxes: ['rcpt4@example.test'], permissions: ['search', 'read', 'export'], durationHours: 8 });
    if (filed.status !== 200) throw new Error(`filing: ${JSON.stringify(filed.body)}`);
    const approved = await world.as.anna!.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'ok' });
    if (approved.status !== 200) throw new Error(`approving: ${JSON.stringify(approved.body)}`);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const reps = o.smoke ? 1 : 3;
    const slowest: Figure[] = [];
    const all: number[] = [];
    for (const page of PAGES) {
      const times: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        for (const name of page.as) {
          const client = world.as[name]!;
          const [cookieName, value] = client.cookie!.split('=');
          const context = await browser.newContext();
          await context.addCookies([{ name: cookieName!, value: value!, url }]);
          await context.addInitScript(`localStorage.setItem('sealbox.csrf', ${JSON.stringify(client.csrf)})`);
          const tab = await context.newPage();
          const t0 = performance.now();
          await tab.goto(url + page.path, { waitUntil: 'domcontentloaded' });
          // On screen: the page's heading, and no part of it still saying "Loading …".
          while (!(await tab.evaluate(SHOWN))) {
            if (performance.now() - t0 > 10_000) throw new Error(`${page.path} as ${name}: not shown in 10 s; the page says: ${(await tab.locator('body').innerText()).slice(0, 300)}`);
            await new Promise((r) => setTimeout(r, 10));
          }
          times.push(performance.now() - t0);
          await context.close();
        }
      }
      all.push(...times);
      o.record(`firstLoad ${page.path}`, times.map((t) => Math.round(t)));
      slowest.push({ name: `first load ${page.path} (slowest of ${times.length})`, value: Math.max(...times), unit: 'ms', target: { op: '<=', bound: TARGET_MS, of: 'value' } });
    }
    return [
      { name: 'first load, median over every page and person', value: median(all), unit: 'ms', target: { op: '<=', bound: TARGET_MS, of: 'value' } },
      ...slowest,
    ];
  } finally {
    await browser?.close();
    await server.stop();
  }
}
