// Never suppress a copy: identical bytes are stored once with one capture per receipt, and
// different bytes are never merged, even when they carry the same Message-ID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';
import { exportedEntry } from './support/ledger-export.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// A content command as the owner of the mailbox concerned, retried until the indexer has placed the message.
async function read(token: string, args: string[]): Promise<string> {
  await waitForIndex(args[args.indexOf('--data') + 1]);
  const r = await readAs(token, args, { expectFound: true });
  assert.equal(r.code, 0, `sealbox ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

async function run(args: string[]): Promise<string> {
  const r = await sealbox(args);
  assert.equal(r.code, 0, `sealbox ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

function lines(text: string): any[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

// Bytes in every file under blobs/: what the archive actually wrote to hold message content.
function blobDirBytes(data: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else total += statSync(join(dir, e.name)).size;
    }
  };
  walk(join(data, 'blobs'));
  return total;
}

// The ledger's capture entries, opened from the exact leaf bytes and the payload they commit to.
async function captureEntries(data: string, config: string): Promise<{ index: number; entry: any }[]> {
  return lines(await run(['ledger', 'export', '--data', data, '--config', config]))
    .filter((l) => l.type === 'capture')
    .map((l) => ({ index: l.index, entry: exportedEntry(l) }));
}

test('the same bytes received three times: one message, one blob, three captures', { timeout: 120_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const token = await readerToken(server.data, ['alice@example.test'], { config });

  const data = Buffer.from('From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: said three times\r\nMessage-ID: <thrice@example.test>\r\n\r\nOnce, twice, three times.\r\n');
  const sha = sha256(data);
  const smtp = await RawSmtpClient.connect(server.smtp.port, { helo: 'first.example.test' });
  const first = await smtp.send({ from: 'alice@example.test', to: ['bob@example.test'] }, data);
  assert.equal(first.data[0].code, 250, first.data[0].text);
  const afterFirst = blobDirBytes(server.data);
  const second = await smtp.send({ from: 'journal@example.test', to: ['carol@example.test', 'dave@example.test'] }, data);
  assert.equal(second.data[0].code, 250, second.data[0].text);
  await smtp.quit();
  const lmtp = await RawSmtpClient.connect(server.lmtp.port, { lmtp: true, helo: 'third.example.test' });
  const third = await lmtp.send({ from: 'alice@example.test', to: ['erin@example.test'] }, data, { lmtp: true });
  assert.deepEqual(third.data.map((r) => r.code), [250]);
  await lmtp.quit();
  // Each reply names the message and its own capture.
  const captureIds = [first.data[0], second.data[0], third.data[0]].map((r) => {
    const m = /archived ([0-9a-f]{64}) as (\S+)/.exec(r.text);
    assert.ok(m, r.text);
    assert.equal(m[1], sha);
    return m[2];
  });
  assert.equal(new Set(captureIds).size, 3);

  const view = JSON.parse(await read(token, ['show', ...common, '--json', sha]));
  assert.equal(view.sha256, sha);
  assert.equal(view.captures.length, 3);
  assert.deepEqual(view.captures.map((c: any) => c.captureId), captureIds);
  assert.deepEqual(view.captures.map((c: any) => c.source), ['smtp', 'smtp', 'lmtp']);
  assert.deepEqual(view.captures.map((c: any) => c.envelope.mailFrom), ['alice@example.test', 'journal@example.test', 'alice@example.test']);
  assert.deepEqual(view.captures.map((c: any) => c.envelope.rcptTo.map((r: any) => r.address)), [['bob@example.test'], ['carol@example.test', 'dave@example.test'], ['erin@example.test']]);
  assert.deepEqual(view.captures.map((c: any) => c.envelope.clientHelo), ['first.example.test', 'first.example.test', 'third.example.test']);

  const stats = JSON.parse(await run(['stats', ...common, '--json']));
  assert.equal(stats.messages, 1);
  assert.equal(stats.captures, 3);
  assert.equal(stats.rawBytes, data.length, 'the bytes are counted once');
  assert.equal(blobDirBytes(server.data), afterFirst, 'the two later receipts wrote no blob bytes');
  const raw = await readAs(token, ['show', ...common, '--raw', sha]);
  assert.ok(raw.stdout.equals(data), 'the one blob holds the exact bytes');

  // One ledger capture entry per receipt; the later ones say they were duplicates.
  const entries = (await captureEntries(server.data, config)).filter((e) => e.entry.objects.messages[0] === sha);
  assert.equal(entries.length, 3);
  assert.deepEqual(entries.map((e) => e.entry.parameters.captureId), captureIds);
  assert.deepEqual(entries.map((e) => e.entry.parameters.duplicate), [false, true, true]);
  assert.deepEqual(entries.map((e) => e.entry.parameters.source), ['smtp', 'smtp', 'lmtp']);
  assert.deepEqual(entries.map((e) => e.entry.parameters.envelope.rcptTo.length), [1, 2, 1], 'each entry holds its own envelope');
  assert.deepEqual(entries.map((e) => e.index), view.captures.map((c: any) => c.ledgerIndex), 'each capture points at its own entry');

  await waitForIndex(server.data);
  const hits = lines(await read(token, ['search', ...common, '--json', 'message-id:thrice@example.test']));
  assert.deepEqual(hits.map((h) => h.sha256), [sha], 'one message, found once');
  const verified = await sealbox(['verify', ...common]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
});

test('two different messages with the same Message-ID are both kept and point at each other', { timeout: 120_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const token = await readerToken(server.data, ['accounts@example.test'], { config });

  const headers = 'From: CFO <cfo@example.test>\r\nTo: Accounts <accounts@example.test>\r\nSubject: Payment instructions\r\nMessage-ID: <Pay-2026-11@example.test>\r\n\r\n';
  const real = Buffer.from(headers + 'Pay invoice 1001 to the usual account.\r\n');
  const forged = Buffer.from(headers + 'Pay invoice 1001 to account 99-9999-99 instead.\r\n');
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (const data of [real, forged]) {
    const r = await client.send({ from: 'cfo@example.test', to: ['accounts@example.test'] }, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
  }
  await client.quit();
  await waitForIndex(server.data);

  const stats = JSON.parse(await run(['stats', ...common, '--json']));
  assert.equal(stats.messages, 2);
  assert.equal(stats.captures, 2);
  const realView = JSON.parse(await read(token, ['show', ...common, '--json', sha256(real)]));
  const forgedView = JSON.parse(await read(token, ['show', ...common, '--json', sha256(forged)]));
  assert.equal(realView.messageId, 'Pay-2026-11@example.test');
  assert.equal(forgedView.messageId, 'Pay-2026-11@example.test');
  assert.deepEqual(realView.sameMessageId, [sha256(forged)]);
  assert.deepEqual(forgedView.sameMessageId, [sha256(real)]);
  assert.ok((await readAs(token, ['show', ...common, '--raw', sha256(forged)])).stdout.equals(forged));
  assert.ok((await readAs(token, ['show', ...common, '--raw', sha256(real)])).stdout.equals(real));

  // With or without <>, in any case: both come back.
  for (const query of ['message-id:<Pay-2026-11@example.test>', 'message-id:pay-2026-11@EXAMPLE.test']) {
    const hits = lines(await read(token, ['search', ...common, '--json', query]));
    assert.deepEqual(hits.map((h) => h.sha256).sort(), [sha256(real), sha256(forged)].sort(), query);
  }
  const entries = await captureEntries(server.data, config);
  assert.deepEqual(entries.map((e) => [e.entry.objects.messages[0], e.entry.parameters.duplicate]), [[sha256(real), false], [sha256(forged), false]]);
});

test('identical bytes arriving at once on several connections are still one message with a capture each', { timeout: 120_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const token = await readerToken(server.data, ['list@example.test'], { config });
  const data = Buffer.from('From: list@example.test\r\nTo: all@example.test\r\nSubject: at once\r\n\r\nsame bytes, same moment\r\n');
  const clients = await Promise.all(Array.from({ length: 6 }, () => RawSmtpClient.connect(server.smtp.port)));
  // Likely to land in one group commit: the in-batch duplicate path as well as the stored one.
  const replies = await Promise.all(clients.map((c, i) => c.send({ from: 'list@example.test', to: [`member${i}@example.test`] }, data)));
  await Promise.all(clients.map((c) => c.quit()));
  assert.deepEqual(replies.map((r) => r.data[0].code), [250, 250, 250, 250, 250, 250]);

  const view = JSON.parse(await read(token, ['show', ...common, '--json', sha256(data)]));
  assert.equal(view.captures.length, 6);
  assert.deepEqual(view.captures.map((c: any) => c.envelope.rcptTo[0].address).sort(), Array.from({ length: 6 }, (_, i) => `member${i}@example.test`).sort());
  const stats = JSON.parse(await run(['stats', ...common, '--json']));
  assert.equal(stats.messages, 1);
  assert.equal(stats.captures, 6);
  const entries = await captureEntries(server.data, config);
  assert.equal(entries.length, 6);
  assert.equal(entries.filter((e) => e.entry.parameters.duplicate === false).length, 1, 'exactly one receipt stored the bytes');
  const verified = await sealbox(['verify', ...common]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
});
