// Large base64 attachment bodies are decoded by parseMessage itself, postal-mime parsing the
// message around them (its decoder would hold each three times over). What is indexed must not
// change: every message here is parsed both ways — by parseMessage, and by postal-mime alone on
// the whole message — and the attachments (name, type, size, SHA-256, the bytes kept), the text
// and the subject must agree, including bodies with stray characters, "=" inside, 8-bit bytes,
// bare CRs, a message cut inside its attachment, and the bodies that must be left to postal-mime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import PostalMime from 'postal-mime';
import { findLargeBodies, parseMessage, PARSE_LIMITS } from '../src/index/parse-message.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const LARGE = PARSE_LIMITS.largeBodyBytes;

// The largest input postal-mime was given by parseMessage since the last call: whether it saw the bodies.
const parse = PostalMime.parse;
let largestInput = 0;
PostalMime.parse = (input, options) => {
  if (typeof input !== 'string' && 'byteLength' in input) largestInput = Math.max(largestInput, input.byteLength);
  return parse.call(PostalMime, input, options);
};
async function parsedBy(raw: Buffer, keep = () => true) {
  largestInput = 0;
  const parsed = await parseMessage(raw, { keep });
  return { parsed, postalMimeSaw: largestInput };
}

// Deterministic noise, so a failure can be run again.
function noise(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

// Base64 of `bytes` in lines, spoilt as senders spoil it: stray characters, "=" within, 8-bit bytes, bare CRs.
function base64Body(bytes: Buffer, spoil: number): Buffer {
  const rnd = noise(spoil);
  const text = bytes.toString('base64');
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += 76) {
    let line = text.slice(i, i + 76);
    if (spoil && rnd() < 0.01) line = line.slice(0, 10) + ['*', ' ', '!', '=', '==', '\t', '.', '%'][Math.floor(rnd() * 8)] + line.slice(10);
    const eol = spoil && rnd() < 0.005 ? '\r' : '\r\n';
    out.push(Buffer.from(line, 'latin1'));
    if (spoil && rnd() < 0.005) out.push(Buffer.from([0xc3, 0xa9, 0xff]));
    out.push(Buffer.from(eol));
  }
  return Buffer.concat(out);
}

function multipart(parts: { headers: string[]; body: Buffer }[], close = true): Buffer {
  const head = ['From: Alice <alice@partner.test>', 'To: bob@corp.test', 'Subject: large parts', 'Message-ID: <large@partner.test>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="outer"', '', 'preamble', ''].join('\r\n');
  const pieces: Buffer[] = [Buffer.from(head)];
  for (const p of parts) pieces.push(Buffer.from(`--outer\r\n${p.headers.join('\r\n')}\r\n\r\n`), p.body, Buffer.from('\r\n'));
  if (close) pieces.push(Buffer.from('--outer--\r\n'));
  return Buffer.concat(pieces);
}

const text = { headers: ['Content-Type: text/plain; charset=utf-8'], body: Buffer.from('The body words are here.\r\n') };
const file = (name: string, type: string, bytes: Buffer, spoil = 0, more: string[] = []) => ({
  headers: [`Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', ...more],
  body: base64Body(bytes, spoil),
});

async function assertSameAsPostalMime(raw: Buffer, what: string) {
  const { parsed: ours, postalMimeSaw } = await parsedBy(raw);
  const theirs = await parse.call(PostalMime, raw, { attachmentEncoding: 'arraybuffer' });
  assert.deepEqual(
    ours.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256, kept: a.content && sha256(a.content) })),
    theirs.attachments.map((a) => {
      const bytes = new Uint8Array(a.content as ArrayBuffer);
      return { filename: a.filename, contentType: a.mimeType, size: bytes.byteLength, sha256: sha256(bytes), kept: sha256(bytes) };
    }), what);
  assert.match(ours.text, /The body words are here\./, what);
  assert.equal(ours.subject, theirs.subject, what);
  assert.equal(ours.parseError, null, what);
  return postalMimeSaw;
}

test('large attachment bodies, clean and spoilt, give what postal-mime gives, and are decoded by parseMessage', async () => {
  for (const spoil of [0, 1, 2, 3]) {
    const pdf = randomBytes(LARGE + 12_345);
    const png = randomBytes(LARGE * 2 + 1);
    const small = randomBytes(1000);
    const raw = multipart([text, file('a.pdf', 'application/pdf', pdf, spoil), file('small.bin', 'application/octet-stream', small, spoil), file('b.png', 'image/png', png, spoil)]);
    assert.equal(findLargeBodies(raw).length, 2, `spoil ${spoil}: both large bodies are decoded here`);
    assert.ok(await assertSameAsPostalMime(raw, `spoil ${spoil}`) < 10_000, 'postal-mime parsed the message without them');
    if (spoil === 0) {
      const parsed = await parseMessage(raw, { keep: () => true });
      assert.deepEqual(parsed.attachments.map((a) => a.sha256), [sha256(pdf), sha256(small), sha256(png)], 'exact for clean base64');
    }
  }
});

test('a message cut inside its large attachment, and a single-part one, give what postal-mime gives', async () => {
  const bytes = randomBytes(3 * LARGE);
  const whole = multipart([text, file('scans.tar', 'application/x-tar', bytes)], false);
  const cut = whole.subarray(0, whole.length - LARGE);
  assert.equal(findLargeBodies(cut).length, 1);
  assert.ok(await assertSameAsPostalMime(Buffer.from(cut), 'cut') < 10_000);

  const single = Buffer.concat([Buffer.from('From: a@partner.test\r\nSubject: one part\r\nContent-Type: application/pdf; name="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'), base64Body(bytes, 5)]);
  assert.equal(findLargeBodies(single).length, 1);
  const { parsed: ours, postalMimeSaw } = await parsedBy(single);
  assert.ok(postalMimeSaw < 10_000);
  const theirs = await parse.call(PostalMime, single, { attachmentEncoding: 'arraybuffer' });
  assert.deepEqual(ours.attachments.map((a) => [a.size, a.sha256]), theirs.attachments.map((a) => [(a.content as ArrayBuffer).byteLength, sha256(new Uint8Array(a.content as ArrayBuffer))]));
});

test('bodies left to postal-mime: text, an attached message, a "-" inside, another encoding; the result is the same', async () => {
  const bytes = randomBytes(LARGE + 1);
  const inner = Buffer.concat([Buffer.from('From: c@partner.test\r\nSubject: inner\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n'), base64Body(bytes, 0)]);
  const dashed = base64Body(bytes, 0);
  dashed[100] = 0x2d;
  const raw = multipart([
    text,
    file('notes.txt', 'text/plain', bytes),
    { headers: ['Content-Type: message/rfc822'], body: inner },
    { headers: ['Content-Type: application/pdf; name="dash.pdf"', 'Content-Transfer-Encoding: base64'], body: dashed },
    { headers: ['Content-Type: application/pdf; name="qp.pdf"', 'Content-Transfer-Encoding: quoted-printable'], body: base64Body(bytes, 0) },
  ]);
  assert.deepEqual(findLargeBodies(raw), []);
  assert.equal(await assertSameAsPostalMime(raw, 'left to postal-mime'), raw.length);
});

test('keepByHead: a large body is judged by its first HEAD_BYTES, hashed as it is decoded, and kept exactly when asked', async () => {
  for (const spoil of [0, 2]) {
    const pdf = randomBytes(LARGE + 777);
    const png = randomBytes(LARGE * 2 + 5);
    const small = randomBytes(1000);
    const raw = multipart([text, file('a.pdf', 'application/pdf', pdf, spoil), file('small.bin', 'application/octet-stream', small, spoil), file('b.png', 'image/png', png, spoil)]);
    const whole = await parseMessage(raw, { keep: () => true });
    const heads: { type: string; head: Buffer }[] = [];
    const byHead = await parseMessage(raw, {
      keepByHead: true,
      keep: (a, head) => {
        heads.push({ type: a.contentType, head: Buffer.from(head) });
        return a.contentType === 'application/pdf';
      },
    });
    const described = (p: typeof whole) => p.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 }));
    assert.deepEqual(described(byHead), described(whole), `spoil ${spoil}: the same names, sizes and hashes`);
    const [pdfWhole, smallWhole, pngWhole] = whole.attachments.map((a) => Buffer.from(a.content!));
    assert.deepEqual(heads.map((h) => h.type), ['application/pdf', 'application/octet-stream', 'image/png']);
    assert.ok(heads[0]!.head.equals(pdfWhole!.subarray(0, PARSE_LIMITS.headBytes)), 'a large body: its first HEAD_BYTES');
    assert.ok(heads[1]!.head.equals(smallWhole!), 'a small one: all of it');
    assert.ok(heads[2]!.head.equals(pngWhole!.subarray(0, PARSE_LIMITS.headBytes)));
    assert.ok(Buffer.from(byHead.attachments[0]!.content!).equals(pdfWhole!), 'the kept body is decoded whole');
    assert.equal(byHead.attachments[2]!.content, undefined, 'the other is not kept');
    assert.equal(byHead.text, whole.text);
    // Nothing kept at all: every large body only hashed.
    assert.deepEqual(described(await parseMessage(raw)), described(whole));
  }
});

test('consume: large bodies are decoded over their own characters in the input, with the same result', async () => {
  const pdf = randomBytes(LARGE * 3 + 11);
  const tar = randomBytes(LARGE + 1);
  const raw = multipart([text, file('a.pdf', 'application/pdf', pdf, 3), file('b.tar', 'application/x-tar', tar, 0)]);
  const copy = Buffer.from(raw);
  const expected = await parseMessage(raw, { keep: () => true });
  assert.ok(raw.equals(copy), 'without consume the input is left as it was');
  for (const keepByHead of [false, true]) {
    const input = Buffer.from(copy);
    const got = await parseMessage(input, { keep: (a) => a.filename === 'a.pdf', keepByHead, consume: true });
    assert.deepEqual(got.attachments.map((a) => [a.size, a.sha256]), expected.attachments.map((a) => [a.size, a.sha256]));
    const kept = got.attachments[0]!.content!;
    assert.ok(Buffer.from(kept).equals(Buffer.from(expected.attachments[0]!.content!)), 'the kept body is exact');
    assert.equal(kept.buffer, input.buffer, 'a view into the input, not a copy');
    assert.equal(got.attachments[1]!.content, undefined);
  }
  // A kept body that is a small part of the input is copied out: it must not hold the rest.
  const input = Buffer.from(copy);
  const got = await parseMessage(input, { keep: (a) => a.filename === 'b.tar', keepByHead: true, consume: true });
  const kept = got.attachments[1]!.content!;
  assert.ok(Buffer.from(kept).equals(tar));
  assert.notEqual(kept.buffer, input.buffer);
  assert.equal(kept.byteLength, kept.buffer.byteLength);
});
