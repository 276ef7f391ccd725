import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { CephRgw } from '../test/support/ceph-rgw.ts';
import { postgresStore } from '../test/support/postgres.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { startSealbox } from '../test/support/sealbox.ts';
import type { SealboxServer } from '../test/support/sealbox.ts';
import { folderBytes, peakRssMb } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';
import { deliverTimed } from './timed-delivery.ts';
import type { TimedDelivery } from './timed-delivery.ts';

export interface PostgresIngest {
  delivery: TimedDelivery;      // all nodes together: first MAIL FROM to the last final reply
  searchableAfterMs: number;    // the last final reply → the index covers every capture
  peakRssMb: number;            // the largest of the nodes
  databaseBytes: number;        // the archive's database (tables, indexes, TOAST; not the WAL) grown by the messages after the first, scaled to all
  blobBytes: number;            // every object version in the bucket, or the blob files
}

const INDEX_TIMEOUT_MS = 600_000;

// The corpus into an archive on PostgreSQL (a database of its own in the benchmark's durable
// cluster) with its blobs in a fresh Object Lock bucket on the Ceph RGW (or in the shared data
// folder without one), received by `nodes` `sealbox serve` processes: the connections are split
// between them, each message going to one. The first node started holds the duties (it indexes
// and signs for both).
export async function ingestIntoPostgres(messages: Buffer[], o: { cluster: Postgres; rgw: CephRgw | null; nodes: number; connections: number; envelope(i: number): { from: string; to: string[] } }): Promise<PostgresIngest> {
  const dir = scratch.dir('sealbox-pg');
  const name = `ingest_${Date.now().toString(36)}`;
  const { store, url } = await postgresStore(o.cluster, name);
  const zone = join(dir, 'zone.json');
  writeFileSync(zone, '{}');
  let blobs = {};
  if (o.rgw) {
    const bucket = name.replace(/_/g, '-');
    await o.rgw.createBucket(bucket);
    blobs = { blobs: { kind: 's3', s3: { endpoint: o.rgw.endpoint, bucket, credentialsFile: o.rgw.credentialsFile } } };
  }
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ auth: { dns: zone }, log: { level: 'warn' }, store, ...blobs }));
  const nodes: SealboxServer[] = [];
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    for (let k = 0; k < o.nodes; k++) {
      const node = await startSealbox({ data: join(dir, 'data'), args: ['--config', config] });
      scratch.watch(node.proc.pid!);
      nodes.push(node);
    }
    // Covered: the index cursor has passed every capture written so far, and there are n.
    const covered = async (n: number) => {
      const { rows } = await db.query<{ captures: string; last: string | null; cursor: string | null }>(
        "SELECT (SELECT COUNT(*) FROM capture) AS captures, (SELECT MAX(id) FROM capture) AS last, (SELECT value FROM index_state WHERE key = 'cursor') AS cursor");
      const r = rows[0]!;
      return Number(r.captures) >= n && r.last !== null && Number(r.cursor ?? 0) >= Number(r.last);
    };
    const waitCovered = async (n: number) => {
      const deadline = performance.now() + INDEX_TIMEOUT_MS;
      while (!await covered(n)) {
        if (performance.now() > deadline) throw new Error(`the index did not cover ${n} captures within ${INDEX_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return performance.now();
    };
    // As for the embedded runs: the first message archived and indexed before the clock starts.
    await deliverTimed(nodes[0]!.smtp.port, messages.slice(0, 1), { lmtp: false, connections: 1, envelope: o.envelope });
    await waitCovered(1);
    // A fresh archive's database holds several MB of its own (catalogue, migrations): counted
    // from here, each message's share.
    const databaseSize = async () => Number((await db.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    const baseBytes = await databaseSize();
    const rest = messages.slice(1);
    const parts = await Promise.all(nodes.map((node, k) => {
      const mine = rest.map((_, i) => i).filter((i) => i % nodes.length === k);
      return deliverTimed(node.smtp.port, mine.map((i) => rest[i]!), { lmtp: false, connections: Math.max(1, Math.round(o.connections / nodes.length)), envelope: (j) => o.envelope(mine[j]! + 1) });
    }));
    const searchableAt = await waitCovered(messages.length);
    const startedAt = Math.min(...parts.map((p) => p.startedAt));
    const acks = parts.flatMap((p) => p.acks).sort((a, b) => a - b);
    const delivery: TimedDelivery = { startedAt, seconds: (acks.at(-1)! - startedAt) / 1000, latencies: parts.flatMap((p) => p.latencies), acks };
    const rss = Math.max(...nodes.map((n) => peakRssMb(n.proc.pid!)));
    const databaseBytes = (await databaseSize() - baseBytes) * messages.length / rest.length;
    const blobBytes = o.rgw ? await bucketBytes(o.rgw, name.replace(/_/g, '-')) : folderBytes(join(dir, 'data', 'blobs'));
    return { delivery, searchableAfterMs: searchableAt - acks.at(-1)!, peakRssMb: rss, databaseBytes, blobBytes };
  } finally {
    await db.end();
    for (const node of nodes) {
      await node.stop().catch(() => node.kill());
      scratch.unwatch(node.proc.pid!);
    }
    scratch.remove(dir);
    const admin = new pg.Client({ connectionString: o.cluster.url() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => admin.end());
  }
}

// Every version of every object: with Object Lock a bucket keeps versions, and each is paid for.
async function bucketBytes(rgw: CephRgw, bucket: string): Promise<number> {
  const s3 = rgw.client();
  let bytes = 0;
  try {
    let key: string | undefined;
    let version: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: key, VersionIdMarker: version }));
      for (const v of page.Versions ?? []) bytes += v.Size ?? 0;
      if (!page.IsTruncated) return bytes;
      key = page.NextKeyMarker;
      version = page.NextVersionIdMarker;
    }
  } finally {
    s3.destroy();
  }
}
