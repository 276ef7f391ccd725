// `sealbox serve` on the README's production layout of PostgreSQL: a primary with one synchronous
// streaming standby (synchronous_commit on, synchronous_standby_names 'FIRST 1 (replica1)'), both
// fsyncing. Real corpus mail over SMTP on several connections; while it flows, the link to the
// standby stalls and, once the primary holds a commit the standby has not got, the primary is
// crashed (SIGKILL to every process of it, a machine gone). Mail is then answered 4xx and the
// server stays up. The standby is promoted, `store.postgres.url` pointed at it and Sealbox
// restarted, and the sender retries what was not acknowledged: every message that had a 250 is
// there bit-exact and indexed once, and `verify` (archive and index) is green on the new primary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

let primary: Postgres;
let standby: Standby;
before(async () => {
  primary = await startPostgres({ durable: true, synchronousStandby: 'replica1' });
  standby = await startStandby(primary, 'replica1');
}, { timeout: 120_000 });
after(async () => {
  await primary?.stop();
  await standby?.stop();
});

test('the primary crashed mid-delivery, the synchronous standby promoted: nothing acknowledged is lost', { timeout: 300_000 }, async (t) => {
  // Made once the standby streams synchronously (startStandby waits for pg_stat_replication to
  // say so): from then on every commit waits for it.
  const { store } = await postgresStore(primary, 'failover');
  const config = testConfig({ data: join(tempDataDir(), 'data'), store });
  const data = loadConfig(config, {}, {}).data;
  let server = await startSealbox({ data, args: ['--config', config] });
  t.after(() => server.stop());

  const files = corpusFiles().slice(1000, 1300);
  const messages: Delivery[] = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'sender@ext.test', to: [`person${index % 5}@corp.test`] } }));

  // Once 100 replies are in, the link to the standby stalls (its WAL sender stopped) while the
  // connections go on sending; once the primary holds a commit the standby has not got, it is
  // crashed. Sealbox answers nothing while its commits wait for the standby, then 4xx, and the
  // sender retries. A 250 for a commit the standby had not got would be a message lost, and the
  // checks at the end find it (they do when the primary has synchronous_commit = local).
  const acked = new Set<number>();
  const refused: Reply[] = [];
  let replies = 0;
  let ackedBefore = 0;
  let crashed: Promise<void> | null = null;
  const stallAndCrash = async () => {
    await stallStandby(primary, 'replica1');
    await waitUntil('a commit waits for the stalled standby', async () => (await commitsWaitingForStandby(primary)) > 0, { timeoutMs: 30_000 });
    await primary.crash();
  };
  const first = await deliverAll(server.smtp.port, messages, {
    connections: 4,
    onReply: (d, r) => {
      if (r.code === 250) acked.add(d.index);
      else refused.push(r);
      if (++replies === 100) {
        ackedBefore = acked.size;
        crashed = stallAndCrash();
      }
    },
  });
  await crashed;
  t.diagnostic(`${acked.size} acknowledged (${acked.size - ackedBefore} of them committed on both while the stall was being set up), ${refused.length} refused`);
  assert.equal(ackedBefore, 100, 'every message before the stall accepted');
  assert.equal(first.size, messages.length, 'every message had a reply: no connection hung or was dropped');
  assert.ok(acked.size < messages.length, `the crash came in the middle (${acked.size} acknowledged)`);
  for (const r of refused) assert.ok(r.code >= 400 && r.code < 500, `a refusal is a 4xx, not ${r.code} ${r.text}`);
  assert.equal(server.proc.exitCode, null, `the server is still running: ${server.stderr().slice(-2000)}`);

  // The operator's failover: promote the standby, point the config at it, restart.
  await server.stop();
  await standby.promote();
  const file = JSON.parse(readFileSync(config, 'utf8'));
  const url = new URL(file.store.postgres.url);
  url.port = String(standby.port);
  file.store.postgres.url = url.toString();
  writeFileSync(config, JSON.stringify(file));
  server = await startSealbox({ data, args: ['--config', config] });

  const rest = messages.filter((m) => !acked.has(m.index));
  for (const [i, r] of await deliverAll(server.smtp.port, rest, { connections: 4 })) {
    assert.equal(r.code, 250, `message ${i} retried on the new primary: ${r.code} ${r.text}`);
    acked.add(i);
  }
  assert.equal(acked.size, messages.length);

  await waitUntil('the index covers every capture', async () => {
    const s = await statsOf(config);
    return s.indexLag.captures === 0 && s.authPending === 0;
  }, { timeoutMs: 120_000, intervalMs: 300 });

  // Every acknowledged message, before the crash or after, read back from the new primary.
  // The ledger on the new primary: entries 0, 1, 2, … without a gap, one per capture at least.
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
  for (const args of [['verify'], ['verify', '--index']]) {
    const r = await sealbox([...args, '--config', config]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout.toString(), /^OK: /m);
  }
});
