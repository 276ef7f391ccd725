import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startSealbox } from '../test/support/sealbox.ts';
import type { SealboxServer } from '../test/support/sealbox.ts';
import { pct } from './figures.ts';
import { scratch } from './scratch.ts';
import { deliverTimed } from './timed-delivery.ts';
import type { TimedDelivery } from './timed-delivery.ts';

export interface SealboxIngest {
  delivery: TimedDelivery;
  searchableSeconds: number;   // first MAIL FROM until the index covers every message
  lagsMs: number[];            // per message: its final reply → the index covers it
  verdictsSeconds: number;     // first MAIL FROM until every authentication verdict is stored
  attachmentsSeconds: number;  // first MAIL FROM until every queued attachment's text is read
  peakRssMb: number;           // the server process (receiver and indexer thread), VmHWM
  cpuSeconds: Record<string, number>; // the server's CPU by thread, from the first delivery until all were searchable
  databaseBytes: number;       // sealbox.db + index.db after the server stopped
  blobBytes: number;           // the blob files
  data: string;                // the data folder (removed unless keep)
  dir: string;                 // its scratch folder, for scratch.remove
}

const INDEX_TIMEOUT_MS = 600_000;

// A fresh `sealbox serve` (the CLI, as an operator runs it), offline DNS for the
// authentication checks, quiet logs.
export async function startBenchSealbox(extraConfig: Record<string, unknown> = {}): Promise<{ server: SealboxServer; dir: string }> {
  const dir = scratch.dir('sealbox');
  const zone = join(dir, 'zone.json');
  writeFileSync(zone, '{}');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ auth: { dns: zone }, log: { level: 'warn' }, ...extraConfig }));
  const server = await startSealbox({ data: join(dir, 'data'), args: ['--config', config] });
  scratch.watch(server.proc.pid!);
  return { server, dir };
}

// The bytes of every file under `dir` (0 if there is none: blobs kept in a bucket).
export function folderBytes(dir: string): number {
  let bytes = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  return bytes;
}

// CPU seconds the process has used (user and system) by thread name: MainThread (receiving),
// WorkerThread (the indexer), V8Worker (the collector's helpers), libuv-worker (fsync, files).
export function cpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime: fields 14 and 15 of the line (12 and 13 after the name), in 1/100 s
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

// Follows the indexer's cursor (the last capture row it covered) from outside the server.
export class IndexWatch {
  readonly samples: { t: number; cursor: number; authPending: number; extractionPending: number }[] = [];
  readonly #done: Promise<void>;
  #running = true;

  constructor(indexDbPath: string) {
    this.#done = (async () => {
      let db: DatabaseSync | null = null;
      while (this.#running) {
        try {
          db ??= new DatabaseSync(indexDbPath, { readOnly: true });
          const row = db.prepare("SELECT value FROM index_state WHERE key = 'cursor'").get() as { value: string } | undefined;
          const pending = db.prepare('SELECT COUNT(*) AS n FROM auth_pending').get() as { n: number };
          const extraction = db.prepare('SELECT COUNT(*) AS n FROM extraction_pending').get() as { n: number };
          this.samples.push({ t: performance.now(), cursor: row ? Number(row.value) : 0, authPending: Number(pending.n), extractionPending: Number(extraction.n) });
        } catch { /* not created yet */ }
        await new Promise((r) => setTimeout(r, 10));
      }
      db?.close();
    })();
  }

  get cursor(): number {
    return this.samples.at(-1)?.cursor ?? 0;
  }

  // When the cursor first reached `n` (NaN if it has not).
  reached(n: number): number {
    return this.samples.find((s) => s.cursor >= n)?.t ?? NaN;
  }

  async waitFor(n: number, timeoutMs = INDEX_TIMEOUT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.cursor < n) {
      if (performance.now() > deadline) throw new Error(`index reached ${this.cursor} of ${n} captures after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // Until the index covers `n` captures and no verdict is still to come; when that was.
  async waitForVerdicts(n: number, timeoutMs = INDEX_TIMEOUT_MS): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = this.samples.at(-1);
      if (last && last.cursor >= n && last.authPending === 0) return last.t;
      if (performance.now() > deadline) throw new Error(`verdicts of ${last?.authPending} captures still to come after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // Until the index covers `n` captures and no attachment is still to be read; when that was.
  async waitForAttachments(n: number, timeoutMs = INDEX_TIMEOUT_MS): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = this.samples.at(-1);
      if (last && last.cursor >= n && last.extractionPending === 0) return last.t;
      if (performance.now() > deadline) throw new Error(`attachments of ${last?.extractionPending} messages still to be read after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

// Delivers `messages` into a fresh Sealbox over SMTP or LMTP and waits until all are searchable.
// `warmUp`: other messages delivered first, untimed, and indexed before the clock starts, so that
// the timed run meets a server whose code V8 has compiled, as in one that has run a while.
export async function ingestIntoSealbox(messages: Buffer[], options: { lmtp: boolean; pipelining?: boolean; connections: number; envelope(i: number): { from: string; to: string[] }; keep?: boolean; config?: Record<string, unknown>; warmUp?: Buffer[] }): Promise<SealboxIngest> {
  const { server, dir } = await startBenchSealbox(options.config);
  try {
    const watch = new IndexWatch(join(server.data, 'index.db'));
    const before = options.warmUp ?? messages.slice(0, 1);
    const timed = options.warmUp ? messages : messages.slice(1);
    let delivery: TimedDelivery;
    let verdictsAt: number;
    let attachmentsAt: number;
    let cpuAtStart: Record<string, number> = {};
    let cpu: Record<string, number> = {};
    try {
      // The index thread is still loading its modules when the listeners are up: the first
      // message (or the warm-up) is archived and indexed before the clock starts, so the lag
      // measured is a running indexer's, not its start-up (which set the p95 whenever ingest was
      // fast). Without a warm-up the figures cover the other n − 1 messages (delivery.acks.length).
      const port = options.lmtp ? server.lmtp.port : server.smtp.port;
      await deliverTimed(port, before, { ...options, connections: options.warmUp ? options.connections : 1 });
      await watch.waitFor(before.length);
      await watch.waitForVerdicts(before.length);
      await watch.waitForAttachments(before.length);
      cpuAtStart = cpuSeconds(server.proc.pid!);
      delivery = await deliverTimed(port, timed, { ...options, envelope: (i) => options.envelope(i + messages.length - timed.length) });
      const total = before.length + timed.length;
      await watch.waitFor(total);
      cpu = Object.fromEntries(Object.entries(cpuSeconds(server.proc.pid!)).map(([k, v]) => [k, v - (cpuAtStart[k] ?? 0)]));
      verdictsAt = await watch.waitForVerdicts(total);
      attachmentsAt = await watch.waitForAttachments(total);
    } finally {
      await watch.stop();
    }
    const lagsMs = delivery.acks.map((t, k) => watch.reached(before.length + k + 1) - t);
    const searchableSeconds = (watch.reached(before.length + timed.length) - delivery.startedAt) / 1000;
    const rss = peakRssMb(server.proc.pid!);
    await server.stop();
    scratch.unwatch(server.proc.pid!);
    const file = (name: string) => (existsSync(join(server.data, name)) ? statSync(join(server.data, name)).size : 0);
    const databaseBytes = ['sealbox.db', 'sealbox.db-wal', 'index.db', 'index.db-wal'].reduce((sum, name) => sum + file(name), 0);
    const blobBytes = folderBytes(join(server.data, 'blobs'));
    if (!options.keep) scratch.remove(dir);
    return { delivery, searchableSeconds, lagsMs, verdictsSeconds: (verdictsAt - delivery.startedAt) / 1000, attachmentsSeconds: (attachmentsAt - delivery.startedAt) / 1000, peakRssMb: rss, cpuSeconds: cpu, databaseBytes, blobBytes, data: server.data, dir };
  } catch (err) {
    await server.stop().catch(() => {});
    scratch.remove(dir);
    throw err;
  }
}

export function lagP95(ingest: SealboxIngest): number {
  return pct(ingest.lagsMs.map((l) => Math.max(0, l)), 95);
}
