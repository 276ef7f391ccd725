import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, signCheckpoint } from '../src/ledger/checkpoint.ts';
import { checkpointHistory } from '../src/ledger/checkpoint-history.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import type { LedgerStore } from '../src/ledger/ledger.ts';
import { MerkleFrontier, consistencyProof, inclusionProof } from '../src/ledger/merkle-tree.ts';
import { StoredTree } from '../src/ledger/stored-tree.ts';
import { LedgerWatch } from '../src/oversight/ledger-watch.ts';
import { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';
import { median } from './figures.ts';
import type { Figure } from './figures.ts';
import type { BenchOptions } from './run.ts';

const ORIGIN = 'bench.example/ledger';

// Proofs and checkpoint roots at the ledger sizes a big archive reaches (issue 17: ~200 million
// entries a year), on one SQLite ledger of 1 M capture entries (10 k with --smoke; --messages N
// for another size) appended by the Ledger as the archive does, a checkpoint every tenth of it.
// Each is made from the tree as stored (its kept subtree roots, ledger/stored-tree.ts), a new
// StoredTree each time as a request makes one, against the anchor: the same made from every leaf
// hash up to the size, as before the roots were kept. Warm page cache for both.
export async function ledgerBenchmark(o: BenchOptions): Promise<Figure[]> {
  const size = o.smoke ? 10_000 : o.messages ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-bench-ledger-'));
  const store = new SqliteMetadataStore(join(dir, 'sealbox.db'));
  try {
    const key = generateSigningKey(ORIGIN);
    const clock = { now: () => Date.now() };
    const ledger = await Ledger.open({ store, origin: ORIGIN, clock, sign: (body) => signCheckpoint(body, key) });
    const t0 = performance.now();
    const tenth = Math.ceil(size / 10);
    const batch = Math.min(5_000, tenth);
    for (let from = 0; from < size; from += batch) {
      const end = Math.min(size, from + batch);
      await store.write(async (tx) => {
        for (let i = from; i < end; i++) {
          await ledger.append(tx, {
            type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: '203.0.113.5', operation: 'capture',
            objects: { mailboxes: [], messages: [i.toString(16).padStart(64, '0')] }, grantId: null, result: 'success', parameters: { captureId: `cap-${i}` },
          });
        }
        if (end % tenth < batch || end === size) await ledger.checkpoint(tx);
      });
      if (end % tenth < batch) o.progress(`ledger: ${end} entries`);
    }
    const appendSeconds = (performance.now() - t0) / 1000;
    const checkpoints = await store.read((tx) => store.checkpointsAfter(tx, -1, Number.MAX_SAFE_INTEGER));
    const kept = Number((store.db.prepare('SELECT count(*) AS n FROM ledger_node').get() as { n: number }).n);
    const history = (tx: Parameters<LedgerStore['leafHashes']>[0]) => checkpointHistory(tx, store, checkpoints, { verifierKey: key.verifierKey, origin: ORIGIN });

    const timed = async (runs: number, work: (i: number) => Promise<unknown>): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await work(i);
        ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const at = (i: number) => Math.floor(((i * 7919) % 1000) / 1000 * size);
    const older = checkpoints[Math.floor(checkpoints.length / 3)]!.size;
    const proof = await timed(51, (i) => store.read((tx) => new StoredTree(store).inclusionProof(tx, at(i), size)));
    const proofFromLeaves = await timed(3, (i) => store.read(async (tx) => inclusionProof(at(i), await store.leafHashes(tx, 0, size))));
    const consistency = await timed(51, () => store.read((tx) => new StoredTree(store).consistencyProof(tx, older, size)));
    const consistencyFromLeaves = await timed(3, () => store.read(async (tx) => consistencyProof(older, await store.leafHashes(tx, 0, size))));
    const page = await timed(11, () => store.read(history));
    const pageFromLeaves = await timed(3, () => store.read(async (tx) => {
      // checkpointHistory's roots as they were made: one pass over every leaf hash.
      const frontier = new MerkleFrontier();
      const wanted = new Set(checkpoints.map((c) => c.size));
      const roots = new Map<number, Buffer>();
      for (let from = 0; from < size; from += 65_536) {
        for (const hash of await store.leafHashes(tx, from, Math.min(size, from + 65_536))) {
          frontier.append(hash);
          if (wanted.has(frontier.size)) roots.set(frontier.size, frontier.root());
        }
      }
      return roots;
    }));
    // The server's background check (oversight/ledger-watch.ts) with its defaults (hourly, every
    // entry within 7 days): the newest slice and this hour's share of the rest; the anchor is every
    // slice in one check, as each hourly check re-hashed the whole ledger before.
    const watchAt = { t: Date.now(), now() { return this.t; } };
    const watch = (roundDays: number) => new LedgerWatch({ meta: store, verifierKey: key.verifierKey, origin: ORIGIN, clock: watchAt, everyMinutes: 60, roundDays });
    const hourly = watch(7);
    let slices = 0;
    const check = await timed(5, async () => {
      watchAt.t += 3_600_000;
      const r = await hourly.check();
      if (r.problems.length > 0) throw new Error(`the ledger check found problems: ${r.problems.slice(0, 3).join('; ')}`);
      slices = r.slices.length;
    });
    const whole = await timed(2, async () => {
      watchAt.t += 3_600_000;
      const r = await watch(1 / 24).check();
      if (r.problems.length > 0) throw new Error(`the ledger check found problems: ${r.problems.slice(0, 3).join('; ')}`);
    });
    o.record('ledger', { entries: size, appendSeconds, checkpoints: checkpoints.length, keptRoots: kept, watchSlices: slices });
    const anchor = (value: number) => ({ name: 'from every leaf hash', value });
    return [
      { name: `inclusion proof of an entry in a ledger of ${size} entries (median of 51)`, value: proof, unit: 'ms', anchor: anchor(proofFromLeaves), ratio: proof / proofFromLeaves },
      { name: `consistency proof, ${older} to ${size} entries (median of 51)`, value: consistency, unit: 'ms', anchor: anchor(consistencyFromLeaves), ratio: consistency / consistencyFromLeaves },
      { name: `checkpoints page, ${checkpoints.length} checkpoints, each root rebuilt (median of 11)`, value: page, unit: 'ms', anchor: anchor(pageFromLeaves), ratio: page / pageFromLeaves },
      { name: `background ledger check, hourly with every entry within 7 days (${slices} slices of 65,536; median of 5)`, value: check, unit: 'ms', anchor: { name: 'every entry re-hashed, as each check did before', value: whole }, ratio: check / whole },
      { name: 'kept subtree roots per 1,000 entries', value: kept / size * 1000, unit: 'rows', note: `${size} entries appended in ${appendSeconds.toFixed(1)} s` },
    ];
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
