// Two `sealbox serve` nodes on one PostgreSQL archive (store.kind "postgres"), sharing its blob
// folder: both take real corpus mail over SMTP at the same time and both index it, each batch
// claimed by one of them (the debug log names the captures of each batch); the node holding the
// archive's duties (signing, sweeps) is SIGKILLed in the middle of a delivery and the other takes
// its duties over. Every capture is indexed by exactly one node, once, every acknowledged message
// is archived bit-exact and indexed once, `verify` is green, every checkpoint signed matches the ledger's
// entries (one sequence of tree heads, whoever signed it), both nodes serve the same latest
// checkpoint, a session signed in on one node works, and ends, on the other, and sign-in attempts
// spread over both nodes share one budget.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { parseCheckpoint } from '../src/ledger/checkpoint.ts';
import { testConfig } from './support/archive.ts';
import { assertArchivedOnce } from './support/archived.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { readerToken } from './support/reader.ts';
import { latestCheckpoint, sealbox, startSealbox, statsOf, tempDataDir } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { toCrlf } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres({ durable: true }); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

const SIGNIN_PER_MINUTE = 4;

test('two nodes on one PostgreSQL archive: both receive and serve one session, one holds the duties, the other takes them over when it is killed', { timeout: 600_000 }, async (t) => {
  const { store } = await postgresStore(cluster, 'nodes');
  const config = testConfig({ data: join(tempDataDir(), 'data'), store, ledger: { checkpointEveryEntries: 50, checkpointEverySeconds: 2 }, access: { signinPerMinute: SIGNIN_PER_MINUTE }, log: { level: 'debug' } });
  const data = loadConfig(config, {}, {}).data;
  const args = ['--config', config, '--http', '127.0.0.1:0'];
  let a = await startSealbox({ data, args });
  t.after(() => a.stop());
  const b = await startSealbox({ data, args });
  t.after(() => b.stop());

  const files = corpusFiles().slice(0, 300);
  const messages: Delivery[] = files.map((f, index) => ({ index, data: toCrlf(readFileSync(f)), envelope: { from: 'sender@ext.test', to: [`person${index % 5}@corp.test`] } }));
  const acked = new Set<number>();
  const record = (results: Map<number, { code: number }>) => { for (const [i, r] of results) if (r.code === 250) acked.add(i); };

  // Both nodes at once; both index, each what it claims of what either acknowledged.
  const [toA, toB] = await Promise.all([
    deliverAll(a.smtp.port, messages.slice(0, 100), { connections: 4 }),
    deliverAll(b.smtp.port, messages.slice(100, 200), { connections: 4 }),
  ]);
  record(toA);
  record(toB);
  assert.equal(acked.size, 200, 'both nodes accept mail');
  await waitUntil('the nodes index what both received', async () => (await statsOf(config)).indexLag.captures === 0, { timeoutMs: 60_000, intervalMs: 300 });

  // The holder is killed in the middle of a delivery to it; the other node goes on receiving
  // and takes the duties over.
  let replies = 0;
  const [, toB2] = await Promise.all([
    deliverAll(a.smtp.port, messages.slice(200, 260), { connections: 2, onReply: (d, r) => { if (r.code === 250) acked.add(d.index); if (++replies === 20) void a.kill(); } }),
    deliverAll(b.smtp.port, messages.slice(260), { connections: 2 }),
  ]);
  record(toB2);
  assert.ok(acked.size >= 240 && acked.size < 300, `the kill came in the middle (${acked.size} acknowledged)`);
  const rest = messages.filter((m) => !acked.has(m.index));
  record(await deliverAll(b.smtp.port, rest, { connections: 4 }));
  assert.equal(acked.size, 300, 'the rest accepted by the surviving node');

  // Indexing resumes on the survivor from the cursor the dead node committed, and it signs.
  await waitUntil('the survivor indexes everything and signs the whole ledger', async () => {
    const s = await statsOf(config);
    if (s.indexLag.captures !== 0) return false;
    return parseCheckpoint(await latestCheckpoint(b)).size === s.ledgerEntries;
  }, { timeoutMs: 90_000, intervalMs: 500 });

  // The killed node back beside it: both serve the same tree head.
  const killed = a;
  a = await startSealbox({ data, args });
  assert.equal(await latestCheckpoint(a), await latestCheckpoint(b), 'the same latest checkpoint from either node');

  // A session made on one node is one on the other, and ended there it is ended on both.
  await readerToken(data, ['person0@corp.test'], { config });
  const signIn = await fetch(`${a.http!.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'reader', password: 'reader-test-password-long-enough' }) });
  assert.equal(signIn.status, 200, await signIn.clone().text());
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const { csrfToken } = await signIn.json() as { csrfToken: string };
  const me = async (node: SealboxServer) => fetch(`${node.http!.url}/api/v1/me`, { headers: { cookie } });
  const onB = await me(b);
  assert.equal(onB.status, 200);
  assert.equal((await onB.json() as { name: string }).name, 'reader');
  assert.equal((await fetch(`${b.http!.url}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } })).status, 200);
  assert.equal((await me(a)).status, 401, 'signed out on the other node: the session is gone on this one too');

  // Sign-in attempts from one address spread over both nodes share one budget a minute (counted
  // in PostgreSQL), not one per node. Begun early in a minute, so the window does not turn.
  if (Date.now() % 60_000 > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 100));
  const answers: number[] = [];
  for (let i = 0; i < 2 * SIGNIN_PER_MINUTE; i++) {
    const node = i % 2 ? b : a;
    answers.push((await fetch(`${node.http!.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nobody-here', password: 'a wrong guess, long enough' }) })).status);
  }
  const allowed = answers.filter((code) => code !== 429).length;
  assert.ok(answers.includes(401) && answers.at(-1) === 429, `refused once the budget is spent: ${answers.join(' ')}`);
  assert.ok(allowed <= SIGNIN_PER_MINUTE, `at most ${SIGNIN_PER_MINUTE} tries a minute across both nodes, not per node (${answers.join(' ')})`);

  // Which node indexed which capture, from each node's log of its committed batches.
  const indexedBy = (node: SealboxServer) => node.stderr().split('\n').flatMap((line) => {
    if (!line.includes('"msg":"indexed"')) return [];
    const { rows = [] } = JSON.parse(line) as { rows?: [number, number][] };
    return rows.flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i));
  });
  const byKilled = indexedBy(killed);
  const byB = indexedBy(b);
  const all = [...byKilled, ...byB, ...indexedBy(a)];
  t.diagnostic(`captures indexed: ${byKilled.length} by the killed node, ${byB.length} by the other`);
  assert.ok(byKilled.length > 0 && byB.length > 0, `both nodes indexed captures (the killed one ${byKilled.length}, the other ${byB.length})`);

  await assertArchivedOnce(config, messages, async ({ stores: { meta } }) => {
    const captures: number[] = [];
    await meta.read(async (tx) => { for await (const c of meta.allCaptures(tx)) captures.push(c.rowId); });
    assert.ok(captures.length >= 300);
    assert.deepEqual([...all].sort((x, y) => x - y), captures, 'every capture indexed, by one node, once');
    // Signed by two nodes in turn, and each tree head matches the ledger (verify checks every
    // signature and root against the entries): one sequence, no fork.
    const sizes = (await meta.read((tx) => meta.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER))).map((c) => c.size);
    assert.ok(sizes.length >= 4, `several checkpoints were signed (${sizes.length})`);
  });
  const verified = await sealbox(['verify', '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
  const index = await sealbox(['verify', '--index', '--config', config]);
  assert.equal(index.code, 0, index.stdout.toString() + index.stderr);
});
