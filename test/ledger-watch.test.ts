// The server's background check of the ledger (oversight/ledger-watch.ts), against both stores:
// each check proves the stored tree above the slices against the newest signed checkpoint and
// re-hashes the new entries and its share of the old ones, so that one round of checks covers
// every slice. Each kind of change is named by the first check that can see it, and a changed old
// leaf by the check of its slice, not before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, signCheckpoint, verifierKey } from '../src/ledger/checkpoint.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import type { NewLedgerEntry } from '../src/ledger/ledger.ts';
import { LedgerWatch } from '../src/oversight/ledger-watch.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';
import { postgresForSuite } from './support/postgres.ts';

const postgres = postgresForSuite(before, after);
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-ledger-watch-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

type Store = SqliteMetadataStore | PostgresMetadataStore;
const STORES: { name: string; open(dir: string): Store; sql(store: Store, text: string): Promise<void> }[] = [
  { name: 'SQLite', open: (dir) => new SqliteMetadataStore(join(dir, 'sealbox.db')), sql: async (s, text) => { (s as SqliteMetadataStore).db.exec(text); } },
  { name: 'PostgreSQL', open: (dir) => new PostgresMetadataStore({ url: postgres.url(), schema: postgres.schemaFor(dir) }), sql: async (s, text) => { await (s as PostgresMetadataStore).pool.query(text); } },
];

const ORIGIN = 'watch.example/ledger';
const KEY = generateSigningKey(ORIGIN);
const HOUR = 3_600_000;
const LEVEL = 7;                // slices of 128 entries
const WIDTH = 2 ** LEVEL;

function capture(n: number): NewLedgerEntry {
  return {
    type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: '203.0.113.5', operation: 'capture',
    objects: { mailboxes: [], messages: [n.toString(16).padStart(64, '0')] }, grantId: null, result: 'success',
    parameters: { captureId: `cap-${n}`, envelope: { from: `sender${n}@example.test` } },
  };
}

for (const impl of STORES) {
  describe(`LedgerWatch on ${impl.name}`, () => {
    test('a round of checks covers every slice; each change is named by the first check that can see it', { timeout: 120_000 }, async () => {
      const store = impl.open(mkdtempSync(join(ROOT, 'db-')));
      const sql = (text: string) => impl.sql(store, text);
      const clock = { t: Date.UTC(2026, 11, 1), now() { return this.t; } };
      const ledger = await Ledger.open({ store, origin: ORIGIN, clock, sign: (body) => signCheckpoint(body, KEY), writer: true });
      const append = (from: number, to: number) => store.write(async (tx) => {
        for (let n = from; n < to; n++) await ledger.append(tx, capture(n));
      });
      // 8 complete slices and a part, a checkpoint every 100 entries and one at the end.
      for (let n = 0; n < 1074; n += 100) {
        await append(n, Math.min(1074, n + 100));
        clock.t += 60_000;
        await store.write((tx) => ledger.checkpoint(tx));
      }
      // Four checks a round (one an hour, every entry within 4 hours): two old slices each.
      const watch = new LedgerWatch({ meta: store, verifierKey: verifierKey(ORIGIN, KEY.publicKey), origin: ORIGIN, clock, everyMinutes: 60, roundDays: 4 / 24, sliceLevel: LEVEL });
      const check = async () => {
        clock.t += HOUR;
        return watch.check();
      };

      const first = await check();
      assert.deepEqual(first.problems, []);
      assert.equal(first.size, 1074);
      assert.equal(first.slices[0], 8, 'the first check takes the newest slice …');
      assert.equal(first.slices.length, 3, '… and two old ones');
      const round = [first];
      for (let i = 0; i < 3; i++) round.push(await check());
      for (const r of round) assert.deepEqual(r.problems, []);
      assert.deepEqual([...new Set(round.flatMap((r) => r.slices))].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8], 'one round covers every slice');
      for (const r of round.slice(1)) assert.ok(r.slices.length <= 3, `a check re-hashes the newest slice and its share only: ${r.slices}`);

      // An old leaf changed (its hash left alone): named by the check of its slice, and only then.
      await sql('CREATE TABLE saved AS SELECT idx, leaf FROM ledger WHERE idx = 300');
      await sql('UPDATE ledger SET leaf = (SELECT leaf FROM ledger WHERE idx = 301) WHERE idx = 300');
      let named = false;
      for (let i = 0; i < 4; i++) {
        const r = await check();
        const slice2 = r.slices.includes(Math.floor(300 / WIDTH));
        assert.equal(r.problems.some((p) => p.startsWith('ledger entry 300: leaf bytes do not match their stored hash')), slice2, `${r.slices}: ${r.problems.join('\n')}`);
        named ||= slice2;
      }
      assert.ok(named, 'named within one round');
      await sql('UPDATE ledger SET leaf = (SELECT leaf FROM saved) WHERE idx = 300');
      assert.deepEqual((await check()).problems, []);

      // A kept root above the slices changed: named by the next check, whichever slices it takes.
      await sql('CREATE TABLE saved_nodes AS SELECT level, idx, hash FROM ledger_node WHERE level >= 8');
      const restoreNodes = () => sql('UPDATE ledger_node SET hash = (SELECT s.hash FROM saved_nodes s WHERE s.level = ledger_node.level AND s.idx = ledger_node.idx) WHERE level >= 8');
      await sql('UPDATE ledger_node SET hash = (SELECT hash FROM ledger_node WHERE level = 6 AND idx = 0) WHERE level = 8 AND idx = 1');
      assert.ok((await check()).problems.includes('ledger tree: the stored root of entries 256–511 is not the hash of its two halves (changed)'));
      await restoreNodes();
      // … and the root the newest checkpoint is made from: the signed root is no longer it.
      await sql('UPDATE ledger_node SET hash = (SELECT hash FROM ledger_node WHERE level = 6 AND idx = 0) WHERE level = 10 AND idx = 0');
      assert.ok((await check()).problems.some((p) => p.startsWith('checkpoint 1074: signed root does not match the ledger')));
      await restoreNodes();
      assert.deepEqual((await check()).problems, []);

      // New entries: one changed is named by the next check, and so is a payload removed.
      await append(1074, 1100);
      await store.write((tx) => ledger.checkpoint(tx));
      await sql('UPDATE ledger SET leaf_hash = (SELECT leaf_hash FROM ledger WHERE idx = 1090) WHERE idx = 1095');
      await sql('UPDATE ledger_payload SET payload = NULL, salt = NULL WHERE idx = 1080');
      const changed = await check();
      assert.ok(changed.problems.includes('ledger entry 1095: leaf bytes do not match their stored hash (entry changed)'), changed.problems.join('\n'));
      assert.ok(changed.problems.includes('ledger entry 1080: its personal payload is missing and no erasure entry names it (removed)'), changed.problems.join('\n'));

      // The newest entries removed: named at once.
      await sql('DELETE FROM ledger_payload WHERE idx >= 1090');
      await sql('DELETE FROM ledger WHERE idx >= 1090');
      const cut = await check();
      assert.ok(cut.problems.includes('the ledger holds 1090 entries, 1100 when last checked (entries removed)'), cut.problems.join('\n'));
      assert.ok(cut.problems.includes('checkpoint 1100: the ledger holds only 1090 entries (entries removed)'), cut.problems.join('\n'));
      await store.close();
    });
  });
}
