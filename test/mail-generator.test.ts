// The scale benchmark's mail generator: the same seed gives the same bytes, and what it makes
// is mail a real parser reads as intended (charsets, threads, attachments, Bcc only in the envelope).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import PostalMime from 'postal-mime';
import { benchCorpus } from '../bench/bench-corpus.ts';
import { MailGenerator } from '../bench/mail-generator.ts';

const N = 600;

test('the mail generator is deterministic and makes mail a parser reads as intended', async () => {
  const corpus = benchCorpus(false).raw;
  const a = new MailGenerator({ seed: 7, total: N, corpus });
  const b = new MailGenerator({ seed: 7, total: N, corpus });
  const c = new MailGenerator({ seed: 8, total: N, corpus });
  const digest = (g: MailGenerator, n: number) => {
    const h = createHash('sha256');
    const mails = Array.from({ length: n }, () => g.next());
    for (const m of mails) h.update(m.raw).update(JSON.stringify(m.envelope));
    return { hash: h.digest('hex'), mails };
  };
  const first = digest(a, N);
  assert.equal(digest(b, N).hash, first.hash, 'same seed, same bytes');
  assert.notEqual(digest(c, 50).hash, first.hash, 'another seed, other mail');

  const seen = { charsets: new Set<string>(), types: new Set<string>(), replies: 0, quoted: 0, bccOnlyInEnvelope: 0, cyrillic: 0, kana: 0, domains: new Set<string>() };
  let lastDate = 0;
  for (const m of first.mails) {
    const text = m.raw.toString('latin1');
    assert.ok(!/[^\r]\n/.test(text), 'CRLF line ends only');
    const parsed = await PostalMime.parse(m.raw);
    assert.ok(parsed.messageId && parsed.from?.address, 'Message-ID and From');
    assert.ok((parsed.text ?? '').length > 0, `text of ${parsed.messageId}`);
    for (const cs of text.matchAll(/charset="([^"]+)"/g)) seen.charsets.add(cs[1]!.toLowerCase());
    for (const att of parsed.attachments) seen.types.add(att.mimeType);
    if (parsed.inReplyTo) {
      seen.replies++;
      if (/^> /m.test(parsed.text ?? '')) seen.quoted++;
    }
    const headers = [...(parsed.to ?? []), ...(parsed.cc ?? [])].map((x) => x.address?.toLowerCase());
    if (m.envelope.to.some((r) => !headers.includes(r.toLowerCase()))) seen.bccOnlyInEnvelope++;
    if (/[\u0400-\u04ff]/.test(parsed.text ?? '')) seen.cyrillic++;
    if (/[\u3040-\u30ff]/.test(parsed.text ?? '')) seen.kana++;
    for (const r of m.envelope.to) seen.domains.add(r.slice(r.indexOf('@') + 1));
    assert.ok(m.date >= lastDate - 3_600_000, 'dates in order of arrival, give or take an hour');
    lastDate = m.date;
  }
  for (const cs of ['us-ascii', 'utf-8', 'iso-8859-1', 'windows-1252', 'koi8-r', 'iso-2022-jp']) assert.ok(seen.charsets.has(cs), `charset ${cs} (saw ${[...seen.charsets]})`);
  assert.ok(seen.types.size >= 5, `attachment types: ${[...seen.types]}`);
  assert.ok(seen.replies > N / 5 && seen.quoted > N / 6, `replies ${seen.replies}, quoting ${seen.quoted}`);
  assert.ok(seen.bccOnlyInEnvelope > N / 20, `Bcc only in the envelope: ${seen.bccOnlyInEnvelope}`);
  assert.ok(seen.cyrillic > 0 && seen.kana > 0, 'KOI8-R and ISO-2022-JP text decodes to Cyrillic and kana');
  assert.ok(seen.domains.size >= 10, `recipient domains: ${seen.domains.size}`);
});
