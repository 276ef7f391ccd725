import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const env = { from: 'sender@example.test', to: ['rcpt@example.test'] };

let token = '';
async function showRaw(data: string, config: string, sha: string): Promise<Buffer> {
  const r = await readAs(token, ['show', '--data', data, '--config', config, '--raw', sha]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('bad input gets the right SMTP answer or is stored as received, and the listener keeps serving', { timeout: 180_000 }, async (t) => {
  const config = testConfig({ receiver: { maxMessageBytes: 200_000 } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  token = await readerToken(server.data, ['rcpt@example.test', 'list@example.test'], { config });
  const client = await RawSmtpClient.connect(server.smtp.port);

  await t.test('bare LF, NUL bytes and 8-bit headers are archived byte for byte', async () => {
    const data = Buffer.concat([Buffer.from('Subject: caf\xe9 \xff\nFrom: x@example.test\n\nline one\nNUL:', 'latin1'), Buffer.of(0, 0, 0x0d, 0x0d), Buffer.from('\nend\r\n')]);
    const r = await client.send(env, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
    assert.ok((await showRaw(server.data, config, sha256(data))).equals(data));
  });

  await t.test('a 0-byte message is archived', async () => {
    const r = await client.send(env, Buffer.alloc(0));
    assert.equal(r.data[0].code, 250, r.data[0].text);
    assert.equal((await showRaw(server.data, config, sha256(Buffer.alloc(0)))).length, 0);
  });

  await t.test('a MIME bomb nested 2,000 deep is archived; its parse error is recorded', async () => {
    let body = '';
    for (let i = 0; i < 2000; i++) body += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    const data = Buffer.from(`From: bomb@example.test\r\nSubject: bomb\r\nMessage-ID: <bomb@example.test>\r\nMIME-Version: 1.0\r\n${body}\r\n`);
    const r = await client.send(env, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
    const sha = sha256(data);
    assert.ok((await showRaw(server.data, config, sha)).equals(data));
    const view = await waitUntil('the bomb is indexed', async () => {
      const shown = JSON.parse((await readAs(token, ['show', '--data', server.data, '--config', config, '--json', sha])).stdout.toString());
      return shown.indexed && shown;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    assert.equal(view.indexed, true);
    assert.ok(view.parseError, 'the parse error is recorded');
    assert.equal(view.subject, 'bomb', 'what could be parsed is indexed');
  });

  await t.test('a message over the size limit is refused with 552', async () => {
    const r = await client.send(env, Buffer.alloc(300_000, 'a'));
    assert.equal(r.data[0].code, 552);
  });

  await t.test('a SIZE declared over the limit is refused at MAIL FROM', async () => {
    const r = await client.send({ ...env, mailParams: 'SIZE=999999999' }, Buffer.from('x\r\n'));
    assert.equal(r.mail.code, 552);
  });

  await t.test('commands out of order get 503', async () => {
    assert.equal((await client.command('DATA')).code, 503);
    assert.equal((await client.command('RCPT TO:<a@example.test>')).code, 503);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.equal((await client.command('MAIL FROM:<b@example.test>')).code, 503);
    assert.equal((await client.command('RSET')).code, 250);
    assert.equal((await client.command('MAIL FROM:<not an address')).code, 501);
    assert.equal((await client.command('RSET')).code, 250);
  });

  await t.test('a 10,000-recipient transaction is archived with every recipient', async () => {
    const to = Array.from({ length: 10_000 }, (_, i) => `member${i}@list.example.test`);
    const data = Buffer.from('From: list@example.test\r\nSubject: all hands\r\n\r\nhello\r\n');
    const r = await client.send({ from: 'list@example.test', to }, data);
    assert.equal(r.rcpt.filter((x) => x.code === 250).length, 10_000);
    assert.equal(r.data[0].code, 250, r.data[0].text);
    const shown = await readAs(token, ['show', '--data', server.data, '--config', config, '--json', sha256(data)]);
    const view = JSON.parse(shown.stdout.toString());
    assert.equal(view.captures[0].envelope.rcptTo.length, 10_000);
  });

  await t.test('XFORWARD from an untrusted client is refused and not recorded', async () => {
    const strict = await startSealbox({ args: ['--config', testConfig({ receiver: { trustedClients: ['192.0.2.1'] } })] });
    try {
      const c = await RawSmtpClient.connect(strict.smtp.port);
      assert.equal((await c.command('XFORWARD ADDR=203.0.113.9 HELO=forged.example')).code >= 500, true);
      await c.quit();
    } finally {
      await strict.stop();
    }
  });

  await t.test('a client that disconnects in the middle of DATA leaves nothing behind', async () => {
    const before = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString()).captures;
    const quitter = await RawSmtpClient.connect(server.smtp.port);
    assert.equal((await quitter.command('MAIL FROM:<q@example.test>')).code, 250);
    assert.equal((await quitter.command('RCPT TO:<r@example.test>')).code, 250);
    assert.equal((await quitter.command('DATA')).code, 354);
    quitter.socket.write('Subject: half\r\n\r\nthe first half of a mess');
    const closed = new Promise((resolve) => quitter.socket.once('close', resolve));
    quitter.socket.end();
    await closed;
    const probe = Buffer.from('From: a@example.test\r\nSubject: after the quitter\r\n\r\nok\r\n');
    assert.equal((await client.send(env, probe)).data[0].code, 250); // committed after the half message would have been
    const after = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString()).captures;
    assert.equal(after, before + 1, 'only the complete message was archived');
  });

  await t.test('the listener still serves after all of that', async () => {
    const data = Buffer.from('From: a@example.test\r\nSubject: still here\r\n\r\nok\r\n');
    const r = await client.send(env, data);
    assert.equal(r.data[0].code, 250);
  });

  await t.test('a storage fault answers 451, and the retry is archived once', async () => {
    // Another process holds the database's write lock past the busy timeout: a real fault.
    const db = new DatabaseSync(join(server.data, 'sealbox.db'));
    db.exec('PRAGMA busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
    const data = Buffer.from('From: a@example.test\r\nSubject: retry me\r\nMessage-ID: <retry@example.test>\r\n\r\nok\r\n');
    const first = await client.send(env, data);
    db.exec('ROLLBACK');
    db.close();
    assert.equal(first.data[0].code, 451, first.data[0].text);
    // The log line is written asynchronously: wait for it rather than race it.
    await waitUntil('the commit failure is logged', () => /commit failed/.test(server.stderr()), { timeoutMs: 10_000 });
    const second = await client.send(env, data);
    assert.equal(second.data[0].code, 250);
    const shown = await readAs(token, ['show', '--data', server.data, '--config', config, '--json', sha256(data)]);
    assert.equal(JSON.parse(shown.stdout.toString()).captures.length, 1, 'the refused attempt left no capture');
  });

  await client.quit();
});

test('LMTP answers once per recipient, after the commit', async (t) => {
  const server = await startSealbox({ args: ['--config', testConfig()] });
  t.after(() => server.stop());
  const client = await RawSmtpClient.connect(server.lmtp.port, { lmtp: true });
  const data = Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: lmtp\r\n\r\nhi\r\n');
  const r = await client.send({ from: 'a@example.test', to: ['b@example.test', 'c@example.test', 'd@example.test'] }, data, { lmtp: true });
  assert.deepEqual(r.data.map((x) => x.code), [250, 250, 250]);
  await client.quit();
  // The sender sees the whole envelope (a recipient sees only their own address).
  const lmtpReader = await readerToken(server.data, ['a@example.test']);
  const shown = await readAs(lmtpReader, ['show', '--data', server.data, '--json', sha256(data)]);
  const view = JSON.parse(shown.stdout.toString());
  assert.equal(view.captures[0].source, 'lmtp');
  assert.deepEqual(view.captures[0].envelope.rcptTo.map((x: any) => x.address), ['b@example.test', 'c@example.test', 'd@example.test']);
});
