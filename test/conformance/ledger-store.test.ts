// The ledger store's contract, run against every implementation: the SQLite metadata store and
// the PostgreSQL one (a private cluster, each test a schema of its own). Entries are written the way the
// archive writes them — the Ledger sequencing inside the store's transactions, the Audit linking
// people's actions to mailboxes and grants — and read back through LedgerStore alone. What each
// read should return is tallied from what the test wrote, never from another read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Audit } from '../../src/access/audit.ts';
import type { Actor, AuditEvent, AuditStore } from '../../src/access/audit.ts';
import type { Role } from '../../src/access/roles.ts';
import type { LedgerEntry, LedgerEntryType } from '../../src/core/types.ts';
import { generateSigningKey, signCheckpoint, verifyCheckpoint } from '../../src/ledger/checkpoint.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { LedgerFilter, LedgerStore, NewLedgerEntry } from '../../src/ledger/ledger.ts';
import { commitmentOf, sealEntry, serializeEntry } from '../../src/ledger/ledger-entry.ts';
import { consistencyProof, inclusionProof, leafHash, rootFromLeafHashes } from '../../src/ledger/merkle-tree.ts';
import { KEPT_LEVEL, StoredTree } from '../../src/ledger/stored-tree.ts';
import { SqliteMetadataStore } from '../../src/store/sqlite/metadata-store.ts';
import { PostgresMetadataStore } from '../../src/store/postgres/metadata-store.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);

// What the ledger is written through: LedgerStore for the Ledger, AuditStore for the Audit.
type LedgerBackend = LedgerStore & AuditStore & { close(): void | Promise<void> };

// open(dir) twice on the same folder gives two connections to one ledger (two processes).
const STORES: { name: string; open(dir: string): LedgerBackend }[] = [
  { name: 'SqliteMetadataStore', open: (dir) => new SqliteMetadataStore(join(dir, 'sealbox.db')) },
  { name: 'PostgresMetadataStore', open: (dir) => new PostgresMetadataStore({ url: postgres.url(), schema: postgres.schemaFor(dir) }) },
];

// What an archive begun before the tree's interior was kept looks like: no kept roots.
async function forgetTreeNodes(store: LedgerBackend): Promise<void> {
  if (store instanceof SqliteMetadataStore) store.db.exec('DELETE FROM ledger_node');
  else await (store as unknown as PostgresMetadataStore).pool.query('DELETE FROM ledger_node');
}

const ORIGIN = 'conformance.example/ledger';
const KEY = generateSigningKey(ORIGIN);
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const MINUTE = 60_000;

// One folder for the whole file, removed at exit; a fresh one inside it for each backend opened.
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function tempDir(): string {
  return mkdtempSync(join(ROOT, 'db-'));
}

function testClock(start = T0): { t: number; now(): number } {
  return { t: start, now() { return this.t; } };
}

function openLedger(store: LedgerBackend, clock: { now(): number }): Promise<Ledger> {
  return Ledger.open({ store, origin: ORIGIN, clock, sign: (body) => signCheckpoint(body, KEY) });
}

// Two connections to one new store, each with its Ledger (two processes, or two nodes).
async function twoWriters(impl: { open(dir: string): LedgerBackend }): Promise<{ a: LedgerBackend; b: LedgerBackend; clock: { t: number; now(): number }; ledgerA: Ledger; ledgerB: Ledger }> {
  const dir = tempDir();
  const a = impl.open(dir);
  const b = impl.open(dir);
  const clock = testClock();
  return { a, b, clock, ledgerA: await openLedger(a, clock), ledgerB: await openLedger(b, clock) };
}

function person(id: number, name: string, roles: Role[], logonType: Actor['logonType'] = 'delegated'): Actor {
  return {
    user: { id, name, displayName: null, email: null, roles, enrolled: true, disabled: false },
    logonType, sessionId: `s-${name}`, clientIp: '192.0.2.10', userAgent: 'conformance',
  };
}

const ALICE = person(1, 'alice', ['requester']);
const BOB = person(2, 'bob', ['approver'], 'admin');
const OVERSIGHT: Actor = { user: null, label: 'system:oversight', roles: ['system'], logonType: 'system', sessionId: null, clientIp: null, userAgent: null };
const NOBODY: Actor = { user: null, logonType: 'owner', sessionId: null, clientIp: '198.51.100.7', userAgent: null };

const MB = { bob: { id: 11, name: 'bob' }, carol: { id: 12, name: 'carol' }, dave: { id: 13, name: 'dave' } };

// A capture entry as the archive writer appends it (no Audit: no mailbox or grant links).
function captureEntry(sha256: string): NewLedgerEntry {
  return {
    type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: '203.0.113.5', operation: 'capture',
    objects: { mailboxes: [], messages: [sha256] }, grantId: null, result: 'success', parameters: { captureId: `cap-${sha256.slice(0, 6)}` },
  };
}

// What the test wrote, entry by entry: the tally every read is checked against.
interface Written {
  index: number;
  time: number;
  type: LedgerEntryType;
  actor: string;
  operation: string;
  result: LedgerEntry['result'];
  grantId: string | null;
  mailboxes: { id: number; name: string }[];
  linked: boolean;                 // written by the Audit, which links it to mailboxes and grant
}

// A varied ledger: captures, people's actions under two grants, a system entry, refusals.
async function writeVariedLedger(store: LedgerBackend): Promise<{ written: Written[]; ledger: Ledger }> {
  const clock = testClock();
  const ledger = await openLedger(store, clock);
  const audit = new Audit(store, ledger);
  const written: Written[] = [];
  const next = (w: Omit<Written, 'index' | 'time'>) => {
    written.push({ ...w, index: written.length, time: clock.t });
    clock.t += MINUTE;
  };
  const capture = async (sha256: string) => {
    await store.write((tx) => ledger.append(tx, captureEntry(sha256)));
    next({ type: 'capture', actor: 'capture:smtp', operation: 'capture', result: 'success', grantId: null, mailboxes: [], linked: false });
  };
  const record = async (actor: Actor, actorName: string, event: AuditEvent, type: LedgerEntryType) => {
    await audit.record(actor, event, async () => null);
    next({ type, actor: actorName, operation: event.operation, result: 'success', grantId: event.grantId ?? null, mailboxes: event.mailboxes ?? [], linked: true });
  };
  const denied = async (actor: Actor, actorName: string, event: AuditEvent, type: LedgerEntryType) => {
    await audit.denied(actor, event, 'refused for the test');
    next({ type, actor: actorName, operation: event.operation, result: 'denied', grantId: event.grantId ?? null, mailboxes: event.mailboxes ?? [], linked: true });
  };
  await capture('a'.repeat(64));
  await record(ALICE, 'user:alice', { operation: 'request.file', grantId: 'req_g1', mailboxes: [MB.bob] }, 'admin');
  await record(BOB, 'user:bob', { operation: 'request.approve', grantId: 'req_g1', mailboxes: [MB.bob] }, 'admin');
  await record(ALICE, 'user:alice', { operation: 'search', grantId: 'req_g1', mailboxes: [MB.bob, MB.carol], parameters: { query: 'invoice' } }, 'access');
  await record(ALICE, 'user:alice', { operation: 'view', grantId: 'req_g1', mailboxes: [MB.bob], messages: ['a'.repeat(64)] }, 'access');
  await denied(ALICE, 'user:alice', { operation: 'raw', grantId: 'req_g1', mailboxes: [MB.carol], messages: ['b'.repeat(64)] }, 'access');
  await record(OVERSIGHT, 'system:oversight', { operation: 'review.sample', parameters: { drawn: 1 } }, 'system');
  await record(BOB, 'user:bob', { operation: 'search', grantId: 'req_g2', mailboxes: [MB.carol], parameters: { query: 'lunch' } }, 'access');
  await capture('c'.repeat(64));
  await denied(NOBODY, 'anonymous', { operation: 'session.create', parameters: { name: 'mallory' } }, 'admin');
  await record(BOB, 'user:bob', { operation: 'export', grantId: 'req_g2', mailboxes: [MB.carol, MB.dave], messages: ['c'.repeat(64)] }, 'access');
  // A search refused for a NUL in its query records the query as given: the entry is written,
  // and filtered reads over it go on answering.
  await denied(ALICE, 'user:alice', { operation: 'search', mailboxes: [MB.carol], parameters: { query: 'a\u0000b' } }, 'access');
  return { written, ledger };
}

const indexes = (entries: { entry: LedgerEntry }[]) => entries.map((s) => s.entry.index);

for (const impl of STORES) {
  describe(`LedgerStore: ${impl.name}`, () => {
    test('entries appended in transactions read back by index, exactly as hashed', async () => {
      const store = impl.open(tempDir());
      const { written, ledger } = await writeVariedLedger(store);
      await store.read(async (tx) => {
        assert.equal(await store.ledgerSize(tx), written.length);
        assert.equal(ledger.size, written.length);
        for (const w of written) {
          const stored = await store.entry(tx, w.index);
          assert.ok(stored, `entry ${w.index}`);
          const e = stored.entry;
          assert.deepEqual(
            { index: e.index, time: e.time, type: e.type, actor: e.actor, operation: e.operation, result: e.result, grantId: e.grantId, mailboxes: e.objects.mailboxes },
            { index: w.index, time: w.time, type: w.type, actor: w.actor, operation: w.operation, result: w.result, grantId: w.grantId, mailboxes: w.mailboxes.map((m) => m.name) },
            `entry ${w.index}`,
          );
          assert.ok(stored.salt && stored.payload, `entry ${w.index}: a version-2 entry has its payload beside the leaf`);
          assert.ok(stored.leaf.equals(sealEntry(e, 2, stored.salt).leaf), `entry ${w.index}: the leaf is the entry's canonical version-2 form`);
          assert.equal(JSON.parse(stored.leaf.toString()).commitment, commitmentOf(stored.salt, stored.payload), `entry ${w.index}: the leaf commits to the payload`);
          // (Who acted stays in the leaf: user:bob is the account that acted, and must stay provable.)
          for (const personal of [...w.mailboxes.map((m) => m.name).filter((n) => n !== 'bob'), '192.0.2.10', '198.51.100.7', '203.0.113.5', 'invoice', 'lunch', 'mallory']) {
            assert.ok(!stored.leaf.toString().includes(personal), `entry ${w.index}: the leaf holds no "${personal}" in plain`);
          }
          assert.ok(stored.leafHash.equals(leafHash(stored.leaf)), `entry ${w.index}: the stored hash is the leaf's`);
        }
        assert.equal(await store.entry(tx, written.length), null, 'past the end');
        assert.equal(await store.entry(tx, -1), null);
      });
      // An entry appended directly comes back field for field.
      const clock = testClock(T0 + 100 * MINUTE);
      const again = await openLedger(store, clock);
      const appended = await store.write((tx) => again.append(tx, { ...captureEntry('d'.repeat(64)), parameters: { nested: { b: 2, a: [1, 'x', null] }, text: 'ünïcode ✓' } }));
      assert.equal(appended.index, written.length, 'a new Ledger continues the sequence');
      assert.deepEqual((await store.read((tx) => store.entry(tx, appended.index)))?.entry, appended);
      await store.close();
    });

    test('an archive begun with version-1 leaves goes on in version 2 after one upgrade entry', async () => {
      const dir = tempDir();
      const store = impl.open(dir);
      // Two entries as the release before version 2 wrote them: the whole entry is the leaf.
      await store.write(async (tx) => {
        for (const index of [0, 1]) {
          const entry = { ...captureEntry(String(index).repeat(64)), index, time: T0 + index } as LedgerEntry;
          const leaf = serializeEntry(entry);
          await store.appendLeaf(tx, { index, type: 'capture', time: entry.time, leaf, leafHash: Buffer.from(leafHash(leaf)), payload: null, salt: null });
        }
      });
      const clock = testClock(T0 + MINUTE);
      const ledger = await openLedger(store, clock);
      const first = await store.write((tx) => ledger.append(tx, captureEntry('e'.repeat(64))));
      assert.equal(first.index, 3, 'the upgrade entry comes first');
      // A second process on the same archive does not upgrade again.
      const other = impl.open(dir);
      const otherLedger = await openLedger(other, clock);
      const second = await other.write((tx) => otherLedger.append(tx, captureEntry('f'.repeat(64))));
      assert.equal(second.index, 4);
      await store.read(async (tx) => {
        const leaves = await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await store.entry(tx, i))!));
        assert.deepEqual(leaves.map((l) => JSON.parse(l.leaf.toString()).v ?? 1), [1, 1, 2, 2, 2]);
        assert.equal(leaves[2]!.entry.operation, 'ledger.upgrade');
        assert.deepEqual(leaves[2]!.entry.parameters, { from: 1, to: 2 });
        assert.equal(leaves[0]!.entry.clientIp, '203.0.113.5', 'a version-1 entry reads as it always did');
        assert.equal(leaves[4]!.entry.clientIp, '203.0.113.5', 'a version-2 entry reads the same');
      });
      const hashes = await store.read((tx) => store.leafHashes(tx, 0, 5));
      assert.ok(Buffer.from(rootFromLeafHashes(hashes)).equals((await openLedger(store, clock)).root()), 'one tree across both versions');
      await other.close();
      await store.close();
    });

    test('erasure: the payload goes, the leaf and every hash stay, and an erasure entry names it', async () => {
      const store = impl.open(tempDir());
      const { written, ledger } = await writeVariedLedger(store);
      const search = written.find((w) => w.operation === 'search')!;
      const before = await store.read(async (tx) => ({ stored: (await store.entry(tx, search.index))!, hashes: await store.leafHashes(tx, 0, written.length) }));
      const erasure = await store.write((tx) => ledger.append(tx, { erases: [search.index],
        type: 'admin', actor: 'user:dpo', actorRoles: ['auditor'], logonType: 'admin', sessionId: null, clientIp: null, operation: 'ledger.erase',
        objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { reason: 'Art. 17 request DS-1' },
      }));
      await store.read(async (tx) => {
        const after = (await store.entry(tx, search.index))!;
        assert.ok(after.leaf.equals(before.stored.leaf), 'the leaf is unchanged');
        assert.deepEqual(await store.leafHashes(tx, 0, written.length), before.hashes, 'so is every hash, and every proof');
        assert.equal(after.payload, null);
        assert.equal(after.salt, null);
        assert.equal(after.entry.erased, true);
        assert.deepEqual(after.entry.objects.mailboxes, []);
        assert.deepEqual(after.entry.parameters, {});
        assert.equal(after.entry.actor, search.actor, 'who acted stays');
        assert.deepEqual((await store.entry(tx, erasure.index))!.entry.erases, [search.index]);
        assert.equal(JSON.parse((await store.entry(tx, erasure.index))!.leaf.toString()).erases[0], search.index, 'the erasure entry names it in its leaf');
        const rows = [];
        for await (const r of store.ledgerRows(tx)) rows.push(r);
        assert.equal(rows[search.index]!.erasedBy, erasure.index);
        assert.ok(!JSON.stringify(rows.map((r) => [r.leaf.toString(), r.payload?.toString()])).includes('invoice'), 'the query is gone from every leaf and payload');
      });
      await assert.rejects(store.write((tx) => ledger.append(tx, { erases: [search.index], ...captureEntry('0'.repeat(64)), type: 'admin', operation: 'ledger.erase' })), /no personal payload/, 'not twice');
      await assert.rejects(store.write((tx) => ledger.append(tx, { ...captureEntry('0'.repeat(64)), type: 'admin', operation: 'ledger.erase', erases: [written.length + 5] })), /no personal payload/, 'not an entry to come');
      assert.equal(await store.read((tx) => store.ledgerSize(tx)), erasure.index + 1, 'a refused erasure leaves no entry');
      await store.close();
    });

    test('mentioning: the entries whose personal part names a string, in any case; an erased one no more', async () => {
      const store = impl.open(tempDir());
      const { written, ledger } = await writeVariedLedger(store);
      const later = await store.write((tx) => ledger.append(tx, {
        type: 'admin', actor: 'user:dpo', actorRoles: ['auditor'], logonType: 'admin', sessionId: null, clientIp: null, operation: 'subject.file',
        objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { addresses: ['X.Person@Client.EXAMPLE'], note: 'the Invoice dispute' },
      }));
      const search = written.find((w) => w.operation === 'search' && w.actor === 'user:alice')!;
      const lunch = written.find((w) => w.operation === 'search' && w.actor === 'user:bob')!;
      const mallory = written.find((w) => w.operation === 'session.create')!;
      const found = (needles: string[]) => store.read((tx) => store.mentioning(tx, needles));
      assert.deepEqual(await found(['invoice']), [{ index: search.index, type: 'access', operation: 'search', version: 2 }, { index: later.index, type: 'admin', operation: 'subject.file', version: 2 }]);
      assert.deepEqual((await found(['lunch', 'mallory', 'x.person@client.example'])).map((m) => m.index), [lunch.index, mallory.index, later.index], 'any of them, in ledger order');
      assert.deepEqual(await found(['nobody@client.example']), []);
      assert.deepEqual(await found([]), []);
      await store.write((tx) => ledger.append(tx, { erases: [search.index],
        type: 'admin', actor: 'user:dpo', actorRoles: ['auditor'], logonType: 'admin', sessionId: null, clientIp: null, operation: 'ledger.erase',
        objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { reason: 'Art. 17' },
      }));
      assert.deepEqual((await found(['invoice'])).map((m) => m.index), [later.index], 'the erased payload mentions nothing');
      await store.close();
    });

    test('leaf hashes come back in order for any range, and hash to the ledger root', async () => {
      const store = impl.open(tempDir());
      const { written, ledger } = await writeVariedLedger(store);
      await store.read(async (tx) => {
        const all = await store.leafHashes(tx, 0, written.length);
        assert.equal(all.length, written.length);
        for (const [i, h] of all.entries()) assert.ok(h.equals((await store.entry(tx, i))!.leafHash), `hash ${i}`);
        assert.ok(rootFromLeafHashes(all).equals(ledger.root()), 'the stored hashes make the root the Ledger computed');
        assert.deepEqual(await store.leafHashes(tx, 3, 6), all.slice(3, 6));
        assert.deepEqual(await store.leafHashes(tx, 5, 5), []);
        assert.deepEqual(await store.leafHashes(tx, written.length - 2, written.length + 10), all.slice(-2), 'a range past the end stops at the end');
      });
      await store.close();
    });

    test("the tree's interior is kept as it completes: roots and proofs read from it are the leaves' own, with or without it", async () => {
      const store = impl.open(tempDir());
      const ledger = await openLedger(store, testClock());
      const size = 300;
      for (let from = 0; from < size; from += 50) {
        await store.write(async (tx) => {
          for (let i = from; i < from + 50; i++) await ledger.append(tx, captureEntry(i.toString(16).padStart(64, '0')));
        });
      }
      const subtrees: { level: number; index: number }[] = [];
      for (let level = KEPT_LEVEL; 2 ** level <= size; level++) for (let index = 0; (index + 1) * 2 ** level <= size; index++) subtrees.push({ level, index });
      const sizes = [1, 2, 63, 64, 65, 127, 128, 129, 200, 256, 299, 300];
      const checkTree = async (tx: Parameters<LedgerStore['leafHashes']>[0], hashes: Buffer[]) => {
        const tree = new StoredTree(store);
        assert.deepEqual(await tree.roots(tx, sizes), sizes.map((n) => rootFromLeafHashes(hashes.slice(0, n))));
        for (const n of sizes) {
          for (const index of new Set([0, Math.floor(n / 2), n - 1])) assert.deepEqual(await tree.inclusionProof(tx, index, n), inclusionProof(index, hashes.slice(0, n)), `entry ${index} of ${n}`);
          for (const old of [1, 64, 65, 128, 150]) if (old <= n) assert.deepEqual(await tree.consistencyProof(tx, old, n), consistencyProof(old, hashes.slice(0, n)), `${old} to ${n}`);
        }
      };
      await store.read(async (tx) => {
        const hashes = await store.leafHashes(tx, 0, size);
        const kept = await store.treeNodes(tx, subtrees);
        subtrees.forEach((t, i) => assert.deepEqual(kept[i], rootFromLeafHashes(hashes.slice(t.index * 2 ** t.level, (t.index + 1) * 2 ** t.level)), `kept ${t.level}:${t.index}`));
        assert.deepEqual(await store.treeNodes(tx, [{ level: KEPT_LEVEL, index: 4 }, { level: 9, index: 0 }]), [null, null], 'none for a subtree not complete');
        await checkTree(tx, hashes);
      });
      // A ledger from before the interior was kept: the same answers from the leaves, and the
      // next entry keeps it all.
      await forgetTreeNodes(store);
      await store.read(async (tx) => {
        assert.deepEqual(await store.treeNodes(tx, subtrees), subtrees.map(() => null));
        await checkTree(tx, await store.leafHashes(tx, 0, size));
      });
      const later = await openLedger(store, testClock());
      await store.write(async (tx) => { await later.catchUp(tx); await later.append(tx, captureEntry('f'.repeat(64))); });
      await store.read(async (tx) => {
        const hashes = await store.leafHashes(tx, 0, size);
        const kept = await store.treeNodes(tx, subtrees);
        subtrees.forEach((t, i) => assert.deepEqual(kept[i], rootFromLeafHashes(hashes.slice(t.index * 2 ** t.level, (t.index + 1) * 2 ** t.level)), `kept again ${t.level}:${t.index}`));
      });
      await store.close();
    });

    test('entries(filter): every field narrows, and they combine', async () => {
      const store = impl.open(tempDir());
      const { written } = await writeVariedLedger(store);
      const t = (i: number) => written[i]!.time;
      const cases: [string, LedgerFilter, (w: Written) => boolean][] = [
        ['no filter', {}, () => true],
        ['from', { from: 3 }, (w) => w.index >= 3],
        ['to', { to: 5 }, (w) => w.index < 5],
        ['from and to', { from: 3, to: 5 }, (w) => w.index >= 3 && w.index < 5],
        ['since', { since: t(4) }, (w) => w.time >= t(4)],
        ['until', { until: t(4) }, (w) => w.time < t(4)],
        ['since and until', { since: t(2), until: t(2) + 3 * MINUTE }, (w) => w.time >= t(2) && w.time < t(2) + 3 * MINUTE],
        ['type access', { type: 'access' }, (w) => w.type === 'access'],
        ['type capture', { type: 'capture' }, (w) => w.type === 'capture'],
        ['type system', { type: 'system' }, (w) => w.type === 'system'],
        ['type admin', { type: 'admin' }, (w) => w.type === 'admin'],
        ['actor user', { actor: 'user:alice' }, (w) => w.actor === 'user:alice'],
        ['actor capture', { actor: 'capture:smtp' }, (w) => w.actor === 'capture:smtp'],
        ['actor anonymous', { actor: 'anonymous' }, (w) => w.actor === 'anonymous'],
        ['actor not a prefix match', { actor: 'user:al' }, () => false],
        ['operation', { operation: 'search' }, (w) => w.operation === 'search'],
        ['operation capture', { operation: 'capture' }, (w) => w.operation === 'capture'],
        ['operation not a prefix match', { operation: 'request' }, () => false],
        ['result denied', { result: 'denied' }, (w) => w.result === 'denied'],
        ['result success', { result: 'success' }, (w) => w.result === 'success'],
        ['result error', { result: 'error' }, () => false],
        ['grant', { grantId: 'req_g1' }, (w) => w.grantId === 'req_g1'],
        ['grant unknown', { grantId: 'req_none' }, () => false],
        ['mailbox', { mailbox: 'carol' }, (w) => w.mailboxes.some((m) => m.name === 'carol')],
        ['mailbox named second', { mailbox: 'dave' }, (w) => w.mailboxes.some((m) => m.name === 'dave')],
        ['mailbox unknown', { mailbox: 'car' }, () => false],
        ['access under a grant that succeeded', { type: 'access', grantId: 'req_g1', result: 'success' }, (w) => w.type === 'access' && w.grantId === 'req_g1' && w.result === 'success'],
        ['actor and mailbox in a window', { actor: 'user:bob', mailbox: 'carol', since: t(0), until: t(10) }, (w) => w.actor === 'user:bob' && w.mailboxes.some((m) => m.name === 'carol') && w.time < t(10)],
      ];
      await store.read(async (tx) => {
        for (const [what, filter, expected] of cases) {
          const want = written.filter(expected).map((w) => w.index);
          assert.deepEqual(indexes(await store.entries(tx, filter)), want, what);
          assert.deepEqual(indexes(await store.entries(tx, { ...filter, order: 'desc' })), [...want].reverse(), `${what}, newest first`);
          assert.deepEqual(indexes(await store.entries(tx, { ...filter, limit: 2 })), want.slice(0, 2), `${what}, the first two`);
          assert.deepEqual(indexes(await store.entries(tx, { ...filter, order: 'desc', limit: 2 })), [...want].reverse().slice(0, 2), `${what}, the latest two`);
        }
        assert.deepEqual(indexes(await store.entries(tx, { limit: 0 })), [], 'limit 0');
        assert.deepEqual(indexes(await store.entries(tx, { order: 'asc' })), written.map((w) => w.index), 'asc is index order');
      });
      await store.close();
    });

    test('ofGrant: the entries the Audit linked to the grant, in index order', async () => {
      const store = impl.open(tempDir());
      const { written } = await writeVariedLedger(store);
      await store.read(async (tx) => {
        for (const grant of ['req_g1', 'req_g2']) {
          const want = written.filter((w) => w.linked && w.grantId === grant).map((w) => w.index);
          assert.ok(want.length > 1);
          assert.deepEqual(indexes(await store.ofGrant(tx, grant)), want, grant);
          for (const s of await store.ofGrant(tx, grant)) assert.ok(s.leafHash.equals((await store.entry(tx, s.entry.index))!.leafHash));
        }
        assert.deepEqual(await store.ofGrant(tx, 'req_none'), []);
      });
      await store.close();
    });

    test('ofMailbox: newest first, an entry once for each asked mailbox it names, up to the limit', async () => {
      const store = impl.open(tempDir());
      const { written } = await writeVariedLedger(store);
      const tally = (ids: number[]) => [...written].reverse()
        .flatMap((w) => (w.linked ? w.mailboxes.filter((m) => ids.includes(m.id)).map(() => w.index) : []));
      const cases: number[][] = [[MB.bob.id], [MB.carol.id], [MB.bob.id, MB.carol.id], [MB.carol.id, MB.dave.id], [MB.bob.id, MB.carol.id, MB.dave.id], [999]];
      await store.read(async (tx) => {
        for (const ids of cases) {
          const want = tally(ids);
          assert.deepEqual(indexes(await store.ofMailbox(tx, ids, 1000)), want, `mailboxes ${ids}`);
          assert.deepEqual(indexes(await store.ofMailbox(tx, ids, 3)), want.slice(0, 3), `mailboxes ${ids}, limit 3`);
        }
        assert.ok(tally([MB.bob.id, MB.carol.id]).length > new Set(tally([MB.bob.id, MB.carol.id])).size, 'the case of an entry naming two asked mailboxes is covered');
        assert.deepEqual(await store.ofMailbox(tx, [], 10), []);
      });
      await store.close();
    });

    test('checkpoints are stored and read back, latest by size, and a new Ledger resumes from them', async () => {
      const dir = tempDir();
      const store = impl.open(dir);
      const clock = testClock();
      const ledger = await openLedger(store, clock);
      const sign = () => store.write((tx) => ledger.checkpoint(tx));
      assert.equal(await store.read((tx) => store.latestCheckpoint(tx)), null);
      assert.deepEqual(await store.read((tx) => store.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER)), []);
      const signed = [(await sign())!];
      const appendSome = async (n: number) => {
        for (let i = 0; i < n; i++) {
          clock.t += MINUTE;
          await store.write((tx) => ledger.append(tx, captureEntry(String(ledger.size).padStart(64, '0'))));
        }
      };
      await appendSome(3);
      clock.t += MINUTE;
      signed.push((await sign())!);
      await appendSome(2);
      clock.t += MINUTE;
      signed.push((await sign())!);
      assert.equal(await sign(), null, 'nothing new to sign');
      assert.deepEqual(signed.map((c) => c.size), [0, 3, 5]);

      await store.read(async (tx) => {
        const stored = await store.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER);
        assert.deepEqual(stored.map((c) => c.size), [0, 3, 5], 'by size, oldest first');
        for (const [i, c] of stored.entries()) {
          const want = signed[i]!;
          assert.ok(c.root.equals(want.root), `checkpoint ${c.size}: root`);
          assert.equal(c.note, want.note);
          assert.equal(c.frontier, want.frontier);
          assert.equal(c.createdAt, want.createdAt);
          assert.ok(c.root.equals(rootFromLeafHashes(await store.leafHashes(tx, 0, c.size))), `checkpoint ${c.size}: the root of the first ${c.size} leaves`);
          const note = verifyCheckpoint(c.note, KEY.verifierKey, { origin: ORIGIN });
          assert.equal(note.size, c.size);
          assert.ok(note.rootHash.equals(c.root));
        }
        assert.deepEqual(await store.latestCheckpoint(tx), stored.at(-1));
        // By size, and a page at a time, newest first.
        assert.deepEqual(await store.checkpointAt(tx, 3), stored[1]);
        assert.equal(await store.checkpointAt(tx, 4), null);
        assert.equal(await store.checkpointCount(tx), 3);
        assert.deepEqual(await store.checkpointsBefore(tx, null, 2), [stored[2], stored[1]]);
        assert.deepEqual(await store.checkpointsBefore(tx, 3, 2), [stored[0]]);
        assert.deepEqual(await store.checkpointsBefore(tx, 5, 10), [stored[1], stored[0]]);
        assert.deepEqual(await store.checkpointsBefore(tx, 0, 10), []);
        assert.deepEqual(await store.checkpointsAfter(tx, -1, 2), [stored[0], stored[1]], 'and oldest first');
        assert.deepEqual(await store.checkpointsAfter(tx, 0, 10), [stored[1], stored[2]]);
        assert.deepEqual(await store.checkpointsAfter(tx, 5, 10), []);
      });

      // Two entries after the last checkpoint: a Ledger opened on another connection resumes
      // from the checkpoint's frontier plus those leaves.
      await appendSome(2);
      const other = impl.open(dir);
      const resumed = await openLedger(other, testClock(clock.t));
      assert.equal(resumed.size, 7);
      assert.ok(resumed.root().equals(ledger.root()));
      const e = await other.write((tx) => resumed.append(tx, captureEntry('e'.repeat(64))));
      assert.equal(e.index, 7);
      assert.ok(rootFromLeafHashes(await other.read((tx) => other.leafHashes(tx, 0, 8))).equals(resumed.root()));
      await other.close();
      await store.close();
    });

    test('a rolled-back transaction leaves nothing: no entry, no link, and its index is used again', async () => {
      const store = impl.open(tempDir());
      const clock = testClock();
      const ledger = await openLedger(store, clock);
      const audit = new Audit(store, ledger);
      await audit.record(ALICE, { operation: 'search', grantId: 'req_g1', mailboxes: [MB.bob] }, async () => null);
      const before = { size: await store.read((tx) => store.ledgerSize(tx)), root: ledger.root() };

      // The fault comes after the entry and its links were written, inside the transaction.
      const failing = new Audit({
        write: (work) => store.write(work),
        read: (work) => store.read(work),
        linkEntry: async (tx, index, mailboxIds, grantId) => {
          await store.linkEntry(tx, index, mailboxIds, grantId);
          throw new Error('link failed');
        },
      }, ledger);
      clock.t += MINUTE;
      await assert.rejects(failing.record(ALICE, { operation: 'view', grantId: 'req_g9', mailboxes: [MB.carol] }, async () => 'served'),
        (err: any) => err.code === 'SEALBOX_ERR_LEDGER' && err.cause?.message === 'link failed');
      // The Audit does nothing to undo the tree itself: the transaction that did not commit did.
      assert.equal(ledger.size, before.size, 'the failed Audit entry is gone from the tree');
      assert.ok(ledger.root().equals(before.root));
      // And a capture appended directly, in a transaction that then fails (the archive writer's
      // way): no mark and reset, the rollback itself puts the tree back.
      await assert.rejects(store.write(async (tx) => {
        await ledger.append(tx, captureEntry('f'.repeat(64)));
        assert.equal(ledger.size, before.size + 1, 'the tree grew inside the transaction');
        throw new Error('disk full');
      }), /disk full/);

      await store.read(async (tx) => {
        assert.equal(await store.ledgerSize(tx), before.size);
        assert.equal(ledger.size, before.size);
        assert.ok(ledger.root().equals(before.root));
        assert.equal(await store.entry(tx, before.size), null);
        assert.deepEqual((await store.leafHashes(tx, 0, before.size + 5)).length, before.size);
        assert.deepEqual(await store.ofGrant(tx, 'req_g9'), []);
        assert.deepEqual(await store.ofMailbox(tx, [MB.carol.id], 10), []);
        assert.deepEqual(await store.entries(tx, { grantId: 'req_g9' }), []);
        assert.deepEqual(await store.entries(tx, { operation: 'capture' }), []);
      });

      clock.t += MINUTE;
      await audit.record(ALICE, { operation: 'view', grantId: 'req_g9', mailboxes: [MB.carol] }, async () => 'served');
      await store.read(async (tx) => {
        assert.equal(await store.ledgerSize(tx), before.size + 1);
        assert.equal((await store.entry(tx, before.size))?.entry.operation, 'view', 'the next entry takes the index the failed one had');
        assert.deepEqual(indexes(await store.ofGrant(tx, 'req_g9')), [before.size]);
        assert.deepEqual(indexes(await store.ofMailbox(tx, [MB.carol.id], 10)), [before.size]);
        assert.ok(rootFromLeafHashes(await store.leafHashes(tx, 0, before.size + 1)).equals(ledger.root()));
      });
      await store.close();
    });

    test('a checkpoint whose transaction rolls back is signed again: the ledger is reset with it', async () => {
      const store = impl.open(tempDir());
      const clock = testClock();
      const ledger = await openLedger(store, clock);
      await store.write((tx) => ledger.append(tx, { type: 'system', actor: 'system:test', actorRoles: [], logonType: 'system', sessionId: null, clientIp: null, operation: 'review.sample', objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: {} }));
      await assert.rejects(store.write(async (tx) => {
        assert.ok(await ledger.checkpoint(tx), 'signed inside the transaction');
        assert.equal(ledger.due(1, MINUTE), false, 'nothing left to sign, while the transaction lasts');
        throw new Error('witness mail could not be queued');
      }), /witness mail/);
      assert.equal((await store.read((tx) => store.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER))).length, 0, 'nothing was stored');
      clock.t += 3_600_000;
      assert.equal(ledger.due(1, MINUTE), true, 'the head is still to be signed');
      const cp = await store.write((tx) => ledger.checkpoint(tx));
      assert.equal(cp?.size, 1);
      assert.equal((await store.read((tx) => store.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER))).length, 1);
      await store.close();
    });

    test('two writers keep one sequence: each catches up inside its transaction', async () => {
      const { a, b, clock, ledgerA, ledgerB } = await twoWriters(impl);
      await a.write((tx) => ledgerA.append(tx, captureEntry('1'.repeat(64))));
      await a.write((tx) => ledgerA.append(tx, captureEntry('2'.repeat(64))));
      assert.equal(await b.read((tx) => b.ledgerSize(tx)), 2, 'the other connection sees the committed entries');
      assert.equal(ledgerB.size, 0, 'B has not looked yet');
      await new Audit(b, ledgerB).record(BOB, { operation: 'search', mailboxes: [MB.dave] }, async () => null);
      assert.equal((await b.read((tx) => b.entry(tx, 2)))?.entry.actor, 'user:bob', 'the Audit caught up before appending');
      await a.write((tx) => ledgerA.catchUp(tx));
      assert.equal(ledgerA.size, 3);
      assert.ok(ledgerA.root().equals(ledgerB.root()));
      assert.ok(rootFromLeafHashes(await a.read((tx) => a.leafHashes(tx, 0, 3))).equals(ledgerA.root()));
      a.close();
      b.close();
    });

    test('a read and a write of one process catching up at once add the other writer\'s entries once', async () => {
      const { a, b, clock, ledgerA, ledgerB } = await twoWriters(impl);
      for (let round = 1; round <= 5; round++) {
        for (const c of ['1', '2', '3']) await b.write(async (tx) => { await ledgerB.catchUp(tx); await ledgerB.append(tx, captureEntry(`${round}${c}`.padEnd(64, '0'))); });
        // A timer's look (a read) beside a write that catches up and appends (PostgreSQL runs
        // them side by side): the write's entry must follow B's, with no gap.
        await Promise.all([
          a.read((tx) => ledgerA.catchUp(tx)),
          a.write(async (tx) => { await ledgerA.catchUp(tx); await ledgerA.append(tx, captureEntry(`${round}a`.padEnd(64, '0'))); }),
        ]);
      }
      const size = await a.read((tx) => a.ledgerSize(tx));
      assert.equal(size, 20);
      assert.equal(ledgerA.size, 20, 'the tree holds each entry once');
      const hashes = await a.read((tx) => a.leafHashes(tx, 0, size));
      assert.equal(hashes.length, 20, 'no index missing');
      assert.ok(rootFromLeafHashes(hashes).equals(ledgerA.root()));
      a.close();
      b.close();
    });

    test('two signers: a tree head one signed is not signed again by the other, and no size is stored with two roots', async () => {
      const { a, b, clock, ledgerA, ledgerB } = await twoWriters(impl);
      await a.write((tx) => ledgerA.append(tx, captureEntry('1'.repeat(64))));
      await a.write((tx) => ledgerA.append(tx, captureEntry('2'.repeat(64))));
      const signedByA = await a.write((tx) => ledgerA.checkpoint(tx));
      assert.equal(signedByA?.size, 2);
      clock.t += MINUTE;
      assert.equal(await b.write(async (tx) => { await ledgerB.catchUp(tx); return ledgerB.checkpoint(tx); }), null, 'B, caught up, finds size 2 signed');
      assert.equal(ledgerB.due(1, MINUTE), false, 'and nothing due');
      await b.write((tx) => ledgerB.append(tx, captureEntry('3'.repeat(64))));
      assert.equal((await b.write((tx) => ledgerB.checkpoint(tx)))?.size, 3);
      assert.equal(await a.write(async (tx) => { await ledgerA.catchUp(tx); return ledgerA.checkpoint(tx); }), null, 'A finds size 3 signed by B');
      const stored = await a.read((tx) => a.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER));
      assert.deepEqual(stored.map((c) => c.size), [2, 3]);
      assert.ok(stored[0]!.note === signedByA!.note, 'the first signature kept');
      // A head of the same size with another root (a forked ledger) is refused by the store.
      const forged = { ...stored[1]!, root: Buffer.alloc(32, 7), createdAt: clock.t + MINUTE };
      await assert.rejects(a.write((tx) => a.saveCheckpoint(tx, forged)), /checkpoint of size 3 with another root/);
      assert.ok((await a.read((tx) => a.latestCheckpoint(tx)))!.root.equals(stored[1]!.root), 'the stored one unchanged');
      a.close();
      b.close();
    });
  });
}
