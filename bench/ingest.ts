import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { corpusFiles } from '../test/support/corpus.ts';
import { RawSmtpClient, toCrlf } from '../test/support/smtp-client.ts';
import { sealbox, startSealbox } from '../test/support/sealbox.ts';
import type { Figure } from './run.ts';

// The real corpus over SMTP, 8 connections, into a fresh archive: rate, latency to 250, how
// soon the index catches up, peak memory and stored size.
export async function ingestBenchmark({ smoke }: { smoke: boolean }): Promise<Figure[]> {
  const files = corpusFiles().slice(0, smoke ? 300 : undefined);
  const messages = files.map((f) => toCrlf(readFileSync(f)));
  const rawBytes = messages.reduce((n, m) => n + m.length, 0);
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-bench-'));
  try {
    const zone = join(dir, 'zone.json');
    writeFileSync(zone, '{}');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ auth: { dns: zone }, log: { level: 'warn' } }));
    const server = await startSealbox({ data: join(dir, 'data'), args: ['--config', config] });

    // Index progress, sampled from the index database while mail flows.
    const samples: { t: number; cursor: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      let db: DatabaseSync | null = null;
      while (sampling) {
        try {
          db ??= new DatabaseSync(join(server.data, 'index.db'), { readOnly: true });
          const row = db.prepare("SELECT value FROM index_state WHERE key = 'cursor'").get() as { value: string } | undefined;
          samples.push({ t: performance.now(), cursor: row ? Number(row.value) : 0 });
        } catch { /* not created yet */ }
        await new Promise((r) => setTimeout(r, 20));
      }
      db?.close();
    })();

    const latencies: number[] = [];
    const acks: number[] = []; // ack times in commit order = capture row order
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => {
      const client = await RawSmtpClient.connect(server.smtp.port);
      while (next < messages.length) {
        const i = next++;
        const t0 = performance.now();
        const r = await client.send({ from: `sender${i % 50}@corpus.test`, to: [`rcpt${i % 7}@example.test`] }, messages[i]);
        const t1 = performance.now();
        if (r.data[0]?.code !== 250) throw new Error(`message ${i}: ${r.data[0]?.code} ${r.data[0]?.text}`);
        latencies.push(t1 - t0);
        acks.push(t1);
      }
      await client.quit();
    }));
    const seconds = (performance.now() - started) / 1000;
    acks.sort((a, b) => a - b);
    const deadline = performance.now() + 300_000;
    while ((samples.at(-1)?.cursor ?? 0) < messages.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    sampling = false;
    await sampler;
    const lags = acks.map((t, k) => (samples.find((s) => s.cursor >= k + 1)?.t ?? Infinity) - t);

    const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
    const peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    await server.stop();
    const stats = JSON.parse((await sealbox(['stats', '--data', server.data, '--json'])).stdout.toString());
    return [
      { name: 'messages', value: messages.length, unit: 'msg' },
      { name: 'ingest rate (SMTP, 8 conn, fsync)', value: messages.length / seconds, unit: 'msg/s', target: '≥ 1000' },
      { name: 'ingest throughput', value: rawBytes / 1e6 / seconds, unit: 'MB/s' },
      { name: 'time to 250 p50', value: pct(latencies, 50), unit: 'ms' },
      { name: 'time to 250 p99', value: pct(latencies, 99), unit: 'ms' },
      { name: 'index lag p95 (250 → searchable)', value: pct(lags, 95), unit: 'ms', target: '≤ 1000' },
      { name: 'peak RSS (server)', value: peakRssMb, unit: 'MB', target: '≤ 300' },
      { name: 'archive bytes / raw bytes', value: stats.blobBytes / stats.rawBytes, unit: 'ratio', target: '≤ 0.33' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
