// `sealbox serve` on the README's production layout of PostgreSQL: a primary with one synchronous
// streaming standby (synchronous_commit on, synchronous_standby_names 'FIRST 1 (replica1)'), both
// fsyncing. Real corpus mail over SMTP on several connections; while it flows, the link to the
// standby stalls and, once a commit of the primary waits for the standby, the primary is crashed
// (SIGKILL to every process of it, a machine gone). Mail is then answered 4xx and the server
// stays up. The standby is promoted, `store.postgres.url` pointed at it and Sealbox restarted, and
// the sender retries what was not acknowledged: every message that had a 250 is there bit-exact
// and indexed once, the ledger has no gap, and `verify` (archive and index) is green on the new
// primary. Stalled on the way there, the standby lacks the waiting commits; stalled on the way
// back, it holds them, and their retries are duplicates whose bytes must still be there.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { assertArchivedOnce } from './support/archived.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { commitsWaitingForStandby, postgresStore, stallStandby, startPostgres, startStandby } from './support/postgres.ts';
import type { Postgres, Standby } from './support/postgres.ts';
import { sealbox, startSealbox, statsOf, tempDataDir } from './support/sealbox.ts';
import type { Reply } from './support/smtp-client.ts';
import { toCrlf } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Each case on a pair of its own: a primary, and a standby streaming from it synchronously.
async function pair(t: TestContext): Promise<{ primary: Postgres; standby: Standby }> {
  const primary = await startPostgres({ durable: true, synchronousStandby: 'replica1' });
  t.after(() => primary.stop());
  const standby = await startStandby(primary, 'replica1');
  t.after(() => standby.stop());
  return { primary, standby };
}

// Where the link to the standby stalls: 'sending' (the primary's WAL sender stopped: the standby
// lacks the commits the primary holds) or 'confirming' (the standby's WAL receiver stopped: the
// WAL waits in its socket, and it takes it once the primary is gone, so it holds commits whose
// sender was told 4xx).
async function failover(t: TestContext, stall: 'sending' | 'confirming'): Promise<void> {
  const { primary, standby } = await pair(t);
  // Made once the standby streams synchronously (startStandby waits for pg_stat_replication to
  // say so): from then on every commit waits for it.
  const { store } = await postgresStore(primary, 'failover');
  const config = testConfig({ data: join(tempDataDir(), 'data'), store });
  const data = loadConfig(config, {}, {}).data;
  let server = await startSealbox({ data, args: ['--config', config] });
  t.after(() => server.stop());

  const files = corpusFiles().slice(1000, 1240);
  const messages: Delivery[] = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'sender@ext.test', to: [`person${index % 5}@corp.test`] } }));

  // Once 80 replies are in, the link to the standby stalls (see failover's `stall`) while the
  // connections go on sending; once a commit waits for the standby's confirmation, the primary
  // is crashed. Sealbox answers nothing while its commits wait for the standby, then 4xx, and the
  // sender retries. A 250 for a commit the standby had not got would be a message lost, and the
  // checks at the end find it (they do when the primary has synchronous_commit = local).
  const acked = new Set<number>();
  const refused: Reply[] = [];
  let replies = 0;
  let ackedBefore = 0;
  let crashed: Promise<void> | null = null;
  const stallAndCrash = async () => {
    if (stall === 'sending') await stallStandby(primary, 'replica1');
    else await standby.pauseReceiver();
    await waitUntil('a commit waits for the stalled standby', async () => (await commitsWaitingForStandby(primary)) > 0, { timeoutMs: 30_000 });
    await primary.crash();
  };
  const first = await deliverAll(server.smtp.port, messages, {
    connections: 4,
    onReply: (d, r) => {
      if (r.code === 250) acked.add(d.index);
      else refused.push(r);
      if (++replies === 80) {
        ackedBefore = acked.size;
        crashed = stallAndCrash();
      }
    },
  });
  await crashed;
  t.diagnostic(`${acked.size} acknowledged (${acked.size - ackedBefore} of them committed on both while the stall was being set up), ${refused.length} refused`);
  assert.equal(ackedBefore, 80, 'every message before the stall accepted');
  assert.equal(first.size, messages.length, 'every message had a reply: no connection hung or was dropped');
  assert.ok(acked.size < messages.length, `the crash came in the middle (${acked.size} acknowledged)`);
  for (const r of refused) assert.ok(r.code >= 400 && r.code < 500, `a refusal is a 4xx, not ${r.code} ${r.text}`);
  assert.equal(server.proc.exitCode, null, `the server is still running: ${server.stderr().slice(-2000)}`);

  // The operator's failover: promote the standby, point the config at it, restart.
  await server.stop();
  if (stall === 'confirming') await standby.takeLastWal();
  await standby.promote();
  const file = JSON.parse(readFileSync(config, 'utf8'));
  const url = new URL(file.store.postgres.url);
  url.port = String(standby.port);
  file.store.postgres.url = url.toString();
  writeFileSync(config, JSON.stringify(file));
  // Refused, and on the new primary all the same: their retries are duplicates, and must read.
  const unconfirmed = await archivedOf(config, messages.filter((m) => !acked.has(m.index)));
  t.diagnostic(`${unconfirmed} refused messages are on the promoted standby`);
  // (Stalled on the way there, the standby may still hold one: sent just before the stall.)
  if (stall === 'confirming') assert.ok(unconfirmed > 0, 'the standby took commits the primary never confirmed');
  server = await startSealbox({ data, args: ['--config', config] });

  const rest = messages.filter((m) => !acked.has(m.index));
  for (const [i, r] of await deliverAll(server.smtp.port, rest, { connections: 4 })) {
    assert.equal(r.code, 250, `message ${i} retried on the new primary: ${r.code} ${r.text}`);
    acked.add(i);
  }
  assert.equal(acked.size, messages.length);

  // Every acknowledged message, before the crash or after, read back from the new primary.
  await assertWhole(config, messages);
}

// Every message indexed, archived once and bit-exact; the ledger entries 0, 1, 2, … without a
// gap, one per capture at least; verify (archive and index) green.
async function assertWhole(config: string, messages: readonly Delivery[]): Promise<void> {
  await waitUntil('the index covers every capture', async () => {
    const s = await statsOf(config);
    return s.indexLag.captures === 0 && s.authPending === 0;
  }, { timeoutMs: 120_000, intervalMs: 300 });
  await assertArchivedOnce(config, messages, async ({ stores: { meta } }) => {
    const indexes: number[] = [];
    let captures = 0;
    await meta.read(async (tx) => {
      for await (const row of meta.ledgerRows(tx)) indexes.push(row.index);
      for await (const _ of meta.allCaptures(tx)) captures++;
    });
    assert.deepEqual(indexes, indexes.map((_, i) => i), 'the ledger has no gap');
    assert.ok(captures >= messages.length && indexes.length >= captures, `${captures} captures, ${indexes.length} ledger entries`);
  });
  const verifies = [['verify'], ['verify', '--index']];
  for (const [i, r] of (await Promise.all(verifies.map((args) => sealbox([...args, '--config', config])))).entries()) {
    assert.equal(r.code, 0, `${verifies[i]!.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout.toString(), /^OK: /m);
  }
}

// How many of these messages the archive the config names holds.
async function archivedOf(config: string, messages: readonly Delivery[]): Promise<number> {
  const archive = await openArchive(loadConfig(config, {}, {}), 'console');
  try {
    const { meta } = archive.stores;
    let n = 0;
    for (const m of messages) if (await meta.read((tx) => meta.getMessage(tx, sha(m.data)))) n++;
    return n;
  } finally {
    archive.close();
  }
}

// The standby stops confirming and comes back, the primary staying up: without a bound every
// SMTP session would wait in silence for as long as the standby is away (the COMMIT waits for it
// and holds the write lock, so every later write waits behind it). With store.postgres.
// writeTimeoutMs each write fails after it, and mail is answered 451 within a few of them. Once
// the standby is back, the COMMIT that was still waiting completes: its messages, answered 451,
// are in the archive, and their retries are duplicates that must read back whole.
test('a synchronous standby that stops confirming: mail is answered 451 within the write timeout, then accepted', { timeout: 300_000 }, async (t) => {
  const { primary } = await pair(t);
  const { store } = await postgresStore(primary, 'stalled');
  const timeoutMs = 1_500;
  const config = testConfig({ data: join(tempDataDir(), 'data'), store: { ...store, postgres: { ...store.postgres, writeTimeoutMs: timeoutMs } } });
  const data = loadConfig(config, {}, {}).data;
  const server = await startSealbox({ data, args: ['--config', config] });
  t.after(() => server.stop());
  const messages: Delivery[] = corpusFiles().slice(2000, 2060).map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'sender@ext.test', to: [`person${index % 5}@corp.test`] } }));

  for (const [i, r] of await deliverAll(server.smtp.port, messages.slice(0, 30), { connections: 4 })) assert.equal(r.code, 250, `message ${i} before the stall: ${r.code} ${r.text}`);

  const resume = await stallStandby(primary, 'replica1');
  let resumed = false;
  t.after(() => { if (!resumed) resume(); });
  const stalled = messages.slice(30);
  const started = performance.now();
  const waited: number[] = [];
  const replies = await deliverAll(server.smtp.port, stalled, { connections: 4, onReply: () => waited.push(performance.now() - started) });
  for (const [i, r] of replies) assert.ok(r.code === 451, `message ${i} while the standby is stalled: 451, not ${r.code} ${r.text}`);
  // Refused a group at a time (the group whose COMMIT waits, then those that wait for the lock
  // it holds): never a silence of more than a few write timeouts.
  const gaps = waited.map((ms, i) => ms - (waited[i - 1] ?? 0));
  t.diagnostic(`${stalled.length} answered 451 in ${(waited.at(-1)! / 1000).toFixed(1)} s; longest silence ${(Math.max(...gaps) / 1000).toFixed(1)} s`);
  assert.ok(Math.max(...gaps) < 3 * timeoutMs + 2_000, `replies came in time: ${waited.map((w) => w.toFixed(0)).join(', ')} ms`);
  assert.ok(await commitsWaitingForStandby(primary) > 0, 'a COMMIT still waits for the standby');
  assert.equal(server.proc.exitCode, null, 'the server is still running');

  resume();
  resumed = true;
  await waitUntil('no commit waits for the standby', async () => (await commitsWaitingForStandby(primary)) === 0, { timeoutMs: 30_000 });
  // The COMMIT that was waiting when its sender was answered 451 went through on both.
  const unconfirmed = await archivedOf(config, stalled);
  t.diagnostic(`${unconfirmed} of the messages answered 451 were committed once the standby came back`);
  assert.ok(unconfirmed > 0, 'the waiting COMMIT completed');

  for (const [i, r] of await deliverAll(server.smtp.port, stalled, { connections: 4 })) assert.equal(r.code, 250, `message ${i} retried: ${r.code} ${r.text}`);
  await assertWhole(config, messages);
});

test('the primary crashed while the standby lacked its latest commits: nothing acknowledged is lost', { timeout: 300_000 }, (t) => failover(t, 'sending'));

test('the primary crashed before the standby confirmed commits it holds: their retries read back whole', { timeout: 300_000 }, (t) => failover(t, 'confirming'));
