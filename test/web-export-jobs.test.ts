// Issue 18, step 2, in the web app (Debian's Chromium): on the investigation view of a grant that
// carries export, the requester starts an evidence package of the current search, sees it
// waiting with its progress, cancels it, starts another, watches it finish and downloads its zip;
// the zip, unzipped by Python's zipfile, passes the verify.py inside it. The start, the cancel and
// the download are in the ledger; a case (legal hold) is exported from the same panel by its id;
// once the grant has ended, a download is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, openAs, screenshot } from './support/browser.ts';
import { corpusFiles } from './support/corpus.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { tempDataDir } from './support/sealbox.ts';
import { toCrlf } from './support/smtp-client.ts';

const MBOX_CHECK = `
import hashlib, mailbox, os, re, sys
root = sys.argv[1]
archived = {}
for name in os.listdir(os.path.join(root, 'messages')):
    raw = open(os.path.join(root, 'messages', name), 'rb').read().replace(b'\\r\\n', b'\\n')
    archived[hashlib.sha256(raw).hexdigest()] = name
found = set()
box = mailbox.mbox(os.path.join(root, 'mbox', 'olga@corp.test.mbox'))
for key in box.keys():
    text = re.sub(rb'(?m)^>(>*From )', rb'\\1', box.get_bytes(key))
    # mboxrd ends each message with an empty line; a message that ended without a line break got one.
    match = [archived[h] for h in (hashlib.sha256(t).hexdigest() for t in (text, text[:-1])) if h in archived]
    assert len(match) == 1 and match[0] not in found, 'message %s is not one archived, or twice' % key
    found.add(match[0])
print('%d of %d messages' % (len(found), len(archived)))
`;

function python(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('web: an evidence package made in the background from the investigation view, cancelled, made, downloaded and verified', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], anna: ['approver'] },
  }, { listen: true });
  t.after(async () => {
    await world.parts.exports.stop();
    await world.stop();
  });
  const { as } = world;
  const url = world.url!;
  const mails = corpusFiles().filter((_, i) => i % 300 === 0).map((f) => toCrlf(readFileSync(f)));
  for (const raw of mails) await world.deliver({ from: 'journal@relay.test', to: ['olga@corp.test'] }, raw);
  await world.parts.checkpoint();   // the proofs lead to a signed checkpoint that holds them all
  const filed = await as.rita.call('POST', '/api/v1/requests', {
    purpose: 'legal-hold', justification: 'Supplier dispute: production of the mailbox', ticket: 'LEG-31', mailboxes: ['olga@corp.test'], permissions: ['search', 'read', 'export'], durationHours: 4,
  });
  assert.equal(filed.status, 200, JSON.stringify(filed.body));
  const grant = filed.body.id as string;
  assert.equal((await as.anna.call('POST', `/api/v1/requests/${grant}/approve`, { reason: 'LEG-31 is open' })).body.state, 'active');
  await world.takeAll();

  const problems: string[] = [];
  const rita: Page = await openAs(browser, { url, as }, 'rita', problems);
  await rita.goto(`${url}/investigation?grant=${grant}&q=${encodeURIComponent('mailbox:olga@corp.test')}`);
  await rita.getByTestId('result-total').filter({ hasText: `${mails.length} messages` }).waitFor();
  const panel = rita.getByRole('region', { name: 'Evidence package' });
  await panel.getByTestId('package-count').filter({ hasText: `All ${mails.length} messages this search finds` }).waitFor();

  // The server runs no job yet (serve would): the first waits, with its progress, and is cancelled.
  const startButton = panel.getByRole('button', { name: `Make an evidence package of ${mails.length} messages` });
  await startButton.click();
  const first = panel.locator('li[data-state="queued"]');
  await first.getByTestId('job-progress').filter({ hasText: `0 of ${mails.length} messages` }).waitFor();
  await first.getByRole('progressbar').waitFor();
  await screenshot(rita, 'investigation-export-job-queued');
  const firstId = await first.getAttribute('data-job');
  await first.getByRole('button', { name: 'Cancel' }).click();
  await panel.locator(`li[data-job="${firstId}"][data-state="cancelled"]`).getByTestId('job-cancelled').filter({ hasText: `after 0 of ${mails.length} messages; nothing of it was handed out` }).waitFor();

  // The second, with an mbox file per custodian, runs to its end while the page watches, and its zip downloads.
  await panel.getByRole('checkbox', { name: /one mbox file per custodian/ }).check();
  await startButton.click();
  await panel.locator('li[data-state="queued"]').waitFor();
  world.parts.exports.run();
  const done = panel.locator('li[data-state="done"]');
  await done.getByTestId('job-done').filter({ hasText: `${mails.length} messages, recorded as ledger entry` }).waitFor({ timeout: 120_000 });
  await screenshot(rita, 'investigation-export-job-done');
  const jobId = (await done.getAttribute('data-job'))!;
  const job = (await as.rita.call('GET', `/api/v1/exports/${jobId}`)).body;
  assert.equal(job.files.length, 1);
  const [download] = await Promise.all([rita.waitForEvent('download'), done.getByRole('link', { name: job.files[0].name }).click()]);
  const zip = (await download.path())!;
  const folder = join(tempDataDir(), 'package');
  const unzipped = await python(['-c', 'import sys, zipfile\nzipfile.ZipFile(sys.argv[2]).extractall(sys.argv[1])', folder, zip]);
  assert.equal(unzipped.code, 0, unzipped.out);
  const verified = await python([join(folder, 'verify.py'), folder]);
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, new RegExp(`^OK ${mails.length} messages`));
  // The custodian's mbox, read by Python's mailbox module and un-escaped as mboxrd says: each
  // message once, its bytes those archived (with LF line ends, as mbox keeps them).
  const mbox = await python(['-c', MBOX_CHECK, folder]);
  assert.equal(mbox.code, 0, mbox.out);
  assert.equal(mbox.out.trim(), `${mails.length} of ${mails.length} messages`);

  const entries = (await world.take('rita')).filter((e) => e.operation.startsWith('export'));
  assert.deepEqual(entries.map((e) => [e.operation, e.result, e.grantId]), [
    ['export.job', 'success', grant], ['export.cancel', 'success', grant], ['export.job', 'success', grant], ['export', 'success', grant], ['export.download', 'success', grant],
  ]);
  assert.deepEqual([entries[1].parameters.job, entries[1].parameters.messagesDone, entries[1].parameters.messagesTotal], [firstId, 0, mails.length]);
  assert.equal(entries[3].parameters.job, jobId);

  // A case: the legal hold on olga's mailbox, exported by its id under this grant, which covers it.
  const hold = (await as.adm.call('POST', '/api/v1/holds', { name: 'Supplier dispute', matter: 'LEG-31', custodians: ['olga@corp.test'] })).body.id as string;
  await world.takeAll();
  const caseForm = panel.getByRole('form', { name: 'Export a legal hold' });
  await caseForm.getByLabel('Legal hold (case) id').fill(hold);
  await caseForm.getByRole('button', { name: 'Export the case' }).click();
  const ofCase = panel.locator('li[data-job]').filter({ hasText: `legal hold ${hold} “Supplier dispute” (matter LEG-31)` });
  await ofCase.filter({ has: rita.getByTestId('job-done') }).waitFor({ timeout: 120_000 });
  assert.deepEqual((await world.take('rita')).filter((e) => e.operation === 'export.job').map((e) => [e.result, e.parameters.hold, e.objects.messages.length]), [['success', hold, mails.length]]);

  // The grant ended ("I'm done"): a finished package is no standing access. Its download is
  // refused, and the refusal recorded.
  assert.equal((await as.rita.call('POST', `/api/v1/requests/${grant}/revoke`, { reason: 'production delivered' })).status, 200);
  const after = await as.rita.call('GET', `/api/v1/exports/${jobId}/files/${job.files[0].name}`);
  assert.equal(after.status, 403, JSON.stringify(after.body));
  assert.deepEqual((await world.take('rita')).filter((e) => e.operation === 'export.download').map((e) => [e.result, e.grantId, e.parameters.file]), [['denied', grant, job.files[0].name]]);
  assert.deepEqual(problems, []);
});
