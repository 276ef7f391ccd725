// Issue 19, step 2: `sealbox reindex --attachments` reads the attachments of mail archived while
// extraction was off. An archive is filled over SMTP by a server with index.attachmentText off
// (each message with a PDF whose text only it holds); the command, killed half way, leaves the
// rest queued; run again it reads exactly that rest; run a third time it has nothing to do; then a
// server with extraction on finds every word by attachment:.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ApiClient } from './support/api-client.ts';
import { pdfSaying } from './support/pdf.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readerToken } from './support/reader.ts';
import { CLI, sealbox, startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

function mail(n: number, files: { filename: string; contentType: string; content: Buffer }[]): Buffer {
  const lines = ['From: Alice <alice@partner.test>', 'To: Bob <bob@corp.test>', `Subject: Statement ${n}`, `Message-ID: <reindex-${n}@partner.test>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', `Statement number ${n} attached.`];
  for (const f of files) {
    lines.push('--b', `Content-Type: ${f.contentType}; name="${f.filename}"`, `Content-Disposition: attachment; filename="${f.filename}"`,
      'Content-Transfer-Encoding: base64', '', f.content.toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd());
  }
  lines.push('--b--', '');
  return Buffer.from(lines.join('\r\n'));
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

function pendingIn(data: string): number {
  const db = new DatabaseSync(join(data, 'index.db'), { readOnly: true });
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM extraction_pending').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

test('reindex --attachments reads the attachments of mail archived with extraction off, resumably', { timeout: 300_000 }, async (t) => {
  const MESSAGES = 150;
  const raws = Array.from({ length: MESSAGES }, (_, n) => mail(n, [{ filename: `statement-${n}.pdf`, contentType: 'application/pdf', content: pdfSaying(`Backfillword statement reindexword${n} settled`) }]));
  // An attachment of no kind whose text is read, and a message with none: nothing to read.
  const picture = mail(1000, [{ filename: 'logo.png', contentType: 'image/png', content: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') }]);
  const bare = Buffer.from('From: alice@partner.test\r\nTo: bob@corp.test\r\nSubject: Nothing attached\r\nMessage-ID: <reindex-bare@partner.test>\r\n\r\nJust text.\r\n');

  const off = testConfig({ auth: { enabled: false }, index: { attachmentText: false } });
  const first = await startSealbox({ args: ['--config', off] });
  const data = first.data;
  try {
    const smtp = await RawSmtpClient.connect(first.smtp.port);
    for (const raw of [...raws, picture, bare]) assert.equal((await smtp.send({ from: 'alice@partner.test', to: ['bob@corp.test'] }, raw)).data[0]!.code, 250);
    await smtp.quit();
    await waitForIndex(data);
    assert.equal(pendingIn(data), 0, 'with extraction off nothing is queued');
  } finally {
    assert.equal(await first.stop(), 0);
  }

  const on = testConfig({ auth: { enabled: false } });
  // Refused while extraction is off, with the key named; nothing queued.
  const refused = await sealbox(['reindex', '--attachments', '--data', data, '--config', off]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr.toString(), /index\.attachmentText is false/);
  assert.equal(pendingIn(data), 0);

  // The first run is killed once some of the attachments are read.
  const child = spawn(process.execPath, [CLI, 'reindex', '--attachments', '--json', '--data', data, '--config', on], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let seen = 0;
  await waitUntil('the first run has read some attachments', () => {
    try {
      seen = pendingIn(data);
    } catch {
      return false;   // busy while the run writes
    }
    return seen > 0 && seen <= MESSAGES + 1 - 10;
  }, { timeoutMs: 60_000, intervalMs: 10, detail: () => stderr });
  child.kill('SIGKILL');
  await exited;
  const left = pendingIn(data);
  assert.match(stderr, new RegExp(`^reading the attachments of ${MESSAGES + 1} messages$`, 'm'), 'it says how many it reads');
  assert.ok(left > 0 && left < MESSAGES + 1, `killed half way: ${left} of ${MESSAGES + 1} still queued`);

  // Run again: it goes on with what is left, queueing nothing twice.
  const second = await sealbox(['reindex', '--attachments', '--json', '--data', data, '--config', on], { timeoutMs: 240_000 });
  assert.equal(second.code, 0, second.stderr.toString());
  assert.deepEqual(JSON.parse(second.stdout.toString()), { queued: 0, read: left, pending: 0 });
  assert.match(second.stderr.toString(), new RegExp(`^reading the attachments of ${left} messages$`, 'm'));
  // And once more: everything has been read.
  const third = await sealbox(['reindex', '--attachments', '--json', '--data', data, '--config', on]);
  assert.equal(third.code, 0, third.stderr.toString());
  assert.deepEqual(JSON.parse(third.stdout.toString()), { queued: 0, read: 0, pending: 0 });

  const server = await startSealbox({ data, args: ['--config', on, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const api = new ApiClient(server.http!.url);
  api.token = await readerToken(data, ['bob@corp.test'], { config: on });
  const search = async (q: string) => {
    const r = await api.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=500`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.results.map((h: { sha256: string }) => h.sha256).sort();
  };
  assert.deepEqual(await search('attachment:backfillword'), raws.map(sha256).sort(), 'every archived PDF was read');
  for (const n of [0, 77, MESSAGES - 1]) {
    assert.deepEqual(await search(`reindexword${n}`), [sha256(raws[n]!)], `reindexword${n}: its own message only`);
    const r = await api.call('GET', `/api/v1/messages/${sha256(raws[n]!)}`);
    assert.deepEqual(r.body.attachments.map((a: { extraction: string | null }) => a.extraction), ['ok']);
  }
  const png = await api.call('GET', `/api/v1/messages/${sha256(picture)}`);
  assert.deepEqual(png.body.attachments.map((a: { extraction: string | null }) => a.extraction), [null], 'a picture has no text to read (without OCR)');
});
