// Messages larger than one read (SMALL_MESSAGE_BYTES) reach the indexer as a stream, and those
// larger than MAX_PARSE_BYTES are indexed from their first bytes. Both are read into one buffer
// and parsed without a copy (to bound the indexer's memory); what is indexed must be what parsing
// those bytes gives: the same attachment sizes and hashes, the text of both bodies, the text of an
// attachment kept for the extractor, and the note that only a part was indexed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MAX_PARSE_BYTES, parseMessage } from '../src/index/parse-message.ts';
import { SMALL_MESSAGE_BYTES } from '../src/store/archive-reader.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

function mail(id: string, word: string, file: { filename: string; contentType: string; content: Buffer }): Buffer {
  return Buffer.from([
    'From: Alice <alice@partner.test>', 'To: Bob <bob@corp.test>', `Subject: ${id}`, `Message-ID: <${id}@partner.test>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', `The body says ${word}.`, '',
    '--b1', `Content-Type: ${file.contentType}; name="${file.filename}"`, `Content-Disposition: attachment; filename="${file.filename}"`,
    'Content-Transfer-Encoding: base64', '', file.content.toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd(), '--b1--', '',
  ].join('\r\n'));
}

test('a message read as a stream, and one cut at MAX_PARSE_BYTES, are indexed as parsing their bytes gives', { timeout: 180_000 }, async (t) => {
  const config = testConfig({ auth: { enabled: false } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());

  // 3 MB of text in an attachment (its first word read by the extractor), and 36 MB of random bytes.
  const notes = Buffer.from(`zebrafinch ${'filler words of a long report '.repeat(100_000)}`);
  const streamed = mail('streamed', 'kingfisher', { filename: 'notes.txt', contentType: 'text/plain', content: notes });
  const cut = mail('cut', 'quarterlyscans', { filename: 'scans.bin', contentType: 'application/octet-stream', content: randomBytes(36 * 1024 * 1024) });
  assert.ok(streamed.length > SMALL_MESSAGE_BYTES && streamed.length < MAX_PARSE_BYTES);
  assert.ok(cut.length > MAX_PARSE_BYTES);
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  for (const raw of [streamed, cut]) assert.equal((await smtp.send({ from: 'alice@partner.test', to: ['bob@corp.test'] }, raw)).data[0]!.code, 250);
  await smtp.quit();
  await waitForIndex(server.data, 120_000, { config });

  const db = new DatabaseSync(join(server.data, 'index.db'), { readOnly: true });
  t.after(() => db.close());
  const doc = (raw: Buffer) => db.prepare('SELECT id, parse_error FROM doc WHERE sha256 = ?').get(createHash('sha256').update(raw).digest('hex')) as { id: number; parse_error: string | null };
  const attachments = (id: number) => db.prepare('SELECT filename, size, sha256, extraction FROM attachment WHERE doc_id = ?').all(id).map((r) => ({ ...r }));
  const hits = (word: string) => db.prepare('SELECT rowid FROM doc_fts WHERE doc_fts MATCH ?').all(word).map((r) => Number(r.rowid));

  const s = doc(streamed);
  assert.equal(s.parse_error, null);
  assert.deepEqual(attachments(s.id), [{ filename: 'notes.txt', size: notes.length, sha256: createHash('sha256').update(notes).digest('hex'), extraction: 'ok' }]);
  assert.deepEqual(hits('kingfisher'), [s.id]);
  assert.deepEqual(hits('zebrafinch'), [s.id], 'the kept attachment was read by the extractor');

  const c = doc(cut);
  assert.equal(c.parse_error, `only the first ${MAX_PARSE_BYTES} bytes were indexed`);
  const expected = await parseMessage(cut.subarray(0, MAX_PARSE_BYTES));
  assert.deepEqual(attachments(c.id), expected.attachments.map((a) => ({ filename: a.filename, size: a.size, sha256: a.sha256, extraction: null })));
  assert.ok(expected.attachments[0]!.size > 20 * 1024 * 1024, 'the attachment is indexed up to the cut');
  assert.deepEqual(hits('quarterlyscans'), [c.id]);
});
