// Issue 20: DNS must not hold the index back. With a real resolver whose name servers never answer
// for one sender's domain, that sender's mail is searchable as soon as it is indexed, like the
// rest; its verdicts follow when the lookups time out (temperror, with the time they were
// checked), and the dead domain is asked once for all its messages, not once per message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/core/config.ts';
import { staticZoneResolver } from '../src/index/dns-resolver.ts';
import { Indexer } from '../src/index/indexer.ts';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import { SqliteIndexStore } from '../src/index/sqlite/index-store.ts';
import { openStores } from '../src/store/open-stores.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';
import { startSlowDns } from './support/slow-dns.ts';
import { waitUntil } from './support/wait.ts';

const PER_DOMAIN = 15;
const TIMEOUT_MS = 6000;

const message = (from: string, n: number) => Buffer.from([
  `From: <${from}>`, 'To: <bob@corp.test>', `Subject: order ${n} from ${from.split('@')[1]}`,
  `Message-ID: <m${n}.${from}>`, 'Date: Mon, 02 Nov 2026 09:00:00 +0000', '', `Order number ${n}.`, '',
].join('\r\n'));

test('mail from a domain whose name servers hang is searchable at once; its verdicts follow', { timeout: 120_000 }, async (t) => {
  const dns = await startSlowDns({ drop: (name) => name === 'dead.example' || name.endsWith('.dead.example') });
  t.after(() => dns.close());
  const config = testConfig({ auth: { dns: 'system', servers: [dns.address], timeoutMs: TIMEOUT_MS }, log: { level: 'warn' } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());

  const sent: Buffer[] = [];
  const smtp = await RawSmtpClient.connect(server.smtp.port, { helo: 'mx.test' });
  for (let n = 0; n < PER_DOMAIN; n++) {
    for (const from of ['alice@dead.example', 'carol@live.example']) {
      const raw = message(from, n);
      const r = await smtp.send({ from, to: ['bob@corp.test'] }, raw);
      assert.equal(r.data[0].code, 250, r.data[0].text);
      sent.push(raw);
    }
  }
  await smtp.quit();
  const sentAt = performance.now();

  // Indexed while the dead domain's lookups still wait for their timeout.
  let seen: { indexLag: { captures: number }; authPending: number } | null = null;
  await waitUntil('every capture is indexed', async () => {
    const r = await sealbox(['stats', '--data', server.data, '--config', config, '--json']);
    seen = r.code === 0 ? JSON.parse(r.stdout.toString()) : null;
    return seen !== null && seen.indexLag.captures === 0;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  const indexedAfter = performance.now() - sentAt;
  // Before the change the batch waited for every lookup: nothing was searchable before the timeout.
  assert.ok(indexedAfter < TIMEOUT_MS && seen!.authPending > 0, `indexed in ${indexedAfter.toFixed(0)} ms with ${seen!.authPending} verdicts still to come`);
  const token = await readerToken(server.data, ['bob@corp.test'], { config });
  const found = await readAs(token, ['search', '--data', server.data, '--config', config, '--json', '--limit', '100', 'from:dead.example'], { expectFound: true });
  assert.equal(found.code, 0, found.stderr.toString());
  assert.equal(found.stdout.toString().trim().split('\n').length, PER_DOMAIN, 'every message of the dead domain is found before its verdicts');

  await waitForIndex(server.data);
  const show = async (raw: Buffer) => {
    const shown = await readAs(token, ['show', '--data', server.data, '--config', config, '--json', createHash('sha256').update(raw).digest('hex')]);
    assert.equal(shown.code, 0, shown.stderr.toString());
    return JSON.parse(shown.stdout.toString()).captures[0].auth;
  };
  const dead = await show(sent[0]!);
  const live = await show(sent[1]!);
  assert.equal(dead.spf.result, 'temperror', JSON.stringify(dead));
  assert.equal(live.spf.result, 'none', JSON.stringify(live));
  for (const v of [dead, live]) assert.ok(Number.isFinite(Date.parse(v.checkedAt)), `checkedAt: ${JSON.stringify(v)}`);

  // Asked once for all its messages (a timed-out answer is kept): c-ares tries twice per lookup.
  const deadAsked = dns.asked.get('TXT dead.example') ?? 0;
  assert.ok(deadAsked >= 1 && deadAsked <= 4, `TXT dead.example asked ${deadAsked} times for ${PER_DOMAIN} messages`);
  assert.ok((dns.asked.get('TXT live.example') ?? 0) <= 2, `TXT live.example asked ${dns.asked.get('TXT live.example')} times`);
});

test('a verdict still to come when the indexer stops is checked after the restart', { timeout: 120_000 }, async (t) => {
  const config = testConfig({ auth: { enabled: false }, log: { level: 'warn' } });
  const server = await startSealbox({ args: ['--config', config] });
  const smtp = await RawSmtpClient.connect(server.smtp.port, { helo: 'mx.test' });
  assert.equal((await smtp.send({ from: 'alice@live.example', to: ['bob@corp.test'] }, message('alice@live.example', 1))).data[0].code, 250);
  await smtp.quit();
  assert.equal(await server.stop(), 0, server.stderr());

  // Indexed again from scratch with checks whose lookups never answer; the indexer then "stops".
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(server.data, `index.db${suffix}`), { force: true });
  const stores = openStores(loadConfig(config, { data: server.data }, {}), { create: false });
  t.after(() => stores.close());
  const log = pino({ level: 'silent' });
  const indexerOn = (resolver: (name: string, rrtype: string) => Promise<unknown>) => {
    const db = openIndexDb(stores.paths.index, stores.paths.meta);
    const store = new SqliteIndexStore(db);
    const indexer = new Indexer({ captures: stores.repos.captures, index: store, reader: stores.reader, meta: stores.meta, log, batch: 200, internalDomains: [], auth: { resolver, mta: 'sealbox.test' }, attachmentText: false });
    return { db, store, indexer };
  };
  const first = indexerOn(() => new Promise(() => {}));
  assert.equal(await first.indexer.runOnce(), 1);
  const pending = await first.store.read((tx) => first.store.pendingAuth(tx, 0, 10));
  assert.equal(pending.length, 1, 'indexed, its verdicts queued');
  first.db.close();

  const second = indexerOn(staticZoneResolver({}));
  t.after(() => second.db.close());
  assert.equal(await second.indexer.runOnce(), 0, 'nothing left to index');
  await second.indexer.auth!.drain();
  assert.deepEqual(await second.store.read((tx) => second.store.pendingAuth(tx, 0, 10)), [], 'checked after the restart');
  const verdicts = second.db.db.prepare('SELECT verdicts FROM capture_auth WHERE capture_row = ?').get(pending[0]!) as { verdicts: string };
  assert.equal(JSON.parse(verdicts.verdicts).spf.result, 'none');
});
