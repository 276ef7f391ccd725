// What the PostgreSQL metadata store does beyond the conformance suites' contracts: writes of two
// nodes on one database run one at a time, a write whose work carried on past a failed statement
// is not reported committed, two nodes opening a new database migrate it once, a read's ledger
// catch-up beside a write's takes each entry once, and the config's checks of the backend's
// settings.
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { systemClock } from '../src/core/clock.ts';
import { loadConfig } from '../src/core/config.ts';
import { generateSigningKey, signCheckpoint } from '../src/ledger/checkpoint.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import type { NewLedgerEntry } from '../src/ledger/ledger.ts';
import type { Tx } from '../src/core/transactions.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import type { SealMeta } from '../src/store/sealed-blob.ts';
import { startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres(); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

test('two nodes on one database: their writes run one at a time, and the schema is migrated once', async () => {
  const url = await cluster.database('two_nodes');
  const nodes = [new PostgresMetadataStore({ url }), new PostgresMetadataStore({ url })];
  try {
    // Both open at once: each migration is applied by one of them.
    await Promise.all(nodes.map((n) => n.write((tx) => n.setSetting(tx, 'counter', '0'))));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const shipped = readdirSync(new URL('../src/store/postgres/migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')).map((f) => Number(f.slice(0, 4))).sort((a, b) => a - b);
      assert.deepEqual((await client.query('SELECT version FROM schema_version ORDER BY version')).rows.map((r) => Number(r.version)), shipped, 'each migration once');
    } finally {
      await client.end();
    }
    // Read, wait, write back, on both nodes at once: without one writer at a time across nodes
    // the increments would overwrite each other.
    const increment = (n: PostgresMetadataStore) => n.write(async (tx) => {
      const seen = Number(await n.getSetting(tx, 'counter'));
      await sleep(5);
      await n.setSetting(tx, 'counter', String(seen + 1));
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(nodes[i % 2]!)));
    assert.equal(await nodes[0]!.read((tx) => nodes[0]!.getSetting(tx, 'counter')), '20');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('one node holds the duties; it hears of every node\'s captures at commit, and another takes the duties when it closes', async () => {
  const url = await cluster.database('duties');
  const [a, b] = [new PostgresMetadataStore({ url }), new PostgresMetadataStore({ url })];
  try {
    let heard = 0;
    const changes: boolean[] = [];
    let tookOver: () => void;
    const taken = new Promise<void>((resolve) => { tookOver = resolve; });
    assert.deepEqual(await a.holdDuties(() => {}, () => { heard++; }), { held: true });
    assert.deepEqual(await b.holdDuties((held) => { changes.push(held); if (held) tookOver(); }), { held: false }, 'one holder at a time');

    // A capture committed on the other node is heard once per transaction, at commit.
    const seal: SealMeta = { sha256: 'ab'.repeat(32), size: 100, sealedLength: 80, compression: 'zstd', nonce: Buffer.alloc(12, 1), tag: Buffer.alloc(16, 2), wrappedKey: Buffer.alloc(40, 3), keyId: 'k1' };
    await b.write(async (tx) => {
      const [id] = await b.insertMessages(tx, [{ seal, ref: { file: 'segments/x.seg', offset: 0, length: 80 }, firstSeen: Date.now() }]) as [number];
      for (const n of [1, 2]) await b.insertCapture(tx, { id: `cap-${n}`, source: 'smtp', receivedAt: Date.now(), envelope: null, provenance: null }, id, n, { retainUntil: null, ruleId: null, keepUntil: null, keepRule: null });
      await sleep(300);
      assert.equal(heard, 0, 'nothing heard before the commit');
    });
    const deadline = Date.now() + 5000;
    while (heard === 0 && Date.now() < deadline) await sleep(20);
    assert.equal(heard, 1, 'heard at commit, once for the transaction');

    // The holder gone, the other takes the duties within its retry.
    await a.close();
    await Promise.race([taken, sleep(10_000).then(() => assert.fail('the duties were not taken over'))]);
    assert.deepEqual(changes, [true]);
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
});

test('a write whose work carried on past a failed statement is reported failed, and nothing of it is kept', async () => {
  const store = new PostgresMetadataStore({ url: await cluster.database('aborted') });
  try {
    const undone: string[] = [];
    const leaf = { index: 0, type: 'system' as const, time: 1, leaf: Buffer.from('{}'), leafHash: Buffer.alloc(32), payload: null, salt: null };
    await assert.rejects(store.write(async (tx) => {
      tx.onRollback(() => undone.push('undo'));
      await store.setSetting(tx, 'k', 'written');
      // A statement that fails (a second leaf at index 0: leaves go in with the transaction's
      // next statement), caught by the work, which carries on.
      await store.appendLeaf(tx, leaf);
      await store.ledgerSize(tx);
      await store.appendLeaf(tx, leaf);
      await store.ledgerSize(tx).catch(() => {});
      return 'carried on';
    }), /was rolled back; nothing it wrote was committed/);
    assert.deepEqual(undone, ['undo'], 'its undo hooks ran');
    assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), null);
    assert.equal(await store.read((tx) => store.ledgerSize(tx)), 0);
    // Rows still waiting at the end go in before COMMIT: one that fails fails the write.
    await assert.rejects(store.write(async (tx) => {
      await store.setSetting(tx, 'k', 'written');
      await store.appendLeaf(tx, leaf);
      await store.appendLeaf(tx, leaf);
    }), /duplicate key value violates unique constraint "ledger_pkey"/);
    assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), null);
    assert.equal(await store.read((tx) => store.ledgerSize(tx)), 0);
    // The pool's client is usable again.
    await store.write((tx) => store.setSetting(tx, 'k', 'after'));
    assert.equal(await store.read((tx) => store.getSetting(tx, 'k')), 'after');
  } finally {
    await store.close();
  }
});

test('a ledger catch-up in a read beside one in a write takes each entry another node wrote once', { timeout: 60_000 }, async () => {
  const url = await cluster.database('catch_up');
  const [a, b] = [new PostgresMetadataStore({ url }), new PostgresMetadataStore({ url })];
  try {
    const signer = generateSigningKey('catch-up.example/ledger');
    const openLedger = (store: PostgresMetadataStore) => Ledger.open({ store, origin: 'catch-up.example/ledger', clock: systemClock, sign: (body) => signCheckpoint(body, signer) });
    const entry = (n: number): NewLedgerEntry => ({
      type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: null, operation: 'capture',
      objects: { mailboxes: [], messages: [String(n).repeat(64)] }, grantId: null, result: 'success', parameters: { captureId: `cap-${n}` },
    });
    // Node B's ledger reads its leaves through a gate: each catch-up waits there until the other
    // has come too, as serve's timer (a read) and its archive writer (a write) may meet: both
    // read the size before either has the hashes.
    let gate: { arrived: number; open: () => void; opened: Promise<void> } | null = null;
    const gated = new Proxy(b, {
      get(target, key) {
        if (key === 'leafHashes') {
          return async (tx: Tx, from: number, to: number) => {
            const hashes = await target.leafHashes(tx, from, to);
            if (gate) {
              if (++gate.arrived === 2) gate.open();
              await gate.opened;
            }
            return hashes;
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const [ledgerA, ledgerB] = [await openLedger(a), await openLedger(gated)];
    for (let n = 1; n <= 5; n++) await a.write((tx) => ledgerA.append(tx, entry(n)));
    let open: () => void = () => {};
    gate = { arrived: 0, open: () => open(), opened: new Promise<void>((resolve) => (open = resolve)) };
    await Promise.all([b.read((tx) => ledgerB.catchUp(tx)), b.write((tx) => ledgerB.catchUp(tx))]);
    gate = null;
    assert.equal(ledgerB.size, 5, 'each entry taken once');
    assert.ok(ledgerB.root().equals(ledgerA.root()), 'the same tree as the node that wrote them');
    const next = await b.write(async (tx) => { await ledgerB.catchUp(tx); return ledgerB.append(tx, entry(6)); });
    assert.equal(next.index, 5, 'the next entry numbered right after them: no gap');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('store.kind "postgres" needs store.postgres, and its URL may not hold the password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-pgconfig-'));
  try {
    const file = join(dir, 'sealbox.json');
    const load = (store: unknown) => {
      writeFileSync(file, JSON.stringify({ data: dir, store }));
      return loadConfig(file, {}, {});
    };
    assert.throws(() => load({ kind: 'postgres' }), (err: any) => err.code === 'SEALBOX_ERR_CONFIG' && /store\.postgres.*needs store\.postgres \(url, passwordFile\)/.test(err.message));
    assert.throws(() => load({ kind: 'postgres', postgres: { url: 'postgres://archive:hunter2@db.example:5432/sealbox' } }),
      (err: any) => err.code === 'SEALBOX_ERR_CONFIG' && /holds a password: put it in store\.postgres\.passwordFile/.test(err.message) && !err.message.includes('hunter2'));
    assert.throws(() => load({ kind: 'postgres', postgres: { url: 'mysql://db.example/x' } }), /postgres:\/\/user@host:port\/database/);
    assert.throws(() => load({ kind: 'postgres', postgres: { url: 'postgres://archive@db.example/sealbox', schema: 'Robert\'); DROP' } }), /plain lowercase PostgreSQL name/);
    const pg = load({ kind: 'postgres', postgres: { url: 'postgres://archive@db.example:5432/sealbox', passwordFile: 'pg.password' } }).store;
    assert.deepEqual([pg.kind, pg.postgres?.schema, pg.postgres?.poolSize], ['postgres', 'public', 10]);
    assert.equal(load({ kind: 'sqlite' }).store.kind, 'sqlite');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
