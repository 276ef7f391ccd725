// `sealbox serve` with its blobs in S3 on a private Ceph RADOS Gateway (blobs.kind "s3"): mail
// received over SMTP is acknowledged only once its sealed bytes are in the bucket, reads back
// bit-exact (a large message through a multipart upload), and `sealbox verify` is green. With
// S3 down a commit fails: the client gets 451 and nothing is archived; once S3 is back the same
// mail is accepted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { testConfig } from './support/archive.ts';
import { startCephRgw } from './support/ceph-rgw.ts';
import type { CephRgw } from './support/ceph-rgw.ts';
import { readAs, readerToken } from './support/reader.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

let rgw: CephRgw;
before(async () => {
  rgw = await startCephRgw();
  await rgw.createBucket('archive');
}, { timeout: 300_000 });
after(async () => { await rgw?.stop(); });

function message(i: number, body = `message ${i} ${randomBytes(8).toString('hex')}`): Buffer {
  return Buffer.from(`From: sender@ext.test\r\nTo: r@corp.test\r\nSubject: s3 ${i}\r\nMessage-ID: <s3-${i}-${randomBytes(4).toString('hex')}@ext.test>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\n${body}\r\n`);
}

async function objects(prefix: string): Promise<string[]> {
  const s3 = rgw.client();
  try {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: 'archive', Prefix: prefix }));
    return (r.Versions ?? []).map((v) => v.Key!);
  } finally {
    s3.destroy();
  }
}

test('serve with blobs on S3: acknowledged mail is in the bucket, bit-exact, verify green; S3 down is a 451 and nothing archived', { timeout: 600_000 }, async (t) => {
  const config = testConfig({ blobs: { kind: 's3', s3: { endpoint: rgw.endpoint, bucket: 'archive', credentialsFile: rgw.credentialsFile, partMiB: 5 } } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());

  const sent: Buffer[] = [message(0), message(1), message(2)];
  // Over commit.inlineBlobBytes and two upload parts: a large blob, streamed in a multipart upload.
  const lines = randomBytes(9 * 1024 * 1024).toString('base64').match(/.{1,76}/g)!.join('\r\n');
  sent.push(message(3, lines));
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (const data of sent) {
    const r = await client.send({ from: 'sender@ext.test', to: ['r@corp.test'] }, data);
    assert.equal(r.data[0]!.code, 250, r.data[0]!.text);
  }

  assert.ok((await objects('segments/')).length >= 1, 'segments are objects in the bucket');
  assert.equal((await objects('large/')).length, 1, 'the large message is an object of its own');
  const local = join(server.data, 'blobs');
  assert.ok(!existsSync(local) || readdirSync(local, { recursive: true }).length === 0, 'nothing sealed is kept in the data folder');

  const token = await readerToken(server.data, ['r@corp.test'], { config });
  const show = async (data: Buffer) => {
    const sha = createHash('sha256').update(data).digest('hex');
    const raw = await readAs(token, ['show', '--data', server.data, '--config', config, '--raw', sha]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.ok(raw.stdout.equals(data), `bit-exact: ${sha}`);
  };
  for (const data of sent) await show(data);

  // S3 down: the commit fails, the client is told to retry, and nothing is archived.
  const before = JSON.parse((await sealbox(['stats', '--data', server.data, '--config', config, '--json'])).stdout.toString());
  await rgw.stopGateway();
  const late = message(4);
  const refused = await client.send({ from: 'sender@ext.test', to: ['r@corp.test'] }, late);
  assert.equal(refused.data[0]!.code, 451, refused.data[0]!.text);
  const during = JSON.parse((await sealbox(['stats', '--data', server.data, '--config', config, '--json'])).stdout.toString());
  assert.deepEqual([during.messages, during.captures], [before.messages, before.captures], 'nothing acknowledged, nothing recorded');

  // S3 back: the same mail is accepted, and everything reads back and verifies.
  await rgw.startGateway();
  const again = await client.send({ from: 'sender@ext.test', to: ['r@corp.test'] }, late);
  assert.equal(again.data[0]!.code, 250, again.data[0]!.text);
  await client.quit();
  await show(late);
  for (const data of sent) await show(data);
  const after = JSON.parse((await sealbox(['stats', '--data', server.data, '--config', config, '--json'])).stdout.toString());
  assert.deepEqual([after.messages, after.captures], [before.messages + 1, before.captures + 1]);
  const verified = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
  // The S3 failure was logged, the keys never.
  assert.match(server.stderr(), /object storage failed/);
  assert.ok(!server.stderr().includes(rgw.credentials.secretAccessKey) && !server.stderr().includes(rgw.credentials.accessKeyId), 'no S3 key in the log');
});

test('blobs.kind s3 without its settings, or with a credentials file others can read or without keys, stops serve naming the key', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  const serve = async (blobs: unknown) => {
    const r = await sealbox(['serve', '--data', join(dir, 'data'), '--config', testConfig({ blobs }), '--smtp', '127.0.0.1:0', '--lmtp', '127.0.0.1:0', '--http', '127.0.0.1:0']);
    assert.notEqual(r.code, 0);
    return r.stderr;
  };
  assert.match(await serve({ kind: 's3' }), /blobs\.s3/);
  const file = join(dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-not-to-be-logged' }));
  chmodSync(file, 0o644);
  const s3 = { endpoint: 'http://127.0.0.1:9', bucket: 'archive', credentialsFile: file };
  const readable = await serve({ kind: 's3', s3 });
  assert.match(readable, /blobs\.s3\.credentialsFile .* is readable by group or others/);
  assert.ok(!readable.includes('secret-not-to-be-logged'));
  chmodSync(file, 0o600);
  writeFileSync(file, '{"accessKeyId": "AKIAEXAMPLE"}');
  assert.match(await serve({ kind: 's3', s3 }), /blobs\.s3\.credentialsFile .* needs "accessKeyId" and "secretAccessKey"/);
  assert.match(await serve({ kind: 's3', s3: { ...s3, bucket: 'Not_A_Bucket' } }), /bucket/);
});
