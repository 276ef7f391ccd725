import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import { toCrlf } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { openArchive, testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function headerMessageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  const m = /^message-id:\s*<([^>\s]+)>/im.exec(head);
  return m ? m[1] : null;
}

test('the real corpus over SMTP is stored bit-exact, findable by Message-ID, and verified; tampering is named', { timeout: 900_000 }, async () => {
  const files = corpusFiles();
  assert.equal(files.length, 6046);
  const messages = files.map((f, index) => ({
    index,
    data: toCrlf(readFileSync(f)), // as an MTA puts it on the wire
    envelope: { from: `sender${index % 50}@corpus.test`, to: [`rcpt${index % 7}@example.test`, `archive@example.test`] },
  }));
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  const replies = await deliverAll(server.smtp.port, messages, { connections: 8 });
  const refused = [...replies.entries()].filter(([, r]) => r.code !== 250);
  assert.deepEqual(refused, [], 'every corpus message is accepted');

  await waitForIndex(server.data);
  assert.equal(await server.stop(), 0);

  const bySha = new Map<string, Buffer>();
  for (const m of messages) bySha.set(sha256(m.data), m.data);
  const archive = await openArchive(server.data);
  try {
    const counts = await archive.read((tx) => archive.stores.meta.counts(tx));
    assert.equal(counts.captures, messages.length, 'one capture per receipt');
    assert.equal(counts.messages, bySha.size, 'identical bytes stored once');
    let withId = 0;
    for (const [sha, data] of bySha) {
      const row = await archive.read((tx) => archive.stores.reader.message(tx, sha));
      assert.ok((await archive.stores.reader.buffer(row)).equals(data), `message ${sha} is bit-exact`);
      const id = headerMessageId(data);
      if (id) {
        withId++;
        const hits = (await archive.search.search(`message-id:"${id}"`, { limit: 100 })).hits.map((h) => h.sha256);
        assert.ok(hits.includes(sha), `message ${sha} is found by its Message-ID ${id}`);
      }
    }
    assert.ok(withId > 6000, `most corpus messages carry a Message-ID (${withId})`);
  } finally {
    archive.close();
  }

  // The CLI gives the same bytes (a sample: a process per message would take minutes), to the
  // owner of the recipients' mailboxes.
  const token = await readerToken(server.data, Array.from({ length: 7 }, (_, i) => `rcpt${i}@example.test`), { config });
  for (const [sha, data] of [...bySha].filter((_, i) => i % 600 === 0)) {
    const shown = await readAs(token, ['show', '--data', server.data, '--config', config, '--raw', sha]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.equals(data), `show --raw ${sha}`);
  }

  const verified = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
  assert.match(verified.stdout.toString(), /^OK: /m);

  // One flipped byte in one blob file: verify fails and names the message.
  const db = new DatabaseSync(join(server.data, 'sealbox.db'));
  const victim = db.prepare('SELECT sha256, blob_file, blob_offset, blob_length FROM message ORDER BY id LIMIT 1 OFFSET 1234').get() as any;
  const path = join(server.data, 'blobs', victim.blob_file);
  const at = Number(victim.blob_offset) + Math.floor(Number(victim.blob_length) / 2);
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, at);
  writeSync(fd, Buffer.of(byte[0] ^ 0x01), 0, 1, at);
  let broken = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout.toString(), new RegExp(`FAIL message ${victim.sha256}: blob \\(${victim.blob_file} at ${victim.blob_offset}\\)`));
  writeSync(fd, byte, 0, 1, at);
  closeSync(fd);
  assert.equal((await sealbox(['verify', '--data', server.data, '--config', config])).code, 0, 'restoring the byte restores the proof');

  // One deleted ledger row: verify fails and names it.
  db.prepare('DELETE FROM ledger WHERE idx = 777').run();
  db.close();
  broken = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(broken.code, 1);
  const out = broken.stdout.toString();
  assert.match(out, /FAIL ledger entries 777 are missing/);
  assert.match(out, /FAIL checkpoint \d+: signed root does not match/);
});
