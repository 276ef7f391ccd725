import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openArchive } from '../test/support/archive.ts';
import { sealbox } from '../test/support/sealbox.ts';
import { RawSmtpClient } from '../test/support/smtp-client.ts';
import { benchCorpus, benchEnvelope } from './bench-corpus.ts';
import { corpusArchive } from './corpus-archive.ts';
import type { Figure } from './figures.ts';
import type { BenchOptions } from './run.ts';
import { IndexWatch, peakRssMb, startBenchSealbox } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';
import { deliverTimed } from './timed-delivery.ts';

const LARGE_MB = 100;
const SMOKE_LARGE_MB = 20;
const NORMAL_WITH_LARGE = 2000;   // corpus messages delivered beside the large one

// Archive size on the real corpus (blobs, and the whole data folder) against the raw bytes,
// with Maildir + notmuch's database as the anchor; the server's peak memory while a 100 MB
// message streams in among normal ones; `sealbox verify` throughput, with sha256sum over the
// same messages in a Maildir as the anchor (plain hashing, no decryption or decompression).
export async function storageBenchmark(o: BenchOptions): Promise<Figure[]> {
  const corpus = benchCorpus(o.smoke);
  const { sealbox: ingest, notmuch } = await corpusArchive(o);
  const archive = await openArchive(ingest.data);
  const counts = await archive.stores.meta.read((tx) => archive.stores.meta.counts(tx));
  archive.close();
  const folder = folderBytes(ingest.data);
  const maildir = folderBytes(join(notmuch.maildir, 'cur'));
  const notmuchDb = folderBytes(join(notmuch.maildir, '.notmuch'));

  o.progress('storage: verify on the corpus archive');
  const verifyCorpus = await verify(ingest.data);
  const sum = sha256sum(join(notmuch.maildir, 'cur'));

  o.progress('storage: a large message streamed among normal ones');
  const large = await largeMessageRun(o, corpus.wire.slice(0, NORMAL_WITH_LARGE), o.smoke ? SMOKE_LARGE_MB : LARGE_MB);

  return [
    { name: 'archive blobs ÷ raw bytes (corpus)', value: counts.blobBytes / counts.rawBytes, unit: 'ratio', target: { op: '<=', bound: 0.30, of: 'value' }, note: `${(counts.rawBytes / 1e6).toFixed(1)} MB raw` },
    { name: 'whole data folder ÷ raw bytes (corpus)', value: folder / counts.rawBytes, unit: 'ratio', anchor: { name: 'Maildir + notmuch db', value: (maildir + notmuchDb) / counts.rawBytes }, ratio: folder / (maildir + notmuchDb), note: 'blobs, sealbox.db (ledger), index.db' },
    { name: 'large message size', value: large.sizeMb, unit: 'MB', note: `streamed over SMTP beside ${large.normal} corpus messages on 7 connections` },
    { name: 'peak RSS of the server, large message', value: large.peakRssMb, unit: 'MB', target: { op: '<=', bound: 250, of: 'value' }, note: `sampled every 25 ms: ${large.receivingMb.toFixed(0)} MB until its 250, ${large.indexingMb.toFixed(0)} MB after (indexing)` },
    { name: 'large message time to 250', value: large.seconds, unit: 's' },
    { name: 'verify throughput (corpus archive)', value: verifyCorpus.mbps, unit: 'MB/s', anchor: { name: 'sha256sum of the Maildir', value: sum.mbps }, ratio: verifyCorpus.mbps / sum.mbps, target: { op: '>=', bound: 300, of: 'value' }, note: `${verifyCorpus.mb.toFixed(0)} MB in ${verifyCorpus.seconds.toFixed(2)} s, as printed by sealbox verify` },
    { name: 'verify throughput (with the large message)', value: large.verify.mbps, unit: 'MB/s', target: { op: '>=', bound: 300, of: 'value' }, note: `${large.verify.mb.toFixed(0)} MB in ${large.verify.seconds.toFixed(2)} s` },
    { name: 'verify wall time incl. start-up (corpus)', value: verifyCorpus.wallSeconds, unit: 's' },
  ];
}

async function largeMessageRun(o: BenchOptions, normal: Buffer[], sizeMb: number) {
  const { server, dir } = await startBenchSealbox();
  try {
    const watch = new IndexWatch(join(server.data, 'index.db'));
    // Resident memory sampled while it works, to tell receiving from indexing.
    const rss: { t: number; mb: number }[] = [];
    const sampler = setInterval(() => {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'));
      if (m) rss.push({ t: performance.now(), mb: Number(m[1]) / 1024 });
    }, 25);
    let seconds = 0;
    let acknowledged = 0;
    try {
      const big = (async () => {
        const client = await RawSmtpClient.connect(server.smtp.port);
        const t0 = performance.now();
        await streamLargeMessage(client, sizeMb * 1e6);
        acknowledged = performance.now();
        seconds = (acknowledged - t0) / 1000;
        await client.quit();
      })();
      await Promise.all([big, deliverTimed(server.smtp.port, normal, { lmtp: false, connections: 7, envelope: benchEnvelope })]);
      await watch.waitFor(normal.length + 1);
    } finally {
      clearInterval(sampler);
      await watch.stop();
    }
    const peak = peakRssMb(server.proc.pid!);
    const receiving = Math.max(...rss.filter((x) => x.t <= acknowledged).map((x) => x.mb));
    const indexing = Math.max(...rss.filter((x) => x.t > acknowledged).map((x) => x.mb));
    await server.stop();
    scratch.unwatch(server.proc.pid!);
    o.progress(`storage: verify with the large message`);
    return { sizeMb, normal: normal.length, peakRssMb: peak, receivingMb: receiving, indexingMb: indexing, seconds, verify: await verify(server.data) };
  } finally {
    await server.stop().catch(() => {});
    scratch.remove(dir);
  }
}

// A message with one base64 attachment of pseudo-random bytes (as incompressible as the
// photos and archives that make mail large), written in 1 MB pieces as they are made, so
// neither side ever holds it whole. Base64 lines never start with ".": no dot-stuffing.
async function streamLargeMessage(client: RawSmtpClient, totalBytes: number): Promise<void> {
  const expect = async (line: string | null, code: number) => {
    const r = line === null ? await client.reply() : await client.command(line);
    if (r.code !== code) throw new Error(`large message: ${line ?? 'end of DATA'}: ${r.code} ${r.text}`);
  };
  await expect('MAIL FROM:<big@corpus.test>', 250);
  await expect('RCPT TO:<rcpt0@example.test>', 250);
  await expect('DATA', 354);
  const head = Buffer.from([
    'From: Big Sender <big@corpus.test>', 'To: rcpt0@example.test', 'Subject: the quarterly scans',
    'Date: Tue, 03 Sep 2002 10:00:00 +0000', 'Message-ID: <large-message@corpus.test>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=us-ascii', '',
    'The scans are attached.', '', '--b1', 'Content-Type: application/octet-stream; name="scans.tar"',
    'Content-Disposition: attachment; filename="scans.tar"', 'Content-Transfer-Encoding: base64', '', '',
  ].join('\r\n'));
  const socket = client.socket;
  const write = (b: Buffer) => (socket.write(b) ? Promise.resolve() : new Promise<void>((r) => socket.once('drain', () => r())));
  await write(head);
  let sent = head.length;
  let seed = 0x9e3779b9;
  const tail = Buffer.from('--b1--\r\n');
  while (sent < totalBytes - tail.length) {
    const raw = Buffer.allocUnsafe(57 * 13_000); // 13,000 lines of 76 base64 characters
    const words = new Uint32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4));
    for (let i = 0; i < words.length; i++) {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      words[i] = seed >>> 0;
    }
    const b64 = raw.toString('base64');
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
    const chunk = Buffer.from(lines.join('\r\n') + '\r\n');
    await write(chunk);
    sent += chunk.length;
  }
  await write(Buffer.concat([tail, Buffer.from('.\r\n')]));
  await expect(null, 250);
}

async function verify(data: string): Promise<{ mbps: number; mb: number; seconds: number; wallSeconds: number }> {
  const t0 = performance.now();
  const r = await sealbox(['verify', '--data', data], { timeoutMs: 600_000 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const out = r.stdout.toString();
  const m = /\(([\d.]+) MB\) in ([\d.]+) s \((\d+) MB\/s\)/.exec(out);
  if (r.code !== 0 || !m) throw new Error(`sealbox verify: exit ${r.code}: ${out}${r.stderr}`);
  const mb = Number(m[1]);
  const seconds = Number(m[2]);
  return { mbps: seconds > 0 ? mb / seconds : Number(m[3]), mb, seconds, wallSeconds };
}

function sha256sum(dir: string): { mbps: number } {
  const files = readdirSync(dir).map((f) => join(dir, f));
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const t0 = performance.now();
  const r = spawnSync('xargs', ['-0', 'sha256sum'], { input: files.join('\0'), maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
  return { mbps: bytes / 1e6 / ((performance.now() - t0) / 1000) };
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  }
  return n;
}
