// A real Postfix with Sealbox as its milter in guarantee mode (smtpd_milters and
// non_smtpd_milters, milter_default_action = tempfail), relaying to a sink that stands in for
// the next hop. Every envelope fact must arrive, the archived bytes must be what Postfix
// delivered (less the Received: header it never shows milters), and with the store failing
// Postfix must answer a temporary failure and deliver nothing, then archive the retry once.
import { waitUntil } from './support/wait.ts';
import { holdArchiveWriteLock } from './support/store-fault.ts';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { testConfig } from './support/archive.ts';
import { archivedBytes, startSink, storedCaptures, withoutFirstHeader } from './support/milter.ts';
import type { SinkMessage } from './support/milter.ts';
import { postfixSkipReason, startPostfix } from './support/postfix.ts';
import type { PostfixInstance } from './support/postfix.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import type { Reply } from './support/smtp-client.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const QUEUE_MS = 60_000;

function deliveredWith(messages: SinkMessage[], marker: string): SinkMessage[] {
  return messages.filter((m) => m.raw.includes(marker));
}

// Postfix's own Received: header names the queue id: "... id 4F1A2B3C4D; Tue, ...".
function queueIdOf(delivered: SinkMessage): string {
  const received = delivered.raw.subarray(0, delivered.raw.length - withoutFirstHeader(delivered.raw).length).toString('latin1');
  const match = /\bid ([0-9A-Za-z]+);/.exec(received);
  assert.ok(match, `queue id in ${JSON.stringify(received)}`);
  return match[1]!;
}

// One SMTP transaction with ESMTP parameters on MAIL and RCPT.
async function transaction(client: RawSmtpClient, mail: string, rcpts: string[], data: Buffer): Promise<Reply> {
  const m = await client.command(`MAIL FROM:${mail}`);
  assert.equal(m.code, 250, m.text);
  for (const r of rcpts) {
    const reply = await client.command(`RCPT TO:${r}`);
    assert.equal(reply.code, 250, reply.text);
  }
  const go = await client.command('DATA');
  assert.equal(go.code, 354, go.text);
  const reply = client.reply();
  client.socket.write(Buffer.concat([data, Buffer.from('.\r\n')]));
  return reply;
}

test('Postfix with Sealbox as its milter (guarantee mode)', { timeout: 300_000 }, async (t) => {
  const skip = postfixSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const sink = await startSink();
  const server = await startSealbox({ args: ['--config', testConfig(), '--milter', '127.0.0.1:0'] });
  let postfix: PostfixInstance | undefined;
  t.after(async () => {
    await postfix?.stop();
    await server.stop();
    await sink.close();
  });
  postfix = await startPostfix({ relayHost: '127.0.0.1', relayPort: sink.port, milter: `inet:127.0.0.1:${server.milter!.port}`, mainCf: { milter_protocol: '6' } });
  const pf = postfix;

  await t.test('sendmail -t: To, Cc and Bcc recipients, the queue id and the bytes Postfix delivered', async () => {
    const id = randomUUID();
    const input = [
      'From: Alice Example <alice@example.com>', 'To: Bob <bob@example.org>', 'Cc: carol@example.org', 'Bcc: dave@example.net',
      `Subject: milter via sendmail ${id}`, '  (a folded subject line)', 'X-Odd-Spacing:\tvalue after a tab  ', 'X-No-Space:value',
      `Message-ID: <${id}@example.com>`, 'Date: Tue, 24 Nov 2026 09:30:00 +0000', '', 'Hello Bob and Carol.', '', '-- ', 'Alice', '',
    ].join('\n');
    await pf.sendmail(['-f', 'alice@example.com', '-t'], input);
    await pf.waitForQueueEmpty(QUEUE_MS);

    const delivered = deliveredWith(sink.messages, id);
    assert.equal(delivered.length, 1, 'delivered once');
    assert.deepEqual([...delivered[0]!.to].sort(), ['bob@example.org', 'carol@example.org', 'dave@example.net']);
    const queueId = queueIdOf(delivered[0]!);
    const captures = storedCaptures(server.data).filter((c) => c.envelope.queueId === queueId);
    assert.equal(captures.length, 1, `one capture with queue id ${queueId}`);
    const { envelope, sha256: sha, provenance } = captures[0]!;
    assert.equal(envelope.mailFrom, 'alice@example.com');
    assert.deepEqual(envelope.rcptTo.map((r) => r.address).sort(), ['bob@example.org', 'carol@example.org', 'dave@example.net'], 'the Bcc recipient is in the envelope');
    // A local submission: Postfix presents it as coming from localhost [127.0.0.1], HELO localhost.
    assert.equal(envelope.clientAddress, '127.0.0.1');
    assert.equal(envelope.clientHelo, 'localhost');
    assert.equal(envelope.transport.address, '127.0.0.1');
    assert.equal(envelope.transport.helo, pf.heloName, 'the j macro: the MTA’s own name');
    assert.equal(provenance?.milter?.mode, 'guarantee');
    assert.equal(provenance?.milter?.version, 6);

    const raw = await archivedBytes(server.data, sha);
    assert.equal(sha256(raw), sha);
    assert.ok(raw.equals(withoutFirstHeader(delivered[0]!.raw)), `archived bytes are the delivered ones less Postfix's Received:\n${raw}\n---\n${delivered[0]!.raw}`);
    assert.ok(!raw.includes('dave@example.net'), 'the Bcc header was removed by Postfix: the envelope is the only witness');
    assert.ok(raw.includes('X-No-Space:value\r\n') && raw.includes('X-Odd-Spacing:\tvalue after a tab  \r\n'), 'header white space as sent');
  });

  await t.test('SMTP through smtpd: client address, port and HELO, MAIL and RCPT parameters, bytes exactly as sent', async () => {
    const id = randomUUID();
    const data = Buffer.from([
      'From: Eve <eve@example.com>', 'To: bob@example.org', 'Cc: carol@example.org', `Subject: milter via smtpd ${id}`,
      `Message-ID: <${id}@example.com>`, 'Date: Tue, 24 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'Grüße', '..a line that was dot-stuffed', '',
    ].join('\r\n'));
    const client = await RawSmtpClient.connect(pf.smtpPort, { helo: 'client.example' });
    const reply = await transaction(client, `<eve@example.com> SIZE=${data.length} BODY=8BITMIME`,
      ['<bob@example.org> NOTIFY=NEVER ORCPT=rfc822;bob@example.org', '<carol@example.org>', '<hidden@example.net>'], data);
    const clientPort = client.socket.localPort;
    await client.quit();
    assert.equal(reply.code, 250, reply.text);
    const queueId = /queued as ([0-9A-Za-z]+)/.exec(reply.text)?.[1];
    assert.ok(queueId, reply.text);
    await pf.waitForQueueEmpty(QUEUE_MS);

    const sent = Buffer.from(data.toString('utf8').replace('\r\n..a line', '\r\n.a line'));
    const captures = storedCaptures(server.data).filter((c) => c.envelope.queueId === queueId);
    assert.equal(captures.length, 1, `one capture with queue id ${queueId}`);
    const { envelope, sha256: sha } = captures[0]!;
    assert.equal(sha, sha256(sent), 'Postfix added nothing it shows milters: the archived bytes are the ones sent');
    assert.equal(envelope.mailFrom, 'eve@example.com');
    assert.deepEqual(envelope.mailFromArgs, { SIZE: String(data.length), BODY: '8BITMIME' });
    assert.deepEqual(envelope.rcptTo, [
      { address: 'bob@example.org', args: { NOTIFY: 'NEVER', ORCPT: 'rfc822;bob@example.org' } },
      { address: 'carol@example.org', args: {} },
      { address: 'hidden@example.net', args: {} },
    ]);
    assert.equal(envelope.clientAddress, '127.0.0.1');
    assert.equal(envelope.clientPort, clientPort);
    assert.equal(envelope.clientHelo, 'client.example');
    assert.equal(envelope.clientName, null, 'no reverse lookup: Postfix says "unknown", which is not a name');
    assert.equal(envelope.authUser, null);
    assert.equal(envelope.tls, null);
    assert.equal(envelope.transport.helo, pf.heloName);

    const delivered = deliveredWith(sink.messages, id);
    assert.equal(delivered.length, 1);
    assert.ok(withoutFirstHeader(delivered[0]!.raw).equals(sent));
    assert.ok((await archivedBytes(server.data, sha)).equals(sent));
  });

  await t.test('store fault: Postfix answers 4xx and delivers nothing; the retry is archived exactly once', async () => {
    const smtpId = randomUUID();
    const smtpData = Buffer.from(`From: eve@example.com\r\nTo: bob@example.org\r\nSubject: fault ${smtpId}\r\nMessage-ID: <${smtpId}@example.com>\r\nDate: Tue, 24 Nov 2026 11:00:00 +0000\r\n\r\nretry me\r\n`);
    const localId = randomUUID();
    const localInput = `From: alice@example.com\nTo: bob@example.org\nBcc: dave@example.net\nSubject: fault ${localId}\nMessage-ID: <${localId}@example.com>\nDate: Tue, 24 Nov 2026 11:00:00 +0000\n\nretry me too\n`;

    // Another process holds the archive database's write lock past the busy timeout: a real fault.
    const lock = holdArchiveWriteLock(server.data);
    try {
      const logBefore = pf.log().length;
      await pf.sendmail(['-f', 'alice@example.com', '-t'], localInput);
      const client = await RawSmtpClient.connect(pf.smtpPort, { helo: 'client.example' });
      // Refused at the end of the message: the server waits out the lock on timers (issue 20),
      // so the milter answers MAIL and RCPT meanwhile and Postfix accepts them.
      const first = await transaction(client, '<eve@example.com>', ['<bob@example.org>'], smtpData);
      assert.equal(first.code, 451, `a temporary failure to the SMTP client: ${first.code} ${first.text}`);
      assert.match(first.text, /4\.7\.1/);
      await client.quit();
      // The local submission stays in the maildrop queue; cleanup logged the milter's tempfail.
      await waitUntil('cleanup logs the milter tempfail for the local submission', () =>
        pf.log().slice(logBefore).split('\n').some((l) => l.includes('milter-reject: END-OF-MESSAGE') && l.includes('from=<alice@example.com>') && l.includes('4.7.1')), { timeoutMs: 60_000 });
      assert.equal(deliveredWith(sink.messages, smtpId).length + deliveredWith(sink.messages, localId).length, 0, 'nothing delivered');
      assert.match(server.stderr(), /milter capture failed; answered tempfail/);
      assert.equal(storedCaptures(server.data).filter((c) => c.sha256 === sha256(smtpData)).length, 0);

      lock.release();

      // The SMTP client retries; Postfix retries the local submission from its maildrop.
      const retry = await RawSmtpClient.connect(pf.smtpPort, { helo: 'client.example' });
      const second = await transaction(retry, '<eve@example.com>', ['<bob@example.org>'], smtpData);
      assert.equal(second.code, 250, second.text);
      await retry.quit();
      await pf.flush();
      await pf.waitForQueueEmpty(QUEUE_MS);
    } finally {
      lock.release();
    }

    const smtpDelivered = deliveredWith(sink.messages, smtpId);
    const localDelivered = deliveredWith(sink.messages, localId);
    assert.equal(smtpDelivered.length, 1, 'the SMTP retry delivered once');
    assert.equal(localDelivered.length, 1, 'the local retry delivered once');
    const captures = storedCaptures(server.data);
    const smtpCaptures = captures.filter((c) => c.sha256 === sha256(smtpData));
    assert.equal(smtpCaptures.length, 1, 'the SMTP retry archived once');
    const localSha = sha256(withoutFirstHeader(localDelivered[0]!.raw));
    const localCaptures = captures.filter((c) => c.sha256 === localSha);
    assert.equal(localCaptures.length, 1, 'the local retry archived once');
    assert.deepEqual(localCaptures[0]!.envelope.rcptTo.map((r) => r.address).sort(), ['bob@example.org', 'dave@example.net']);
    assert.equal(localCaptures[0]!.envelope.queueId, queueIdOf(localDelivered[0]!));

    const verify = await sealbox(['verify', '--data', server.data]);
    assert.equal(verify.code, 0, verify.stdout.toString() + verify.stderr);
  });
});
