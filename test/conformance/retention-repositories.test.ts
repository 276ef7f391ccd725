// The contracts of the metadata repositories the first suite (metadata-repositories.test.ts)
// does not cover — retention (leavers, legal holds, rules, disposal, disposal and subject
// requests, object holds), directory sync and SCIM, export jobs and the in-app inbox — run
// against every backend, each taken from its factory as openStores hands them out: SQLite
// (src/store/sqlite/) and PostgreSQL (src/store/postgres/, a private cluster, each test a schema
// of its own). What each read should return is what the test wrote, never another read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tx } from '../../src/core/transactions.ts';
import type { NewExportJob } from '../../src/export/export-job-store.ts';
import type { PackageItem } from '../../src/export/evidence-package.ts';
import type { SealMeta } from '../../src/store/sealed-blob.ts';
import { PostgresMetadataStore } from '../../src/store/postgres/metadata-store.ts';
import { postgresRepositories } from '../../src/store/postgres/repositories.ts';
import type { MetadataRepositories } from '../../src/store/repositories.ts';
import { SqliteMetadataStore } from '../../src/store/sqlite/metadata-store.ts';
import { sqliteRepositories } from '../../src/store/sqlite/repositories.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);

type Meta = SqliteMetadataStore | PostgresMetadataStore;
interface Backend { meta: Meta; repos: MetadataRepositories }

const BACKENDS: { name: string; open(dir: string): Backend }[] = [
  { name: 'SQLite (src/store/sqlite)', open: (dir) => { const meta = new SqliteMetadataStore(join(dir, 'sealbox.db')); return { meta, repos: sqliteRepositories(meta) }; } },
  {
    name: 'PostgreSQL (src/store/postgres)',
    open: (dir) => { const meta = new PostgresMetadataStore({ url: postgres.url(), schema: postgres.schemaFor(dir) }); return { meta, repos: postgresRepositories(meta) }; },
  },
];

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const DAY = 86_400_000;

const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function withBackend(impl: (typeof BACKENDS)[number], fn: (b: Backend) => Promise<void>): () => Promise<void> {
  return async () => {
    const b = impl.open(mkdtempSync(join(ROOT, 'db-')));
    try {
      await fn(b);
    } finally {
      await b.meta.close();
    }
  };
}

async function addPerson(tx: Tx, b: Backend, name: string): Promise<number> {
  await b.repos.people.add(tx, { name, displayName: null, email: `${name}@corp.example`, roles: ['owner'], enrolmentHash: null, enrolmentExpires: null, createdAt: T0 });
  return (await b.repos.people.byName(tx, name))!.user.id;
}

// Two people to decide what others filed.
function deciders(b: Backend): Promise<[number, number]> {
  return b.meta.write(async (tx) => [await addPerson(tx, b, 'approver1'), await addPerson(tx, b, 'approver2')]);
}

async function addMailbox(tx: Tx, b: Backend, name: string, addresses: string[] = [`${name}@corp.example`]): Promise<number> {
  await b.repos.mailboxes.apply(tx, { name, addresses, displayName: null, owner: name, sensitivity: null, manager: null, department: 'sales' });
  return (await b.repos.mailboxes.byName(tx, name))!.id;
}

// A message and its receipts as the archive writer stores them.
// Which receipts say their message is disposed (the flag disposal's candidates are read by).
async function disposedReceipts(meta: Meta): Promise<number[]> {
  const sql = 'SELECT id FROM capture WHERE message_disposed = 1 ORDER BY id';
  if (meta instanceof SqliteMetadataStore) return (meta.db.prepare(sql).all() as { id: number }[]).map((r) => Number(r.id));
  return (await meta.pool.query<{ id: string }>(sql)).rows.map((r) => Number(r.id));
}

async function archive(tx: Tx, meta: Meta, sha256: string, receipts: { retainUntil: number | null; keepUntil?: number | null; rule?: string | null }[], file = 'seg-1'): Promise<{ rowId: number; captures: number[] }> {
  const seal: SealMeta = { sha256, size: 100, sealedLength: 80, compression: 'zstd', nonce: Buffer.alloc(12, 1), tag: Buffer.alloc(16, 2), wrappedKey: Buffer.alloc(40, 3), keyId: 'k1' };
  const rowId = (await meta.findMessageIds(tx, [sha256])).get(sha256) ?? (await meta.insertMessages(tx, [{ seal, ref: { file, offset: 0, length: 80 }, firstSeen: T0 }]))[0]!;
  const ids = new Set((await meta.capturesOf(tx, rowId)).map((c) => c.rowId));
  for (const [i, r] of receipts.entries()) {
    await meta.insertCapture(tx, { id: `cap-${sha256}-${i}`, source: 'smtp', receivedAt: T0 + i, envelope: { mailFrom: 'a@corp.example', rcptTo: ['b@corp.example'] } as never, provenance: { n: i } },
      rowId, 100 + i, { retainUntil: r.retainUntil, ruleId: r.rule ?? null, keepUntil: r.keepUntil ?? null, keepRule: null });
  }
  return { rowId, captures: (await meta.capturesOf(tx, rowId)).map((c) => c.rowId).filter((id) => !ids.has(id)) };
}

for (const impl of BACKENDS) {
  describe(`Messages, captures and mailboxes of the metadata store: ${impl.name}`, () => {
    test('walked whole and in order past a page, counted, found; a disposed message archived again keeps its row id', withBackend(impl, async (b) => {
      const { meta } = b;
      const N = 620;   // past the PostgreSQL store's page of 500
      const sha = (i: number) => i.toString(16).padStart(64, '0');
      await meta.write(async (tx) => {
        for (let i = 1; i <= N; i++) await archive(tx, meta, sha(i), i % 10 === 0 ? [{ retainUntil: T0 }, { retainUntil: null }] : [{ retainUntil: T0 }]);
      });
      await meta.read(async (tx) => {
        const messages = [];
        for await (const m of meta.allMessages(tx)) messages.push(m);
        assert.deepEqual(messages.map((m) => m.sha256), Array.from({ length: N }, (_, i) => sha(i + 1)), 'every message once, in row order');
        assert.deepEqual([messages[0]!.size, messages[0]!.blobRef, messages[0]!.seal.keyId, messages[0]!.seal.nonce, messages[0]!.firstSeen, messages[0]!.disposed],
          [100, { file: 'seg-1', offset: 0, length: 80 }, 'k1', Buffer.alloc(12, 1), T0, null]);
        const captures = [];
        for await (const c of meta.allCaptures(tx)) captures.push(c);
        assert.equal(captures.length, N + N / 10);
        assert.deepEqual(captures.map((c) => c.rowId), [...captures.map((c) => c.rowId)].sort((x, y) => x - y), 'in receipt order');
        assert.deepEqual([captures[0]!.sha256, captures[0]!.size, captures[0]!.envelope, captures[0]!.provenance], [sha(1), 100, { mailFrom: 'a@corp.example', rcptTo: ['b@corp.example'] }, { n: 0 }]);
        assert.equal(await meta.lastCaptureRowId(tx), captures.at(-1)!.rowId);
        assert.deepEqual(await meta.counts(tx), { captures: N + N / 10, messages: N, rawBytes: 100 * N, blobBytes: 80 * N });
        assert.equal(await meta.hasCapture(tx, `cap-${sha(10)}-1`), true);
        assert.equal(await meta.hasCapture(tx, `cap-${sha(11)}-1`), false);
        assert.equal(await meta.getMessage(tx, 'f'.repeat(64)), null);
      });
      const seal: SealMeta = { sha256: sha(5), size: 100, sealedLength: 90, compression: 'zstd', nonce: Buffer.alloc(12, 7), tag: Buffer.alloc(16, 8), wrappedKey: Buffer.alloc(40, 9), keyId: 'k2' };
      const again5 = { seal, ref: { file: 'seg-2', offset: 5, length: 90 }, firstSeen: T0 + DAY };
      const other = (n: number) => 'e'.repeat(63) + n;   // no message of the walk above
      const fresh = (n: number) => ({ seal: { ...seal, sha256: other(n) }, ref: { file: 'seg-2', offset: 100 * n, length: 90 }, firstSeen: T0 + DAY });
      // One archived among new ones: the whole insert is refused, none of them added.
      await assert.rejects(meta.write((tx) => meta.insertMessages(tx, [fresh(1), again5, fresh(2)])), /already archived/);
      assert.deepEqual(await meta.read((tx) => meta.findMessageIds(tx, [other(1), other(2)])), new Map());
      const before = (await meta.read((tx) => meta.findMessageIds(tx, [sha(5)]))).get(sha(5));
      assert.deepEqual(await meta.read((tx) => meta.findMessageIds(tx, [sha(5), sha(6), sha(5), 'f'.repeat(64)])), new Map([[sha(5), before], [sha(6), before! + 1]]),
        'found by sha256, each once, the unknown left out');
      await meta.write((tx) => b.repos.disposal.markDisposed(tx, [sha(5)], { at: T0 + DAY, ledgerIndex: 3, policy: 'retention' }));
      assert.deepEqual(await meta.read((tx) => meta.findMessageIds(tx, [sha(5)])), new Map(), 'a disposed message is not found');
      // Archived again beside new ones, in one insert: its old row, theirs new, each in its place.
      const ids = await meta.write((tx) => meta.insertMessages(tx, [fresh(3), again5, fresh(4)]));
      assert.equal(ids[1], before, 'archived again: the same row');
      assert.deepEqual(await meta.read((tx) => meta.findMessageIds(tx, [other(3), other(4)])), new Map([[other(3), ids[0]], [other(4), ids[2]]]));
      assert.deepEqual(await meta.write((tx) => meta.insertMessages(tx, [])), []);
      const again = (await meta.read((tx) => meta.getMessage(tx, sha(5))))!;
      assert.deepEqual([again.blobRef, again.seal.wrappedKey, again.seal.keyId, again.disposed, again.firstSeen], [{ file: 'seg-2', offset: 5, length: 90 }, Buffer.alloc(40, 9), 'k2', null, T0]);
      // The totals (kept as rows are written): the refused insert changed nothing; the message
      // archived again counts its new seal's stored bytes, the two new ones theirs.
      assert.deepEqual(await meta.read((tx) => meta.counts(tx)), { captures: N + N / 10, messages: N + 2, rawBytes: 100 * (N + 2), blobBytes: 80 * N - 80 + 90 + 2 * 90 });
    }));

    test('the capture queue: captures after a cursor and by row id, in receipt order; the live messages with their first capture', withBackend(impl, async (b) => {
      const { meta, repos } = b;
      const [m1, m2, m3] = await meta.write(async (tx) => [
        await archive(tx, meta, '1'.repeat(64), [{ retainUntil: null }, { retainUntil: null }]),
        await archive(tx, meta, '2'.repeat(64), [{ retainUntil: null }]),
        await archive(tx, meta, '3'.repeat(64), [{ retainUntil: null }]),
      ]);
      await meta.write((tx) => repos.disposal.markDisposed(tx, ['2'.repeat(64)], { at: T0, ledgerIndex: 1, policy: 'x' }));
      const all = [...m1!.captures, ...m2!.captures, ...m3!.captures];
      const first = await repos.captures.capturesByRowIds([all[1]!, all[0]!]);
      assert.deepEqual(first.map((c) => [c.rowId, c.sha256, c.id]), [[all[0], '1'.repeat(64), `cap-${'1'.repeat(64)}-0`], [all[1], '1'.repeat(64), `cap-${'1'.repeat(64)}-1`]]);
      assert.deepEqual((await repos.captures.capturesByRowIds([all[3]!, all[0]!, 99_999])).map((c) => c.rowId), [all[0], all[3]]);
      assert.deepEqual(await repos.captures.capturesByRowIds([]), []);
      const live = [{ id: m1!.rowId, sha256: '1'.repeat(64), firstCapture: all[0] }, { id: m3!.rowId, sha256: '3'.repeat(64), firstCapture: all[3] }];
      assert.deepEqual(await repos.captures.liveMessages(0, Number.MAX_SAFE_INTEGER), live);
      // A window (after, upTo]: the disposed one between is left out either way.
      assert.deepEqual(await repos.captures.liveMessages(0, m1!.rowId), live.slice(0, 1));
      assert.deepEqual(await repos.captures.liveMessages(m1!.rowId, m3!.rowId), live.slice(1));
      assert.deepEqual(await repos.captures.liveMessages(m3!.rowId, m3!.rowId + 10), []);
      assert.equal(await repos.captures.lastMessageId(), m3!.rowId);
    }));

    test('mailboxes: upserted by name, a value left out keeps the one there, an automatic one stays automatic only until named; addresses move', withBackend(impl, async (b) => {
      const { meta } = b;
      const { a, c } = await meta.write(async (tx) => {
        const a = await meta.upsertMailbox(tx, { name: 'dave', auto: true });
        assert.equal(await meta.upsertMailbox(tx, { name: 'dave', displayName: 'Dave', owner: 'dave', auto: false }), a, 'the same mailbox');
        assert.equal(await meta.upsertMailbox(tx, { name: 'dave', sensitivity: 'high', auto: true }), a);
        const c = await meta.upsertMailbox(tx, { name: 'carol' });
        await meta.setMailboxAddress(tx, 'Dave@Corp.Example', a);
        await meta.setMailboxAddress(tx, 'shared@corp.example', a);
        await meta.setMailboxAddress(tx, 'shared@corp.example', c);
        return { a, c };
      });
      await meta.read(async (tx) => {
        const dave = (await b.repos.mailboxes.byName(tx, 'dave'))!;
        assert.deepEqual([dave.displayName, dave.owner, dave.sensitivity, dave.auto, dave.addresses], ['Dave', 'dave', 'high', false, ['dave@corp.example']]);
        assert.deepEqual({ ...(await meta.mailboxForAddress(tx, 'SHARED@corp.example')) }, { id: c, name: 'carol' });
        assert.deepEqual(await meta.mailboxAddresses(tx, [a, c]), ['dave@corp.example', 'shared@corp.example']);
        assert.deepEqual(await meta.mailboxAddresses(tx, []), []);
        assert.equal(await meta.mailboxForAddress(tx, 'nobody@corp.example'), null);
      });
    }));
  });

  describe(`InboxStore: ${impl.name}`, () => {
    test('each person sees their own visible notices, newest first; marking read refuses what is not theirs', withBackend(impl, async (b) => {
      const inbox = b.repos.inbox;
      await b.meta.write(async (tx) => {
        await inbox.put(tx, { kind: 'k', userIds: [1, 2, 1], subject: 'first', body: 'b', createdAt: T0, visibleFrom: T0 });
        await inbox.put(tx, { kind: 'k', userIds: [1], subject: 'delayed', body: 'b', createdAt: T0, visibleFrom: T0 + DAY });
        await inbox.put(tx, { kind: 'k', userIds: [1], subject: 'second', body: 'b', createdAt: T0 + 1, visibleFrom: T0 + 1 });
      });
      const mine = await b.meta.read((tx) => inbox.list(tx, 1, T0 + 10, 10));
      assert.deepEqual(mine.map((n) => n.subject), ['second', 'first'], 'once each, the delayed one hidden');
      assert.equal(await b.meta.read((tx) => inbox.unread(tx, 1, T0 + 10)), 2);
      const theirs = (await b.meta.read((tx) => inbox.list(tx, 2, T0 + 10, 10)))[0]!;
      const refused = await b.meta.write((tx) => inbox.markRead(tx, 1, [mine[0]!.id, theirs.id], T0 + 20));
      assert.deepEqual(refused.notTheirs, [theirs.id]);
      assert.equal(await b.meta.read((tx) => inbox.unread(tx, 1, T0 + 20)), 2, 'nothing was marked');
      assert.deepEqual(await b.meta.write((tx) => inbox.markRead(tx, 1, [mine[0]!.id], T0 + 20)), { notTheirs: [] });
      assert.equal(await b.meta.read((tx) => inbox.unread(tx, 1, T0 + 20)), 1);
      const later = await b.meta.read((tx) => inbox.list(tx, 1, T0 + 2 * DAY, 10));
      assert.deepEqual(later.map((n) => [n.subject, n.readAt, n.arrivedAt]), [['delayed', null, T0 + DAY], ['second', T0 + 20, T0 + 1], ['first', null, T0]]);
    }));
  });

  describe(`LeaverStore: ${impl.name}`, () => {
    test('a change reads back, is pending until decided once; the leaving state is set, exempted and cleared', withBackend(impl, async (b) => {
      const leavers = b.repos.leavers;
      const mb = await b.meta.write((tx) => addMailbox(tx, b, 'dave'));
      const [p1, p2] = await deciders(b);
      await b.meta.write(async (tx) => {
        await leavers.addChange(tx, { id: 'lv1', mailboxId: mb, mailbox: 'dave', kind: 'leave', leftOn: T0, disposeFrom: T0 + 90 * DAY, exemptUntil: null, before: null, reason: 'left', source: 'api', filedBy: null, filedByLabel: 'os:root', filedAt: T0 });
        await leavers.addChange(tx, { id: 'lv2', mailboxId: mb, mailbox: 'dave', kind: 'exempt', leftOn: null, disposeFrom: null, exemptUntil: T0 + 400 * DAY, before: null, reason: 'case 7', source: 'console', filedBy: null, filedByLabel: 'os:root', filedAt: T0 + 1 });
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual((await leavers.pending(tx, mb)).map((c) => c.id), ['lv1', 'lv2']);
        assert.deepEqual((await leavers.changes(tx)).map((c) => c.id), ['lv2', 'lv1'], 'newest first');
        assert.deepEqual((await leavers.filedBefore(tx, T0 + 1)).map((c) => c.id), ['lv1']);
        const c = (await leavers.change(tx, 'lv1'))!;
        assert.deepEqual([c.kind, c.leftOn, c.disposeFrom, c.exemptUntil, c.before, c.source, c.decision], ['leave', T0, T0 + 90 * DAY, null, null, 'api', null]);
      });
      await b.meta.write(async (tx) => {
        await leavers.decideChange(tx, 'lv1', { by: p1, decision: 'approve', reason: 'ok', at: T0 + 2 });
        await leavers.decideChange(tx, 'lv1', { by: p2, decision: 'deny', reason: 'late', at: T0 + 3 });
        await leavers.setLeft(tx, mb, { leftOn: T0, disposeFrom: T0 + 90 * DAY, changeId: 'lv1' });
      });
      await b.meta.read(async (tx) => {
        const c = (await leavers.change(tx, 'lv1'))!;
        assert.deepEqual([c.decidedBy, c.decision, c.decisionReason, c.decidedAt], [p1, 'approve', 'ok', T0 + 2], 'the first decision stands');
        assert.deepEqual((await leavers.pending(tx, mb)).map((x) => x.id), ['lv2']);
        assert.deepEqual(await leavers.states(tx), [{ mailboxId: mb, mailbox: 'dave', leftOn: T0, disposeFrom: T0 + 90 * DAY, changeId: 'lv1', exemption: null }]);
      });
      await b.meta.write((tx) => leavers.setExemption(tx, mb, { changeId: 'lv2', until: T0 + 400 * DAY }));
      assert.deepEqual((await b.meta.read((tx) => leavers.states(tx, [mb])))[0]!.exemption, { changeId: 'lv2', until: T0 + 400 * DAY, reason: 'case 7' });
      assert.deepEqual(await b.meta.read((tx) => leavers.states(tx, [mb + 1000])), []);
      await b.meta.write((tx) => leavers.clearLeft(tx, mb));
      assert.deepEqual(await b.meta.read((tx) => leavers.states(tx)), []);
    }));
  });

  describe(`HoldStore: ${impl.name}`, () => {
    test('a hold reads back; its release is decided once and ends it; notices are sent once and acknowledged once', withBackend(impl, async (b) => {
      const holds = b.repos.holds;
      const [p1, p2] = await deciders(b);
      const hold = (id: string, at: number) => ({ id, name: `Hold ${id}`, matter: 'M-1', custodians: [{ id: 3, name: 'dave' }], dateFrom: T0 - DAY, dateTo: null, query: 'from:x', placedBy: null, placedByLabel: 'os:root', placedAt: at });
      await b.meta.write(async (tx) => {
        await holds.addHold(tx, hold('h1', T0));
        await holds.addHold(tx, hold('h2', T0 + 1));
        await holds.addRelease(tx, { id: 'r1', holdId: 'h1', reason: 'settled', filedBy: null, filedByLabel: 'os:root', filedAt: T0 + 2 });
        await holds.addNotice(tx, { holdId: 'h1', mailboxId: 3, owner: 'dave', notifiedAt: T0 });
        await holds.addNotice(tx, { holdId: 'h1', mailboxId: 3, owner: 'dave', notifiedAt: T0 + 5 });
        await holds.addNotice(tx, { holdId: 'h2', mailboxId: 3, owner: 'dave', notifiedAt: T0 + 1 });
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual(await holds.hold(tx, 'h1'), { ...hold('h1', T0), releasedAt: null });
        assert.deepEqual((await holds.holds(tx)).map((h) => h.id), ['h2', 'h1']);
        assert.deepEqual((await holds.activeHolds(tx)).map((h) => h.id), ['h1', 'h2']);
        assert.deepEqual(await holds.notices(tx, 'h1'), [{ holdId: 'h1', mailboxId: 3, owner: 'dave', notifiedAt: T0, acknowledgedAt: null }], 'the first notice stands');
        assert.deepEqual((await holds.releases(tx, 'h1')).map((r) => [r.id, r.decision]), [['r1', null]]);
      });
      await b.meta.write(async (tx) => {
        await holds.decideRelease(tx, 'r1', { by: p1, decision: 'approve', reason: 'ok', at: T0 + 3 });
        await holds.decideRelease(tx, 'r1', { by: p2, decision: 'deny', reason: 'no', at: T0 + 4 });
        await holds.endHold(tx, 'h1', 'r1', T0 + 3);
        await holds.endHold(tx, 'h1', 'r9', T0 + 9);
        assert.equal(await holds.acknowledge(tx, 'h1', 'dave', T0 + 6), true);
        assert.equal(await holds.acknowledge(tx, 'h1', 'dave', T0 + 7), false, 'once');
        assert.equal(await holds.acknowledge(tx, 'h1', 'erin', T0 + 7), false, 'not theirs');
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual([(await holds.release(tx, 'r1'))!.decidedBy, (await holds.release(tx, 'r1'))!.decision], [p1, 'approve']);
        assert.equal((await holds.hold(tx, 'h1'))!.releasedAt, T0 + 3);
        assert.deepEqual((await holds.activeHolds(tx)).map((h) => h.id), ['h2']);
        assert.deepEqual((await holds.noticesTo(tx, 'dave')).map((n) => [n.holdId, n.acknowledgedAt]), [['h1', T0 + 6], ['h2', null]]);
        assert.deepEqual((await holds.releases(tx)).map((r) => r.id), ['r1']);
      });
    }));
  });

  describe(`RetentionStore: ${impl.name}`, () => {
    test('rules round-trip and bump the version; changes are decided; addresses find their mailbox in one look', withBackend(impl, async (b) => {
      const retention = b.repos.retention;
      const [p1] = await deciders(b);
      const rule = { id: 'r-sales', name: 'Sales', mailboxes: [], sensitivities: ['high'], departments: ['sales'], domains: ['client.example'], directions: ['inbound' as const], days: 3650 };
      assert.equal(await b.meta.read((tx) => retention.version(tx)), 0);
      await b.meta.write(async (tx) => {
        await retention.putRule(tx, rule, T0);
        await retention.putRule(tx, { ...rule, id: 'r-all', name: 'All', days: null, minDays: 30 }, T0);
      });
      await b.meta.read(async (tx) => {
        assert.equal(await retention.version(tx), 2);
        assert.deepEqual(await retention.rules(tx), [{ ...rule, id: 'r-all', name: 'All', days: null, minDays: 30 }, rule], 'by id; minDays only where set');
        assert.deepEqual(await retention.rule(tx, 'r-sales'), rule);
      });
      await b.meta.write(async (tx) => {
        assert.equal(await retention.removeRule(tx, 'r-all'), true);
        assert.equal(await retention.removeRule(tx, 'r-all'), false);
        await retention.addChange(tx, { id: 'c1', kind: 'set', ruleId: 'r-sales', before: rule, after: { ...rule, days: 10 }, why: 'shorter', note: null, filedBy: null, filedByLabel: 'os:root', filedAt: T0 });
        await retention.decideChange(tx, 'c1', { by: p1, decision: 'deny', reason: 'no', at: T0 + 1 });
        await addMailbox(tx, b, 'dave', ['dave@corp.example', 'd@corp.example']);
      });
      await b.meta.read(async (tx) => {
        assert.equal(await retention.version(tx), 3, 'a removal that removed nothing bumps nothing');
        const c = (await retention.change(tx, 'c1'))!;
        assert.deepEqual([c.before, c.after?.days, c.decision, c.decidedAt], [rule, 10, 'deny', T0 + 1]);
        assert.deepEqual((await retention.changes(tx)).map((x) => x.id), ['c1']);
        const found = await retention.mailboxesOf(tx, ['d@corp.example', 'nobody@corp.example', 'dave@corp.example']);
        assert.deepEqual(found.sort((x, y) => x.address.localeCompare(y.address)), [
          { address: 'd@corp.example', mailbox: 'dave', sensitivity: null, department: 'sales' }, { address: 'dave@corp.example', mailbox: 'dave', sensitivity: null, department: 'sales' }]);
        assert.deepEqual(await retention.mailboxesOf(tx, []), []);
      });
    }));
  });

  describe(`DisposalStore: ${impl.name}`, () => {
    test('expired: every receipt past its date, longest first; disposal destroys the key once and queues the bytes', withBackend(impl, async (b) => {
      const disposal = b.repos.disposal;
      const { old, kept, fresh } = await b.meta.write(async (tx) => ({
        old: await archive(tx, b.meta, 'a'.repeat(64), [{ retainUntil: T0 + DAY, rule: 'r1' }, { retainUntil: T0 + 2 * DAY, rule: null, keepUntil: T0 + 3 * DAY }]),
        kept: await archive(tx, b.meta, 'b'.repeat(64), [{ retainUntil: T0 + DAY }, { retainUntil: null }]),
        fresh: await archive(tx, b.meta, 'c'.repeat(64), [{ retainUntil: T0 + 30 * DAY }]),
      }));
      await b.meta.read(async (tx) => {
        assert.deepEqual(await disposal.expired(tx, T0 + 5 * DAY, 10), [{ messageRowId: old.rowId, sha256: 'a'.repeat(64), retainedUntil: T0 + 2 * DAY, rules: ['r1', null] }]);
        assert.deepEqual(await disposal.expired(tx, T0 + 40 * DAY, 10).then((e) => e.map((x) => x.sha256[0])), ['a', 'c'], 'one kept for ever never expires');
        // A page at a time, each from where the last ended.
        const [first] = await disposal.expired(tx, T0 + 40 * DAY, 1);
        assert.equal(first?.sha256[0], 'a');
        const [second] = await disposal.expired(tx, T0 + 40 * DAY, 1, first);
        assert.equal(second?.sha256[0], 'c');
        assert.deepEqual(await disposal.expired(tx, T0 + 40 * DAY, 1, second), []);
        assert.deepEqual(await disposal.minimaOf(tx, ['a'.repeat(64)]), [{ sha256: 'a'.repeat(64), lastCaptureRowId: old.captures[1], receipts: [{ keepUntil: null, keepRule: null }, { keepUntil: T0 + 3 * DAY, keepRule: null }] }]);
        assert.deepEqual(await disposal.capturesOf(tx, ['a'.repeat(64), 'b'.repeat(64)]), [...old.captures, ...kept.captures].map((id, i) => ({ captureRowId: id, ledgerIndex: [100, 101, 100, 101][i] })));
      });
      const disposed = await b.meta.write((tx) => disposal.markDisposed(tx, ['a'.repeat(64), 'c'.repeat(64), 'f'.repeat(64)], { at: T0 + 5 * DAY, ledgerIndex: 9, policy: 'retention', expiredBy: T0 + 5 * DAY }));
      assert.deepEqual(disposed, ['a'.repeat(64)], 'one still retained, one never archived: left out');
      assert.deepEqual(await b.meta.write((tx) => disposal.markDisposed(tx, ['a'.repeat(64)], { at: T0 + 6 * DAY, ledgerIndex: 10, policy: 'retention' })), [], 'once');
      await b.meta.write((tx) => disposal.clearCaptureDetails(tx, old.captures));
      await b.meta.read(async (tx) => {
        const m = (await b.meta.getMessage(tx, 'a'.repeat(64)))!;
        assert.deepEqual([m.seal.wrappedKey, m.disposed], [null, { at: T0 + 5 * DAY, ledgerIndex: 9, policy: 'retention' }]);
        assert.deepEqual((await b.meta.capturesOf(tx, old.rowId)).map((c) => [c.envelope, c.provenance]), [[null, null], [null, null]]);
        assert.equal((await b.meta.findMessageIds(tx, ['c'.repeat(64)])).get('c'.repeat(64)), fresh.rowId);
        const queued = await disposal.queuedErasures(tx, 10);
        assert.deepEqual(queued.map((q) => [q.messageRowId, q.blobRef, q.captureRowIds, q.stillDisposed]), [[old.rowId, { file: 'seg-1', offset: 0, length: 80 }, old.captures, true]]);
        assert.deepEqual(await disposal.expired(tx, T0 + 40 * DAY, 10).then((e) => e.map((x) => x.sha256[0])), ['c']);
      });
      assert.deepEqual(await disposedReceipts(b.meta), old.captures, 'the disposed message\'s receipts are left out of the candidates');
      const [q] = await b.meta.read((tx) => disposal.queuedErasures(tx, 10));
      await b.meta.write((tx) => disposal.erasureDone(tx, q!.id));
      assert.deepEqual(await b.meta.read((tx) => disposal.queuedErasures(tx, 10)), []);
      assert.equal(await disposal.purgeRemoved(), true);
      // Archived again, under its old row: its old receipts count with the new one.
      await b.meta.write(async (tx) => {
        const seal: SealMeta = { sha256: 'a'.repeat(64), size: 100, sealedLength: 80, compression: 'zstd', nonce: Buffer.alloc(12, 1), tag: Buffer.alloc(16, 2), wrappedKey: Buffer.alloc(40, 4), keyId: 'k1' };
        assert.deepEqual(await b.meta.insertMessages(tx, [{ seal, ref: { file: 'seg-2', offset: 0, length: 80 }, firstSeen: T0 + 7 * DAY }]), [old.rowId]);
        await b.meta.insertCapture(tx, { id: 'cap-again', source: 'smtp', receivedAt: T0 + 7 * DAY, envelope: null, provenance: null }, old.rowId, 102, { retainUntil: T0 + 50 * DAY, ruleId: 'r2', keepUntil: null, keepRule: null });
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual(await disposal.expired(tx, T0 + 40 * DAY, 10).then((e) => e.map((x) => x.sha256[0])), ['c']);
        assert.deepEqual(await disposal.expired(tx, T0 + 60 * DAY, 10), [
          { messageRowId: fresh.rowId, sha256: 'c'.repeat(64), retainedUntil: T0 + 30 * DAY, rules: [null] },
          { messageRowId: old.rowId, sha256: 'a'.repeat(64), retainedUntil: T0 + 50 * DAY, rules: ['r1', null, 'r2'] },
        ]);
      });
      assert.deepEqual(await disposedReceipts(b.meta), []);
      await b.meta.write((tx) => b.repos.holds.addHold(tx, { id: 'h1', name: 'H', matter: 'M', custodians: [], dateFrom: null, dateTo: null, query: null, placedBy: null, placedByLabel: 'os:root', placedAt: T0 }));
      assert.deepEqual(await b.meta.read((tx) => disposal.activeHoldIds(tx)), ['h1']);
    }));
  });

  describe(`DisposalRequestStore and SubjectStore: ${impl.name}`, () => {
    test('a request reads back, is decided once, and keeps what its execution came to', withBackend(impl, async (b) => {
      const { disposalRequests: dr, subjects } = b.repos;
      const [p1, p2] = await deciders(b);
      await b.meta.write(async (tx) => {
        await dr.add(tx, { id: 'd1', sha256s: ['a'.repeat(64)], reason: 'spam', filedBy: null, filedByLabel: 'os:root', filedAt: T0 });
        await dr.add(tx, { id: 'd2', sha256s: [], reason: 'x', filedBy: null, filedByLabel: 'os:root', filedAt: T0 + 1 });
        await subjects.add(tx, { id: 's1', kind: 'erasure', addresses: ['x@client.example'], reference: 'L-1', reason: 'art. 17', filedBy: null, filedByLabel: 'os:root', filedAt: T0 });
        await dr.decide(tx, 'd1', { by: p1, decision: 'approve', reason: 'ok', at: T0 + 2 });
        await dr.decide(tx, 'd1', { by: p2, decision: 'deny', reason: 'no', at: T0 + 3 });
        await subjects.decide(tx, 's1', { by: p1, decision: 'approve', reason: 'ok', at: T0 + 2 });
        await subjects.decide(tx, 's1', { by: p2, decision: 'deny', reason: 'no', at: T0 + 3 });
        await dr.executed(tx, 'd1', { at: T0 + 4, outcome: { disposed: 1 } });
        await subjects.executed(tx, 's1', { at: T0 + 4, addresses: ['x@client.example', 'x2@client.example'], outcome: { erased: 2 } });
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual(await dr.get(tx, 'd1'), {
          id: 'd1', sha256s: ['a'.repeat(64)], reason: 'spam', filedBy: null, filedByLabel: 'os:root', filedAt: T0,
          decidedBy: p1, decision: 'approve', decisionReason: 'ok', decidedAt: T0 + 2, executedAt: T0 + 4, outcome: { disposed: 1 },
        });
        assert.deepEqual((await dr.list(tx)).map((r) => r.id), ['d2', 'd1']);
        assert.deepEqual(await subjects.get(tx, 's1'), {
          id: 's1', kind: 'erasure', addresses: ['x@client.example', 'x2@client.example'], reference: 'L-1', reason: 'art. 17', filedBy: null, filedByLabel: 'os:root', filedAt: T0,
          decidedBy: p1, decision: 'approve', decisionReason: 'ok', decidedAt: T0 + 2, executedAt: T0 + 4, outcome: { erased: 2 },
        });
        assert.deepEqual((await subjects.list(tx)).map((r) => r.id), ['s1']);
        assert.equal(await dr.get(tx, 'nope'), null);
      });
    }));
  });

  describe(`ObjectHoldStore: ${impl.name}`, () => {
    test('objects marked held once, by name; the objects of live messages by row id and by receipt', withBackend(impl, async (b) => {
      const oh = b.repos.objectHolds;
      const rows = await b.meta.write(async (tx) => {
        const one = await archive(tx, b.meta, '1'.repeat(64), [{ retainUntil: null }], 'seg-b');
        const two = await archive(tx, b.meta, '2'.repeat(64), [{ retainUntil: T0 }], 'seg-a');
        const three = await archive(tx, b.meta, '3'.repeat(64), [{ retainUntil: null }], 'seg-a');
        await b.repos.disposal.markDisposed(tx, ['2'.repeat(64)], { at: T0, ledgerIndex: 1, policy: 'x' });
        await oh.markHeld(tx, 'seg-b', T0);
        await oh.markHeld(tx, 'seg-a', T0);
        await oh.markHeld(tx, 'seg-b', T0 + 1);
        return { one, two, three };
      }).then((r) => Object.assign([r.one.rowId, r.two.rowId, r.three.rowId], { captures: [...r.one.captures, ...r.two.captures, ...r.three.captures] }));
      assert.deepEqual(await b.meta.read((tx) => oh.held(tx)), ['seg-a', 'seg-b']);
      await b.meta.write((tx) => oh.unmarkHeld(tx, 'seg-a'));
      assert.deepEqual(await b.meta.read((tx) => oh.held(tx)), ['seg-b']);
      // By row id: the disposed message and an id of no message left out.
      assert.deepEqual(await b.meta.read((tx) => oh.objectsOf(tx, [rows[2]!, rows[1]!, rows[0]!, 987_654_321])), [{ id: rows[0], file: 'seg-b' }, { id: rows[2], file: 'seg-a' }]);
      assert.deepEqual(await b.meta.read((tx) => oh.objectsOf(tx, [])), []);
      assert.equal(await b.meta.read((tx) => oh.lastMessageId(tx)), rows[2]);
      // By receipt: after one capture, up to another, the disposed message's left out.
      const [c1, , c3] = rows.captures;
      assert.deepEqual(await b.meta.read((tx) => oh.received(tx, 0, c3!, 10)), [{ capture: c1, sha256: '1'.repeat(64), file: 'seg-b' }, { capture: c3, sha256: '3'.repeat(64), file: 'seg-a' }]);
      assert.deepEqual(await b.meta.read((tx) => oh.received(tx, c1!, c3! - 1, 10)), []);
      assert.deepEqual(await b.meta.read((tx) => oh.received(tx, 0, c3!, 1)), [{ capture: c1, sha256: '1'.repeat(64), file: 'seg-b' }]);
    }));
  });

  describe(`DirectoryStore and ScimStore: ${impl.name}`, () => {
    test('links per source, replaced by the next; syncs newest first', withBackend(impl, async (b) => {
      const dir = b.repos.directory;
      await b.meta.write(async (tx) => {
        await dir.saveLink(tx, { source: 'ldap', userName: 'erin', mailbox: 'erin', state: 'active', leftOn: null, seenAt: T0 });
        await dir.saveLink(tx, { source: 'ldap', userName: 'dave', mailbox: 'dave', state: 'active', leftOn: null, seenAt: T0 });
        await dir.saveLink(tx, { source: 'scim', userName: 'dave', mailbox: 'dave2', state: 'active', leftOn: null, seenAt: T0 });
        await dir.saveLink(tx, { source: 'ldap', userName: 'dave', mailbox: 'dave', state: 'disabled', leftOn: '2026-03-01', seenAt: T0 + 1 });
        for (const [id, at] of [['s1', T0], ['s2', T0 + 1]] as const) {
          await dir.addSync(tx, { id, source: 'ldap', actor: 'system:directory', startedAt: at, dryRun: id === 's1', state: id === 's1' ? 'dry-run' : 'applied', summary: { added: 2 }, changes: [{ kind: 'add' }], skipped: [{ entry: 'x', why: 'no mail' }] });
        }
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual(await dir.links(tx, 'ldap'), [
          { source: 'ldap', userName: 'dave', mailbox: 'dave', state: 'disabled', leftOn: '2026-03-01', seenAt: T0 + 1 },
          { source: 'ldap', userName: 'erin', mailbox: 'erin', state: 'active', leftOn: null, seenAt: T0 }]);
        assert.deepEqual((await dir.links(tx, 'scim')).map((l) => l.mailbox), ['dave2']);
        const syncs = await dir.syncs(tx, 10);
        assert.deepEqual(syncs.map((s) => [s.id, s.dryRun, s.state]), [['s2', false, 'applied'], ['s1', true, 'dry-run']]);
        assert.deepEqual([syncs[0]!.summary, syncs[0]!.changes, syncs[0]!.skipped], [{ added: 2 }, [{ kind: 'add' }], [{ entry: 'x', why: 'no mail' }]]);
        assert.equal((await dir.syncs(tx, 1)).length, 1);
      });
    }));

    test('SCIM users and groups: found by name in any case, a name taken once whatever its case, replaced and deleted by id', withBackend(impl, async (b) => {
      const scim = b.repos.scim;
      const user = { id: 'u1', name: 'Dave', externalId: 'ext-1', resource: { userName: 'Dave', active: true }, createdAt: T0, modifiedAt: T0 };
      await b.meta.write(async (tx) => {
        await scim.putUser(tx, user);
        await scim.putUser(tx, { ...user, id: 'u2', name: 'alice', externalId: null });
        await scim.putGroup(tx, { id: 'g1', name: 'Auditors', externalId: null, members: ['u1'], createdAt: T0, modifiedAt: T0 });
      });
      await assert.rejects(b.meta.write((tx) => scim.putUser(tx, { ...user, id: 'u3', name: 'DAVE' })), 'a userName differing only in case is taken');
      await assert.rejects(b.meta.write((tx) => scim.putGroup(tx, { id: 'g2', name: 'auditors', externalId: null, members: [], createdAt: T0, modifiedAt: T0 })));
      await b.meta.read(async (tx) => {
        assert.deepEqual(await scim.userByName(tx, 'dave'), user);
        assert.deepEqual((await scim.users(tx)).map((u) => u.id), ['u2', 'u1'], 'by name, whatever the case');
        assert.deepEqual((await scim.userKeys(tx)).map((k) => [k.id, k.name, typeof k.stored]).sort(), (await scim.users(tx)).map((u) => [u.id, u.name, 'string']).sort(), 'every user, as stored');
        assert.deepEqual((await scim.groupByName(tx, 'AUDITORS'))?.members, ['u1']);
        assert.equal(await scim.user(tx, 'u3'), null);
      });
      await b.meta.write(async (tx) => {
        await scim.putUser(tx, { ...user, name: 'david', resource: { userName: 'david' }, modifiedAt: T0 + 1 });
        await scim.putGroup(tx, { id: 'g1', name: 'Auditors', externalId: 'e', members: [], createdAt: T0 + 5, modifiedAt: T0 + 1 });
        assert.equal(await scim.deleteUser(tx, 'u2'), true);
        assert.equal(await scim.deleteUser(tx, 'u2'), false);
      });
      await b.meta.read(async (tx) => {
        assert.deepEqual(await scim.user(tx, 'u1'), { ...user, name: 'david', resource: { userName: 'david' }, modifiedAt: T0 + 1 }, 'created time kept');
        assert.deepEqual(await scim.group(tx, 'g1'), { id: 'g1', name: 'Auditors', externalId: 'e', members: [], createdAt: T0, modifiedAt: T0 + 1 });
        assert.deepEqual((await scim.groups(tx)).map((g) => g.id), ['g1']);
      });
      assert.equal(await b.meta.write((tx) => scim.deleteGroup(tx, 'g1')), true);
      assert.deepEqual(await b.meta.read((tx) => scim.groups(tx)), []);
    }));
  });

  describe(`ExportJobStore: ${impl.name}`, () => {
    test('a job runs queued → running → done, resumed when found running, its items kept until it ends; a cancelled one takes no more', withBackend(impl, async (b) => {
      const jobs = b.repos.exportJobs;
      const userId = await b.meta.write((tx) => addPerson(tx, b, 'carol'));
      const job = (id: string, at: number): NewExportJob => ({
        id, userId, grantId: 'req_1', query: 'from:x', canonicalQuery: 'from:"x"', limit: 100, note: null, volumeBytes: 1 << 20, mboxPerCustodian: id === 'j2',
        subjectAccess: id === 'j2' ? { otherParties: 'withhold', withheld: 2 } : null, hold: null, mailboxes: [{ id: 7, name: 'carol' }],
        actor: { sessionId: 's', clientIp: '192.0.2.1', userAgent: 'ua' }, createdAt: at, startedEntry: 5, total: 3, sha256s: ['a', 'b', 'c'], checkpointSize: 6, bytesTotal: 300,
      });
      const item = (sha256: string): PackageItem => ({ sha256, files: [], row: {} as PackageItem['row'], notCovered: 0, bytes: 100 });
      await b.meta.write(async (tx) => {
        await jobs.add(tx, job('j1', T0));
        await jobs.add(tx, job('j2', T0 + 1));
      });
      await b.meta.read(async (tx) => {
        const j = (await jobs.withMessages(tx, 'j1'))!;
        const status = (await jobs.get(tx, 'j1'))!;
        assert.deepEqual([status.sha256s, status.messages, status.state], [[], 3, 'queued'], 'a status leaves the list out, and counts it');
        assert.deepEqual([j.state, j.sha256s, j.messages, j.phase, j.resumed, j.messagesDone, j.files, j.mboxPerCustodian, j.actor.clientIp], ['queued', ['a', 'b', 'c'], 3, 'messages', 0, 0, [], false, '192.0.2.1']);
        assert.deepEqual([j.subjectAccess, j.hold, j.mailboxes], [null, null, [{ id: 7, name: 'carol' }]]);
        assert.deepEqual((await jobs.get(tx, 'j2'))!.subjectAccess, { otherParties: 'withhold', withheld: 2 }, 'an Art. 15 job keeps its rule and count');
        const listed = await jobs.ofUser(tx, userId);
        assert.deepEqual(listed.map((x) => [x.id, x.sha256s, x.messages]), [['j2', [], 3], ['j1', [], 3]], 'newest first, without the list of messages');
        assert.deepEqual(await jobs.unfinished(tx), ['j1', 'j2']);
      });
      await b.meta.write(async (tx) => {
        assert.equal(await jobs.begin(tx, 'j1'), true);
        assert.equal(await jobs.progress(tx, 'j1', [[0, item('a')], [1, item('b')]], { messagesDone: 2, bytesDone: 200, phase: 'messages' }), true);
        assert.equal(await jobs.begin(tx, 'j1'), true, 'found running: resumed');
        assert.equal(await jobs.progress(tx, 'j1', [[1, item('b2')]], { messagesDone: 2, bytesDone: 200, phase: 'package' }), true);
      });
      await b.meta.read(async (tx) => {
        const j = (await jobs.get(tx, 'j1'))!;
        assert.deepEqual([j.state, j.resumed, j.phase, j.bytesDone], ['running', 1, 'package', 200]);
        assert.deepEqual([...(await jobs.items(tx, 'j1')).entries()].map(([p, i]) => [p, i.sha256]).sort(), [[0, 'a'], [1, 'b2']]);
      });
      await b.meta.write((tx) => jobs.finished(tx, 'j1', { at: T0 + 9, ledgerIndex: 12, manifestSha256: 'm'.repeat(64), files: [{ name: 'x.zip', size: 10, sha256: 'f', messages: 3 } as never] }));
      await b.meta.read(async (tx) => {
        const j = (await jobs.get(tx, 'j1'))!;
        assert.deepEqual([j.state, j.finishedAt, j.ledgerIndex, j.manifestSha256, j.files.length], ['done', T0 + 9, 12, 'm'.repeat(64), 1]);
        assert.equal((await jobs.items(tx, 'j1')).size, 0, 'its items go when it ends');
      });
      await assert.rejects(b.meta.write((tx) => jobs.finished(tx, 'j1', { at: T0 + 10, ledgerIndex: 13, manifestSha256: 'x', files: [] })), /no longer running/);
      await b.meta.write(async (tx) => {
        assert.equal(await jobs.cancel(tx, 'j2', T0 + 11), true);
        assert.equal(await jobs.cancel(tx, 'j2', T0 + 12), false);
        assert.equal(await jobs.begin(tx, 'j2'), false);
        assert.equal(await jobs.progress(tx, 'j2', [[0, item('a')]], { messagesDone: 1, bytesDone: 1, phase: 'messages' }), false);
        await jobs.failed(tx, 'j2', { at: T0 + 13, error: 'late' });
      });
      await b.meta.read(async (tx) => {
        const j = (await jobs.get(tx, 'j2'))!;
        assert.deepEqual([j.state, j.finishedAt, j.error, j.messagesDone], ['cancelled', T0 + 11, null, 0]);
        assert.deepEqual(await jobs.unfinished(tx), []);
      });
    }));
  });
}
