// `sealbox verify --index` proves the index holds exactly one document for every archived
// message and nothing else, and `sealbox reindex` puts right what it finds (issue 20, "index
// completeness"): a document lost from the index and a stray one are both named, and gone after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { testConfig, waitForIndex } from './support/archive.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { waitUntil } from './support/wait.ts';

const eml = (n: number) => Buffer.from(`From: alice@example.test\r\nTo: bob@example.test\r\nSubject: completeness ${n}\r\nMessage-ID: <complete-${n}@example.test>\r\n\r\nbody ${n}\r\n`);

test('verify --index names a lost and a stray document; reindex puts both right', { timeout: 120_000 }, async () => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (const n of [1, 2, 3]) assert.equal((await client.send({ from: 'alice@example.test', to: ['bob@example.test'] }, eml(n))).data.at(-1)?.code, 250);
  await client.quit();
  await waitForIndex(server.data);
  assert.equal(await server.stop(), 0);
  const common = ['--data', server.data, '--config', config];
  const check = async () => {
    const r = await sealbox(['verify', '--index', ...common, '--json']);
    return { code: r.code, report: JSON.parse(r.stdout.toString()) };
  };

  const clean = await check();
  assert.equal(clean.code, 0);
  assert.deepEqual([clean.report.messages, clean.report.documents, clean.report.missing, clean.report.stray], [3, 3, [], []]);

  // One message's document lost, and a document of no message.
  const lost = createHash('sha256').update(eml(2)).digest('hex');
  const db = new DatabaseSync(join(server.data, 'index.db'));
  const id = Number((db.prepare('SELECT id FROM doc WHERE sha256 = ?').get(lost) as { id: number }).id);
  db.exec(`DELETE FROM doc_fts WHERE rowid = ${id}; DELETE FROM participation WHERE doc_id = ${id}; DELETE FROM doc WHERE id = ${id};`);
  db.prepare('INSERT INTO doc (id, sha256) VALUES (?, ?)').run(424242, 'f'.repeat(64));
  db.close();
  const broken = await check();
  assert.equal(broken.code, 1);
  assert.deepEqual(broken.report.missing.map((m: any) => m.sha256), [lost]);
  assert.deepEqual(broken.report.stray, [424242]);
  const text = await sealbox(['verify', '--index', ...common]);
  assert.match(text.stdout.toString(), new RegExp(`^FAILED: 3 messages, 3 documents: 1 missing.*\\nmissing ${lost}`, 's'));

  // The server's index thread makes the same check when idle (first soon after start) and the
  // health figures show it. The first server's own check (of the index before the damage) may
  // have been recorded less than a second before the restart: only a newer one counts.
  const indexCheck = async () => {
    const r = await sealbox(['stats', ...common, '--json']);
    return r.code === 0 ? JSON.parse(r.stdout.toString()).indexCheck : null;
  };
  const before = (await indexCheck())?.at ?? null;
  const restartedAt = Date.now();
  const again = await startSealbox({ data: server.data, args: ['--config', config] });
  let seen: any = null;
  try {
    await waitUntil('the index thread has checked the index', async () => {
      seen = await indexCheck();
      return seen !== null && seen.at !== before && Date.parse(seen.at) >= restartedAt;
    }, { timeoutMs: 60_000, intervalMs: 200, detail: () => JSON.stringify(seen) });
  } finally {
    assert.equal(await again.stop(), 0);
  }
  assert.deepEqual([seen.messages, seen.documents, seen.missing, seen.stray], [3, 3, 1, 1], JSON.stringify(seen));

  const repaired = await sealbox(['reindex', ...common]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stdout.toString(), /reindexed 1 missing messages \(0 captures still failing, retried by the indexer\), removed 1 stray documents/);
  const after = await check();
  assert.equal(after.code, 0, JSON.stringify(after.report));
  assert.deepEqual([after.report.documents, after.report.missing, after.report.stray], [3, [], []]);
  const db2 = new DatabaseSync(join(server.data, 'index.db'), { readOnly: true });
  assert.equal(Number((db2.prepare("SELECT COUNT(*) AS n FROM doc_fts WHERE doc_fts MATCH 'completeness'").get() as { n: number }).n), 3, 'its words are searchable again');
  db2.close();
});

// The check reads both sides a window of message ids at a time (a list of every message was 1.7
// GB at a million): what it finds across windows is what a tally of the same ids says.
test('the completeness check finds the same across windows as a tally of every id', async () => {
  const { checkIndex } = await import('../src/index/index-completeness.ts');
  const messages = Array.from({ length: 25_003 }, (_, k) => k + 1).filter((id) => id !== 10_500);   // 10,500: disposed
  const cursor = 25_000;                              // a message's first capture is its id here
  const failed = new Set([10_001]);
  const lost = new Set([1, 9_999, 10_000, 10_001, 20_000, 25_001]);
  const docs = [...messages.filter((id) => !lost.has(id)), 10_500, 30_000];
  docs.sort((a, b) => a - b);
  const reads: number[] = [];
  const captures = {
    lastMessageId: async () => messages.at(-1)!,
    liveMessages: async (after: number, upTo: number) => {
      reads.push(upTo - after);
      return messages.filter((id) => id > after && id <= upTo).map((id) => ({ id, sha256: String(id).padStart(64, '0'), firstCapture: id }));
    },
  };
  const index = {
    read: <T>(work: (tx: never) => Promise<T>) => work(undefined as never),
    cursor: async () => cursor,
    failedCaptures: async () => [...failed],
    lastDocumentId: async () => docs.at(-1)!,
    documentIds: async (_tx: unknown, after: number, upTo: number) => docs.filter((id) => id > after && id <= upTo),
  };
  const c = await checkIndex(captures as never, index as never);
  assert.equal(c.messages, messages.length);
  assert.equal(c.documents, docs.length);
  assert.deepEqual(c.missing.map((m) => m.id), [1, 9_999, 10_000, 20_000]);
  assert.equal(c.failing, 1, '10,001 is recorded as failing');
  assert.equal(c.pending, 1, '25,001 is after the cursor');
  assert.deepEqual(c.stray, [10_500, 30_000]);
  assert.ok(reads.length >= 3 && reads.every((n) => n <= 10_000), `read in windows: ${reads.length} of at most 10,000 ids`);

  // The index thread takes it a window at a time between its batches: the same finding, after as
  // many steps as windows; a document made between two windows is found where its window is read.
  const { CompletenessCheck } = await import('../src/index/index-completeness.ts');
  const stepwise = await CompletenessCheck.start(captures as never, index as never);
  const steps: (typeof c | null)[] = [await stepwise.step()];
  docs.push(20_000);
  docs.sort((a, b) => a - b);
  while (steps.at(-1) === null) steps.push(await stepwise.step());
  assert.deepEqual(steps.map((x) => x !== null), [false, false, true]);
  assert.deepEqual({ ...steps.at(-1)!, seconds: 0 }, { ...c, seconds: 0, documents: c.documents + 1, missing: c.missing.filter((m) => m.id !== 20_000) });
});
