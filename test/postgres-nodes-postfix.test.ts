// Two `sealbox serve` nodes on one PostgreSQL archive, fed by a real Postfix that spreads the mail
// over them: its transport_maps send half the recipient domains to node A and half to node B,
// each with the other node as the next destination to try (a nexthop list, Postfix 3.5+: a node
// that refuses or drops the connection is passed over for the other at once), and a deferred
// message is retried within seconds. Real corpus mail is submitted to Postfix over SMTP; the node
// holding the duties (A, started first) is SIGKILLed once Postfix has delivered to both and while
// it is in sessions with A. Postfix must deliver every message it accepted (its log: each queue
// id `status=sent` to a node once, nothing bounced), A's later mail to B; each archived message
// must be exactly the bytes submitted after the one Received: header Postfix adds, written by the
// node the log names, and indexed once; `verify` and `verify --index` green; and the restarted A
// and B must serve the same latest checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { checkIndex } from '../src/index/index-completeness.ts';
import { parseCheckpoint } from '../src/ledger/checkpoint.ts';
import { testConfig } from './support/archive.ts';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { withoutFirstHeader } from './support/milter.ts';
import { postfixSkipReason, startPostfix } from './support/postfix.ts';
import type { PostfixInstance } from './support/postfix.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { latestCheckpoint, sealbox, startSealbox, statsOf, tempDataDir } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { toCrlf } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

const MESSAGES = 300;
// Node A's share of the recipient domains, and node B's.
const TO_A = ['north.test', 'east.test'];
const TO_B = ['south.test', 'west.test'];
// A is killed once Postfix has delivered this many to it (of its ~150) and at least one to B.
const KILL_AFTER_TO_A = 20;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// The message as it travels over SMTP. The corpus files are messages as they were finally
// delivered into an mbox: their From_ line and Return-Path: header were added there (RFC 5321
// §4.4: a relay does not send one; Postfix's cleanup drops it), so neither is submitted.
function onTheWire(file: string): Buffer {
  let raw = readFileSync(file);
  if (raw.subarray(0, 5).toString('latin1') === 'From ') raw = raw.subarray(raw.indexOf(10) + 1);
  const text = toCrlf(raw).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return Buffer.from(text, 'latin1');
  const header = text.slice(0, end + 2).replace(/^Return-Path:.*\r\n(?:[ \t].*\r\n)*/gim, '');
  return Buffer.from(header + text.slice(end + 2), 'latin1');
}

interface Outcome { queueId: string; to: string; port: number; status: string; reply: string }

// Postfix's smtp client logs one line per recipient and attempt:
// `QID: to=<r>, relay=127.0.0.1[127.0.0.1]:PORT, delay=…, dsn=2.0.0, status=sent (250 …)`.
// A message refused or bounced without a connection has relay=none.
function outcomes(log: string): Outcome[] {
  const found: Outcome[] = [];
  const line = /: ([0-9A-Za-z]+): to=<([^>]*)>, (?:orig_to=<[^>]*>, )?relay=([^,]*), .*? status=(\w+) \((.*)\)$/gm;
  for (const m of log.matchAll(line)) {
    const port = /^127\.0\.0\.1\[127\.0\.0\.1\]:(\d+)$/.exec(m[3]!);
    found.push({ queueId: m[1]!, to: m[2]!, port: port ? Number(port[1]) : 0, status: m[4]!, reply: m[5]! });
  }
  return found;
}

// Established TCP connections to a local listening port (IPv4), from /proc/net/tcp.
function sessionsWith(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter((line) => {
    const [, local, , state] = line.trim().split(/\s+/);
    return local?.endsWith(hex) && state === '01';
  }).length;
}

test('Postfix spreads mail over two nodes on one PostgreSQL archive; the duty holder is killed mid-stream', { timeout: 240_000 }, async (t) => {
  const skip = postfixSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }
  let cluster: Postgres | undefined;
  let postfix: PostfixInstance | undefined;
  const nodes: SealboxServer[] = [];
  // Postfix first, so that it holds no connection to a node while the nodes stop; the cluster last.
  t.after(async () => {
    await postfix?.stop();
    for (const node of nodes) await node.stop().catch(() => {});
    await cluster?.stop();
  });
  cluster = await startPostgres({ durable: true });
  const { store } = await postgresStore(cluster, 'nodes_postfix');
  const config = testConfig({ data: join(tempDataDir(), 'data'), store, ledger: { checkpointEveryEntries: 50, checkpointEverySeconds: 2 } });
  const data = loadConfig(config, {}, {}).data;
  const args = ['--config', config, '--http', '127.0.0.1:0'];
  const a = await startSealbox({ data, args });
  nodes.push(a);
  const b = await startSealbox({ data, args });
  nodes.push(b);

  const nodeA = `[127.0.0.1]:${a.smtp.port}`;
  const nodeB = `[127.0.0.1]:${b.smtp.port}`;
  // inline: a value holding a comma is written inside { }.
  const transports = [...TO_A.map((d) => `{ ${d} = smtp:${nodeA}, ${nodeB} }`), ...TO_B.map((d) => `{ ${d} = smtp:${nodeB}, ${nodeA} }`)];
  postfix = await startPostfix({
    // Unused: every domain has its transport entry.
    relayHost: '127.0.0.1', relayPort: b.smtp.port,
    myDomains: ['postfix.test', ...TO_A, ...TO_B],
    mainCf: {
      transport_maps: `inline:{ ${transports.join(', ')} }`,
      // Deferred mail (a node gone mid-transaction) is retried within seconds.
      queue_run_delay: '1s', minimal_backoff_time: '1s', maximal_backoff_time: '2s',
      // A refused connection is a temporary failure: try the next node at once.
      smtp_connect_timeout: '2s',
      // A session reused from the connection cache under a destination's name is logged with
      // that destination's port even when it was opened to the next node (seen with 3.7: mail
      // logged as sent to the dead node's port, archived by the other), so every delivery opens
      // its own connection and the log's relay= names the node that took it.
      smtp_connection_cache_on_demand: 'no',
    },
  });
  const pf = postfix;

  const files = corpusFiles().slice(0, MESSAGES);
  const domains = [...TO_A, ...TO_B];
  const messages: Delivery[] = files.map((f, index) => ({ index, data: onTheWire(f), envelope: { from: 'sender@postfix.test', to: [`person${index % 5}@${domains[index % domains.length]}`] } }));

  // Submit everything to Postfix; meanwhile kill A once Postfix has delivered to both nodes,
  // while it is in sessions with A.
  let logAtKill = '';
  let open = 0;
  const killer = waitUntil('Postfix delivers to both nodes and is in sessions with A', () => {
    const sent = outcomes(pf.log()).filter((o) => o.status === 'sent');
    open = sessionsWith(a.smtp.port);
    return sent.filter((o) => o.port === a.smtp.port).length >= KILL_AFTER_TO_A && sent.some((o) => o.port === b.smtp.port) && open >= 2;
  }, { timeoutMs: 90_000, intervalMs: 20, detail: () => pf.log().split('\n').slice(-20).join('\n') }).then(async () => {
    logAtKill = pf.log();
    await a.kill();
  });
  const submitted = await deliverAll(pf.smtpPort, messages, { connections: 4 });
  await killer;

  const queueIds = new Map<number, string>();
  for (const [index, reply] of submitted) {
    const queued = /^2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$/.exec(reply.text);
    assert.ok(reply.code === 250 && queued, `Postfix accepts message ${index}: ${reply.code} ${reply.text}`);
    queueIds.set(index, queued[1]!);
  }
  assert.equal(queueIds.size, MESSAGES, 'Postfix accepted every message');

  await pf.waitForQueueEmpty(120_000);
  const log = pf.log();
  const all = outcomes(log);
  assert.deepEqual(all.filter((o) => o.status !== 'sent' && o.status !== 'deferred'), [], 'nothing bounced or expired');

  // Spread before the kill: both nodes received mail from Postfix.
  const sentBeforeKill = outcomes(logAtKill).filter((o) => o.status === 'sent');
  const beforeA = sentBeforeKill.filter((o) => o.port === a.smtp.port).length;
  const beforeB = sentBeforeKill.filter((o) => o.port === b.smtp.port).length;
  assert.ok(beforeA > 0 && beforeB > 0, `Postfix delivered to both nodes before the kill (A ${beforeA}, B ${beforeB})`);

  // Each message sent once, to a node, with the sha256 that node archived it under (its 250 says).
  const delivered = new Map<number, { port: number; sha256: string }>();
  for (const m of messages) {
    const queueId = queueIds.get(m.index)!;
    const sent = all.filter((o) => o.queueId === queueId && o.status === 'sent');
    assert.equal(sent.length, 1, `message ${m.index} (${queueId}) sent once:\n${log.split('\n').filter((l) => l.includes(queueId)).join('\n')}`);
    const { port, reply, to } = sent[0]!;
    assert.equal(to, m.envelope.to[0]);
    assert.ok(port === a.smtp.port || port === b.smtp.port, `message ${m.index} went to a node: ${port}`);
    const archived = /^250 (?:\d\.\d\.\d )?archived ([0-9a-f]{64}) as /.exec(reply);
    assert.ok(archived, `the node's reply names the archived sha256: ${reply}`);
    delivered.set(m.index, { port, sha256: archived[1]! });
  }
  // A's mail after the kill went to B: Postfix moved on to the next node.
  const failedOver = messages.filter((m) => TO_A.some((d) => m.envelope.to[0]!.endsWith(`@${d}`)) && delivered.get(m.index)!.port === b.smtp.port);
  assert.ok(failedOver.length > 0, 'mail for the killed node reached the other');
  // Killed mid-session: Postfix lost connections with A (some after the message's last dot,
  // when A may have stored it without saying 250) and delivered those messages to B instead.
  const lost = [...log.matchAll(/: ([0-9A-Za-z]+): lost connection with 127\.0\.0\.1\[127\.0\.0\.1\] while (.*)$/gm)];
  assert.ok(lost.length > 0, `Postfix was in a session with A when it died (${open} open)`);
  const toA = [...delivered.values()].filter((d) => d.port === a.smtp.port).length;
  const phases = Object.entries(Object.groupBy(lost, (l) => l[2]!.replace(/ -- .*/, ''))).map(([phase, l]) => `${l!.length} ${phase}`).join(', ');
  t.diagnostic(`sent to A ${toA} (${beforeA} logged before the kill), to B ${MESSAGES - toA} (${failedOver.length} of them A's); ${open} sessions with A at the kill, lost while: ${phases}; deferred ${all.filter((o) => o.status === 'deferred').length}`);

  // B holds the duties now: it indexes everything and signs the whole ledger.
  await waitUntil('the survivor indexes everything and signs the whole ledger', async () => {
    const s = await statsOf(config);
    if (s.indexLag.captures !== 0) return false;
    return parseCheckpoint(await latestCheckpoint(b)).size === s.ledgerEntries;
  }, { timeoutMs: 90_000, intervalMs: 500 });

  // A back beside B: both serve the same tree head.
  const restarted = await startSealbox({ data, args });
  nodes.push(restarted);
  assert.equal(await latestCheckpoint(restarted), await latestCheckpoint(b), 'the same latest checkpoint from either node');

  // Which node wrote a message's bytes: each names its blob segments apart (node-<id>-<n>.seg).
  // A message tried more than once may have been stored by the node that died before its 250.
  const writers = new Map<number, Set<string>>();
  const retried = new Set([...lost.map((l) => l[1]!), ...all.filter((o) => o.status === 'deferred').map((o) => o.queueId)]);
  const archive = await openArchive(loadConfig(config, {}, {}), 'console');
  try {
    const { meta, reader } = archive.stores;
    for (const m of messages) {
      const { sha256 } = delivered.get(m.index)!;
      const row = await meta.read((tx) => meta.getMessage(tx, sha256));
      assert.ok(row, `message ${m.index} is archived`);
      const stored = await reader.readSmall(row);
      // Sent at the first attempt: the node the log names is the one that stored it.
      if (!retried.has(queueIds.get(m.index)!)) {
        const port = delivered.get(m.index)!.port;
        writers.set(port, (writers.get(port) ?? new Set()).add(row.blobRef.file.replace(/-\d+\.seg$/, '')));
      }
      assert.equal(sha(stored), sha256, `message ${m.index} reads back as the bytes its sha256 names`);
      // What Postfix relayed: its Received: header (naming the queue id), then what was submitted.
      const received = stored.subarray(0, stored.length - withoutFirstHeader(stored).length).toString('latin1');
      assert.match(received, new RegExp(`^Received: from .* id ${queueIds.get(m.index)}\\b`, 's'), `message ${m.index}: Postfix's Received: first`);
      assert.ok(withoutFirstHeader(stored).equals(m.data), `message ${m.index} is the submitted bytes after Postfix's Received:`);
    }
    const [byA, byB] = [writers.get(a.smtp.port), writers.get(b.smtp.port)];
    assert.ok(byA?.size === 1 && byB?.size === 1 && [...byA][0] !== [...byB][0], `each node's mail written by that node: ${JSON.stringify([...writers].map(([p, w]) => [p, [...w]]))}`);
    const completeness = await checkIndex(archive.stores.repos.captures, archive.index.store);
    assert.deepEqual([completeness.missing, completeness.stray, completeness.documents], [[], [], new Set([...delivered.values()].map((d) => d.sha256)).size], 'one document per message, nothing else');
  } finally {
    archive.close();
  }
  const verified = await sealbox(['verify', '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
  const index = await sealbox(['verify', '--index', '--config', config]);
  assert.equal(index.code, 0, index.stdout.toString() + index.stderr);
});
