// A private PostgreSQL cluster for a test file: Debian's PostgreSQL (scripts/install-peers.sh),
// `initdb` into a temp folder and `pg_ctl start` on a free loopback port, its unix socket in that
// folder too (never the system instance, never its port 5432). initdb and the server refuse to
// run as root, so when the tests run as root both run as the `postgres` user Debian's package
// creates (runuser), in a folder made its own. Stopped by the postmaster's PID (SIGINT: a fast
// shutdown) at the end, and at the latest when the test process exits.
//
// Each test asks for a database of its own (database()), and connects as the cluster's
// superuser over TCP with a password (scram-sha-256; the socket alone trusts its user).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// durable: false (the default for tests of behaviour) turns fsync off, which saves seconds on a
// loaded machine and changes nothing a test that does not crash the machine could see. settings:
// more server settings (a benchmark's shared_buffers), after the tests' own.
export async function startPostgres(options: { durable?: boolean; settings?: Record<string, string> } = {}): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-postgres-'));
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : null;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  // As root: the same command as the postgres user, with this folder as its home for the moment.
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir }) : run(cmd, args, { cwd: dir }));
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) chownSync(pwfile, ids.uid, ids.gid);
  const data = join(dir, 'data');
  try {
    await as(join(BIN, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? err}`);
  }
  rmSync(pwfile);
  const port = await freePort();
  const settings = [
    `-c listen_addresses=127.0.0.1`, `-c port=${port}`, `-c unix_socket_directories=${dir}`, '-c max_connections=60',
    '-c shared_buffers=32MB', '-c log_min_messages=warning', ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ...Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  try {
    await as(join(BIN, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', settings]);
  } catch (err) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(err as { stderr?: string }).stderr ?? err}\n${log}`);
  }
  // The first line of postmaster.pid is the postmaster's PID: the one process to stop.
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const kill = () => {
    if (alive(pid)) process.kill(pid, 'SIGINT');
  };
  process.once('exit', kill);
  const url = (database = 'postgres') => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let n = 0;
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
