// End to end with a real Exim (Debian's exim4-daemon-light, run from its extracted .deb): the
// README's first router sends an unseen copy of each message to Sealbox's SMTP listener while
// the message is delivered normally. Sealbox must get the original envelope (two To recipients
// and a Bcc recipient that is in no header), and the client facts the router adds to the copy
// only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { openArchive, waitForIndex } from './support/archive.ts';
import { eximSkipReason, startExim } from './support/exim.ts';
import type { EximInstance } from './support/exim.ts';
import { startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { startSmtpSink } from './support/smtp-sink.ts';

const QUEUE_MS = 30_000;

test('Exim with an unseen first router: delivered normally, and a copy with the original envelope reaches Sealbox', async (t) => {
  const skip = eximSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  const server = await startSealbox({});
  const sink = await startSmtpSink();
  let exim: EximInstance | undefined;
  // Exim first, so it holds no connection to Sealbox or the sink when they stop.
  t.after(async () => {
    await exim?.stop();
    await sink.close();
    await server.stop();
  });
  exim = await startExim(`
begin routers

# The router from the README, first in the list.
sealbox_archive:
  driver = manualroute
  route_list = * 127.0.0.1::${server.smtp.port}
  self = send
  transport = remote_smtp
  unseen
  headers_add = X-Sealbox-Client-Address: $sender_host_address\\nX-Sealbox-Client-Helo: $sender_helo_name

# Normal delivery: everything to the next hop (the sink stands in for the mailbox server).
deliver:
  driver = manualroute
  route_list = * 127.0.0.1::${sink.port}
  self = send
  transport = remote_smtp

begin transports

remote_smtp:
  driver = smtp
`);

  const id = randomUUID();
  const sender = 'alice@example.com';
  const to = ['bob@example.org', 'carol@example.org'];
  const bcc = 'dave@example.net';
  const body = `From: Alice <${sender}>\r\nTo: ${to.join(', ')}\r\nSubject: through Exim ${id}\r\nMessage-ID: <${id}@example.com>\r\nDate: Tue, 24 Nov 2026 09:30:00 +0000\r\n\r\nHello Bob and Carol.\r\n`;
  const client = await RawSmtpClient.connect(exim.smtpPort, { helo: 'client.example.com' });
  const sent = await client.send({ from: sender, to: [...to, bcc] }, Buffer.from(body));
  await client.quit();
  assert.equal(sent.data.at(-1)?.code, 250, `${JSON.stringify(sent)}\n${exim.log()}`);
  await exim.waitForQueueEmpty(QUEUE_MS).catch((err) => { throw new Error(`${err.message}\n--- sealbox ---\n${server.stderr()}`); });

  // Delivered normally: every recipient, without the archive router's headers.
  const delivered = sink.inbox.filter((m) => m.data.includes(id));
  assert.deepEqual(delivered.flatMap((m) => m.to).sort(), [...to, bcc].sort(), `${exim.log()}\n--- sealbox ---\n${server.stderr()}`);
  for (const m of delivered) {
    assert.equal(m.from, sender);
    assert.doesNotMatch(m.data, /^X-Sealbox-/m, 'the headers are added to the copy only');
    assert.ok(m.data.endsWith(`\r\n${body}`), 'the message as sent, after Exim\'s Received header');
  }

  // The unseen copy: one transaction with the whole original envelope.
  await waitForIndex(server.data);
  const archive = await openArchive(server.data);
  try {
    const captures = [];
    for (const c of await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)))) {
      if ((await archive.stores.reader.readSmall(await archive.read((tx) => archive.stores.reader.message(tx, c.sha256)))).toString('latin1').includes(id)) captures.push(c);
    }
    assert.equal(captures.length, 1, `one copy: ${JSON.stringify(captures.map((c) => c.envelope?.rcptTo))}\n${exim.log()}`);
    const c = captures[0];
    assert.equal(c.source, 'smtp');
    assert.equal(c.envelope!.mailFrom, sender);
    assert.deepEqual(c.envelope!.rcptTo.map((r) => r.address).sort(), [...to, bcc].sort());
    assert.equal(c.envelope!.clientAddress, '127.0.0.1');
    assert.equal(c.envelope!.clientHelo, exim.hostname, 'the hop that delivered the copy is Exim');
    const raw = (await archive.stores.reader.readSmall(await archive.read((tx) => archive.stores.reader.message(tx, c.sha256)))).toString('latin1');
    assert.match(raw, /^X-Sealbox-Client-Address: 127\.0\.0\.1\r$/m, 'the original client, added by the router');
    assert.match(raw, /^X-Sealbox-Client-Helo: client\.example\.com\r$/m);
    assert.match(raw, /^Received: from \[127\.0\.0\.1\] \(port=\d+ helo=client\.example\.com\)\r\n\tby exim\.sealbox\.test /, 'Exim\'s Received header first');
    // headers_add appends to the header; the rest is the message as sent.
    const [sentHeader, sentBody] = body.split('\r\n\r\n');
    assert.ok(raw.includes(`\r\n${sentHeader}\r\nX-Sealbox-Client-Address: `), 'the header as sent, then the added fields');
    assert.ok(raw.endsWith(`\r\n\r\n${sentBody}`), 'the body as sent');

    const rowId = (await archive.read((tx) => archive.stores.meta.getMessage(tx, c.sha256)))!.id;
    const roles = new Set((await archive.search.participants(rowId)).map((p) => `${p.role}:${p.address}`));
    for (const want of [`from:${sender}`, ...to.map((a) => `to:${a}`), `bcc:${bcc}`]) assert.ok(roles.has(want), `${want} in ${[...roles].join(', ')}`);
  } finally {
    archive.close();
  }
});
