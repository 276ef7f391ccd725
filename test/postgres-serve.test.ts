// `sealbox serve` on PostgreSQL (store.kind "postgres"): metadata, the ledger and the search index
// in a private PostgreSQL 15 cluster, the password in a file of its own. Real corpus mail over
// SMTP, the server SIGKILLed in the middle of it: every acknowledged message is archived
// bit-exact after the restart, indexed once, searchable by its owner, and `verify` (archive and
// index) is green; nothing of the metadata or the index is left in the data folder, and the
// password is in no log. With PostgreSQL gone, mail is answered 4xx and the server stays up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { assertArchivedOnce } from './support/archived.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { readAs, readerToken } from './support/reader.ts';
import { sealbox, startSealbox, statsOf, tempDataDir } from './support/sealbox.ts';
import { RawSmtpClient, toCrlf } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres({ durable: true }); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// A config naming the database by a URL without its password, and the password in a 0600 file.
async function postgresConfig(database: string): Promise<{ config: string; password: string }> {
  const { store, url } = await postgresStore(cluster, database);
  return { config: testConfig({ data: join(tempDataDir(), 'data'), store }), password: decodeURIComponent(new URL(url).password) };
}

test('serve on PostgreSQL: killed mid-ingest, every acknowledged message is archived bit-exact, indexed once, searchable and verified', { timeout: 600_000 }, async (t) => {
  const { config, password } = await postgresConfig('serve');
  const data = loadConfig(config, {}, {}).data;
  let server = await startSealbox({ data, args: ['--config', config] });
  t.after(() => server.stop());

  const files = corpusFiles().slice(0, 400);
  const messages: Delivery[] = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'sender@ext.test', to: index % 2 ? [`person${index % 7}@corp.test`] : [`person${index % 7}@corp.test`, 'r@corp.test'] } }));
  // One of them known by its words, to find it by search later.
  messages[0] = { index: 0, data: Buffer.from('From: Alice <alice@ext.test>\r\nTo: r@corp.test\r\nSubject: Quarterly invoice INV-20261204\r\nMessage-ID: <pg-known@ext.test>\r\nDate: Fri, 04 Dec 2026 09:00:00 +0000\r\n\r\nThe zanzibar shipment is late.\r\n'), envelope: { from: 'alice@ext.test', to: ['r@corp.test', 'hidden-bcc@corp.test'] } };

  // The first half acknowledged, then the server is killed while the second half is coming in.
  const acked = new Set<number>();
  const first = await deliverAll(server.smtp.port, messages.slice(0, 200), { connections: 4 });
  for (const [i, r] of first) if (r.code === 250) acked.add(i);
  assert.equal(acked.size, 200, 'every message of the first half accepted');
  let replies = 0;
  const second = deliverAll(server.smtp.port, messages.slice(200), {
    connections: 4,
    onReply: (d, r) => {
      if (r.code === 250) acked.add(d.index);
      if (++replies === 60) void server.kill();
    },
  });
  await second;
  assert.ok(acked.size >= 260 && acked.size < 400, `the kill came in the middle (${acked.size} acknowledged)`);

  // The restarted server goes on from what PostgreSQL holds (several nodes: postgres-nodes.test.ts).
  server = await startSealbox({ data, args: ['--config', config] });
  const rest = messages.filter((m) => !acked.has(m.index));
  for (const [i, r] of await deliverAll(server.smtp.port, rest, { connections: 4 })) if (r.code === 250) acked.add(i);
  assert.equal(acked.size, 400, 'the rest accepted after the restart');

  await waitUntil('the index covers every capture', async () => {
    const s = await statsOf(config);
    return s.indexLag.captures === 0 && s.authPending === 0;
  }, { timeoutMs: 120_000, intervalMs: 300 });
  const s = await statsOf(config);
  const distinct = new Set(messages.map((m) => sha(m.data)));
  assert.equal(s.messages, distinct.size, 'one message per distinct content');
  // 400 messages are too few for any mailbox to get a words index of its own (mailbox-indexes.ts).
  assert.deepEqual(s.mailboxIndexes, [], 'stats lists the mailboxes\' own indexes: none');

  // Nothing of the metadata or the index in the data folder: it holds the keys (and blobs).
  assert.ok(!existsSync(join(data, 'sealbox.db')) && !existsSync(join(data, 'index.db')), 'no SQLite database in the data folder');

  // Every acknowledged message, bit-exact, and the index holds each exactly once.
  await assertArchivedOnce(config, messages);

  // The owner finds it by its words, and the Bcc recipient's mailbox holds it.
  const token = await readerToken(data, ['r@corp.test'], { config });
  const found = await readAs(token, ['search', '--config', config, 'zanzibar subject:INV-20261204'], { expectFound: true });
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(found.stdout.toString().trim().split('\n').map((l) => l.slice(-30)), ['Quarterly invoice INV-20261204'], 'that message alone');
  const bcc = await readerToken(data, ['hidden-bcc@corp.test'], { config, name: 'bcc' });
  const raw = await readAs(bcc, ['show', '--config', config, '--raw', sha(messages[0]!.data)]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.ok(raw.stdout.equals(messages[0]!.data), 'the envelope-only recipient\'s owner reads it bit-exact');
  const outside = await readAs(token, ['show', '--config', config, '--raw', sha(messages[1]!.data)], { timeoutMs: 1000 });
  assert.notEqual(outside.code, 0, 'a message of another mailbox is not shown');
  assert.match(outside.stderr, /SEALBOX_ERR_NOT_FOUND/);

  for (const args of [['verify'], ['verify', '--index']]) {
    const r = await sealbox([...args, '--config', config]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout.toString(), /^OK: /m);
  }
  assert.ok(!server.stderr().includes(password), 'the database password is in no log');

  // PostgreSQL gone: mail is not acknowledged (the sender retries), and the server stays up.
  await cluster.stop();
  const client = await RawSmtpClient.connect(server.smtp.port).catch((err) => assert.fail(`the server is gone (${err.message}): ${server.stderr().slice(-3000)}`));
  const late = await client.send({ from: 'late@ext.test', to: ['r@corp.test'] }, Buffer.from('Subject: late\r\n\r\nafter the database went away\r\n'));
  const reply = late.data.at(-1) ?? late.rcpt.at(-1) ?? late.mail;
  assert.ok(reply.code >= 400 && reply.code < 500, `a 4xx, not ${reply.code} ${reply.text}`);
  await client.quit().catch(() => {});
  // Its timers (notices, checkpoints, the indexer) meet the missing database too, and log it.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(server.proc.exitCode, null, `the server is still running: ${server.stderr().slice(-2000)}`);
  assert.ok(!server.stderr().includes(password), 'the database password is in no log, failures included');
});
