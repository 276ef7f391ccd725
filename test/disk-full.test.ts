// The data folder on a small file system that fills up while mail arrives over 8 SMTP
// connections (small messages, large streamed ones) and a milter in observe mode. While it is
// full every message is answered with a temporary failure; once space is freed, every message
// that was ever answered 250 — before, during and after — is readable bit-exact, verify passes,
// nothing is indexed twice and the index catches up.
import { waitUntil } from './support/wait.ts';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openArchive, testConfig, waitForIndex } from './support/archive.ts';
import { RawMilterClient, rawMessage, storedCaptures, u16, z } from './support/milter.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { mountSmallFs } from './support/small-fs.ts';

// Up to INLINE_BLOB_BYTES a message is appended to a shared segment (big appends are the ones a
// full disk cuts short); above, it streams to a blob file of its own.
const SIZES = [3_000, 20_000, 200_000, 450_000, 700_000, 1_500_000];
const INLINE_BLOB_BYTES = 1024 * 1024;

let serial = 0;
// Random bytes (zstd cannot shrink them much) as an attachment: the index holds attachment names,
// not their content, so it stays small while the blobs fill the disk.
function message(size: number): { data: Buffer; sha256: string } {
  const n = ++serial;
  const head = `From: sender${n}@example.test\r\nTo: rcpt${n}@example.test\r\nSubject: filling ${n}\r\nMessage-ID: <fill-${n}-${randomBytes(6).toString('hex')}@example.test>\r\n`
    + 'Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="part"\r\n\r\n'
    + `--part\r\nContent-Type: text/plain\r\n\r\nfilling ${n}\r\n--part\r\nContent-Type: application/octet-stream\r\n`
    + `Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="random${n}.bin"\r\n\r\n`;
  const lines: string[] = [];
  let length = head.length;
  while (length < size) {
    const line = randomBytes(57).toString('base64');
    lines.push(line);
    length += line.length + 2;
  }
  const data = Buffer.from(`${head}${lines.join('\r\n')}\r\n--part--\r\n`);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

// Free space down to about `leave` bytes: a ballast file, removed to free the space again.
function fillTo(dir: string, freeBytes: () => number, leave: number): string {
  const path = join(dir, 'ballast');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  try {
    while (freeBytes() - chunk.length > leave) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return path;
}

test('a disk that fills up during ingest loses nothing acknowledged and wedges nothing', { timeout: 600_000 }, async (t) => {
  const fs = mountSmallFs(192);
  if ('unavailable' in fs) {
    if (process.env.CI) assert.fail(`no small file system could be mounted: ${fs.unavailable}`);
    t.skip(`no small file system could be mounted (run as root): ${fs.unavailable}`);
    return;
  }
  const data = join(fs.dir, 'data');
  const config = testConfig({
    milter: { mode: 'observe' }, commit: { inlineBlobBytes: INLINE_BLOB_BYTES },
    // Refusing early is tested on its own below: here the disk is allowed to fill for real.
    storage: { warnFreeBytes: 24 * 1024 * 1024, refuseFreeBytes: 0 },
  });
  const server = await startSealbox({ data, args: ['--config', config, '--milter', '127.0.0.1:0'] });
  t.after(() => server.stop());

  const acknowledged = new Map<string, Buffer>();   // sha256 → the bytes answered 250
  const temporary: { data: Buffer; sha256: string }[] = [];
  const replies: number[] = [];
  const send = async (client: RawSmtpClient, m: { data: Buffer; sha256: string }) => {
    const r = await client.send({ from: 'journal@example.test', to: ['archive@example.test'] }, m.data);
    const reply = r.data.at(-1) ?? r.rcpt.at(-1) ?? r.mail;
    replies.push(reply.code);
    if (reply.code === 250) acknowledged.set(m.sha256, m.data);
    else {
      assert.ok(reply.code >= 400 && reply.code < 500, `a full disk is a temporary failure, not ${reply.code} ${reply.text}`);
      temporary.push(m);
    }
    return reply.code;
  };
  // 8 connections, each sending until `done()` says stop (a connection lost is re-opened).
  const ingest = async (next: () => { data: Buffer; sha256: string } | null) => {
    await Promise.all(Array.from({ length: 8 }, async () => {
      let client: RawSmtpClient | null = null;
      for (let m = next(); m; m = next()) {
        client ??= await RawSmtpClient.connect(server.smtp.port);
        if ((await send(client, m)) === 421) client = null;
      }
      await client?.quit().catch(() => {});
    }));
  };

  // The milter, observe mode: "continue" always; whatever reached the spool must reach the archive.
  const spooled = new Set<string>();   // queue ids seen in the spool (or already archived) after their answer
  const milterIds = (source: 'spool' | 'archive') => {
    if (source === 'archive') return new Set(storedCaptures(data).map((c) => c.envelope.queueId));
    const dir = join(data, 'milter-spool');
    const ids = new Set<string>();
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      if (!f.endsWith('.json')) continue;
      try {
        ids.add(JSON.parse(readFileSync(join(dir, f), 'utf8')).envelope.queueId);
      } catch { /* removed while we read it */ }
    }
    return ids;
  };
  let milterRunning = true;
  const milter = (async () => {
    const c = await RawMilterClient.connect(server.milter!.port);
    await c.negotiate(6, 0x1ff, 0x100000);
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    assert.equal((await c.read())?.command, 'c');
    for (let i = 0; milterRunning; i++) {
      const id = `FILL${i}`;
      // Its body is one long word: the index keeps it small.
      assert.equal(await rawMessage(c, id, `${randomBytes(30_000).toString('hex')}\r\n`, { replies: true }), 'c', 'observe mode always lets mail flow');
      // Spool first, then the archive: a commit in between moves it from the one to the other.
      if (milterIds('spool').has(id) || milterIds('archive').has(id)) spooled.add(id);
    }
    c.close();
  })();

  // 1. Before: plenty of room.
  let before = 40;
  await ingest(() => (before-- > 0 ? message(SIZES[before % SIZES.length]) : null));
  assert.equal(acknowledged.size, 40, 'all accepted while there is room');

  // 2. Fill the disk, then keep sending until the archive has refused a good run of messages.
  const ballast = fillTo(fs.dir, fs.freeBytes, 24 * 1024 * 1024);
  let sinceLastAccepted = 0;
  let sent = 0;
  await ingest(() => {
    const last = replies.at(-1);
    sinceLastAccepted = last === 250 ? 0 : sinceLastAccepted + 1;
    if (sent > 2000 || (temporary.length >= 40 && sinceLastAccepted >= 24)) return null;
    sent++;
    return message(SIZES[sent % SIZES.length]);
  });
  assert.ok(temporary.length >= 40, `the disk filled up: ${temporary.length} temporary failures in ${sent} messages`);
  assert.match(server.stderr(), /disk space below storage\.warnFreeBytes/, 'the log said space was low');
  const duringFull = acknowledged.size;

  // 3. Space freed: the refused messages are retried, and more arrive; every one is accepted.
  rmSync(ballast);
  const retry = temporary.splice(0);
  const refusedWhileFull = retry.length;
  let after = 40;
  await ingest(() => retry.shift() ?? (after-- > 0 ? message(SIZES[after % SIZES.length]) : null));
  assert.deepEqual(temporary.map((m) => m.sha256), [], 'after space is freed nothing is refused');
  milterRunning = false;
  await milter;
  assert.ok(acknowledged.size > duringFull, 'mail flows again');

  // Every message answered 250 is there, bit-exact; whatever the milter spooled was archived.
  await waitUntil('the milter spool is emptied into the archive', () => milterIds('spool').size === 0, { timeoutMs: 120_000 });
  const archived = milterIds('archive');
  for (const id of spooled) assert.ok(archived.has(id), `spooled milter message ${id} is archived`);
  const archive = await openArchive(data);
  try {
    for (const [sha, bytes] of acknowledged) {
      const stored = await archive.stores.reader.buffer(await archive.read((tx) => archive.stores.reader.message(tx, sha)));
      assert.ok(stored.equals(bytes), `message ${sha} reads back bit-exact`);
    }
  } finally {
    archive.close();
  }

  // The index catches up, with one document per message and no failures.
  await waitForIndex(data, 120_000).catch((err) => assert.fail(`${err.message}\nfree: ${fs.freeBytes()}\n${execFileSync('ls', ['-la', data]).toString()}\nserver log:\n${server.stderr().slice(-3000)}`));
  const stats = JSON.parse((await sealbox(['stats', '--data', data, '--json'])).stdout.toString());
  assert.equal(stats.indexFailures.count, 0, `no capture failed to index: ${JSON.stringify(stats.indexFailures)}`);
  const index = await openArchive(data);
  try {
    const docs = (await index.search.search('after:1970-01-01', { limit: 100_000 })).hits.map((h) => h.sha256);
    assert.equal(new Set(docs).size, docs.length, 'nothing indexed twice');
    assert.equal(docs.length, stats.messages, 'one document per message');
    for (const sha of acknowledged.keys()) assert.ok(docs.includes(sha), `message ${sha} is searchable`);
  } finally {
    index.close();
  }

  assert.equal(await server.stop(), 0, 'the server stayed up and stops cleanly');
  const verify = await sealbox(['verify', '--data', data]);
  assert.equal(verify.code, 0, `verify passes:\n${verify.stdout}${verify.stderr}`);
  t.diagnostic(`${fs.kind}: ${acknowledged.size} messages acknowledged (${duringFull - 40} while filling), ${refusedWhileFull} refused while full and accepted after; ${spooled.size} milter messages spooled`);
});

test('below storage.refuseFreeBytes mail is refused with 452 before anything is written', async (t) => {
  const config = testConfig({ milter: { mode: 'guarantee' }, storage: { warnFreeBytes: Number.MAX_SAFE_INTEGER, refuseFreeBytes: Number.MAX_SAFE_INTEGER } });
  const server = await startSealbox({ args: ['--config', config, '--milter', '127.0.0.1:0'] });
  t.after(() => server.stop());
  for (const lmtp of [false, true]) {
    const client = await RawSmtpClient.connect(lmtp ? server.lmtp.port : server.smtp.port, { lmtp });
    const r = await client.send({ from: 'a@example.test', to: ['b@example.test'] }, message(2000).data, { lmtp });
    assert.equal(r.mail.code, 452, `${lmtp ? 'LMTP' : 'SMTP'} MAIL FROM: ${r.mail.code} ${r.mail.text}`);
    assert.match(r.mail.text, /insufficient storage/);
    await client.quit();
  }
  const c = await RawMilterClient.connect(server.milter!.port);
  try {
    await c.negotiate(6, 0x1ff, 0x100000);
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    assert.equal((await c.read())?.command, 'c');
    assert.equal(await rawMessage(c, 'REFUSED1', 'body\r\n', { replies: true }), 't', 'the milter in guarantee mode answers tempfail');
  } finally {
    c.close();
  }
  assert.match(server.stderr(), /new mail is refused with 452/);
  assert.equal(await server.stop(), 0);
  const stats = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString());
  assert.equal(stats.captures, 0, 'nothing was archived');
  const segments = join(server.data, 'blobs', 'segments');
  const written = readdirSync(segments).map((f) => readFileSync(join(segments, f)).length).reduce((a, b) => a + b, 0);
  assert.equal(written, 0, 'no blob bytes were written');
});
