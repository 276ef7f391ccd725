// Browsing thousands of messages in Debian's Chromium against Sealbox in process: an owner with
// 3,000 generated messages (bench/mail-generator.ts, the real corpus's sizes and words) pages
// through them with the total shown and in both orders, sees each result's passage with the
// words found marked (the mail's own markup shown as text, never run), opens a conversation and
// walks it with previous and next, and exports what a search finds. An investigator exports
// under a grant that carries export, and is offered none, and refused, under one that does not.
// Checked by axe-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { MailGenerator } from '../bench/mail-generator.ts';
import { newId } from '../src/core/ids.ts';
import type { Envelope } from '../src/core/types.ts';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { corpusFiles } from './support/corpus.ts';
import { startInProcessWorld } from './support/in-process.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const GENERATED = 3000;
const OWNER = 'olga@corp.test';

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact !== 'minor').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

function envelope(from: string, to: string[]): Envelope {
  return {
    mailFrom: from, mailFromArgs: {}, rcptTo: to.map((address) => ({ address, args: {} })),
    clientAddress: '127.0.0.1', clientPort: 40000, clientHelo: 'localhost', clientName: null, authUser: null, queueId: null,
    protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 40000, helo: 'localhost' }, xforward: {},
  };
}

function mail(h: { subject: string; date: string; id: string; refs?: string[]; body: string }): Buffer {
  const lines = ['From: Carol Partner <carol@partner.test>', `To: ${OWNER}`, `Subject: ${h.subject}`, `Date: ${h.date}`, `Message-ID: <${h.id}>`];
  if (h.refs) lines.push(`In-Reply-To: <${h.refs.at(-1)}>`, `References: ${h.refs.map((r) => `<${r}>`).join(' ')}`);
  lines.push('MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', h.body, '');
  return Buffer.from(lines.join('\r\n'));
}

test('web: an owner browses 3,000 messages, walks a conversation, exports; an investigator exports under a grant', { timeout: 240_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { [OWNER]: 'olga' },
    users: { olga: ['owner'], rita: ['requester'], appr: ['approver'] },
  }, { listen: true });
  t.after(() => world.stop());

  // 3,000 generated messages, each delivered to olga too (by envelope), committed 64 at a time
  // through the capture writer as the SMTP receiver commits them; indexed by the next deliver.
  const corpus = corpusFiles().slice(0, 600).map((f) => readFileSync(f));
  const gen = new MailGenerator({ seed: 14, total: GENERATED, corpus });
  const at = world.clock.now();
  for (let done = 0; done < GENERATED;) {
    const batch = Array.from({ length: Math.min(64, GENERATED - done) }, () => gen.next());
    await Promise.all(batch.map(async (m, k) => {
      const incoming = world.parts.capture.begin({ journal: 'off' });
      await incoming.write(m.raw);
      await incoming.commit({ id: newId('cap', at + done + k), source: 'smtp', receivedAt: at, envelope: envelope(m.envelope.from, [...m.envelope.to, OWNER]), provenance: null });
    }));
    done += batch.length;
  }
  // A conversation of three, and a message whose text carries markup.
  const thread = ['Harbour plan', 'Re: Harbour plan', 'Re: Re: Harbour plan'];
  const ids = ['harbour-1@partner.test', 'harbour-2@corp.test', 'harbour-3@partner.test'];
  const harbour: string[] = [];
  for (const [i, subject] of thread.entries()) {
    const raw = mail({ subject, date: `Mon, 0${i + 3} Mar 2025 10:00:00 +0000`, id: ids[i]!, refs: ids.slice(0, i), body: `Harbour plan, part ${i + 1}: the quay is ready.` });
    harbour.push(createHash('sha256').update(raw).digest('hex'));
    await world.deliver({ from: 'carol@partner.test', to: [OWNER] }, raw);
  }
  await world.deliver({ from: 'carol@partner.test', to: [OWNER] }, mail({ subject: 'Street party', date: 'Tue, 04 Mar 2025 10:00:00 +0000', id: 'party@partner.test',
    body: 'Come to the Straßenfest! <script>document.title="owned"</script> <b>Bring</b> a cake.' }));
  const total = GENERATED + thread.length + 1;
  const site = { url: world.url!, as: world.as };
  const problems: string[] = [];
  const olga = await openAs(browser, site, 'olga', problems, { bypassCSP: true });

  await t.test('the owner pages through every message with the total, in both orders', async () => {
    await olga.goto(`${site.url}/mailbox`);
    await olga.getByRole('heading', { level: 1, name: 'My mailbox' }).waitFor();
    const summary = olga.getByTestId('result-count');
    await summary.filter({ hasText: `${total.toLocaleString('en')} messages · 1–50 shown, newest first` }).waitFor();
    assert.equal(await olga.getByRole('list', { name: 'Messages found' }).getByRole('listitem').count(), 50);
    assert.equal(await olga.getByTestId('page-of').textContent(), `Page 1 of ${Math.ceil(total / 50)}`);
    await olga.getByRole('button', { name: 'Next 50' }).click();
    await summary.filter({ hasText: '51–100 shown, newest first' }).waitFor();
    assert.match(olga.url(), /[?&]page=1\b/, 'the page is in the address');
    await olga.getByRole('button', { name: 'Last' }).click();
    await summary.filter({ hasText: `${(Math.floor((total - 1) / 50) * 50 + 1).toLocaleString('en')}–${total.toLocaleString('en')} shown` }).waitFor();
    assert.equal(await olga.getByRole('button', { name: 'Next 50' }).isDisabled(), true);

    const oldest = (await world.as.olga.call('GET', `/api/v1/search?q=${encodeURIComponent(`mailbox:"${OWNER}"`)}&sort=oldest&limit=1`)).body.results[0];
    await olga.getByLabel('Order').selectOption('oldest');
    await summary.filter({ hasText: `${total.toLocaleString('en')} messages · 1–50 shown, oldest first` }).waitFor();
    assert.equal(await olga.getByRole('list', { name: 'Messages found' }).getByRole('listitem').first().getByRole('link').textContent(), oldest.subject || '(no subject)');
    await olga.reload();
    await summary.filter({ hasText: 'oldest first' }).waitFor();
    assert.equal(await olga.getByLabel('Order').inputValue(), 'oldest', 'the order survives a reload');
    assert.deepEqual(await axe(olga), [], 'axe-core on My mailbox with results');
    await screenshot(olga, 'mailbox-browse');
  });

  await t.test('results show the passage with the words found; the mail\'s markup is text', async () => {
    const word = gen.word(300);
    await olga.goto(`${site.url}/mailbox?q=${encodeURIComponent(word)}`);
    await olga.getByTestId('result-total').waitFor();
    const marks = olga.getByTestId('snippet').locator('mark');
    await marks.first().waitFor();
    assert.equal((await marks.first().textContent())!.toLowerCase(), word.toLowerCase(), `the word ${word} is marked in the text`);
    await olga.getByLabel('Order').selectOption('relevance');
    await olga.getByTestId('result-count').filter({ hasText: 'shown, best match first' }).waitFor();
    assert.match(olga.url(), /[?&]sort=relevance\b/);

    await olga.getByRole('searchbox', { name: 'Search' }).fill('strassenfest');
    await olga.getByRole('button', { name: 'Search', exact: true }).click();
    await olga.getByTestId('result-total').filter({ hasText: /^1 message$/ }).waitFor();
    const snippet = olga.getByTestId('snippet');
    assert.equal(await snippet.textContent(), 'Come to the Straßenfest! <script>document.title="owned"</script> <b>Bring</b> a cake.', 'ß found by ss; the markup shown as text');
    assert.equal(await snippet.locator('mark').textContent(), 'Straßenfest');
    assert.equal(await olga.locator('ol.results script, ol.results b').count(), 0, 'no element made from the mail');
    assert.notEqual(await olga.title(), 'owned');
  });

  await t.test('a conversation walked with previous and next', async () => {
    await olga.goto(`${site.url}/mailbox?q=harbour`);
    await olga.getByTestId('result-total').filter({ hasText: '3 messages' }).waitFor();
    await olga.getByRole('link', { name: 'Re: Re: Harbour plan' }).click();
    await olga.getByRole('heading', { level: 1, name: 'Re: Re: Harbour plan' }).waitFor();
    const position = olga.getByTestId('thread-position');
    await position.filter({ hasText: 'Message 3 of 3 in this conversation' }).waitFor();
    assert.equal(await olga.getByRole('link', { name: 'Next in conversation →' }).count(), 0, 'the last has no next');
    await olga.getByRole('link', { name: '← Previous in conversation' }).click();
    await olga.getByRole('heading', { level: 1, name: 'Re: Harbour plan' }).waitFor();
    await position.filter({ hasText: 'Message 2 of 3' }).waitFor();
    await olga.getByRole('link', { name: '← Previous in conversation' }).click();
    await olga.getByRole('heading', { level: 1, name: 'Harbour plan' }).waitFor();
    await position.filter({ hasText: 'Message 1 of 3' }).waitFor();
    await olga.getByText('This is the first message.').waitFor();
    await olga.getByRole('link', { name: 'Next in conversation →' }).click();
    await olga.getByRole('heading', { level: 1, name: 'Re: Harbour plan' }).waitFor();
    assert.ok(olga.url().includes(`/mailbox/${harbour[1]}`), olga.url());
    assert.deepEqual(await axe(olga), [], 'axe-core on a message with its conversation');
    await screenshot(olga, 'mailbox-conversation');
    await olga.getByRole('link', { name: '← Back to my mailbox' }).click();
    await olga.getByTestId('result-total').filter({ hasText: '3 messages' }).waitFor();
    assert.equal(await olga.getByRole('searchbox', { name: 'Search' }).inputValue(), 'harbour', 'back to the same search');
  });

  const exported = async (page: Page, count: number) => {
    await page.getByTestId('export-count').filter({ hasText: `All ${count} messages this search finds` }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Export ${count} messages` }).click()]);
    const file = readFileSync((await download.path())!, 'latin1');
    await page.getByTestId('export-done').filter({ hasText: `Exported ${count} messages` }).waitFor();
    return file;
  };

  await t.test('the owner exports what the search finds', async () => {
    const file = await exported(olga, 3);
    assert.equal(file.match(/^From sealbox@localhost /gm)?.length, 3);
    for (const s of thread) assert.ok(file.includes(`Subject: ${s}\n`), s);
    const entry = (await world.take('olga')).filter((e) => e.operation === 'export');
    assert.deepEqual(entry.map((e) => [e.result, e.objects.messages.length]), [['success', 3]]);
  });

  await t.test('an investigator exports under a grant with export, and is refused without it', async () => {
    const grant = async (permissions: string[]) => {
      const r = await world.as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'harbour dispute', ticket: `H-${permissions.length}`, mailboxes: [OWNER], permissions, durationHours: 2 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((await world.as.appr.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'ok' })).status, 200);
      return r.body.id as string;
    };
    const withExport = await grant(['search', 'read', 'export']);
    const withoutExport = await grant(['search', 'read']);
    const rita = await openAs(browser, site, 'rita', problems, { bypassCSP: true });
    await rita.goto(`${site.url}/investigation?grant=${withExport}&q=harbour`);
    await rita.getByTestId('result-total').filter({ hasText: '3 messages' }).waitFor();
    const file = await exported(rita, 3);
    assert.equal(file.match(/^From sealbox@localhost /gm)?.length, 3);
    assert.deepEqual(await axe(rita), [], 'axe-core on Investigation with export');
    await screenshot(rita, 'investigation-export');

    await rita.goto(`${site.url}/investigation?grant=${withoutExport}&q=harbour`);
    await rita.getByTestId('result-total').filter({ hasText: '3 messages' }).waitFor();
    assert.equal(await rita.getByRole('button', { name: /^Export/ }).count(), 0, 'no export offered without the permission');
    const status = await rita.evaluate(`fetch('/api/v1/export?q=harbour&grant=${withoutExport}').then((r) => r.status)`);
    assert.equal(status, 403, 'and the server refuses it');
    const entries = (await world.take('rita')).filter((e) => e.operation === 'export');
    assert.deepEqual(entries.map((e) => [e.result, e.grantId, e.objects.messages.length]), [['success', withExport, 3], ['denied', withoutExport, 0]]);
    await rita.context().close();
  });
  assert.deepEqual(problems.filter((p) => !/status of 403/.test(p)), []);
});
