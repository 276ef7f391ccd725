// Issue 19, step 1: the text inside attachments is found. Documents made by a real producer
// (LibreOffice converting a text this test writes, one word of its own per format) are mailed
// over SMTP to a real `sealbox serve`; each word is found by attachment: and by a plain search,
// in its own message only. Hostile attachments (a nested ZIP bomb, an entity bomb inside a DOCX,
// an encrypted ZIP, a cut DOCX, an archive nested a thousand deep) are each recorded with their
// reason, their messages are found by their other words, and the index does not wait for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { pino } from 'pino';
import { ExtractorPool } from '../src/index/extract/extractor-pool.ts';
import { ApiClient } from './support/api-client.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { convertWithLibreOffice, libreOfficeSkipReason } from './support/libreoffice.ts';
import { readerToken } from './support/reader.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

interface File { filename: string; contentType: string; content: Uint8Array }

// A message to bob@corp.test with a text body and the files attached (base64).
function mail(n: number, subject: string, body: string, files: File[]): Buffer {
  const boundary = `part-${n}`;
  const lines = ['From: Alice <alice@partner.test>', 'To: Bob <bob@corp.test>', `Subject: ${subject}`, `Message-ID: <attachment-${n}@partner.test>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '',
    `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', body];
  for (const f of files) {
    lines.push(`--${boundary}`, `Content-Type: ${f.contentType}; name="${f.filename}"`, `Content-Disposition: attachment; filename="${f.filename}"`,
      'Content-Transfer-Encoding: base64', '', Buffer.from(f.content).toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd());
  }
  lines.push(`--${boundary}--`, '');
  return Buffer.from(lines.join('\r\n'));
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

// A server, its mail sent over SMTP, and an owner of bob@corp.test reading through the HTTP API.
async function serveAndSend(t: { after(fn: () => unknown): void }, messages: Buffer[]): Promise<{ server: SealboxServer; api: ApiClient; config: string; sentAt: number }> {
  const config = testConfig({ auth: { enabled: false } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const api = new ApiClient(server.http!.url);
  api.token = await readerToken(server.data, ['bob@corp.test'], { config });
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  for (const raw of messages) assert.equal((await smtp.send({ from: 'alice@partner.test', to: ['bob@corp.test'] }, raw)).data[0]!.code, 250);
  await smtp.quit();
  return { server, api, config, sentAt: performance.now() };
}

async function found(api: ApiClient, query: string): Promise<string[]> {
  const r = await api.call('GET', `/api/v1/search?q=${encodeURIComponent(query)}&limit=100`);
  assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
  return r.body.results.map((h: { sha256: string }) => h.sha256).sort();
}

async function attachmentsOf(api: ApiClient, sha: string): Promise<{ filename: string; extraction: string | null }[]> {
  const r = await api.call('GET', `/api/v1/messages/${sha}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.attachments;
}

// Each document holds a word no other message holds; LibreOffice makes it from a text (Writer
// formats), a CSV (the spreadsheet) or a flat OpenDocument presentation (the slides).
const DOCUMENTS = [
  { ext: 'docx', word: 'quokkadocx', source: 'txt', filter: 'MS Word 2007 XML', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  { ext: 'odt', word: 'pangolinodt', source: 'txt', filter: 'writer8', type: 'application/vnd.oasis.opendocument.text' },
  { ext: 'rtf', word: 'narwhalrtf', source: 'txt', filter: 'Rich Text Format', type: 'application/rtf' },
  { ext: 'doc', word: 'axolotldoc', source: 'txt', filter: 'MS Word 97', type: 'application/msword' },
  { ext: 'pdf', word: 'wombatpdf', source: 'txt', filter: 'writer_pdf_Export', type: 'application/pdf' },
  { ext: 'xlsx', word: 'okapixlsx', source: 'csv', filter: 'Calc MS Excel 2007 XML', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  // Sent as octet-stream: the name says what it is.
  { ext: 'pptx', word: 'tapirpptx', source: 'fodp', filter: 'Impress MS PowerPoint 2007 XML', type: 'application/octet-stream' },
] as const;

function sourceFile(dir: string, d: { ext: string; word: string; source: string }, name = d.ext): string {
  const file = path.join(dir, `${name}-source.${d.source}`);
  if (d.source === 'txt') writeFileSync(file, `Minutes of the ${d.ext} meeting\nThe committee discussed the ${d.word} proposal at length.\n`);
  else if (d.source === 'csv') writeFileSync(file, `item,amount\n${d.word},1250\nshipping,40\n`);
  else {
    writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
  xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
 <office:body><office:presentation><draw:page draw:name="p1"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="20cm" svg:height="5cm">
  <draw:text-box><text:p>Quarterly slides on the ${d.word} launch</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body>
</office:document>`);
  }
  return file;
}

test('the text inside real documents is found by attachment: and by plain words, in its own message only', { timeout: 300_000 }, async (t) => {
  const skip = libreOfficeSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const dir = tempDataDir();
  const started = performance.now();
  const out = (name: string) => path.join(dir, name);
  await convertWithLibreOffice([
    ...DOCUMENTS.map((d) => ({ input: sourceFile(dir, d), output: out(`minutes.${d.ext}`), export: d.filter, import: d.source === 'csv' ? 'Text - txt - csv (StarCalc)' : undefined })),
    // The same text, encrypted with a password to open it.
    { input: sourceFile(dir, { ...DOCUMENTS[4], word: 'lockedpdfword' }, 'locked'), output: out('locked.pdf'), export: 'writer_pdf_Export', password: 'open sesame' },
  ]);
  const converted = performance.now() - started;

  const raws = DOCUMENTS.map((d, n) => mail(n, `Minutes, ${d.ext} edition`, `Minutes attached as ${d.ext}.`, [{ filename: `minutes.${d.ext}`, contentType: d.type, content: readFileSync(out(`minutes.${d.ext}`)) }]));
  const locked = mail(100, 'Locked minutes', 'The minutes, locked with a password.', [{ filename: 'locked.pdf', contentType: 'application/pdf', content: readFileSync(out('locked.pdf')) }]);
  const plain = mail(101, 'No attachment here', 'Only words in the body; nothing attached of any of those kinds.', []);
  const { server, api } = await serveAndSend(t, [...raws, locked, plain]);
  await waitForIndex(server.data);

  for (const [n, d] of DOCUMENTS.entries()) {
    const own = [sha256(raws[n]!)];
    assert.deepEqual(await found(api, `attachment:${d.word}`), own, `attachment:${d.word} (${d.ext})`);
    assert.deepEqual(await found(api, d.word), own, `${d.word} (${d.ext}), a plain word`);
    assert.deepEqual(await found(api, `attachment:"${d.source === 'fodp' ? `the ${d.word} launch` : d.source === 'csv' ? `${d.word} 1250` : `the ${d.word} proposal`}"`), own, `a phrase in the ${d.ext}`);
    assert.deepEqual(await attachmentsOf(api, own[0]!).then((a) => a.map((x) => x.extraction)), ['ok'], `${d.ext} read whole`);
  }
  // Every Writer document says "committee": found in those five messages, and only by their attachments.
  const writer = DOCUMENTS.flatMap((d, n) => (d.source === 'txt' ? [sha256(raws[n]!)] : [])).sort();
  assert.deepEqual(await found(api, 'attachment:committee'), writer);
  assert.deepEqual(await found(api, 'subject:committee'), []);
  assert.deepEqual(await found(api, `type:pdf`), [sha256(raws[4]!), sha256(locked)].sort());
  assert.deepEqual(await found(api, `type:pptx`), [sha256(raws[6]!)], 'by its name, sent as octet-stream');
  assert.deepEqual(await found(api, 'type:docx attachment:minutes'), [sha256(raws[0]!)]);
  assert.deepEqual(await found(api, 'lockedpdfword'), [], 'an encrypted PDF is not read…');
  assert.deepEqual(await attachmentsOf(api, sha256(locked)).then((a) => a.map((x) => x.extraction)), ['encrypted'], '…and says so');
  assert.deepEqual(await found(api, 'locked'), [sha256(locked)], 'its message is found by its own words');
  assert.deepEqual(await attachmentsOf(api, sha256(plain)), []);
  t.diagnostic(`LibreOffice made ${DOCUMENTS.length + 1} documents in ${converted.toFixed(0)} ms (one soffice run)`);
});

// A minimal DOCX (what Word needs to open one): its content types and its document part.
function docx(body: string, doctype = ''): Uint8Array {
  return zipSync({
    '[Content_Types].xml': Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    'word/document.xml': Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${doctype}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${body}</w:t></w:r></w:p></w:body></w:document>`),
  });
}

// The central directory's size of `name` set to `size`: an archive that lies about what it holds.
function lie(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = Buffer.from(zip);
  const at = out.lastIndexOf(Buffer.from(name)) - 46;
  assert.equal(out.readUInt32LE(at), 0x02014b50, 'its central directory entry');
  out.writeUInt32LE(size, at + 24);
  return out;
}

test('hostile attachments are recorded with their reason, their messages are found, the index does not wait', { timeout: 300_000 }, async (t) => {
  const MB = 1024 * 1024;
  // 42.zip-style: archives of archives, each innermost member 16 MiB of zeros in 16 kilobytes.
  const zeros = zipSync({ 'zeros.txt': new Uint8Array(16 * MB) }, { level: 9 });
  const layer = zipSync(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`zeros-${i}.zip`, zeros])), { level: 9 });
  const bomb = zipSync(Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`layer-${i}.zip`, layer])), { level: 9 });
  // A member that says it holds a kilobyte and inflates to 64 MiB.
  const liar = lie(zipSync({ 'small.txt': new Uint8Array(64 * MB) }, { level: 9 }), 'small.txt', 1024);
  // Billion laughs: nine levels of ten, a gigabyte of "lol" if anything expanded it.
  const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol">' + Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('') + ']>';
  const entityBomb = docx('&lol9; laughterword', laughs);
  const whole = docx('truncateddocxword');
  const cut = whole.slice(0, whole.length >> 1);
  // 1,000 archives, one inside the next, around a text.
  let deep: Uint8Array = zipSync({ 'deep.txt': Buffer.from('deepnestword') });
  for (let i = 0; i < 1000; i++) deep = zipSync({ [`level-${i}.zip`]: deep }, { level: 0 });
  // An encrypted ZIP made by Info-ZIP.
  const dir = tempDataDir();
  writeFileSync(path.join(dir, 'plans.txt'), 'encryptedzipword inside\n');
  execFileSync('zip', ['-q', '-P', 'secret', path.join(dir, 'secret.zip'), 'plans.txt'], { cwd: dir });
  const encrypted = readFileSync(path.join(dir, 'secret.zip'));

  const cases = [
    { word: 'bombarded', file: { filename: 'bomb.zip', contentType: 'application/zip', content: bomb }, outcome: /^truncated: "zeros\.txt" expands \d+ times \(a ZIP bomb\?\)$/ },
    { word: 'misleading', file: { filename: 'small.zip', contentType: 'application/zip', content: liar }, outcome: /^truncated: "small\.txt" inflates to more than \d+ bytes$/ },
    { word: 'laughable', file: { filename: 'laughs.docx', contentType: 'application/octet-stream', content: entityBomb }, outcome: /^truncated: word\/document\.xml declares a DTD; its entities are not expanded$/ },
    { word: 'padlocked', file: { filename: 'secret.zip', contentType: 'application/zip', content: encrypted }, outcome: /^encrypted$/ },
    { word: 'shortened', file: { filename: 'cut.docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', content: cut }, outcome: /^failed: not a complete ZIP archive/ },
    { word: 'bottomless', file: { filename: 'deep.zip', contentType: 'application/zip', content: deep }, outcome: /^truncated: "level-99[0-9]\.zip" is nested deeper than 3 levels$/ },
  ];
  const raws = cases.map((c, n) => mail(200 + n, `Hostile ${c.file.filename}`, `This one is ${c.word}.`, [c.file]));
  // Sent last: indexed at once, whatever the extractor is still reading.
  const after = mail(299, 'Right after', 'Sent after the hostile ones: promptword.', []);
  const { server, api, sentAt } = await serveAndSend(t, [...raws, after]);

  await waitUntil('the message sent last is searchable', async () => (await found(api, 'promptword')).length === 1, { timeoutMs: 20_000, intervalMs: 100 });
  const searchable = performance.now() - sentAt;
  await waitForIndex(server.data);
  const read = performance.now() - sentAt;

  for (const [n, c] of cases.entries()) {
    const own = sha256(raws[n]!);
    assert.deepEqual(await found(api, c.word), [own], `${c.file.filename}: its message is found by its own words`);
    const [a] = await attachmentsOf(api, own);
    assert.match(a!.extraction ?? 'null', c.outcome, c.file.filename);
  }
  assert.deepEqual(await found(api, 'attachment:laughterword'), [sha256(raws[2]!)], 'the entity bomb\'s text is read, its entities are not');
  assert.deepEqual(await found(api, 'attachment:lol'), [], 'no entity was expanded');
  assert.deepEqual(await found(api, 'attachment:plans'), [sha256(raws[3]!)], 'an encrypted archive\'s names are read');
  assert.deepEqual(await found(api, 'encryptedzipword'), [], 'not what it hides');
  assert.deepEqual(await found(api, 'attachment:"level 999 zip"'), [sha256(raws[5]!)], 'the outer levels of the deep archive are listed');
  assert.deepEqual(await found(api, 'deepnestword'), [], 'what lies a thousand levels down is not read');
  assert.deepEqual(await found(api, 'attachment:"layer 3 zip"'), [sha256(raws[0]!)], 'the bomb\'s names are listed');
  const stats = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString());
  assert.deepEqual([stats.indexLag.captures, stats.extractionPending, stats.indexFailures.count], [0, 0, 0]);
  t.diagnostic(`the last message searchable after ${searchable.toFixed(0)} ms; every attachment read after ${read.toFixed(0)} ms`);
});

// A PDF of `pages` pages, one small page object each (poppler refuses a page count above the
// number of objects), all drawing the same word.
function manyPagePdf(pages: number, word: string): Buffer {
  const content = `BT /F1 12 Tf 72 720 Td (${word}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, i) => `${i + 5} 0 R`).join(' ')}] /Count ${pages} >>`,
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ...Array.from({ length: pages }, () => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>'),
  ];
  let pdf = '%PDF-1.4\n';   // ASCII only: string offsets are byte offsets
  const offsets = objects.map((o, i) => {
    const at = pdf.length;
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
    return at;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  return Buffer.from(`${pdf}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
}

test('a PDF of 300,000 pages is read to the page limit and recorded as truncated; one of two pages is read whole', async (t) => {
  const pool = new ExtractorPool({ log: pino({ level: 'silent' }) });
  try {
    const t0 = performance.now();
    const bomb = await pool.extract({ content: manyPagePdf(300_000, 'pagebombword'), contentType: 'application/pdf', filename: 'bomb.pdf' });
    assert.equal(bomb.extraction, 'truncated: more than 2000 pages');
    assert.equal(bomb.text.match(/pagebombword/g)?.length, 2000, 'the pages up to the limit are read');
    t.diagnostic(`read in ${(performance.now() - t0).toFixed(0)} ms`);
    const two = await pool.extract({ content: manyPagePdf(2, 'twopageword'), contentType: 'application/pdf', filename: 'two.pdf' });
    assert.deepEqual([two.extraction, two.text.match(/twopageword/g)?.length], ['ok', 2]);
  } finally {
    pool.close();
  }
});

test('an extractor process that runs out of time or memory is replaced; the next attachment is read', async () => {
  const log = pino({ level: 'silent' });
  const text = (s: string) => ({ content: Buffer.from(s), contentType: 'text/plain', filename: 'a.txt' });
  const slow = new ExtractorPool({ log, jobSeconds: 0.001 });
  assert.deepEqual(await slow.extract(text('anything')), { text: '', extraction: 'failed: not read within 0.001 s' });
  slow.close();

  // An attached message of 16 MB in 400 parts: more than a 16 MB heap holds while it is parsed.
  const parts = Array.from({ length: 400 }, () => `--b\r\nContent-Type: text/plain\r\n\r\n${randomBytes(30_000).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`);
  const forwarded = Buffer.from(`From: a@partner.test\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts.join('')}--b--\r\n`);
  const pool = new ExtractorPool({ log, heapMb: 16 });
  try {
    const big = await pool.extract({ content: forwarded, contentType: 'message/rfc822', filename: 'big.eml' });
    assert.equal(big.extraction, 'failed: more than 16 MB of memory needed');
    assert.deepEqual(await pool.extract(text('Clause 7: the parties agree.')), { text: 'Clause 7: the parties agree.', extraction: 'ok' }, 'a new process reads the next one');
  } finally {
    pool.close();
  }
});

test('an answer that waited while the host thread was busy past the deadline is taken, not called a hang', async () => {
  const pool = new ExtractorPool({ log: pino({ level: 'silent' }), jobSeconds: 2 });
  try {
    // The process is started (its first job) before the clock matters.
    assert.equal((await pool.extract({ content: Buffer.from('warm'), contentType: 'text/plain', filename: 'a.txt' })).extraction, 'ok');
    const pending = pool.extract({ content: Buffer.from('Clause 9 stands.'), contentType: 'text/plain', filename: 'b.txt' });
    // The thread is busy (a long index batch) until after the job's deadline; the answer came long before.
    const until = performance.now() + 2500;
    while (performance.now() < until);
    assert.deepEqual(await pending, { text: 'Clause 9 stands.', extraction: 'ok' });
  } finally {
    pool.close();
  }
});

test('an attachment of several pieces reaches its process whole: a ZIP whose text member comes last', async () => {
  const pool = new ExtractorPool({ log: pino({ level: 'silent' }) });
  try {
    // Stored, not deflated: 5 MB of noise first, so the member read and the directory that finds
    // it lie in the last of the pieces the pool sends.
    const zip = zipSync({ 'scan.bin': randomBytes(5 * 1024 * 1024), 'notes.txt': Buffer.from('Clause 11 holds across pieces.') }, { level: 0 });
    assert.ok(zip.byteLength > 5 * 1024 * 1024);
    const r = await pool.extract({ content: zip, contentType: 'application/zip', filename: 'bundle.zip' });
    assert.match(r.text, /Clause 11 holds across pieces\./);
    assert.deepEqual(await pool.extract({ content: Buffer.from('The next one, whole.'), contentType: 'text/plain', filename: 'n.txt' }), { text: 'The next one, whole.', extraction: 'ok' });
  } finally {
    pool.close();
  }
});
