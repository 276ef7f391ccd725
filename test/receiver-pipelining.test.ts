// A pipelining client (RFC 2920; Postfix sends MAIL, every RCPT and DATA in one write when the
// server offers PIPELINING) gets every reply in order, and the replies to the commands of one read
// leave the server in one write: each write to a socket is a system call, on loopback the kernel's
// whole path to the reader, a share of the receiving thread's time at a thousand messages a second.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { answerEachReadAtOnce } from '../src/capture/smtp-receiver.ts';
import { openArchive } from './support/archive.ts';
import { startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

test('pipelined transactions over SMTP and LMTP are answered in order and archived', async (t) => {
  const server = await startSealbox({});
  t.after(() => server.stop());
  const sent: Buffer[] = [];
  for (const lmtp of [false, true]) {
    const client = await RawSmtpClient.connect(lmtp ? server.lmtp.port : server.smtp.port, { lmtp });
    for (let i = 0; i < 10; i++) {
      const raw = Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: pipelined ${randomUUID()}\r\n\r\nbody ${i}\r\n`);
      const r = await client.send({ from: 'a@example.test', to: ['b@example.test', 'c@example.test'] }, raw, { lmtp, pipelining: true });
      assert.deepEqual([r.mail.code, ...r.rcpt.map((x) => x.code), ...r.data.map((x) => x.code)], [250, 250, 250, ...(lmtp ? [250, 250] : [250])], JSON.stringify(r));
      sent.push(raw);
    }
    // A refused recipient among them: the others' replies still come in their places.
    const raw = Buffer.from(`From: a@example.test\r\nSubject: one refused ${randomUUID()}\r\n\r\nbody\r\n`);
    const r = await client.send({ from: 'a@example.test', to: ['b@example.test', 'not an address', 'c@example.test'] }, raw, { lmtp, pipelining: true });
    assert.deepEqual(r.rcpt.map((x) => x.code >= 500), [false, true, false], JSON.stringify(r));
    assert.equal(r.data.at(-1)?.code, 250);
    sent.push(raw);
    await client.quit();
  }
  const archive = await openArchive(server.data);
  try {
    for (const raw of sent) {
      const row = await archive.read((tx) => archive.stores.meta.getMessage(tx, createHash('sha256').update(raw).digest('hex')));
      assert.ok(row, 'archived');
    }
  } finally {
    archive.close();
  }
});

test('the replies to the commands of one read leave in one write', async (t) => {
  const writes: number[] = [];
  const server = net.createServer((socket) => {
    answerEachReadAtOnce(socket);
    const s = socket as net.Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    const write = s._write.bind(s);
    const writev = s._writev.bind(s);
    s._write = (...a) => { writes.push(1); write(...a); };
    s._writev = (chunks, ...a) => { writes.push((chunks as unknown[]).length); writev(chunks, ...a); };
    socket.on('data', async () => {
      // As smtp-server answers MAIL, RCPT and DATA: one after another, some after a handler's promise.
      socket.write('250 sender ok\r\n');
      socket.write('250 recipient ok\r\n');
      await Promise.resolve();
      socket.write('354 go ahead\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  let got = '';
  await new Promise<void>((resolve) => {
    client.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('354')) resolve();
    });
    client.write('MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
  });
  client.destroy();
  assert.equal(got, '250 sender ok\r\n250 recipient ok\r\n354 go ahead\r\n');
  assert.deepEqual(writes, [3], 'one write of the three replies');
});
