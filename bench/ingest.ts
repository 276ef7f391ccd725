import { createHash } from 'node:crypto';
import { cephInstalled, startCephRgw } from '../test/support/ceph-rgw.ts';
import type { CephRgw } from '../test/support/ceph-rgw.ts';
import { startPostgres } from '../test/support/postgres.ts';
import type { Postgres } from '../test/support/postgres.ts';
import { startSlowDns } from '../test/support/slow-dns.ts';
import { benchCorpus, benchEnvelope } from './bench-corpus.ts';
import { maildirCount, startDovecot } from './dovecot.ts';
import { median, pct } from './figures.ts';
import type { Figure } from './figures.ts';
import { ingestIntoPostgres } from './pg-ingest.ts';
import type { PostgresIngest } from './pg-ingest.ts';
import type { BenchOptions } from './run.ts';
import { ingestIntoSealbox, lagP95 } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';
import type { SealboxIngest } from './sealbox-ingest.ts';
import { deliverTimed } from './timed-delivery.ts';
import type { TimedDelivery } from './timed-delivery.ts';

const CONNECTIONS = 8;

// The server's CPU (all threads) per message delivered, in µs.
const cpuPerMessage = (i: SealboxIngest) => (Object.values(i.cpuSeconds).reduce((a, b) => a + b, 0) * 1e6) / i.delivery.acks.length;

// Where that CPU went, by thread (median over rounds, µs a message).
function cpuSplit(runs: SealboxIngest[]): string {
  const threads: [string, string][] = [['MainThread', 'receiving'], ['WorkerThread', 'indexer'], ['V8Worker', "collector's helpers"], ['libuv-worker', 'libuv pool']];
  const per = (i: SealboxIngest, name: string | null) => {
    const seconds = name === null ? Object.entries(i.cpuSeconds).filter(([k]) => !threads.some(([t]) => t === k)).reduce((a, [, v]) => a + v, 0) : i.cpuSeconds[name] ?? 0;
    return (seconds * 1e6) / i.delivery.acks.length;
  };
  return [...threads.map(([name, label]) => `${label} ${median(runs.map((i) => per(i, name))).toFixed(0)}`), `other ${median(runs.map((i) => per(i, null))).toFixed(0)}`].join(', ');
}

// A resolver as the Internet gives one: a share of names whose name servers never answer (spam
// domains with dead servers are common) and the rest answered after a few to tens of ms.
const DEAD_SHARE = 0.1;
const slowDnsOptions = () => {
  const h = (name: string) => createHash('sha256').update(name).digest().readUInt32BE(0) / 2 ** 32;
  return { drop: (name: string) => h(`drop ${name}`) < DEAD_SHARE, delayMs: (name: string) => 5 + Math.floor(h(`delay ${name}`) * 45) };
};
const SLOW_TIMEOUT_MS = 5000;

// The real corpus, 8 connections, into (a) Dovecot's LMTP delivering into Maildir with fsync,
// (b) Sealbox's LMTP listener and (c) Sealbox's SMTP listener. Each round runs all three (in a
// rotating order) so that the ratios compare runs made side by side on a noisy machine; the
// figures are medians over rounds and the ratios medians of the per-round ratios. (d): SMTP again
// with the blobs in S3 on a private Ceph RADOS Gateway (blobs.kind "s3", a fresh bucket with
// Object Lock each round), against the embedded SMTP run of the same round: what waiting for the
// object put before each acknowledgement costs. (e), (f): SMTP into an archive on PostgreSQL (a
// private cluster with fsync, the benchmark's own) with its blobs on that RGW, received by one
// node and by two (the connections split between them; bench/pg-ingest.ts). Every client
// pipelines as Postfix does (timed-delivery.ts); (g): SMTP again sending each command after the
// reply to the last, the method of the tables before 2026-12-06, to compare with them; (h): SMTP
// into a server that has just taken the corpus once already, each message with one more Received
// line (other bytes, so other messages): a server V8 has compiled the code of, as one that has run
// a while, against (c)'s fresh one.
export async function ingestBenchmark(o: BenchOptions): Promise<Figure[]> {
  const corpus = benchCorpus(o.smoke);
  const n = corpus.wire.length;
  const mb = corpus.rawBytes / 1e6;
  const rounds: { dovecot: TimedDelivery; lmtp: SealboxIngest; smtp: SealboxIngest; smtpSerial: SealboxIngest; smtpWarm: SealboxIngest; slowDns: SealboxIngest; s3?: SealboxIngest; pg1: PostgresIngest; pg2: PostgresIngest }[] = [];
  const relayed = corpus.wire.map((m, i) => Buffer.concat([Buffer.from(`Received: from relay.corpus.test (relay.corpus.test [192.0.2.25])\r\n\tby mx.corpus.test with ESMTP id warm${i}; Tue, 01 Dec 2026 09:00:00 +0000\r\n`), m]));
  let rgw: CephRgw | null = null;
  if (cephInstalled()) {
    o.progress('ingest: starting a private Ceph RADOS Gateway for the S3 run');
    rgw = await startCephRgw({ dir: scratch.dir('ceph') });
    for (const pid of rgw.pids()) scratch.watch(pid);
  }
  o.progress('ingest: starting a private PostgreSQL (fsync on) for the PostgreSQL runs');
  let cluster: Postgres | null = null;
  try {
    cluster = await startPostgres({ durable: true });
    return await measure(cluster);
  } finally {
    await cluster?.stop();
    if (rgw) {
      const pids = rgw.pids();
      await rgw.stop();
      for (const pid of pids) scratch.unwatch(pid);
    }
  }

  async function measure(cluster: Postgres): Promise<Figure[]> {
    const runs = {
      dovecot: async () => {
        const dovecot = await startDovecot();
        try {
          const d = await deliverTimed(dovecot.port, corpus.wire, { lmtp: true, connections: CONNECTIONS, envelope: benchEnvelope });
          const stored = maildirCount(dovecot.maildirRoot);
          if (stored !== n) throw new Error(`Dovecot stored ${stored} of ${n} messages`);
          return d;
        } finally {
          await dovecot.stop();
        }
      },
      lmtp: () => ingestIntoSealbox(corpus.wire, { lmtp: true, connections: CONNECTIONS, envelope: benchEnvelope }),
      smtp: () => ingestIntoSealbox(corpus.wire, { lmtp: false, connections: CONNECTIONS, envelope: benchEnvelope }),
      smtpSerial: () => ingestIntoSealbox(corpus.wire, { lmtp: false, pipelining: false, connections: CONNECTIONS, envelope: benchEnvelope }),
      smtpWarm: () => ingestIntoSealbox(corpus.wire, { lmtp: false, connections: CONNECTIONS, envelope: benchEnvelope, warmUp: relayed }),
      // SMTP again, the authentication checks asking a loopback DNS server (test/support/slow-dns.ts)
      // that never answers for a tenth of the names and answers the rest late ("no such name").
      slowDns: async () => {
        const dns = await startSlowDns(slowDnsOptions());
        try {
          return await ingestIntoSealbox(corpus.wire, { lmtp: false, connections: CONNECTIONS, envelope: benchEnvelope, config: { auth: { dns: 'system', servers: [dns.address], timeoutMs: SLOW_TIMEOUT_MS } } });
        } finally {
          await dns.close();
        }
      },
      s3: async () => {
        const bucket = `bench-${Date.now().toString(36)}`;
        await rgw!.createBucket(bucket);
        return ingestIntoSealbox(corpus.wire, { lmtp: false, connections: CONNECTIONS, envelope: benchEnvelope, config: { blobs: { kind: 's3', s3: { endpoint: rgw!.endpoint, bucket, credentialsFile: rgw!.credentialsFile } } } });
      },
      pg1: () => ingestIntoPostgres(corpus.wire, { cluster, rgw, nodes: 1, connections: CONNECTIONS, envelope: benchEnvelope }),
      pg2: () => ingestIntoPostgres(corpus.wire, { cluster, rgw, nodes: 2, connections: CONNECTIONS, envelope: benchEnvelope }),
    };
    const order = rgw ? (['dovecot', 'lmtp', 'smtp', 'smtpSerial', 'smtpWarm', 'slowDns', 's3', 'pg1', 'pg2'] as const) : (['dovecot', 'lmtp', 'smtp', 'smtpSerial', 'smtpWarm', 'slowDns', 'pg1', 'pg2'] as const);
    // Per message timed (Sealbox's first message is delivered before its clock starts).
    const rate = (d: TimedDelivery) => d.acks.length / d.seconds;
    for (let r = 0; r < o.rounds; r++) {
      const round: Partial<(typeof rounds)[number]> = {};
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + r) % order.length]!;
        o.progress(`ingest round ${r + 1}/${o.rounds}: ${name}`);
        (round as any)[name] = await runs[name]();
      }
      rounds.push(round as (typeof rounds)[number]);
      const last = rounds.at(-1)!;
      o.progress(`  dovecot ${(n / last.dovecot.seconds).toFixed(0)} msg/s, sealbox lmtp ${rate(last.lmtp.delivery).toFixed(0)} msg/s, smtp ${rate(last.smtp.delivery).toFixed(0)} msg/s (${rate(last.smtpSerial.delivery).toFixed(0)} one command at a time, ${rate(last.smtpWarm.delivery).toFixed(0)} warm), lag p95 ${lagP95(last.smtp).toFixed(0)} ms${last.s3 ? `, smtp with blobs on S3 ${rate(last.s3.delivery).toFixed(0)} msg/s` : ''}, on PostgreSQL 1 node ${rate(last.pg1.delivery).toFixed(0)} msg/s, 2 nodes ${rate(last.pg2.delivery).toFixed(0)} msg/s`);
    }

    const med = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
    const dovecot = {
      rate: med((x) => rate(x.dovecot)), mbps: med((x) => mb / x.dovecot.seconds),
      p50: med((x) => pct(x.dovecot.latencies, 50)), p99: med((x) => pct(x.dovecot.latencies, 99)),
    };
    const figures: Figure[] = [{ name: 'messages (real corpus)', value: n, unit: 'msg', note: `${mb.toFixed(1)} MB, ${o.rounds} round(s), ${CONNECTIONS} connections` }];
    for (const proto of ['lmtp', 'smtp'] as const) {
      const label = proto.toUpperCase();
      figures.push(
        { name: `${label} ingest rate`, value: med((x) => rate(x[proto].delivery)), unit: 'msg/s', anchor: { name: 'Dovecot LMTP', value: dovecot.rate }, ratio: med((x) => rate(x[proto].delivery) / rate(x.dovecot)), target: proto === 'smtp' ? { op: '>=', bound: 1500, of: 'value' } : { op: '>=', bound: 1, of: 'ratio' } },
        { name: `${label} throughput`, value: med((x) => mb / x[proto].delivery.seconds), unit: 'MB/s', anchor: { name: 'Dovecot LMTP', value: dovecot.mbps }, ratio: med((x) => x.dovecot.seconds / x[proto].delivery.seconds) },
        { name: `${label} time to final reply p50`, value: med((x) => pct(x[proto].delivery.latencies, 50)), unit: 'ms', anchor: { name: 'Dovecot LMTP', value: dovecot.p50 }, ratio: med((x) => pct(x[proto].delivery.latencies, 50) / pct(x.dovecot.latencies, 50)) },
        { name: `${label} time to final reply p99`, value: med((x) => pct(x[proto].delivery.latencies, 99)), unit: 'ms', anchor: { name: 'Dovecot LMTP', value: dovecot.p99 }, ratio: med((x) => pct(x[proto].delivery.latencies, 99) / pct(x.dovecot.latencies, 99)) },
        { name: `${label} index lag p95 (reply → searchable)`, value: med((x) => lagP95(x[proto])), unit: 'ms', target: { op: '<=', bound: 1000, of: 'value' } },
      );
    }
    figures.push(
      { name: 'SMTP index lag p95, slow resolver', value: med((x) => lagP95(x.slowDns)), unit: 'ms', target: { op: '<=', bound: 1000, of: 'value' }, note: `${DEAD_SHARE * 100}% of names never answered, the rest after 5–50 ms; timeout ${SLOW_TIMEOUT_MS} ms` },
      { name: 'SMTP verdicts all stored, slow resolver', value: med((x) => x.slowDns.verdictsSeconds), unit: 's', note: `first MAIL FROM until every authentication verdict is stored; every message searchable after ${med((x) => x.slowDns.searchableSeconds).toFixed(1)} s` },
      { name: 'SMTP ingest rate, one command at a time', value: med((x) => rate(x.smtpSerial.delivery)), unit: 'msg/s', anchor: { name: 'SMTP, pipelined', value: med((x) => rate(x.smtp.delivery)) }, ratio: med((x) => rate(x.smtpSerial.delivery) / rate(x.smtp.delivery)), note: 'each command sent after the reply to the last, as this benchmark did before 2026-12-06 (Postfix pipelines)' },
      { name: 'SMTP ingest rate, warm server', value: med((x) => rate(x.smtpWarm.delivery)), unit: 'msg/s', anchor: { name: 'SMTP, fresh server', value: med((x) => rate(x.smtp.delivery)) }, ratio: med((x) => rate(x.smtpWarm.delivery) / rate(x.smtp.delivery)), note: `the corpus into a server that has just taken it once with one more Received line (${n} other messages, indexed): V8 has compiled the code, as in a server that has run a while; index lag p95 ${med((x) => lagP95(x.smtpWarm)).toFixed(0)} ms, CPU ${med((x) => cpuPerMessage(x.smtpWarm)).toFixed(0)} µs a message (${cpuSplit(rounds.map((x) => x.smtpWarm))})` },
      { name: 'SMTP ingest rate vs Dovecot', value: med((x) => rate(x.smtp.delivery) / rate(x.dovecot)), unit: '×', target: { op: '>=', bound: 2.5, of: 'value' }, note: 'SMTP into Sealbox ÷ LMTP into Dovecot, same round' },
      { name: 'peak RSS of the server (SMTP run)', value: Math.max(...rounds.map((x) => x.smtp.peakRssMb)), unit: 'MB', target: { op: '<=', bound: 250, of: 'value' } },
      { name: 'SMTP server CPU per message', value: med((x) => cpuPerMessage(x.smtp)), unit: 'µs', note: `first delivery until all searchable, by thread: ${cpuSplit(rounds.map((x) => x.smtp))}` },
    );
    if (rgw) {
      const s3 = (x: (typeof rounds)[number]) => x.s3!;
      const embedded = { name: 'SMTP, embedded blobs', value: 0 };
      figures.push(
        { name: 'SMTP ingest rate, blobs on S3 (Ceph RGW)', value: med((x) => rate(s3(x).delivery)), unit: 'msg/s', anchor: { ...embedded, value: med((x) => rate(x.smtp.delivery)) }, ratio: med((x) => rate(s3(x).delivery) / rate(x.smtp.delivery)), note: 'the commit waits for the segment PUT (Object Lock, COMPLIANCE); single-node RGW on memstore, same machine' },
        { name: 'SMTP time to final reply p50, blobs on S3', value: med((x) => pct(s3(x).delivery.latencies, 50)), unit: 'ms', anchor: { ...embedded, value: med((x) => pct(x.smtp.delivery.latencies, 50)) }, ratio: med((x) => pct(s3(x).delivery.latencies, 50) / pct(x.smtp.delivery.latencies, 50)) },
        { name: 'SMTP time to final reply p99, blobs on S3', value: med((x) => pct(s3(x).delivery.latencies, 99)), unit: 'ms', anchor: { ...embedded, value: med((x) => pct(x.smtp.delivery.latencies, 99)) }, ratio: med((x) => pct(s3(x).delivery.latencies, 99) / pct(x.smtp.delivery.latencies, 99)) },
        { name: 'SMTP index lag p95, blobs on S3', value: med((x) => lagP95(s3(x))), unit: 'ms', target: { op: '<=', bound: 1000, of: 'value' } },
        { name: 'peak RSS of the server (S3 run)', value: Math.max(...rounds.map((x) => s3(x).peakRssMb)), unit: 'MB', target: { op: '<=', bound: 250, of: 'value' } },
      );
    }
    const where = rgw ? 'blobs on S3 (Ceph RGW, Object Lock)' : 'blobs in one shared folder';
    const embeddedSmtp = (value: number) => ({ name: 'SMTP, embedded', value });
    for (const [key, label] of [['pg1', '1 node'], ['pg2', '2 nodes']] as const) {
      figures.push(
        { name: `SMTP ingest rate, PostgreSQL, ${label}`, value: med((x) => rate(x[key].delivery)), unit: 'msg/s', anchor: embeddedSmtp(med((x) => rate(x.smtp.delivery))), ratio: med((x) => rate(x[key].delivery) / rate(x.smtp.delivery)), note: `${where}; PostgreSQL 15 with fsync on the same machine; ${CONNECTIONS} connections${key === 'pg2' ? ' split between the nodes' : ''}` },
        { name: `SMTP time to final reply p99, PostgreSQL, ${label}`, value: med((x) => pct(x[key].delivery.latencies, 99)), unit: 'ms', anchor: embeddedSmtp(med((x) => pct(x.smtp.delivery.latencies, 99))), ratio: med((x) => pct(x[key].delivery.latencies, 99) / pct(x.smtp.delivery.latencies, 99)) },
        { name: `index covers every message after the last reply, PostgreSQL, ${label}`, value: med((x) => x[key].searchableAfterMs), unit: 'ms', note: 'indexed by the node holding the duties' },
        { name: `peak RSS of a node, PostgreSQL, ${label}`, value: Math.max(...rounds.map((x) => x[key].peakRssMb)), unit: 'MB' },
      );
    }
    // What each message costs to keep, beside the embedded archive's sealbox.db + index.db and blob files.
    const perMessage = (bytes: (x: (typeof rounds)[number]) => number) => med((x) => bytes(x) / n);
    figures.push(
      { name: 'PostgreSQL database bytes per message (1 node)', value: perMessage((x) => x.pg1.databaseBytes), unit: 'B', note: 'tables, indexes and TOAST of metadata, ledger and search index, not the WAL; the growth after the first message (a fresh database holds ~8 MB of its own)', anchor: { name: 'embedded sealbox.db + index.db', value: perMessage((x) => x.smtp.databaseBytes) }, ratio: med((x) => x.pg1.databaseBytes / x.smtp.databaseBytes) },
      { name: `${rgw ? 'bucket' : 'blob folder'} bytes per message (PostgreSQL, 1 node)`, value: perMessage((x) => x.pg1.blobBytes), unit: 'B', note: rgw ? 'every object version (Object Lock keeps versions)' : 'blob files', anchor: { name: 'embedded blob files', value: perMessage((x) => x.smtp.blobBytes) }, ratio: med((x) => x.pg1.blobBytes / x.smtp.blobBytes) },
    );
    return figures;
  }
}
