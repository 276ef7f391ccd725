import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.ts';
import { loadConfig } from '../src/core/config.ts';
import { newId } from '../src/core/ids.ts';
import { createLogger } from '../src/core/log.ts';
import type { Envelope } from '../src/core/types.ts';
import { IndexerThread } from '../src/index/indexer-thread.ts';
import { openIndex } from '../src/index/open-index.ts';
import type { SearchIndex } from '../src/index/search-index.ts';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import { SqliteSearchIndex } from '../src/index/sqlite/search-index.ts';
import { signCheckpoint } from '../src/ledger/checkpoint.ts';
import { Ledger } from '../src/ledger/ledger.ts';
import { CaptureRetention } from '../src/retention/capture-retention.ts';
import { ArchiveWriter } from '../src/store/archive-writer.ts';
import { Checkpointer } from '../src/store/checkpointer.ts';
import { openStores } from '../src/store/open-stores.ts';
import { sealBuffer } from '../src/store/sealed-blob.ts';
import type { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { openOrCreateSigningKey } from '../src/store/signing-key-file.ts';
import { postgresStore, startPostgres } from '../test/support/postgres.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { benchCorpus } from './bench-corpus.ts';
import type { Figure } from './figures.ts';
import { INTERNAL_DOMAINS, MailGenerator } from './mail-generator.ts';
import type { BenchOptions } from './run.ts';
import { folderBytes } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';
import { measureScopedSearch, scaleQueries, SEARCHER_RANKS } from './scoped-search.ts';

export const SCALE_MESSAGES = 1_000_000;
const SMOKE_SCALE_MESSAGES = 400;
const CHECKPOINTS = [0.1, 0.25, 0.5, 1];
const IN_FLIGHT = 64;           // captures handed to the writer and not yet committed
const MAX_INDEX_LAG = 20_000;   // captures committed but not yet indexed before generation waits
const SEED = 20_260_101;

interface Checkpoint {
  messages: number;
  commitRate: number;        // msg/s committed (durable) in the segment since the last checkpoint
  searchableRate: number;    // msg/s committed and indexed in that segment
  scopedP50: number;
  scopedP95: number;
  unscopedP95: number;
  slowest: string;
  slowestMs: number;
  slowerScoped: string[];    // searches slower with the mailbox filter than the same without it
  scopedCount: number;
  dbBytesPerMessage: number;     // sealbox.db + index.db (with their WAL files); PostgreSQL: the database
  indexBytesPerMessage: number;  // index.db alone; PostgreSQL: the index's tables and their indexes
  blobBytesPerMessage: number;   // sealed blobs
  rawBytesPerMessage: number;
  peakRssMb: number;             // this process (generator, writer, indexer thread) in the segment
}

// The process's peak resident memory since the last call (VmHWM, then reset through clear_refs),
// so that each segment of the run gets its own peak.
function segmentPeakRssMb(): number {
  const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;
  writeFileSync('/proc/self/clear_refs', '5');
  return peak;
}

// Generated mail ingested straight through the listeners' commit path (sealBuffer and
// ArchiveWriter.commit, as the SMTP receiver does, with the indexer thread serve runs), to
// 1,000,000 messages by default (--messages N). At 10, 25, 50 and 100 % of N ingest pauses
// until the index has caught up, and the checkpoint records the ingest rate of the segment,
// search latency with the permission filter of an owner searching their mailbox (the scope
// the access-decision point decides, passed as SearchIndex's `scope`), and bytes per message.
export function scaleBenchmark(o: BenchOptions): Promise<Figure[]> {
  return scale(o, 'sqlite');
}

// The same on PostgreSQL (metadata, ledger and index in a private durable cluster, the tests'
// own, with pg-search's memory settings): the 1 M point through the commit path that
// pg-search's directly loaded rows stand in for at 10 M. Blobs stay in the local data folder
// (a memstore RGW would hold them all in memory); the S3 cost is measured by `ingest`.
export function pgScaleBenchmark(o: BenchOptions): Promise<Figure[]> {
  return scale(o, 'postgres');
}

const PG_SERVER = { shared_buffers: '1GB', effective_cache_size: '8GB', maintenance_work_mem: '256MB', work_mem: '16MB', max_wal_size: '8GB', checkpoint_timeout: '30min' };

async function scale(o: BenchOptions, kind: 'sqlite' | 'postgres'): Promise<Figure[]> {
  const total = o.messages ?? (o.smoke ? SMOKE_SCALE_MESSAGES : SCALE_MESSAGES);
  const marks = [...new Set(CHECKPOINTS.map((f) => Math.max(1, Math.round(total * f))))];
  const dir = scratch.dir('scale');
  const data = join(dir, 'data');
  const zone = join(dir, 'zone.json');
  writeFileSync(zone, '{}');
  let cluster: Postgres | null = null;
  let store = {};
  if (kind === 'postgres') {
    cluster = await startPostgres({ durable: true, settings: PG_SERVER });
    scratch.watch(cluster.pid);
    store = { store: (await postgresStore(cluster, 'scale')).store };
  }
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ auth: { dns: zone }, log: { level: 'warn' }, internalDomains: INTERNAL_DOMAINS, ...store }));
  const config = loadConfig(configFile, { data }, {});
  const label = kind === 'postgres' ? 'pg-scale' : 'scale';
  const log = createLogger(config.log.level);

  o.progress(`${label}: generator (seed ${SEED}, ${total.toLocaleString('en')} messages)`);
  const gen = new MailGenerator({ seed: SEED, total, corpus: benchCorpus(false).raw });
  const stores = openStores(config, { create: true });
  const { key } = openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: true });
  const ledger = await Ledger.open({ store: stores.meta, origin: config.ledger.origin, clock: systemClock, sign: (body) => signCheckpoint(body, key) });
  const checkpointer = new Checkpointer({ config, meta: stores.meta, outbox: stores.repos.notifications, ledger, log });
  await checkpointer.sign();
  // The mailboxes whose owners search at each checkpoint, as a directory import makes them.
  const searchers = SEARCHER_RANKS.map((rank) => gen.people[rank]!);
  const mailboxes = await stores.meta.write(async (tx) => {
    const made: { id: number; name: string }[] = [];
    for (const p of searchers) {
      const id = await stores.meta.upsertMailbox(tx, { name: p.address, displayName: p.name });
      for (const a of [p.address, ...p.aliases]) await stores.meta.setMailboxAddress(tx, a, id);
      made.push({ id, name: p.address });
    }
    return made;
  });
  const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger, log, maxBatch: config.commit.maxBatch,
    retention: new CaptureRetention(stores.repos.retention, { defaultDays: config.retention.defaultDays, internalDomains: config.internalDomains }) });
  const indexer = new IndexerThread(config, log);
  writer.onCommit(() => {
    indexer.wake();
    if (checkpointer.due()) void checkpointer.trySign(); // logs its own failure, as serve's does
  });

  let reader: { close(): void; search: SearchIndex } | null = null;
  const search = () => {
    if (!reader) {
      if (kind === 'postgres') reader = openIndex(stores);
      else {
        const db = openIndexDb(stores.paths.index, stores.paths.meta, { readOnly: true });
        reader = { close: () => db.close(), search: new SqliteSearchIndex(db) };
      }
    }
    return reader.search;
  };
  // 0 until the indexer thread has made its database and schema.
  const indexed = async () => {
    try {
      return kind === 'postgres' || existsSync(stores.paths.index) ? await search().cursor() : 0;
    } catch {
      return 0;
    }
  };

  const points: Checkpoint[] = [];
  let rawBytes = 0;
  try {
    let committed = 0;
    let failed: unknown = null;
    const inFlight = new Set<Promise<void>>();
    let segmentStart = performance.now();
    let segmentFrom = 0;
    segmentPeakRssMb();   // the set-up's peak is no segment's
    for (const mark of marks) {
      while (gen.count < mark) {
        if (failed) throw failed;
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
        if (gen.count % 256 === 0 && gen.count - await indexed() > MAX_INDEX_LAG) {
          while (gen.count - await indexed() > MAX_INDEX_LAG / 2) await new Promise((r) => setTimeout(r, 20));
        }
        const mail = gen.next();
        rawBytes += mail.raw.length;
        const receivedAt = systemClock.now();
        const capture = { id: newId('cap', receivedAt), source: 'smtp' as const, receivedAt, envelope: envelope(mail.envelope, gen.count), provenance: null };
        const { sealed, meta } = await sealBuffer(mail.raw, stores.keys);
        const p = writer.commit({ capture, seal: meta, inline: sealed, large: null }).then(() => { committed++; }, (err) => { failed = err; });
        const tracked: Promise<void> = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await Promise.all(inFlight);
      if (failed) throw failed;
      const committedAt = performance.now();
      const last = await stores.meta.read((tx) => stores.meta.lastCaptureRowId(tx));
      while (await indexed() < last) await new Promise((r) => setTimeout(r, 20));
      const searchableAt = performance.now();
      const peakRssMb = segmentPeakRssMb();
      const n = mark - segmentFrom;
      o.progress(`${label}: ${mark.toLocaleString('en')} messages (${committed} committed); segment: ${(n / ((committedAt - segmentStart) / 1000)).toFixed(0)} msg/s committed, ${(n / ((searchableAt - segmentStart) / 1000)).toFixed(0)} msg/s searchable`);
      const { runs: _, ...latency } = await measureScopedSearch(search(), scaleQueries(gen), mailboxes, o.smoke);
      const sizes = kind === 'postgres' ? await postgresSizes(stores.meta as PostgresMetadataStore, stores.paths) : dataSizes(stores.paths);
      points.push({
        messages: mark,
        commitRate: n / ((committedAt - segmentStart) / 1000),
        searchableRate: n / ((searchableAt - segmentStart) / 1000),
        ...latency,
        dbBytesPerMessage: (sizes.meta + sizes.index) / mark,
        indexBytesPerMessage: sizes.index / mark,
        blobBytesPerMessage: sizes.blobs / mark,
        rawBytesPerMessage: rawBytes / mark,
        peakRssMb,
      });
      const pt = points.at(-1)!;
      o.progress(`${label}:   search with a mailbox filter p50 ${pt.scopedP50.toFixed(1)} ms, p95 ${pt.scopedP95.toFixed(1)} ms (slowest: ${pt.slowest}); without p95 ${pt.unscopedP95.toFixed(1)} ms; ${(pt.dbBytesPerMessage / 1024).toFixed(1)} KiB db and ${(pt.blobBytesPerMessage / 1024).toFixed(1)} KiB blobs per message; peak RSS ${pt.peakRssMb.toFixed(0)} MB`);
      segmentStart = performance.now();
      segmentFrom = mark;
    }
  } finally {
    (reader as { close(): void } | null)?.close();
    await writer.drain().catch(() => {});
    await indexer.stop();
    stores.close();
    if (cluster) {
      await cluster.stop();
      scratch.unwatch(cluster.pid);
    }
    scratch.remove(dir);
  }
  o.record('checkpoints', points);

  const pg = kind === 'postgres' ? 'PG ' : '';
  const figures: Figure[] = [{ name: `${kind === 'postgres' ? 'PG (PostgreSQL 15, blobs in local files) ' : ''}generated messages`, value: total, unit: 'msg', note: `seed ${SEED}, ${(rawBytes / total / 1024).toFixed(1)} KiB each on average` }];
  for (const p of points) {
    const at = p.messages >= 1e6 && p.messages % 1e5 === 0 ? `${p.messages / 1e6}M` : p.messages >= 1000 ? `${Math.round(p.messages / 1000)}k` : String(p.messages);
    figures.push(
      { name: `at ${at}: ${pg}ingest rate (committed and indexed)`, value: p.searchableRate, unit: 'msg/s', note: `${p.commitRate.toFixed(0)} msg/s committed` },
      { name: `at ${at}: ${pg}peak RSS while ingesting (bench process: generator, writer and indexer thread)`, value: p.peakRssMb, unit: 'MB' },
      { name: `at ${at}: ${pg}search p95, mailbox filter`, value: p.scopedP95, unit: 'ms', target: { op: '<=', bound: 50, of: 'value' }, note: `p50 ${p.scopedP50.toFixed(1)} ms; slowest ${p.slowest}` },
      { name: `at ${at}: ${pg}slowest search, mailbox filter`, value: p.slowestMs, unit: 'ms', target: { op: '<=', bound: 150, of: 'value' }, note: p.slowest },
      { name: `at ${at}: ${pg}searches slower with the mailbox filter than without (by > 1 ms)`, value: p.slowerScoped.length, unit: `of ${p.scopedCount}`, target: { op: '<=', bound: 0, of: 'value' }, ...(p.slowerScoped.length > 0 ? { note: p.slowerScoped.slice(0, 3).join('; ') } : {}) },
      { name: `at ${at}: ${pg}search p95, no filter`, value: p.unscopedP95, unit: 'ms' },
      { name: `at ${at}: ${pg}database bytes per message`, value: p.dbBytesPerMessage, unit: 'B', note: `${kind === 'postgres' ? 'index tables' : 'index.db'} ${p.indexBytesPerMessage.toFixed(0)} B` },
      { name: `at ${at}: ${pg}archive (blob) bytes per message`, value: p.blobBytesPerMessage, unit: 'B', note: `raw ${p.rawBytesPerMessage.toFixed(0)} B, ratio ${(p.blobBytesPerMessage / p.rawBytesPerMessage).toFixed(2)}` },
    );
  }
  return figures;
}

function envelope(e: { from: string; to: string[] }, n: number): Envelope {
  return {
    mailFrom: e.from, mailFromArgs: {}, rcptTo: e.to.map((address) => ({ address, args: {} })),
    clientAddress: `192.0.2.${1 + (n % 250)}`, clientPort: 25, clientHelo: 'mx.sender.example', clientName: null, authUser: null,
    queueId: n.toString(16).toUpperCase(), protocol: 'ESMTP', tls: null,
    transport: { address: '127.0.0.1', port: 41_000 + (n % 8), helo: 'relay.acme.example' }, xforward: {},
  };
}

function dataSizes(paths: { meta: string; index: string; blobs: string }): { meta: number; index: number; blobs: number } {
  const file = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  const db = (p: string) => file(p) + file(`${p}-wal`);
  return { meta: db(paths.meta), index: db(paths.index), blobs: folderBytes(paths.blobs) };
}

// The whole database (tables, indexes, TOAST; not the WAL), and the search index's share: its
// tables (doc, participation) with their indexes.
async function postgresSizes(meta: PostgresMetadataStore, paths: { blobs: string }): Promise<{ meta: number; index: number; blobs: number }> {
  const { rows } = await meta.pool.query<{ db: string; index: string }>(
    "SELECT pg_database_size(current_database()) AS db, pg_total_relation_size('doc') + pg_total_relation_size('participation') AS index");
  const index = Number(rows[0]!.index);
  return { meta: Number(rows[0]!.db) - index, index, blobs: folderBytes(paths.blobs) };
}
