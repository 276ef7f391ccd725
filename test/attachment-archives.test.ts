// Issue 19, step 3: what is inside TNEF (winmail.dat), TAR, gzip and 7z attachments is found.
// The archives are made in the test by the real tools (GNU tar, gzip, Debian's 7-Zip); no Debian
// tool writes TNEF, so the winmail.dat is built here as MS-OXTNEF lays it out (attributes with
// their checksums, an attachment's long name among its MAPI properties), and the corpus's real
// winmail.dat files (Outlook 2002's) are read too. Each is mailed over SMTP to a real server; a
// word of each file inside is found by attachment:, the names inside by attachment: too, an
// encrypted 7z is recorded `encrypted` with its names read, a gzip bomb `truncated`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { extractText } from '../src/index/extract/extract-text.ts';
import { formatOf } from '../src/index/extract/formats.ts';
import { parseMessage } from '../src/index/parse-message.ts';
import { ApiClient } from './support/api-client.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { corpusFiles } from './support/corpus.ts';
import { readerToken } from './support/reader.ts';
import { startSealbox, tempDataDir } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

interface File { filename: string; contentType: string; content: Uint8Array }

function mail(n: number, subject: string, body: string, files: File[]): Buffer {
  const lines = ['From: Alice <alice@partner.test>', 'To: Bob <bob@corp.test>', `Subject: ${subject}`, `Message-ID: <archive-${n}@partner.test>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain; charset=utf-8', '', body];
  for (const f of files) {
    lines.push('--b', `Content-Type: ${f.contentType}; name="${f.filename}"`, `Content-Disposition: attachment; filename="${f.filename}"`,
      'Content-Transfer-Encoding: base64', '', Buffer.from(f.content).toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd());
  }
  lines.push('--b--', '');
  return Buffer.from(lines.join('\r\n'));
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

function docx(text: string): Uint8Array {
  return zipSync({
    '[Content_Types].xml': Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    'word/document.xml': Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`),
  });
}

// MS-OXTNEF 2.1.3: the signature, a legacy key, then attributes: level (1 message, 2 attachment),
// id (type << 16 | id), length, data, and a checksum (the data's bytes summed, modulo 65536).
function tnef(subject: string, body: string, files: { title: string; longName: string; data: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
  const attribute = (level: number, type: number, id: number, data: Uint8Array) => {
    let sum = 0;
    for (const byte of data) sum = (sum + byte) & 0xffff;
    parts.push(Buffer.from([level]), u32((type << 16) | id), u32(data.length), Buffer.from(data), u16(sum));
  };
  const cstr = (s: string) => Buffer.from(`${s}\0`, 'latin1');
  parts.push(u32(0x223e9f78), u16(0x0001));
  attribute(1, 0x0008, 0x9006, u32(0x00010000));                      // attTnefVersion
  attribute(1, 0x0006, 0x9007, Buffer.concat([u32(1252), u32(0)]));   // attOemCodepage
  attribute(1, 0x0007, 0x8008, cstr('IPM.Microsoft Mail.Note'));      // attMessageClass
  attribute(1, 0x0001, 0x8004, cstr(subject));                        // attSubject
  attribute(1, 0x0002, 0x800c, cstr(body));                           // attBody
  for (const f of files) {
    attribute(2, 0x0006, 0x9002, Buffer.alloc(14));                   // attAttachRendData: a new attachment
    attribute(2, 0x0001, 0x8010, cstr(f.title));                      // attAttachTitle (8.3)
    attribute(2, 0x0006, 0x800f, f.data);                             // attAttachData
    // attAttachment: MAPI properties; one, PR_ATTACH_LONG_FILENAME as PT_STRING8 (count, length, padded bytes).
    const name = cstr(f.longName);
    const padded = Buffer.concat([name, Buffer.alloc((4 - (name.length % 4)) % 4)]);
    attribute(2, 0x0006, 0x9005, Buffer.concat([u32(1), u16(0x001e), u16(0x3707), u32(1), u32(name.length), padded]));
  }
  return Buffer.concat(parts);
}

test('TNEF, TAR, gzip and 7z attachments: the files inside are found by their names and words', { timeout: 300_000 }, async (t) => {
  const dir = tempDataDir();
  const at = (...p: string[]) => path.join(dir, ...p);
  // A folder of files, archived by the real tools.
  mkdirSync(at('project', 'notes'), { recursive: true });
  writeFileSync(at('project', 'notes', 'plan.txt'), 'The gannettarword rollout starts in March.\n');
  writeFileSync(at('project', 'spec.docx'), docx('The cormoranttarword specification.'));
  writeFileSync(at('project', 'photo.jpg'), Buffer.from('ffd8ffe000104a464946', 'hex'));
  execFileSync('tar', ['-czf', at('project.tar.gz'), 'project'], { cwd: dir });
  execFileSync('tar', ['-cf', at('project.tar'), 'project'], { cwd: dir });
  writeFileSync(at('minutes.txt'), 'Minutes: the puffingzword motion carried.\n');
  execFileSync('gzip', ['-k', at('minutes.txt')]);
  mkdirSync(at('seven'));
  writeFileSync(at('seven', 'ledger.txt'), 'Ledger: the ospreysevenword account.\n');
  writeFileSync(at('seven', 'memo.docx'), docx('A memo on the heronsevenword case.'));
  execFileSync('7zz', ['a', '-bd', '-bb0', at('bundle.7z'), 'seven'], { cwd: dir, stdio: 'ignore' });
  writeFileSync(at('secret.txt'), 'hidden kestrelsevenword\n');
  execFileSync('7zz', ['a', '-bd', '-bb0', '-pclosed', at('locked.7z'), 'secret.txt'], { cwd: dir, stdio: 'ignore' });
  // 400 MB of zeros in a few hundred kilobytes.
  execFileSync('sh', ['-c', `head -c 400000000 /dev/zero | gzip -9 > "${at('zeros.gz')}"`]);
  const winmail = tnef('Budget round', 'Outlook body with the tnefbodyword.', [
    { title: 'BUDGET~1.TXT', longName: 'budget for 2027.txt', data: Buffer.from('Budget: the albatrosstnefword line item.') },
    { title: 'CONTRA~1.DOC', longName: 'contract draft.docx', data: docx('The petreltnefword clause.') },
  ]);

  const cases = [
    { file: { filename: 'project.tar.gz', contentType: 'application/gzip', content: readFileSync(at('project.tar.gz')) }, words: ['gannettarword', 'cormoranttarword', '"project notes plan txt"', 'photo'], outcome: 'ok' },
    { file: { filename: 'project.tar', contentType: 'application/octet-stream', content: readFileSync(at('project.tar')) }, words: ['gannettarword', 'cormoranttarword', '"project notes plan txt"', 'photo'], outcome: 'ok' },
    { file: { filename: 'minutes.txt.gz', contentType: 'application/x-gzip', content: readFileSync(at('minutes.txt.gz')) }, words: ['puffingzword'], outcome: 'ok' },
    { file: { filename: 'bundle.7z', contentType: 'application/x-7z-compressed', content: readFileSync(at('bundle.7z')) }, words: ['ospreysevenword', 'heronsevenword', '"seven memo docx"'], outcome: 'ok' },
    { file: { filename: 'locked.7z', contentType: 'application/octet-stream', content: readFileSync(at('locked.7z')) }, words: ['"secret txt"'], outcome: 'encrypted' },
    { file: { filename: 'zeros.gz', contentType: 'application/gzip', content: readFileSync(at('zeros.gz')) }, words: [], outcome: 'truncated: it expands more than 100 times (a gzip bomb?)' },
    { file: { filename: 'winmail.dat', contentType: 'application/ms-tnef', content: winmail }, words: ['albatrosstnefword', 'petreltnefword', 'tnefbodyword', '"budget for 2027 txt"', '"contract draft docx"'], outcome: 'ok' },
    // Sent as octet-stream, as some gateways do: its first bytes say what it is.
    { file: { filename: 'winmail.dat', contentType: 'application/octet-stream', content: tnef('Second', 'Second body.', [{ title: 'X.TXT', longName: 'x.txt', data: Buffer.from('The fulmartnefword.') }]) }, words: ['fulmartnefword'], outcome: 'ok' },
  ];
  const raws = cases.map((c, n) => mail(n, `Archive ${c.file.filename}`, `Archive number ${n}.`, [c.file]));

  const config = testConfig({ auth: { enabled: false } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const api = new ApiClient(server.http!.url);
  api.token = await readerToken(server.data, ['bob@corp.test'], { config });
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  for (const raw of raws) assert.equal((await smtp.send({ from: 'alice@partner.test', to: ['bob@corp.test'] }, raw)).data[0]!.code, 250);
  await smtp.quit();
  await waitForIndex(server.data);

  const found = async (q: string) => {
    const r = await api.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=100`);
    assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
    return r.body.results.map((h: { sha256: string }) => h.sha256).sort();
  };
  for (const [n, c] of cases.entries()) {
    const r = await api.call('GET', `/api/v1/messages/${sha256(raws[n]!)}`);
    assert.deepEqual(r.body.attachments.map((a: { extraction: string }) => a.extraction), [c.outcome], c.file.filename);
    for (const word of c.words) {
      const expected = cases.flatMap((o, k) => (o.words.includes(word) ? [sha256(raws[k]!)] : [])).sort();
      assert.deepEqual(await found(`attachment:${word}`), expected, `${c.file.filename}: attachment:${word}`);
    }
  }
  assert.deepEqual(await found('kestrelsevenword'), [], 'what the encrypted 7z hides is not read');
  assert.deepEqual(await found('type:7z'), [sha256(raws[3]!), sha256(raws[4]!)].sort(), 'type:7z by type and by name');
  // type: goes by the declared type and the name (the index keeps no bytes): ".dat" says nothing.
  assert.deepEqual(await found('type:tnef'), [sha256(raws[6]!)], 'type:tnef by its type');
  assert.deepEqual(await found('type:tar'), [sha256(raws[1]!)]);
  // The search result names the winmail.dat, and the viewer's text lists what is inside it.
  const hit = await api.call('GET', `/api/v1/search?q=petreltnefword`);
  assert.deepEqual(hit.body.results[0].inAttachments, [{ attachment: 0, filename: 'winmail.dat' }]);
  const text = await api.call('GET', `/api/v1/messages/${sha256(raws[6]!)}/attachments/0/text`);
  assert.equal(text.status, 200, JSON.stringify(text.body));
  assert.match(text.body.text, /budget for 2027\.txt\ncontract draft\.docx/);
});

test('the corpus\'s real winmail.dat files (Outlook 2002) are read without a fault', async () => {
  let read = 0;
  for (const file of corpusFiles()) {
    const raw = readFileSync(file);
    if (!/application\/ms-tnef/i.test(raw.toString('latin1'))) continue;
    const parsed = await parseMessage(raw, { keep: (a) => /tnef/i.test(a.contentType) });
    for (const a of parsed.attachments.filter((x) => x.content)) {
      const r = await extractText({ content: a.content!, contentType: a.contentType, filename: a.filename });
      assert.equal(r.extraction, 'ok', `${path.basename(file)}: ${r.extraction}`);
      read++;
    }
  }
  assert.ok(read >= 3, `the corpus holds winmail.dat files (${read} read)`);
});

test('a type this list does not know leaves the kind to the name; a known unread type does not', () => {
  // enron.pst's spreadsheets, as its Outlook sent them.
  assert.equal(formatOf('application/msexcell', 'Q3 budget.xls'), 'xls');
  assert.equal(formatOf('application/x-unknown-thing', 'notes.txt'), 'text');
  assert.equal(formatOf('image/gif', 'logo.gif'), null);
  assert.equal(formatOf('application/pgp-signature', 'signature.asc'), null);
  assert.equal(formatOf('application/pkcs7-signature', 'smime.p7s'), null);
  assert.equal(formatOf('message/delivery-status', null), null);
  assert.equal(formatOf('application/octet-stream', 'winmail.dat', Buffer.from('789f3e22010000', 'hex')), 'tnef');
});
