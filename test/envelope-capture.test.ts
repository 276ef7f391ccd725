// The whole SMTP envelope is evidence: every MAIL FROM and RCPT TO parameter, the client facts,
// what a trusted MTA forwarded (XFORWARD/XCLIENT) next to the hop that really delivered, and the
// TLS session. Also the receiver's gates: allowedClients and recipientDomains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { RawSmtpClient, dotStuff } from './support/smtp-client.ts';
import type { Reply } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { readAs, readerToken } from './support/reader.ts';
import { testConfig } from './support/archive.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let sent = 0;
function message(subject: string): Buffer {
  return Buffer.from(`From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: ${subject}\r\nMessage-ID: <envelope-${++sent}-${process.pid}@example.test>\r\n\r\nbody of ${subject}\r\n`);
}

// One transaction with exactly these MAIL and RCPT lines (parameters included).
async function transaction(client: RawSmtpClient, mail: string, rcpts: string[], data: Buffer): Promise<Reply> {
  const m = await client.command(mail);
  assert.equal(m.code, 250, `${mail}: ${m.text}`);
  for (const line of rcpts) {
    const r = await client.command(line);
    assert.equal(r.code, 250, `${line}: ${r.text}`);
  }
  const go = await client.command('DATA');
  assert.equal(go.code, 354, go.text);
  const done = client.reply();
  client.socket.write(Buffer.concat([dotStuff(data), Buffer.from('.\r\n')]));
  return done;
}

// Read as the owner of alice@example.test, the sender of every message here: the sender sees the
// whole envelope (a recipient sees only their own RCPT TO, so as not to learn of a Bcc).
const tokens = new Map<string, Promise<string>>();
async function showJson(data: string, config: string, sha: string): Promise<any> {
  if (!tokens.has(data)) tokens.set(data, readerToken(data, ['alice@example.test'], { config }));
  const r = await readAs(await tokens.get(data)!, ['show', '--data', data, '--config', config, '--json', sha]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.toString());
}

// Everything the server says on connecting, up to its first final reply line.
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/^\d{3} [^\r\n]*\r\n/m.test(text)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

// A throwaway self-signed certificate, made by the openssl CLI in a temp dir (removed at exit).
function selfSignedCert(): { key: string; cert: string } {
  const dir = tempDataDir();
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=sealbox.test'], { stdio: 'ignore' });
  return { key, cert };
}

test('the whole envelope is recorded', { timeout: 180_000 }, async (t) => {
  const config = testConfig({ receiver: { tls: selfSignedCert() } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());

  await t.test('MAIL FROM and RCPT TO parameters, client address, port and HELO', async () => {
    const client = await RawSmtpClient.connect(server.smtp.port, { helo: 'client.example.test' });
    const data = message('parameters');
    const reply = await transaction(client, `MAIL FROM:<alice@example.test> SIZE=${data.length} BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159`, [
      'RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@example.test',
      'RCPT TO:<carol@example.test> NOTIFY=NEVER',
      'RCPT TO:<dave@example.test>',
    ], data);
    assert.equal(reply.code, 250, reply.text);
    const localPort = client.socket.localPort;
    await client.quit();

    const view = await showJson(server.data, config, sha256(data));
    assert.equal(view.captures.length, 1);
    const capture = view.captures[0];
    assert.equal(capture.source, 'smtp');
    const env = capture.envelope;
    assert.equal(env.mailFrom, 'alice@example.test');
    assert.deepEqual(env.mailFromArgs, { SIZE: String(data.length), BODY: '8BITMIME', SMTPUTF8: '', RET: 'HDRS', ENVID: 'QQ314159' });
    assert.deepEqual(env.rcptTo, [
      { address: 'bob@example.test', args: { NOTIFY: 'SUCCESS,FAILURE', ORCPT: 'rfc822;Bob@example.test' } },
      { address: 'carol@example.test', args: { NOTIFY: 'NEVER' } },
      { address: 'dave@example.test', args: {} },
    ]);
    assert.equal(env.clientAddress, '127.0.0.1');
    assert.equal(env.clientPort, localPort);
    assert.equal(env.clientHelo, 'client.example.test');
    assert.equal(env.protocol, 'ESMTP');
    assert.equal(env.tls, null, 'a plain-text session records no TLS');
    assert.equal(env.queueId, null, 'no queue id was forwarded');
    assert.deepEqual(env.xforward, {});
    assert.deepEqual(env.transport, { address: '127.0.0.1', port: localPort, helo: 'client.example.test' });
  });

  await t.test('XFORWARD from a trusted client: the original client is recorded, and the real hop apart', async () => {
    const client = await RawSmtpClient.connect(server.smtp.port, { helo: 'relay.example.test' });
    const hopPort = client.socket.localPort;
    const xf = await client.command('XFORWARD ADDR=203.0.113.7 NAME=mail.customer.example PORT=40125 HELO=mx.customer.example PROTO=ESMTP IDENT=4XyZ1AbC2');
    assert.equal(xf.code, 250, xf.text);
    const data = message('xforward');
    const reply = await transaction(client, 'MAIL FROM:<alice@example.test>', ['RCPT TO:<bob@example.test>'], data);
    assert.equal(reply.code, 250, reply.text);
    await client.quit();

    const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
    assert.equal(env.clientAddress, '203.0.113.7', 'the forwarded ADDR is the client');
    assert.equal(env.clientPort, 40125, 'the forwarded PORT is the client port');
    assert.equal(env.clientName, 'mail.customer.example');
    assert.equal(env.clientHelo, 'mx.customer.example');
    assert.equal(env.protocol, 'ESMTP');
    assert.equal(env.queueId, '4XyZ1AbC2', 'IDENT is the upstream queue id');
    assert.deepEqual(env.xforward, { ADDR: '203.0.113.7', NAME: 'mail.customer.example', PORT: '40125', HELO: 'mx.customer.example', PROTO: 'ESMTP', IDENT: '4XyZ1AbC2' });
    // smtp-server overwrites the hop's EHLO name with XFORWARD HELO and keeps no copy: the hop's
    // name is then unknown (null), and must never be the forwarded client's.
    assert.deepEqual(env.transport, { address: '127.0.0.1', port: hopPort, helo: null }, 'transport is the hop that delivered, not the forwarded client');
  });

  await t.test('XFORWARD attributes the MTA did not have ([UNAVAILABLE]) are recorded as such and invent nothing', async () => {
    const client = await RawSmtpClient.connect(server.smtp.port, { helo: 'relay.example.test' });
    const hopPort = client.socket.localPort;
    const xf = await client.command('XFORWARD NAME=[UNAVAILABLE] ADDR=[UNAVAILABLE] IDENT=[UNAVAILABLE] SOURCE=LOCAL');
    assert.equal(xf.code, 250, xf.text);
    const data = message('xforward unavailable');
    const reply = await transaction(client, 'MAIL FROM:<alice@example.test>', ['RCPT TO:<bob@example.test>'], data);
    assert.equal(reply.code, 250, reply.text);
    await client.quit();

    const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
    assert.equal(env.clientAddress, '127.0.0.1', 'no forwarded address: the hop is the client');
    assert.equal(env.clientPort, hopPort);
    assert.equal(env.clientName, null);
    assert.equal(env.queueId, null);
    assert.equal(env.clientHelo, 'relay.example.test');
    assert.deepEqual(env.xforward, { NAME: '', ADDR: '[UNAVAILABLE]', IDENT: '[UNAVAILABLE]', SOURCE: 'LOCAL' });
  });

  await t.test('XCLIENT from a trusted client: likewise', async () => {
    const client = await RawSmtpClient.connect(server.smtp.port, { helo: 'proxy.example.test' });
    const hopPort = client.socket.localPort;
    // XCLIENT starts the session over: a new greeting, then the client says EHLO again.
    const xc = await client.command('XCLIENT ADDR=198.51.100.20 NAME=smtp.partner.example PORT=51000 HELO=smtp.partner.example PROTO=ESMTP');
    assert.equal(xc.code, 220, xc.text);
    assert.equal((await client.command('EHLO proxy.example.test')).code, 250);
    const data = message('xclient');
    const reply = await transaction(client, 'MAIL FROM:<alice@example.test>', ['RCPT TO:<bob@example.test>'], data);
    assert.equal(reply.code, 250, reply.text);
    await client.quit();

    const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
    assert.equal(env.clientAddress, '198.51.100.20');
    assert.equal(env.clientPort, 51000);
    assert.equal(env.clientName, 'smtp.partner.example');
    assert.equal(env.clientHelo, 'smtp.partner.example');
    assert.equal(env.protocol, 'ESMTP');
    assert.equal(env.xforward.ADDR, '198.51.100.20');
    assert.deepEqual(env.transport, { address: '127.0.0.1', port: hopPort, helo: 'proxy.example.test' });
  });

  await t.test('STARTTLS with the configured certificate: a real client upgrades, and the session is recorded', async () => {
    const probe = await RawSmtpClient.connect(server.smtp.port);
    const ehlo = await probe.command('EHLO again.example.test');
    await probe.quit();
    assert.match(ehlo.text, /^STARTTLS$/m, 'STARTTLS is advertised');

    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.smtp.port, secure: false, requireTLS: true, name: 'tls-client.example.test',
      tls: { rejectUnauthorized: false, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' },
    });
    const data = message('starttls');
    const info = await transport.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw: data });
    transport.close();
    assert.match(info.response, /^250 /);
    const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
    assert.deepEqual(env.tls, { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
    assert.equal(env.clientHelo, 'tls-client.example.test', 'the EHLO after STARTTLS');
    assert.equal(env.protocol, 'ESMTPS');
  });

  await t.test('the TLS protocol recorded is the one negotiated, not the cipher suite\'s minimum', async () => {
    // ECDHE-RSA-AES128-SHA dates from TLS 1.0 but is used here over TLS 1.2.
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.smtp.port, secure: false, requireTLS: true,
      tls: { rejectUnauthorized: false, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA@SECLEVEL=0' },
    });
    const data = message('tls 1.2');
    await transport.sendMail({ envelope: { from: 'alice@example.test', to: ['bob@example.test'] }, raw: data });
    transport.close();
    const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
    assert.deepEqual(env.tls, { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-SHA' });
  });
});

test('without a certificate STARTTLS is neither advertised nor accepted', async (t) => {
  const server = await startSealbox({ args: ['--config', testConfig()] });
  t.after(() => server.stop());
  const client = await RawSmtpClient.connect(server.smtp.port);
  const ehlo = await client.command('EHLO plain.example.test');
  assert.equal(ehlo.code, 250);
  assert.doesNotMatch(ehlo.text, /STARTTLS/);
  // Without a configured certificate there is no key of ours to offer: refuse, do not improvise one.
  const starttls = await client.command('STARTTLS');
  if (starttls.code === 220) client.socket.destroy(); // the server now waits for a handshake
  assert.ok(starttls.code >= 500 && starttls.code < 600, `STARTTLS answered ${starttls.code} ${starttls.text}`);
  await client.quit();
});

test('receiver.allowedClients: a client outside the list is refused with 554', async (t) => {
  const refusing = await startSealbox({ args: ['--config', testConfig({ receiver: { allowedClients: ['192.0.2.0/24', '2001:db8::/32'] } })] });
  t.after(() => refusing.stop());
  assert.match(await greeting(refusing.smtp.port), /^554 /m);
  assert.match(await greeting(refusing.lmtp.port), /^554 /m);

  const allowing = await startSealbox({ args: ['--config', testConfig({ receiver: { allowedClients: ['192.0.2.0/24', '127.0.0.0/8'] } })] });
  t.after(() => allowing.stop());
  assert.match(await greeting(allowing.smtp.port), /^220 /m);
});

test('receiver.recipientDomains: other domains get 550, listed ones 250', async (t) => {
  const config = testConfig({ receiver: { recipientDomains: ['example.test', 'corp.example'] } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const client = await RawSmtpClient.connect(server.smtp.port);
  assert.equal((await client.command('MAIL FROM:<someone@elsewhere.example>')).code, 250);
  assert.equal((await client.command('RCPT TO:<x@other.example>')).code, 550);
  assert.equal((await client.command('RCPT TO:<x@sub.example.test>')).code, 550, 'a subdomain is another domain');
  assert.equal((await client.command('RCPT TO:<bob@example.test>')).code, 250);
  assert.equal((await client.command('RCPT TO:<Carol@CORP.EXAMPLE>')).code, 250, 'domains compare without case');
  const data = message('recipient domains');
  const go = await client.command('DATA');
  assert.equal(go.code, 354);
  const done = client.reply();
  client.socket.write(Buffer.concat([data, Buffer.from('.\r\n')]));
  assert.equal((await done).code, 250);
  await client.quit();
  const env = (await showJson(server.data, config, sha256(data))).captures[0].envelope;
  assert.deepEqual(env.rcptTo.map((r: any) => r.address), ['bob@example.test', 'Carol@CORP.EXAMPLE'], 'only accepted recipients are in the envelope');
});
