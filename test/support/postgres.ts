// A private PostgreSQL cluster for a test file: Debian's PostgreSQL (scripts/install-peers.sh),
// `initdb` into a temp folder and `pg_ctl start` on a free loopback port, its unix socket in that
// folder too (never the system instance, never its port 5432). initdb and the server refuse to
// run as root, so when the tests run as root both run as the `postgres` user Debian's package
// creates (runuser), in a folder made its own. Stopped by the postmaster's PID (SIGINT: a fast
// shutdown) at the end, and at the latest when the test process exits.
//
// Each test asks for a database of its own (database()), and connects as the cluster's
// superuser over TCP with a password (scram-sha-256; the socket alone trusts its user).
//
// For a failover: a primary started with synchronousStandby, a standby of it (startStandby,
// made by pg_basebackup), the link to it stalled either way (stallStandby, its pauseReceiver),
// the primary crashed (crash(): SIGKILL to the postmaster and every process of it, a machine
// gone) and the standby promoted.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const USER = 'sealbox_test';

export interface Postgres {
  host: string;
  port: number;
  dir: string;
  pid: number;
  // A connection URL for a database of the cluster (postgres: the maintenance one).
  url(database?: string): string;
  // A new, empty database; its URL.
  database(name?: string): Promise<string>;
  stop(): Promise<void>;
  // A crash: SIGKILL to the postmaster and to each of its processes, then waits until all are
  // gone; its folder stays until stop().
  crash(): Promise<void>;
}

// A streaming standby (startStandby): read-only until promote() makes it a primary.
// pauseReceiver() stops its WAL receiver (SIGSTOP): what the primary sends waits in the socket,
// and nothing is confirmed to the primary, as on a link stalled on the way back.
// takeLastWal(), once the primary is gone: the receiver goes on (SIGCONT), writes what had come,
// meets the end of the connection and exits; resolves then, so a promotion replays all of it.
export interface Standby extends Postgres {
  promote(): Promise<void>;
  pauseReceiver(): Promise<void>;
  takeLastWal(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// initdb and the server refuse to run as root: as root, a command runs as the `postgres` user
// (runuser) with the cluster's folder as its home for the moment, and folders and files it must
// own are given to it.
function postgresUser(dir: string): { as(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }>; own(path: string): void } {
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : null;
  return {
    as: (cmd, args) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir }) : run(cmd, args, { cwd: dir })),
    own: (path) => { if (ids) chownSync(path, ids.uid, ids.gid); },
  };
}

// The server's settings on its command line: loopback only, its socket in its folder.
function serverSettings(port: number, dir: string, options: { durable?: boolean; settings?: Record<string, string> }): string {
  return [
    `-c listen_addresses=127.0.0.1`, `-c port=${port}`, `-c unix_socket_directories=${dir}`, '-c max_connections=60',
    '-c shared_buffers=32MB', '-c log_min_messages=warning', ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ...Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
}

// pg_ctl start, waiting until it accepts connections (a kept cluster, which may first replay its
// WAL, up to ten minutes); on failure the folder (not a kept one) is removed and the server's
// log is in the error.
async function pgCtlStart(user: ReturnType<typeof postgresUser>, dir: string, data: string, settings: string, removeOnFailure = true): Promise<number> {
  try {
    await user.as(join(BIN, 'pg_ctl'), ['start', '-w', '-t', removeOnFailure ? '60' : '600', '-D', data, '-l', join(dir, 'server.log'), '-o', settings]);
  } catch (err) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    if (removeOnFailure) rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(err as { stderr?: string }).stderr ?? err}\n${log}`);
  }
  // The first line of postmaster.pid is the postmaster's PID: the one process to stop.
  return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

// The processes a postmaster started (its children: backends, WAL sender or receiver, writers).
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

// The cluster's handle, for a primary and a standby alike.
function clusterHandle(dir: string, data: string, port: number, pid: number, password: string, user: ReturnType<typeof postgresUser>, kept = false): Postgres {
  const kill = () => {
    if (alive(pid)) process.kill(pid, 'SIGINT');
  };
  process.once('exit', kill);
  const url = (database = 'postgres') => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let n = 0;
  let crashed = false;
  return {
    host: '127.0.0.1', port, dir, pid, url,
    async database(name) {
      const db = name ?? `t${process.pid}_${++n}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}" TEMPLATE template0 ENCODING 'UTF8'`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    async stop() {
      process.removeListener('exit', kill);
      kill();
      for (let i = 0; alive(pid); i++) {
        if (i > 600) {
          process.kill(pid, 'SIGQUIT');
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // A crashed server leaves its System V segment (line 7 of postmaster.pid: key and id)
      // behind; nothing else would remove it.
      if (crashed) {
        const shm = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[6]?.trim().split(/\s+/)[1];
        if (shm) await user.as('ipcrm', ['-m', shm]).catch(() => {});
      }
      if (!kept) rmSync(dir, { recursive: true, force: true });
    },
    async crash() {
      crashed = true;
      // The postmaster killed first (it would restart a child that died before it), then each
      // child: nothing of it writes, answers or sends WAL after this.
      // Stopped first, so that it starts no process between the listing and the kill.
      if (alive(pid)) process.kill(pid, 'SIGSTOP');
      const children = childrenOf(pid);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (const child of children) {
        try { process.kill(child, 'SIGKILL'); } catch { /* already gone */ }
      }
      for (let i = 0; [pid, ...children].some(alive); i++) {
        if (i > 200) throw new Error(`processes of the crashed cluster still running: ${[pid, ...children].filter(alive).join(' ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

// durable: false (the default for tests of behaviour) turns fsync off, which saves seconds on a
// loaded machine and changes nothing a test that does not crash the machine could see. settings:
// more server settings (a benchmark's shared_buffers), after the tests' own. synchronousStandby:
// the application_name of a standby (startStandby) every commit waits for, as the README's
// production layout has it: WAL for a replica, and synchronous_commit on whatever durable says.
// initdb's pg_hba.conf already lets loopback connections replicate with a password.
//
// keptIn: a folder kept between runs (a benchmark's loaded cluster): made there the first time,
// started again from it after, its password in the folder beside it (a cluster on loopback for
// benchmarks, nothing else); stop() leaves it.
export async function startPostgres(options: { durable?: boolean; settings?: Record<string, string>; synchronousStandby?: string; keptIn?: string } = {}): Promise<Postgres> {
  const kept = options.keptIn;
  if (kept) mkdirSync(kept, { recursive: true });
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'sealbox-postgres-'));
  const user = postgresUser(dir);
  user.own(dir);
  const data = join(dir, 'data');
  const again = kept !== undefined && existsSync(join(kept, 'password'));
  const password = again ? readFileSync(join(dir, 'password'), 'utf8').trim() : `pw-${Math.random().toString(36).slice(2)}`;
  if (!again) {
    if (kept) rmSync(data, { recursive: true, force: true });
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    user.own(pwfile);
    try {
      await user.as(join(BIN, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    } catch (err) {
      if (!kept) rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? err}`);
    }
    if (kept) renameSync(pwfile, join(dir, 'password'));
    else rmSync(pwfile);
  }
  // A kept cluster's server left running by a run that was killed is stopped first.
  if (again) await user.as(join(BIN, 'pg_ctl'), ['stop', '-m', 'fast', '-D', data]).catch(() => {});
  const port = await freePort();
  const replication: Record<string, string> = options.synchronousStandby
    ? { wal_level: 'replica', max_wal_senders: '4', synchronous_commit: 'on', synchronous_standby_names: `'FIRST 1 (${options.synchronousStandby})'` }
    : {};
  const pid = await pgCtlStart(user, dir, data, serverSettings(port, dir, { durable: options.durable, settings: { ...replication, ...options.settings } }), kept === undefined);
  return clusterHandle(dir, data, port, pid, password, user, kept !== undefined);
}

// A standby of a primary started with synchronousStandby: pg_basebackup -R over TCP (the
// superuser replicates), started on a port of its own with the same settings as a durable
// primary, streaming as applicationName. Returned once the primary reports it streaming and
// synchronous (pg_stat_replication), so that a commit acknowledged from then on is on both.
// Its own synchronous_standby_names is empty: promoted, it has no standby to wait for.
export async function startStandby(primary: Postgres, applicationName: string, options: { settings?: Record<string, string> } = {}): Promise<Standby> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-postgres-standby-'));
  const user = postgresUser(dir);
  user.own(dir);
  const data = join(dir, 'data');
  const password = decodeURIComponent(new URL(primary.url()).password);
  // The conninfo -R writes into postgresql.auto.conf (primary_conninfo) is this one, the
  // password and application_name with it.
  const conninfo = `host=${primary.host} port=${primary.port} user=${USER} password=${password} application_name=${applicationName}`;
  try {
    await user.as(join(BIN, 'pg_basebackup'), ['-d', conninfo, '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_basebackup failed: ${(err as { stderr?: string }).stderr ?? err}`);
  }
  const conf = readFileSync(join(data, 'postgresql.auto.conf'), 'utf8');
  if (!conf.includes(`application_name=${applicationName}`)) throw new Error(`pg_basebackup -R wrote no application_name=${applicationName}:\n${conf}`);
  const port = await freePort();
  const pid = await pgCtlStart(user, dir, data, serverSettings(port, dir, { durable: true, settings: { hot_standby: 'on', ...options.settings } }));
  const standby = clusterHandle(dir, data, port, pid, password, user);
  const client = new pg.Client({ connectionString: primary.url() });
  await client.connect();
  try {
    for (let i = 0; ; i++) {
      const { rows } = await client.query<{ state: string; sync_state: string }>('SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1', [applicationName]);
      if (rows[0]?.state === 'streaming' && rows[0].sync_state === 'sync') break;
      if (i > 600) {
        await standby.stop();
        throw new Error(`the standby is not streaming synchronously: ${JSON.stringify(rows)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await client.end();
  }
  let receiver = 0;
  return {
    ...standby,
    async promote() {
      await user.as(join(BIN, 'pg_ctl'), ['promote', '-w', '-t', '60', '-D', data]);
    },
    async pauseReceiver() {
      const own = new pg.Client({ connectionString: standby.url() });
      await own.connect();
      try {
        receiver = (await own.query<{ pid: number }>('SELECT pid FROM pg_stat_wal_receiver')).rows[0]?.pid ?? 0;
      } finally {
        await own.end();
      }
      if (!receiver) throw new Error('the standby has no WAL receiver');
      process.kill(receiver, 'SIGSTOP');
    },
    async takeLastWal() {
      if (!receiver) throw new Error('pauseReceiver() first');
      process.kill(receiver, 'SIGCONT');
      for (let i = 0; alive(receiver); i++) {
        if (i > 600) throw new Error('the WAL receiver did not end once its primary was gone');
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

// The link to a standby stalled: SIGSTOP to the primary's WAL sender for it, so that WAL the
// primary writes from then on reaches no standby (a primary that dies now takes it along). With
// the standby synchronous, each commit from then on waits for it (commitsWaitingForStandby).
// Returns what resumes the link (SIGCONT): the waiting commits are then confirmed.
export async function stallStandby(primary: Postgres, applicationName: string): Promise<() => void> {
  const client = new pg.Client({ connectionString: primary.url() });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_replication WHERE application_name = $1', [applicationName]);
    if (!rows[0]) throw new Error(`no WAL sender for ${applicationName}`);
    const pid = rows[0].pid;
    process.kill(pid, 'SIGSTOP');
    return () => process.kill(pid, 'SIGCONT');
  } finally {
    await client.end();
  }
}

// How many transactions the primary has committed on its own disk and not yet answered, waiting
// for the synchronous standby to confirm them.
export async function commitsWaitingForStandby(primary: Postgres): Promise<number> {
  const client = new pg.Client({ connectionString: primary.url() });
  await client.connect();
  try {
    return (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'")).rows[0]!.n;
  } finally {
    await client.end();
  }
}

// A conformance suite's PostgreSQL: one cluster for the test file, started in its before hook and
// stopped in its after hook, and one database in it; each test's store is a schema of its own,
// named after the test's temp folder, so that opening the same folder twice gives two connections
// to one archive, as two SQLite connections to one file do.
export function postgresForSuite(before: (fn: () => Promise<void>, options?: { timeout?: number }) => void, after: (fn: () => Promise<void>) => void): { url(): string; schemaFor(dir: string): string } {
  let cluster: Postgres | null = null;
  let url: string | null = null;
  before(async () => {
    cluster = await startPostgres();
    url = await cluster.database('conformance');
  }, { timeout: 120_000 });
  after(async () => { await cluster?.stop(); });
  return {
    url() {
      if (!url) throw new Error('the PostgreSQL cluster did not start (is postgresql installed? scripts/install-peers.sh)');
      return url;
    },
    schemaFor: (dir) => `t_${dir.split('/').at(-1)!.toLowerCase().replace(/[^a-z0-9]/g, '_')}`,
  };
}

// A config's store section for a new database of the cluster, as an operator writes it: the URL
// without its password, the password in a 0600 file of its own; and the URL with it, for a
// test's own hand on the database.
export async function postgresStore(cluster: Postgres, name?: string): Promise<{ store: { kind: 'postgres'; postgres: { url: string; passwordFile: string } }; url: string }> {
  const full = await cluster.database(name);
  const url = new URL(full);
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-pgpass-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const passwordFile = join(dir, 'pg.password');
  writeFileSync(passwordFile, decodeURIComponent(url.password) + '\n');
  chmodSync(passwordFile, 0o600);
  url.password = '';
  return { store: { kind: 'postgres', postgres: { url: url.toString(), passwordFile } }, url: full };
}

// SEALBOX_TEST_STORE=postgres: the access worlds (access-world.ts, in-process.ts) keep their
// archive in PostgreSQL, each in a database of its own in one cluster for the test process, so
// that a test written for the default runs on PostgreSQL unchanged (tests that open sealbox.db
// themselves do not). The cluster starts with the first world and is stopped and removed when the
// process has nothing left to do; a process made to exit stops it (startPostgres) and leaves its
// folder to a shell that removes it once the server is gone. Null (the default): SQLite.
let shared: Promise<Postgres> | null = null;
export async function worldStore(): Promise<Record<string, unknown> | null> {
  const kind = process.env.SEALBOX_TEST_STORE ?? 'sqlite';
  if (kind === 'sqlite') return null;
  if (kind !== 'postgres') throw new Error(`SEALBOX_TEST_STORE=${kind}: sqlite or postgres`);
  if (!shared) {
    shared = startPostgres();
    const cluster = await shared;
    let stopped = false;
    process.once('beforeExit', () => void cluster.stop().then(() => { stopped = true; }));
    process.once('exit', () => {
      if (stopped) return;
      spawn('sh', ['-c', `while kill -0 ${cluster.pid} 2>/dev/null; do sleep 0.1; done; rm -rf '${cluster.dir}'`], { detached: true, stdio: 'ignore' }).unref();
    });
  }
  return (await postgresStore(await shared)).store;
}
