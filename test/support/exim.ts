// A private Exim daemon for tests, run from the binary scripts/install-peers.sh extracts out of
// Debian's exim4-daemon-light .deb (the package conflicts with postfix, so it is never
// installed). Its own config, spool, log and pid file live in a fresh temp dir; it listens on
// one loopback port and runs in the foreground (-bdf), so the test owns its PID. Runs as root:
// the daemon switches to the compiled-in exim user (Debian-exim) for reception and delivery.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, greets } from './local-peer.ts';

const EXIM_ROOT = process.env.SEALBOX_EXIM_ROOT ?? '/opt/sealbox-peers/exim';
const EXIM = path.join(EXIM_ROOT, 'usr', 'sbin', 'exim4');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export interface EximInstance {
  smtpPort: number;
  /** primary_hostname: the HELO name Exim's smtp transport sends. */
  hostname: string;
  /** Resolves once Exim's queue is empty (every delivery done), or throws with the log. */
  waitForQueueEmpty(timeoutMs: number): Promise<void>;
  /** The main log so far. */
  log(): string;
  /** SIGTERM to the daemon, wait for it, remove the temp dir. */
  stop(): Promise<void>;
}

/** Why a test that needs Exim should skip, or undefined; in CI a missing Exim is a failure. */
export function eximSkipReason(): string | undefined {
  const reason = !existsSync(EXIM) ? `${EXIM} not extracted (scripts/install-peers.sh)`
    : process.getuid?.() !== 0 ? 'a private Exim daemon needs root'
      : spawnSync('getent', ['passwd', 'Debian-exim']).status !== 0 ? 'no Debian-exim user (scripts/install-peers.sh)' : undefined;
  if (reason && process.env.CI) throw new Error(`Exim is required in CI: ${reason}`);
  return reason;
}

/** The part of the config that decides where mail goes: `begin routers` and `begin transports` sections. */
export async function startExim(routing: string): Promise<EximInstance> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealbox-exim-'));
  chmodSync(dir, 0o755); // the exim user reaches its spool and log through it
  const spool = path.join(dir, 'spool');
  const logDir = path.join(dir, 'log');
  mkdirSync(spool);
  mkdirSync(logDir);
  const user = Number(spawnSync('id', ['-u', 'Debian-exim']).stdout.toString());
  const group = Number(spawnSync('id', ['-g', 'Debian-exim']).stdout.toString());
  chownSync(spool, user, group);
  chownSync(logDir, user, group);
  const port = await freePort();
  const hostname = 'exim.sealbox.test';
  const config = path.join(dir, 'exim.conf');
  writeFileSync(config, [
    `primary_hostname = ${hostname}`,
    `exim_path = ${EXIM}`,   // Exim re-executes itself for deliveries: not from /usr/sbin here
    `spool_directory = ${spool}`,
    `log_file_path = ${logDir}/%slog`,
    `pid_file_path = ${dir}/exim.pid`,
    'local_interfaces = <; 127.0.0.1',
    `daemon_smtp_ports = ${port}`,
    'domainlist local_domains =',
    'acl_smtp_rcpt = accept_all',
    'keep_environment =',
    'tls_advertise_hosts =',
    'log_selector = +all -subject -arguments',
    'begin acl',
    'accept_all:',
    '  accept',
    routing,
    // Retry rather than bounce when a next hop is down (a test sees the deferral in the log).
    'begin retry',
    '* * F,1h,1m',
    '',
  ].join('\n'));

  const proc: ChildProcess = spawn(EXIM, ['-C', config, '-bdf'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const log = () => {
    const read = (name: string) => (existsSync(path.join(logDir, name)) ? readFileSync(path.join(logDir, name), 'utf8') : '');
    return read('mainlog') + read('paniclog') + (stderr ? `--- stderr ---\n${stderr}` : '');
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exim exited before listening\n${log()}`);
    if (await greets(port, '220', 'QUIT\r\n')) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`exim did not listen on ${port} within ${START_TIMEOUT_MS} ms\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    smtpPort: port,
    hostname,
    log,
    async waitForQueueEmpty(timeoutMs: number) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const count = spawnSync(EXIM, ['-C', config, '-bpc']);
        if (count.status === 0 && count.stdout.toString().trim() === '0') return;
        if (Date.now() > end) throw new Error(`Exim's queue is not empty after ${timeoutMs} ms\n${spawnSync(EXIM, ['-C', config, '-bp']).stdout}\n${log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

