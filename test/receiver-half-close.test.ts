// A client that half-closes its side (FIN) once it has sent everything still gets every reply it
// waits for: Exim pipelines QUIT after the final dot and then shuts down its write side, and the
// 250 after the commit must reach it, or it would retry a message that is archived already.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { test } from 'node:test';
import { openArchive } from './support/archive.ts';
import { startSealbox } from './support/sealbox.ts';

// Sends the greeting-gated script in one piece, half-closes, and returns everything read until the server closes.
function converse(port: number, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      const first = out === '';
      out += d;
      if (first) socket.end(script); // after the greeting: everything at once, then FIN
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

async function captured(data: string, raw: Buffer): Promise<number> {
  const archive = await openArchive(data);
  try {
    return await archive.read(async (tx) => {
      const row = await archive.stores.meta.getMessage(tx, createHash('sha256').update(raw).digest('hex'));
      return row ? (await archive.stores.meta.capturesOf(tx, row.id)).length : 0;
    });
  } finally {
    archive.close();
  }
}

test('half-closing clients', async (t) => {
  const server = await startSealbox({});
  t.after(() => server.stop());
  const message = () => Buffer.from(`From: a@example.test\r\nSubject: half close ${randomUUID()}\r\n\r\nbody\r\n`);

  await t.test('QUIT pipelined after the final dot, then FIN: 250 after the commit, then 221', async () => {
    const raw = message();
    const out = await converse(server.smtp.port, `EHLO exim.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${raw.toString('latin1')}.\r\nQUIT\r\n`);
    assert.match(out, /\r\n250 archived [0-9a-f]{64} as \S+\r\n221 /, out);
    assert.equal(await captured(server.data, raw), 1);
  });

  await t.test('LMTP the same way: one reply per recipient', async () => {
    const raw = message();
    const out = await converse(server.lmtp.port, `LHLO exim.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n${raw.toString('latin1')}.\r\nQUIT\r\n`);
    assert.equal(out.match(/^250 archived /gm)?.length, 2, out);
    assert.match(out, /\r\n221 /);
  });

  await t.test('FIN after the final dot without QUIT: answered, then the connection ends', async () => {
    const raw = message();
    const out = await converse(server.smtp.port, `EHLO exim.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${raw.toString('latin1')}.\r\n`);
    assert.match(out, /\r\n250 archived /, out);
    assert.equal(await captured(server.data, raw), 1);
  });

  await t.test('FIN in the middle of a message: cut off, nothing archived', async () => {
    const raw = message();
    const out = await converse(server.smtp.port, `EHLO exim.example\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n${raw.toString('latin1').slice(0, 30)}`);
    assert.match(out, /\r\n354 /, out);
    assert.doesNotMatch(out, /\r\n250 archived /);
    assert.equal(await captured(server.data, raw), 0);
  });
});
