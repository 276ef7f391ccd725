import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';

test('a message larger than memory buffers streams into its own sealed file, bit-exact, stored once', { timeout: 180_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  // 20 MB of base64 lines (an attachment as MTAs carry it), well over commit.inlineBlobBytes.
  const lines = randomBytes(15 * 1024 * 1024).toString('base64').match(/.{1,76}/g)!.join('\r\n');
  const data = Buffer.from(`From: big@example.test\r\nSubject: large\r\nMessage-ID: <large@example.test>\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${lines}\r\n`);
  const sha = createHash('sha256').update(data).digest('hex');
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (let i = 0; i < 2; i++) {
    const r = await client.send({ from: 'big@example.test', to: [`r${i}@example.test`] }, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
  }
  await client.quit();

  const token = await readerToken(server.data, ['r0@example.test'], { config });
  const raw = await readAs(token, ['show', '--data', server.data, '--config', config, '--raw', sha]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(raw.stdout.equals(data), 'bit-exact');
  const stats = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString());
  assert.equal(stats.messages, 1);
  assert.equal(stats.captures, 2);
  assert.deepEqual(readdirSync(join(server.data, 'blobs', 'large')).length, 1, 'the second copy left no file behind');
  const verified = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString());
});
