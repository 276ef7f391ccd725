// The Transactions contract (src/core/transactions.ts), run against every implementation: the
// SQLite metadata store and the PostgreSQL one (a private cluster, each test a schema of its
// own). Every property
// is shown with real writes through a repository in the same store (its settings, its ledger)
// and read back in a later transaction, or on a second connection, never taken on trust.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SettingStore } from '../../src/access/setting-store.ts';
import type { Transactions, Tx } from '../../src/core/transactions.ts';
import { generateSigningKey, signCheckpoint } from '../../src/ledger/checkpoint.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { LedgerStore, NewLedgerEntry } from '../../src/ledger/ledger.ts';
import { rootFromLeafHashes } from '../../src/ledger/merkle-tree.ts';
import { SqliteMetadataStore } from '../../src/store/sqlite/metadata-store.ts';
import { PostgresMetadataStore } from '../../src/store/postgres/metadata-store.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);

// The transactions under test, and repositories that write in them.
type Backend = Transactions & SettingStore & LedgerStore & { close(): void | Promise<void> };

// open(dir) twice on the same folder gives two connections to one database (two processes).
const BACKENDS: { name: string; open(dir: string): Backend }[] = [
  { name: 'SqliteMetadataStore', open: (dir) => new SqliteMetadataStore(join(dir, 'sealbox.db')) },
  { name: 'PostgresMetadataStore', open: (dir) => new PostgresMetadataStore({ url: postgres.url(), schema: postgres.schemaFor(dir) }) },
];

// One folder for the whole file, removed at exit; a fresh one inside it for each backend opened.
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function tempDir(): string {
  return mkdtempSync(join(ROOT, 'db-'));
}

// A test that hangs (a transaction waiting for itself) fails instead of stalling the run.
const LIMIT = { timeout: 5_000 };

// Each test opens a fresh backend (in its own folder, given too) and closes it when done.
function withStore(impl: (typeof BACKENDS)[number], fn: (store: Backend, dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = tempDir();
    const store = impl.open(dir);
    try {
      await fn(store, dir);
    } finally {
      await store.close();
    }
  };
}

// What has committed, in a transaction of its own.
const settingOf = (store: Backend, key: string) => store.read((tx) => store.getSetting(tx, key));
const put = (store: Backend, key: string, value: string) => store.write((tx) => store.setSetting(tx, key, value));

// Settles with what the promise did: 'pending' if it has not settled within `ms`.
async function settledWithin(p: Promise<unknown>, ms: number): Promise<{ state: 'fulfilled'; value: unknown } | { state: 'rejected'; reason: unknown } | { state: 'pending' }> {
  const timer = sleep(ms, { state: 'pending' as const });
  return Promise.race([p.then((value) => ({ state: 'fulfilled' as const, value }), (reason: unknown) => ({ state: 'rejected' as const, reason })), timer]);
}

const KEY = generateSigningKey('conformance.example/transactions');
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);

function openLedger(store: Backend): Promise<Ledger> {
  return Ledger.open({ store, origin: 'conformance.example/transactions', clock: { now: () => T0 }, sign: (body) => signCheckpoint(body, KEY) });
}

function systemEntry(n: number): NewLedgerEntry {
  return {
    type: 'system', actor: 'system:test', actorRoles: [], logonType: 'system', sessionId: null, clientIp: null, operation: 'review.sample',
    objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { n },
  };
}

for (const impl of BACKENDS) {
  describe(`Transactions: ${impl.name}`, () => {
    test('a write that resolves commits all it wrote, for this connection and another; its tx says write, a read\'s says read', LIMIT, withStore(impl, async (store, dir) => {
      const result = await store.write(async (tx) => {
        assert.equal(tx.mode, 'write');
        await store.setSetting(tx, 'a', '1');
        await sleep(1);
        await store.setSetting(tx, 'b', '2');
        assert.equal(await store.getSetting(tx, 'a'), '1', 'a transaction sees its own writes');
        return { done: true };
      });
      assert.deepEqual(result, { done: true }, 'the work\'s result is the write\'s');
      await store.read(async (tx) => {
        assert.equal(tx.mode, 'read');
        assert.equal(await store.getSetting(tx, 'a'), '1');
        assert.equal(await store.getSetting(tx, 'b'), '2');
      });
      const other = impl.open(dir);
      try {
        assert.equal(await settingOf(other, 'a'), '1', 'committed: another connection sees it');
        assert.equal(await settingOf(other, 'b'), '2');
      } finally {
        await other.close();
      }
    }));

    test('a write that throws rolls back everything it wrote and runs its onRollback hooks, last first; a committed one never runs them', LIMIT, withStore(impl, async (store) => {
      await put(store, 'k', 'before');
      const ran: string[] = [];
      await assert.rejects(store.write(async (tx) => {
        tx.onRollback(() => ran.push('first'));
        await store.setSetting(tx, 'k', 'changed');
        tx.onRollback(() => ran.push('second'));
        await sleep(1);
        await store.setSetting(tx, 'new', 'x');
        tx.onRollback(() => ran.push('third'));
        assert.deepEqual(ran, [], 'no hook runs while the transaction lasts');
        throw new Error('fails after writing');
      }), /fails after writing/);
      assert.deepEqual(ran, ['third', 'second', 'first'], 'every hook ran, in reverse order, before the caller hears of the failure');
      assert.equal(await settingOf(store, 'k'), 'before', 'the change is undone');
      assert.equal(await settingOf(store, 'new'), null, 'the insert is undone');

      const committedRan: string[] = [];
      await store.write(async (tx) => {
        tx.onRollback(() => committedRan.push('committed'));
        await store.setSetting(tx, 'k', 'after');
      });
      // A later transaction failing does not run an earlier one's hooks either.
      await assert.rejects(store.write(async (tx) => {
        await store.setSetting(tx, 'k', 'lost');
        throw new Error('later failure');
      }), /later failure/);
      assert.deepEqual(committedRan, [], 'a committed transaction runs no hook');
      assert.equal(await settingOf(store, 'k'), 'after');
    }));

    test('the ledger appended in a write that throws is back as it was, and the next append takes the lost index', LIMIT, withStore(impl, async (store) => {
      const ledger = await openLedger(store);
      await store.write((tx) => ledger.append(tx, systemEntry(0)));
      const before = { size: ledger.size, root: ledger.root() };
      await assert.rejects(store.write(async (tx) => {
        await ledger.append(tx, systemEntry(1));
        await ledger.append(tx, systemEntry(2));
        assert.equal(ledger.size, before.size + 2);
        throw new Error('fails after appending');
      }), /fails after appending/);
      assert.equal(ledger.size, before.size);
      assert.ok(ledger.root().equals(before.root));
      const next = await store.write((tx) => ledger.append(tx, systemEntry(3)));
      assert.equal(next.index, before.size, 'the next entry takes the index the lost one had');
      await store.read(async (tx) => {
        assert.equal(await store.ledgerSize(tx), before.size + 1);
        assert.ok(rootFromLeafHashes(await store.leafHashes(tx, 0, before.size + 1)).equals(ledger.root()), 'the tree verifies against the stored leaves');
      });
    }));

    test('writes started together whose work awaits do not interleave: each sees the one before it, in the order asked', LIMIT, withStore(impl, async (store) => {
      await put(store, 'counter', '0');
      const events: string[] = [];
      // Read, wait, write back: interleaved, every one would read 0 and the counter end at 1.
      // The first waits longest, so without one-at-a-time the last would finish first.
      const increment = (name: string, wait: number) => store.write(async (tx) => {
        events.push(`${name} start`);
        const seen = Number(await store.getSetting(tx, 'counter'));
        await sleep(wait);
        await store.setSetting(tx, 'counter', String(seen + 1));
        events.push(`${name} end`);
        return seen;
      });
      const seen = await Promise.all([increment('A', 15), increment('B', 5), increment('C', 0)]);
      assert.deepEqual(seen, [0, 1, 2], 'each saw what the one before committed');
      assert.deepEqual(events, ['A start', 'A end', 'B start', 'B end', 'C start', 'C end'], 'one at a time, first asked first');
      assert.equal(await settingOf(store, 'counter'), '3');
    }));

    test('a read started while a write is in flight never sees its uncommitted rows', LIMIT, withStore(impl, async (store) => {
      await put(store, 'k', 'before');
      // A write that rolls back: the read sees the committed state, never the rows in between.
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const failing = store.write(async (tx) => {
        await store.setSetting(tx, 'k', 'uncommitted');
        await store.setSetting(tx, 'inserted', 'uncommitted');
        written();
        await sleep(10);
        throw new Error('never commits');
      });
      // Its failure is awaited below; on a backend whose reads do not wait for the write
      // (PostgreSQL) it may come first.
      const failed = assert.rejects(failing, /never commits/);
      await wrote;
      const seen = await store.read(async (tx) => ({ k: await store.getSetting(tx, 'k'), inserted: await store.getSetting(tx, 'inserted') }));
      await failed;
      assert.deepEqual(seen, { k: 'before', inserted: null });

      // A write that commits in the end: the read sees the state before it or after it, never
      // the value it held in the middle.
      let midway!: () => void;
      const atMidway = new Promise<void>((resolve) => (midway = resolve));
      const committing = store.write(async (tx) => {
        await store.setSetting(tx, 'k', 'midway');
        midway();
        await sleep(10);
        await store.setSetting(tx, 'k', 'final');
      });
      await atMidway;
      const during = await store.read((tx) => store.getSetting(tx, 'k'));
      await committing;
      assert.ok(during === 'before' || during === 'final', `the read saw ${during}`);
      assert.equal(await settingOf(store, 'k'), 'final');
    }));

    test('a transaction opened inside another rejects at once, without running; the outer one still commits', LIMIT, withStore(impl, async (store) => {
      const innerRan: string[] = [];
      const inner = (mode: 'read' | 'write') => (mode === 'write' ? store.write.bind(store) : store.read.bind(store))(async (tx: Tx) => {
        innerRan.push(mode);
        if (mode === 'write') await store.setSetting(tx, 'inner', 'x');
      });
      const result = await store.write(async (tx) => {
        await store.setSetting(tx, 'outer', 'written');
        for (const mode of ['write', 'read'] as const) {
          const outcome = await settledWithin(inner(mode), 1_000);
          assert.equal(outcome.state, 'rejected', `a ${mode} inside a write: refused, not waiting for the outer one`);
          assert.match(String((outcome as { reason: unknown }).reason), /inside/, 'the message says what went wrong');
        }
        // Even after awaiting something else, the work is still inside its transaction.
        await sleep(1);
        await assert.rejects(inner('write'), /inside/);
        await store.setSetting(tx, 'outer', 'still written');
        return 'outer done';
      });
      assert.equal(result, 'outer done');
      const outcome = await settledWithin(store.read(async () => inner('write')), 1_000);
      assert.equal(outcome.state, 'rejected', 'a write inside a read: refused too');
      assert.deepEqual(innerRan, [], 'no inner work ran');
      assert.equal(await settingOf(store, 'outer'), 'still written', 'the outer transaction committed');
      assert.equal(await settingOf(store, 'inner'), null);
      // And the store goes on: nothing was left waiting.
      await put(store, 'after', 'yes');
      assert.equal(await settingOf(store, 'after'), 'yes');
    }));

    test('writing inside a read is refused and changes nothing, even when the work carries on', LIMIT, withStore(impl, async (store) => {
      await put(store, 'k', 'before');
      await assert.rejects(store.read(async (tx) => {
        await store.setSetting(tx, 'k', 'written in a read');
      }));
      assert.equal(await settingOf(store, 'k'), 'before');

      const result = await store.read(async (tx) => {
        await assert.rejects(store.setSetting(tx, 'k', 'written in a read'));
        await assert.rejects(store.setSetting(tx, 'inserted', 'written in a read'));
        return 'carried on';
      });
      assert.equal(result, 'carried on');
      assert.equal(await settingOf(store, 'k'), 'before');
      assert.equal(await settingOf(store, 'inserted'), null);

      // The ledger appended in a read: refused, and its tree is back as it was.
      const ledger = await openLedger(store);
      await store.write((tx) => ledger.append(tx, systemEntry(0)));
      const root = ledger.root();
      await assert.rejects(store.read((tx) => ledger.append(tx, systemEntry(1))));
      assert.equal(ledger.size, 1);
      assert.ok(ledger.root().equals(root));
      assert.equal(await store.read((tx) => store.ledgerSize(tx)), 1);
      // A write afterwards is a write again (the read left no refusal behind).
      await put(store, 'k', 'after');
      assert.equal(await settingOf(store, 'k'), 'after');
    }));

    test('a tx used after its transaction ended is refused, even while another transaction is open', LIMIT, withStore(impl, async (store) => {
      let leakedWrite!: Tx;
      let leakedRead!: Tx;
      await store.write(async (tx) => {
        leakedWrite = tx;
        await store.setSetting(tx, 'k', 'committed');
      });
      await store.read(async (tx) => {
        leakedRead = tx;
        assert.equal(await store.getSetting(tx, 'k'), 'committed');
      });
      await assert.rejects(store.setSetting(leakedWrite, 'k', 'late'));
      await assert.rejects(store.getSetting(leakedWrite, 'k'));
      await assert.rejects(store.getSetting(leakedRead, 'k'));
      assert.equal(await settingOf(store, 'k'), 'committed');

      // Another transaction is open (and commits): the old tx does not write into it.
      let open!: () => void;
      const isOpen = new Promise<void>((resolve) => (open = resolve));
      const other = store.write(async (tx) => {
        open();
        await sleep(10);
        await store.setSetting(tx, 'other', 'written');
      });
      await isOpen;
      await assert.rejects(store.setSetting(leakedWrite, 'k', 'slipped in'));
      await assert.rejects(store.setSetting(leakedWrite, 'slipped', 'in'));
      await other;
      assert.equal(await settingOf(store, 'other'), 'written');
      assert.equal(await settingOf(store, 'k'), 'committed');
      assert.equal(await settingOf(store, 'slipped'), null);
    }));

    test('what the work throws reaches the caller unchanged', LIMIT, withStore(impl, async (store) => {
      const caught = (p: Promise<unknown>) => p.then(() => assert.fail('expected a rejection'), (err: unknown) => err);
      const error = Object.assign(new Error('the work failed'), { code: 'TEST_CODE' });
      assert.equal(await caught(store.write(async (tx) => {
        await store.setSetting(tx, 'k', 'v');
        throw error;
      })), error, 'the same Error, not a wrapper');
      assert.equal(await caught(store.read(async () => {
        throw error;
      })), error);
      const notAnError = { reason: 'a plain object' };
      assert.equal(await caught(store.write(async () => {
        throw notAnError;
      })), notAnError, 'whatever was thrown');
      assert.equal(await caught(store.write(() => {
        throw error;
      })), error, 'thrown before the work returned a promise');
      assert.equal(await settingOf(store, 'k'), null);
    }));
  });
}
