// Issue 19, step 2, in Debian's Chromium against Sealbox in process: a search result says when its
// words are inside an attachment and in which one, and the viewer shows an attachment's text on
// request; showing it is a read, one attachment-text entry in the ledger. Over the API, a reader
// whose scope does not hold the message gets nothing of its attachments' text (404, recorded as
// refused), under a grant as without one. Checked by axe-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { pdfSaying } from './support/pdf.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return result.violations.filter((v) => v.impact !== 'minor').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

// A minimal DOCX: its content types and its document part.
function docx(text: string): Buffer {
  return Buffer.from(zipSync({
    '[Content_Types].xml': Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    'word/document.xml': Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`),
  }));
}

function mail(to: string, subject: string, body: string, files: { filename: string; contentType: string; content: Buffer }[]): Buffer {
  const lines = ['From: Carol Partner <carol@partner.test>', `To: ${to}`, `Subject: ${subject}`, 'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    `Message-ID: <${createHash('sha256').update(subject).digest('hex').slice(0, 12)}@partner.test>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', body];
  for (const f of files) {
    lines.push('--b', `Content-Type: ${f.contentType}; name="${f.filename}"`, `Content-Disposition: attachment; filename="${f.filename}"`,
      'Content-Transfer-Encoding: base64', '', f.content.toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd());
  }
  lines.push('--b--', '');
  return Buffer.from(lines.join('\r\n'));
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

test('web: a result names the attachment its words are in; the viewer shows its text, recorded; out of scope gets nothing', { timeout: 240_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'bob@corp.test': 'bob', 'olga@corp.test': 'olga' },
    users: { bob: ['owner'], olga: ['owner'], rita: ['requester'], appr: ['approver'] },
  }, { listen: true });
  t.after(() => world.stop());

  // Bob's: the word inside the second of two attachments; the word in a body; a PDF's word.
  const inside = mail('bob@corp.test', 'Contract draft', 'Please see the files attached.', [
    { filename: 'agenda.txt', contentType: 'text/plain', content: Buffer.from('Agenda: lunch at noon.') },
    { filename: 'contract.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', content: docx('The kumquatword clause binds both parties.') },
  ]);
  const body = mail('bob@corp.test', 'Fruit talk', 'A kumquatword in the body only.', []);
  const pdf = mail('bob@corp.test', 'Statement', 'The statement.', [{ filename: 'statement.pdf', contentType: 'application/pdf', content: pdfSaying('Balance settled kumquatword') }]);
  // Olga's: the same word inside an attachment, outside Bob's scope.
  const theirs = mail('olga@corp.test', 'Olga contract', 'Attached.', [{ filename: 'other.docx', contentType: 'application/octet-stream', content: docx('Another kumquatword clause, secret.') }]);
  for (const [to, raw] of [['bob@corp.test', inside], ['bob@corp.test', body], ['bob@corp.test', pdf], ['olga@corp.test', theirs]] as const) {
    await world.deliver({ from: 'carol@partner.test', to: [to] }, raw);
  }

  // The API says which attachment holds the words, for each result.
  const r = await world.as.bob.call('GET', '/api/v1/search?q=kumquatword&snippets=1');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const byHit = Object.fromEntries(r.body.results.map((h: any) => [h.sha256, h.inAttachments]));
  assert.deepEqual(byHit, {
    [sha256(inside)]: [{ attachment: 1, filename: 'contract.docx' }],
    [sha256(body)]: [],
    [sha256(pdf)]: [{ attachment: 0, filename: 'statement.pdf' }],
  }, 'Olga\'s message is not among them; the body hit names no attachment');
  const only = await world.as.bob.call('GET', `/api/v1/search?q=${encodeURIComponent('attachment:lunch')}`);
  assert.deepEqual(only.body.results.map((h: any) => [h.sha256, h.inAttachments]), [[sha256(inside), [{ attachment: 0, filename: 'agenda.txt' }]]]);
  await world.take('bob');

  const site = { url: world.url!, as: world.as };
  const problems: string[] = [];
  const bob = await openAs(browser, site, 'bob', problems, { bypassCSP: true });

  await t.test('the result list names the attachment the words are in', async () => {
    await bob.goto(`${site.url}/mailbox?q=kumquatword`);
    await bob.getByTestId('result-total').filter({ hasText: /^3 messages$/ }).waitFor();
    const item = (subject: string) => bob.getByRole('list', { name: 'Messages found' }).getByRole('listitem').filter({ has: bob.getByRole('link', { name: subject }) });
    assert.equal(await item('Contract draft').getByTestId('found-in').textContent(), 'Found inside the attachment contract.docx');
    assert.equal(await item('Statement').getByTestId('found-in').textContent(), 'Found inside the attachment statement.pdf');
    assert.equal(await item('Fruit talk').getByTestId('found-in').count(), 0, 'a word in the body names no attachment');
    assert.deepEqual(await axe(bob), [], 'axe-core on results found inside attachments');
    await screenshot(bob, 'attachment-found-in');
  });

  await t.test('the viewer shows an attachment\'s text on request, and that is a read', async () => {
    await bob.getByRole('link', { name: 'Contract draft' }).click();
    await bob.getByRole('heading', { level: 1, name: 'Contract draft' }).waitFor();
    const attachments = bob.locator('ul.attachments li');
    await attachments.first().waitFor();
    assert.match((await attachments.nth(1).textContent())!, /contract\.docx.*text read/);
    assert.deepEqual((await world.take('bob')).filter((e) => e.operation === 'attachment-text'), [], 'nothing read before it is asked for');
    await bob.getByRole('button', { name: 'Show text of contract.docx' }).click();
    const text = bob.getByLabel('Text of contract.docx', { exact: true });
    await text.waitFor();
    assert.equal(await text.textContent(), 'The kumquatword clause binds both parties.');
    const entries = (await world.take('bob')).filter((e) => e.operation === 'attachment-text');
    assert.deepEqual(entries.map((e) => [e.result, e.objects.messages, e.parameters?.attachment]), [['success', [sha256(inside)], 1]]);
    assert.deepEqual(await axe(bob), [], 'axe-core on a message with an attachment\'s text shown');
    await screenshot(bob, 'attachment-text');
    await bob.getByRole('button', { name: 'Hide text of contract.docx' }).click();
    assert.equal(await text.count(), 0);
  });

  await t.test('a reader whose scope does not hold the message gets nothing, recorded as refused', async () => {
    // Olga owns her mailbox, not Bob's; Bob not hers.
    const olga = await world.as.olga.call('GET', `/api/v1/messages/${sha256(inside)}/attachments/1/text`);
    assert.equal(olga.status, 404);
    assert.ok(!JSON.stringify(olga.body).includes('kumquatword'), JSON.stringify(olga.body));
    const refused = (await world.take('olga')).filter((e) => e.operation === 'attachment-text');
    assert.deepEqual(refused.map((e) => [e.result, e.objects.messages]), [['denied', [sha256(inside)]]]);
    assert.equal((await world.as.bob.call('GET', `/api/v1/messages/${sha256(theirs)}/attachments/0/text`)).status, 404);
    assert.equal((await world.as.bob.call('GET', `/api/v1/messages/${sha256(inside)}/attachments/9/text`)).status, 404, 'no such attachment');
    assert.equal((await world.as.bob.call('GET', `/api/v1/messages/${sha256(inside)}/attachments/x/text`)).status, 400);

    // Under a grant on Bob's mailbox: his message's attachment, not Olga's.
    const req = await world.as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'contract dispute', ticket: 'C-1', mailboxes: ['bob@corp.test'], permissions: ['search', 'read'], durationHours: 2 });
    assert.equal(req.status, 200, JSON.stringify(req.body));
    assert.equal((await world.as.appr.call('POST', `/api/v1/requests/${req.body.id}/approve`, { reason: 'ok' })).status, 200);
    const granted = await world.as.rita.call('GET', `/api/v1/messages/${sha256(pdf)}/attachments/0/text?grant=${req.body.id}`);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual([granted.body.filename, granted.body.extraction, granted.body.text], ['statement.pdf', 'ok', 'Balance settled kumquatword']);
    const outside = await world.as.rita.call('GET', `/api/v1/messages/${sha256(theirs)}/attachments/0/text?grant=${req.body.id}`);
    assert.equal(outside.status, 404);
    assert.ok(!JSON.stringify(outside.body).includes('kumquatword'));
    assert.equal((await world.as.rita.call('GET', `/api/v1/messages/${sha256(pdf)}/attachments/0/text`)).status, 403, 'without the grant she reads nothing');
    const ritas = (await world.take('rita')).filter((e) => e.operation === 'attachment-text');
    assert.deepEqual(ritas.map((e) => [e.result, e.grantId]), [['success', req.body.id], ['denied', req.body.id], ['denied', null]]);
  });
  assert.deepEqual(problems.filter((p) => !/status of 40[34]/.test(p)), []);
});
