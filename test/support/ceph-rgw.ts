// A private single-node Ceph cluster with its RADOS Gateway (S3 with Object Lock) for a test file:
// started once by scripts/ceph-rgw.sh in a temp folder on free loopback ports, stopped by the PIDs
// in its pid files, its folder removed. memstore keeps the objects in the OSD's memory (fast, and
// written out on a clean stop, so "stop rgw / start" keeps them); nothing outlives the test file.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './local-peer.ts';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../scripts/ceph-rgw.sh');
const START_TIMEOUT_MS = 240_000;

export interface CephRgw {
  dir: string;
  endpoint: string;
  // The S3 user's keys, in the file format blobs.s3.credentialsFile reads (mode 0600).
  credentialsFile: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  // A new bucket, with Object Lock (and so versioning) unless lock is false.
  createBucket(name: string, options?: { lock?: boolean }): Promise<void>;
  client(): S3Client;
  // S3 down (the gateway stopped) and back, the cluster kept.
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  // The daemons' PIDs (monitor, OSD, gateway), for a harness that must kill them if it dies.
  pids(): number[];
  stop(): Promise<void>;
}

export function cephInstalled(): boolean {
  try {
    readFileSync('/usr/bin/radosgw');
    return true;
  } catch {
    return false;
  }
}

// `span` consecutive loopback ports free a moment ago, for the OSD's messenger range.
async function freeRange(span: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const taken: net.Server[] = [];
    let ok = true;
    for (let p = base; p < base + span && ok; p++) {
      const server = net.createServer();
      ok = await new Promise<boolean>((done) => {
        server.once('error', () => done(false));
        server.listen(p, '127.0.0.1', () => done(true));
      });
      if (ok) taken.push(server);
    }
    await Promise.all(taken.map((s) => new Promise((done) => s.close(done))));
    if (ok) return base;
  }
  throw new Error('no free range of loopback ports for the Ceph OSD');
}

// dir: an empty folder of the caller's (a benchmark's scratch folder); a new temp folder otherwise.
export async function startCephRgw(options: { dir?: string } = {}): Promise<CephRgw> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sealbox-ceph-'));
  const rgwPort = await freePort();
  const osdMin = await freeRange(20);
  const env = {
    ...process.env, MON_PORT: String(await freePort()), RGW_PORT: String(rgwPort),
    OSD_PORT_MIN: String(osdMin), OSD_PORT_MAX: String(osdMin + 19), OBJECTSTORE: 'memstore',
  };
  const script = (...args: string[]) => run('bash', [SCRIPT, ...args], { env, timeout: START_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 });
  const stop = async () => {
    await script('stop', dir).catch(() => script('stop', dir));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await script('start', dir);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const credentialsFile = join(dir, 'credentials');
  const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const client = () => new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    dir, endpoint, credentialsFile, credentials, client,
    createBucket: async (name, options = {}) => {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: options.lock ?? true }));
      } finally {
        s3.destroy();
      }
    },
    stopGateway: async () => { await script('stop', dir, 'rgw'); },
    pids: () => ['mon.a', 'osd.0', 'client.rgw.sealbox'].flatMap((name) => {
      try {
        return [Number(readFileSync(join(dir, 'run', `${name}.pid`), 'utf8').trim())];
      } catch {
        return [];
      }
    }),
    startGateway: async () => { await script('start', dir); },
    stop,
  };
}
