// Issue 19, step 4: OCR (index.ocr). ImageMagick renders a PNG with a word of its own, and a JPEG
// that the test wraps into a PDF with no text layer (a scan); both are mailed over SMTP. A server
// with OCR off does not find the words (the picture is not read, the scan has no text); `sealbox
// reindex --attachments` with OCR on reads them (OCR is part of what read a message), and a
// server with OCR on reads a new picture as it comes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiClient } from './support/api-client.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { pdfOfJpeg } from './support/pdf.ts';
import { readerToken } from './support/reader.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

const CONVERT = '/usr/bin/convert';

function mail(n: number, file: { filename: string; contentType: string; content: Buffer }): Buffer {
  return Buffer.from(['From: Alice <alice@partner.test>', 'To: Bob <bob@corp.test>', `Subject: Scan ${n}`, `Message-ID: <ocr-${n}@partner.test>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', `The scan number ${n}.`,
    '--b', `Content-Type: ${file.contentType}; name="${file.filename}"`, `Content-Disposition: attachment; filename="${file.filename}"`,
    'Content-Transfer-Encoding: base64', '', file.content.toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd(), '--b--', ''].join('\r\n'));
}

// A picture of black words on white, rendered by ImageMagick with DejaVu Sans.
function picture(dir: string, name: string, words: string): Buffer {
  const file = path.join(dir, name);
  execFileSync(CONVERT, ['-size', '1000x220', 'xc:white', '-font', 'DejaVu-Sans', '-pointsize', '56', '-fill', 'black', '-annotate', '+30+130', words, file]);
  return readFileSync(file);
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

async function send(server: SealboxServer, raws: Buffer[]): Promise<void> {
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  for (const raw of raws) assert.equal((await smtp.send({ from: 'alice@partner.test', to: ['bob@corp.test'] }, raw)).data[0]!.code, 250);
  await smtp.quit();
  await waitForIndex(server.data);
}

// Bob's reader token (made once: a second owner of the mailbox would be staged for approval).
async function reader(server: SealboxServer, token: string) {
  const api = new ApiClient(server.http!.url);
  api.token = token;
  return async (q: string) => {
    const r = await api.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.results.map((h: { sha256: string }) => h.sha256).sort() as string[];
  };
}

test('OCR reads pictures and scans when on, not when off; reindex --attachments catches up', { timeout: 300_000 }, async (t) => {
  const dir = tempDataDir();
  const png = picture(dir, 'whiteboard.png', 'Quetzalocrword budget');
  picture(dir, 'scan.png', 'Toucanscanword signed');
  execFileSync(CONVERT, [path.join(dir, 'scan.png'), '-colorspace', 'Gray', '-quality', '90', path.join(dir, 'scan.jpg')]);
  const jpeg = readFileSync(path.join(dir, 'scan.jpg'));
  const scan = pdfOfJpeg(jpeg, 1000, 220);
  const raws = [
    mail(1, { filename: 'whiteboard.png', contentType: 'image/png', content: png }),
    mail(2, { filename: 'signed.pdf', contentType: 'application/pdf', content: scan }),
  ];

  const off = testConfig({ auth: { enabled: false } });
  const first = await startSealbox({ args: ['--config', off, '--http', '127.0.0.1:0'] });
  const data = first.data;
  let token = '';
  try {
    await send(first, raws);
    token = await readerToken(data, ['bob@corp.test'], { config: off });
    const search = await reader(first, token);
    assert.deepEqual(await search('attachment:quetzalocrword'), [], 'OCR off: the picture is not read');
    assert.deepEqual(await search('attachment:toucanscanword'), [], 'OCR off: the scan has no text layer');
    assert.deepEqual(await search('scan'), raws.map(sha256).sort(), 'both are found by their own words');
  } finally {
    assert.equal(await first.stop(), 0);
  }

  const on = testConfig({ auth: { enabled: false }, index: { ocr: true, ocrLanguages: 'eng' } });
  const caught = await sealbox(['reindex', '--attachments', '--json', '--data', data, '--config', on], { timeoutMs: 120_000 });
  assert.equal(caught.code, 0, caught.stderr.toString());
  assert.deepEqual(JSON.parse(caught.stdout.toString()), { queued: 2, read: 2, pending: 0 }, 'turning OCR on makes both to be read again');

  const second = await startSealbox({ data, args: ['--config', on, '--http', '127.0.0.1:0'] });
  t.after(() => second.stop());
  const later = mail(3, { filename: 'later.png', contentType: 'application/octet-stream', content: picture(dir, 'later.png', 'Macawocrword arrived') });
  await send(second, [later]);
  const search = await reader(second, token);
  assert.deepEqual(await search('attachment:quetzalocrword'), [sha256(raws[0]!)], 'the picture, read by reindex --attachments');
  assert.deepEqual(await search('toucanscanword'), [sha256(raws[1]!)], 'the scan\'s page, rendered and read');
  assert.deepEqual(await search('attachment:macawocrword'), [sha256(later)], 'a picture read as it comes (known by its first bytes)');
  assert.deepEqual(await search('attachment:budget'), [sha256(raws[0]!)], 'each word in its own message only');
});
