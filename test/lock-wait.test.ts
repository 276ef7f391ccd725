// Waiting for another process's lock on an SQLite database (a console command's write, an
// import's) must not stop the event loop: node:sqlite is synchronous, and SQLite's own busy
// handler would sleep on the server's thread with SMTP, the milter and HTTP frozen behind it.
// Each test holds the lock from a second real connection to the same file (as another process
// would) and shows the loop turning while a write waits, the write committing once the lock
// is released, and failing, not hanging, when the busy timeout has gone by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import { SqliteIndexStore } from '../src/index/sqlite/index-store.ts';
import { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';
import { testConfig } from './support/archive.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import type { Reply } from './support/smtp-client.ts';
import { holdArchiveWriteLock } from './support/store-fault.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-lock-wait-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

// Longer than any stall a loop that keeps turning shows on a busy machine; far shorter than the
// busy timeout a blocked one would show.
const PROMPT_MS = 500;

// Another process's write transaction on the database file, until release().
function holdWriteLock(path: string): { release(): void } {
  const other = new DatabaseSync(path);
  other.exec('BEGIN IMMEDIATE');
  return {
    release() {
      if (!other.isOpen) return;
      other.exec('ROLLBACK');
      other.close();
    },
  };
}

// Watches the event loop from now until stop(), which gives its longest stall: a 5 ms timer
// that fires late by as long as the thread was held.
function watchLoop(): { stop(): number } {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 5);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last - 5);
    },
  };
}

// Whether a promise has settled by now (after the callbacks already queued).
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await sleep(0);
  return done;
}

function openMeta(): SqliteMetadataStore {
  return new SqliteMetadataStore(join(mkdtempSync(join(ROOT, 'db-')), 'sealbox.db'));
}

test('a write waiting for another connection\'s lock leaves the loop turning, then commits in the order asked', async (t) => {
  const store = openMeta();
  t.after(() => store.close());
  const lock = holdWriteLock(store.path);
  t.after(() => lock.release());
  const loop = watchLoop();
  const order: string[] = [];
  const first = store.write(async (tx) => {
    order.push('first');
    await store.setSetting(tx, 'k', 'first');
  });
  const second = store.write(async (tx) => {
    order.push('second');
    assert.equal(await store.getSetting(tx, 'k'), 'first', 'the second write sees the first');
    await store.setSetting(tx, 'k', 'second');
  });
  // A read does not queue behind writes waiting for another connection's lock: it sees what had
  // committed when it began.
  const t0 = performance.now();
  assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), null, 'a read while the writes wait sees what had committed');
  assert.ok(performance.now() - t0 < PROMPT_MS, `the read answered while the writes waited (${Math.round(performance.now() - t0)} ms)`);

  // The lock held a while: the window the loop is watched in.
  await sleep(300);
  const stall = loop.stop();
  assert.ok(stall < PROMPT_MS, `timers fired while the write waited (longest stall ${Math.round(stall)} ms)`);
  assert.equal(await settled(first), false, 'the write is still waiting for the lock');
  assert.deepEqual(order, [], 'no work ran without the lock');

  lock.release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first', 'second']);
  assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), 'second', 'a read after both sees both');
  const other = new DatabaseSync(store.path, { readOnly: true });
  try {
    assert.equal((other.prepare("SELECT value FROM setting WHERE key = 'k'").get() as { value: string }).value, 'second', 'committed: another connection sees it');
  } finally {
    other.close();
  }
});

test('a write that never gets the lock fails with "database is locked" once the busy timeout has gone by, the loop turning meanwhile', async (t) => {
  const store = openMeta();
  t.after(() => store.close());
  const timeout = () => Number((store.db.prepare('PRAGMA busy_timeout').get() as { timeout: number }).timeout);
  assert.equal(timeout(), 10_000, 'the patience the store is opened with');
  // The same wait, shorter, so the test does not take 10 s.
  store.db.exec('PRAGMA busy_timeout = 1500');
  const lock = holdWriteLock(store.path);
  t.after(() => lock.release());

  let ran = false;
  const loop = watchLoop();
  const started = performance.now();
  const write = store.write(async (tx) => {
    ran = true;
    await store.setSetting(tx, 'k', 'never');
  });
  const failed = write.then(() => assert.fail('the write committed without the lock'), (err: unknown) => ({ err, after: performance.now() - started }));
  const { err, after } = await failed;
  const stall = loop.stop();
  assert.match(String(err), /database is locked/, 'SQLite\'s own error, as before');
  assert.ok(after >= 1_490, `not before the busy timeout (${Math.round(after)} ms)`);
  assert.ok(after < 1_500 + PROMPT_MS, `soon after it (${Math.round(after)} ms)`);
  assert.ok(stall < PROMPT_MS, `timers fired throughout (longest stall ${Math.round(stall)} ms)`);
  assert.equal(ran, false);
  assert.equal(store.db.isTransaction, false, 'no transaction left open');
  assert.equal(timeout(), 1_500, 'the connection\'s busy timeout is as it was');

  lock.release();
  await store.write((tx) => store.setSetting(tx, 'k', 'after'));
  assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), 'after', 'the next write goes through');
});

test('a TRUNCATE checkpoint waits on timers too: false while another connection writes, true after', async (t) => {
  const store = openMeta();
  t.after(() => store.close());
  await store.write((tx) => store.setSetting(tx, 'k', 'in the log'));
  store.db.exec('PRAGMA busy_timeout = 1500');
  const lock = holdWriteLock(store.path);
  t.after(() => lock.release());
  const loop = watchLoop();
  const cutting = store.truncateLog();
  // Reads on the same connection run between its tries, not after them.
  await sleep(100);
  const t0 = performance.now();
  assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), 'in the log');
  assert.ok(performance.now() - t0 < PROMPT_MS, `a read answered while the checkpoint waited (${Math.round(performance.now() - t0)} ms)`);
  assert.equal(await settled(cutting), false, 'the checkpoint is still waiting');
  const cut = await cutting;
  const stall = loop.stop();
  assert.equal(cut, false, 'the other connection\'s write kept it from finishing');
  assert.ok(stall < PROMPT_MS, `timers fired while it waited (longest stall ${Math.round(stall)} ms)`);
  lock.release();
  assert.equal(await store.truncateLog(), true);
});

test('the index database\'s connection waits for its lock the same way', async (t) => {
  const meta = openMeta();
  t.after(() => meta.close());
  const indexPath = join(dirname(meta.path), 'index.db');
  const index = openIndexDb(indexPath, meta.path);
  t.after(() => index.close());
  const store = new SqliteIndexStore(index);
  const lock = holdWriteLock(indexPath);
  t.after(() => lock.release());
  const loop = watchLoop();
  const write = store.write((tx) => store.setCursor(tx, 42));
  // The lock held a while: the window the loop is watched in.
  await sleep(300);
  const stall = loop.stop();
  assert.ok(stall < PROMPT_MS, `timers fired while the write waited (longest stall ${Math.round(stall)} ms)`);
  assert.equal(await settled(write), false, 'the write is still waiting for the lock');
  lock.release();
  await write;
  assert.equal(await store.read((tx) => store.cursor(tx)), 42);
});

// The server: a capture waiting for the lock, another SMTP session answered meanwhile.
test('the server answers SMTP while a capture waits for the lock; the capture commits after, or answers 451 past the busy timeout', { timeout: 120_000 }, async (t) => {
  const server = await startSealbox({ args: ['--config', testConfig()] });
  let client: RawSmtpClient | null = null;
  // The session ends first: the server lets an open one finish before it exits.
  t.after(async () => {
    client?.socket.destroy();
    await server.stop();
  });
  const env = { from: 'a@example.test', to: ['b@example.test'] };
  const message = (subject: string) => Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${randomUUID()}@example.test>\r\n\r\nbody\r\n`);
  const captures = async () => JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString()).captures as number;

  // Sessions opened and a NOOP sent on each for `ms`, and on until `pending` settles: the
  // slowest answer.
  async function slowestAnswer(ms: number, pending: Promise<unknown> = Promise.resolve()): Promise<number> {
    const end = performance.now() + ms;
    let slowest = 0;
    while (performance.now() < end || !(await settled(pending))) {
      const at = performance.now();
      const other = await RawSmtpClient.connect(server.smtp.port);
      assert.equal((await other.command('NOOP')).code, 250);
      await other.quit();
      slowest = Math.max(slowest, performance.now() - at);
      await sleep(50);
    }
    return slowest;
  }

  client = await RawSmtpClient.connect(server.smtp.port);
  const before = await captures();

  // Released while the capture waits: it commits.
  const waited = message('waits for the lock');
  let lock = holdArchiveWriteLock(server.data);
  try {
    const sending = client.send(env, waited);
    const slowest = await slowestAnswer(1_500);
    assert.ok(slowest < PROMPT_MS, `another session answered promptly meanwhile (slowest ${Math.round(slowest)} ms)`);
    assert.equal(await settled(sending), false, 'the capture is still waiting for the lock');
    lock.release();
    const reply: Reply = (await sending).data[0]!;
    assert.equal(reply.code, 250, reply.text);
  } finally {
    lock.release();
  }
  assert.equal(await captures(), before + 1);

  // Held past the busy timeout (10 s): 451, the server answering all along.
  const refused = message('never gets the lock');
  lock = holdArchiveWriteLock(server.data);
  try {
    const started = performance.now();
    const sending = client.send(env, refused);
    const slowest = await slowestAnswer(0, sending);
    const reply = (await sending).data[0]!;
    assert.equal(reply.code, 451, reply.text);
    assert.ok(performance.now() - started >= 9_900, 'not before the busy timeout');
    assert.ok(slowest < PROMPT_MS, `another session answered promptly throughout (slowest ${Math.round(slowest)} ms)`);
  } finally {
    lock.release();
  }
  assert.equal(await captures(), before + 1, 'the refused message left no capture');
  const again = await client.send(env, refused);
  assert.equal(again.data[0]!.code, 250, 'the retry is archived');
  await client.quit();
  assert.equal(await captures(), before + 2);
});
