// A private Postfix instance for tests: its own config, queue, data directory and
// log file in a fresh temp dir, relaying every message to one literal-IP
// relayhost (normally Sealbox's SMTP listener). Nothing under /etc/postfix or
// /var/spool/postfix is read or written except the binaries' compiled-in
// defaults (daemon_directory, meta_directory/postfix-files).
//
// Runs as root: the master must start as root to switch to mail_owner, and the
// set-gid postdrop only accepts a non-default config directory (sendmail -C)
// from root or one listed in /etc/postfix/main.cf's alternate_config_directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './local-peer.ts';

const POSTFIX = '/usr/sbin/postfix';
const SENDMAIL = '/usr/sbin/sendmail';
const POSTKICK = '/usr/sbin/postkick';
const POSTQUEUE = '/usr/sbin/postqueue';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** Queues a message sits in until it is delivered (or bounced and delivered). */
const LIVE_QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];

export interface PostfixOptions {
  /** Literal IPv4 address of the relay (no DNS lookups are made). */
  relayHost: string;
  relayPort: number;
  /** Domains this instance calls its own: mydomain/myorigin from the first,
   *  relay_domains all of them. Mail is still relayed, never delivered here.
   *  Default: ['sealbox.test']. */
  myDomains?: string[];
  /** Milter for both smtpd and sendmail/pickup mail, e.g. `inet:127.0.0.1:PORT`;
   *  milter_default_action = tempfail, as an archive must fail closed. */
  milter?: string;
  /** Extra main.cf settings, applied last (they override the ones above). */
  mainCf?: Record<string, string>;
}

export interface PostfixInstance {
  /** Port of the instance's smtpd on 127.0.0.1. */
  smtpPort: number;
  /** The instance's config_directory (main.cf, master.cf). */
  configDir: string;
  /** HELO/EHLO name the instance's SMTP client sends (smtp_helo_name = myhostname). */
  heloName: string;
  /** Submits through the instance's postdrop/pickup: `sendmail -C configDir ...args`. */
  sendmail(args: string[], input: Buffer | string): Promise<void>;
  /** Resolves once no message is left in maildrop/incoming/active/deferred/hold. */
  waitForQueueEmpty(timeoutMs: number): Promise<void>;
  /** Retry now instead of at the next timer: wakes pickup (maildrop) and flushes the deferred queue. */
  flush(): Promise<void>;
  /** The instance's maillog_file so far. */
  log(): string;
  /** SIGTERM to the master, wait for it and its children, remove the temp dir. */
  stop(): Promise<void>;
}

/**
 * Why a test that needs Postfix should skip, or undefined when it can run.
 * In CI (process.env.CI set) a missing peer is a failure, so this throws instead.
 */
export function postfixSkipReason(): string | undefined {
  const reason = postfixUnavailable();
  if (reason && process.env.CI) throw new Error(`Postfix is required in CI: ${reason} (scripts/install-peers.sh installs it; run the tests as root)`);
  return reason;
}

function postfixUnavailable(): string | undefined {
  if (!existsSync(POSTFIX) || !existsSync(SENDMAIL)) return `${POSTFIX} not installed`;
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root';
  return undefined;
}

export async function startPostfix(opts: PostfixOptions): Promise<PostfixInstance> {
  const unavailable = postfixUnavailable();
  if (unavailable) throw new Error(`cannot start Postfix: ${unavailable}`);
  if (!net.isIPv4(opts.relayHost)) throw new Error(`relayHost must be a literal IPv4 address, got ${opts.relayHost}`);
  if (!Number.isInteger(opts.relayPort) || opts.relayPort < 1 || opts.relayPort > 65535) {
    throw new Error(`relayPort out of range: ${opts.relayPort}`);
  }
  const domains = opts.myDomains?.length ? opts.myDomains : ['sealbox.test'];

  const root = mkdtempSync(path.join(os.tmpdir(), 'sealbox-postfix-'));
  // Postfix daemons run as mail_owner and postfix check wants root-owned,
  // world-readable config; mkdtemp's 0700 would lock them out.
  chmodSync(root, 0o755);
  const configDir = path.join(root, 'etc');
  const queueDir = path.join(root, 'queue');
  const maillog = path.join(root, 'maillog');
  mkdirSync(configDir);
  mkdirSync(queueDir);

  const smtpPort = await freePort();
  const heloName = `postfix.${domains[0]}`;
  const main: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: queueDir,
    // post-install create-missing (run by start) creates it owned by mail_owner
    data_directory: path.join(root, 'data'),
    maillog_file: maillog,
    maillog_file_prefixes: root,
    myhostname: heloName,
    mydomain: domains[0]!,
    myorigin: '$mydomain',
    // No local delivery at all: every address goes out through the relayhost.
    mydestination: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    relay_domains: domains.join(', '),
    relayhost: `[${opts.relayHost}]:${opts.relayPort}`,
    default_transport: 'smtp',
    relay_transport: 'smtp',
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    // No DNS anywhere: native lookups, DNS disabled (the successor of
    // disable_dns_lookups), no reverse lookup of smtpd clients.
    smtp_host_lookup: 'native',
    smtp_dns_support_level: 'disabled',
    lmtp_host_lookup: 'native',
    smtpd_peername_lookup: 'no',
    smtp_tls_security_level: 'none',
    smtpd_tls_security_level: 'none',
    smtp_send_xforward_command: 'yes',
    // A deferred message is retried within seconds.
    queue_run_delay: '1s',
    minimal_backoff_time: '1s',
    maximal_backoff_time: '2s',
    smtp_connect_timeout: '5s',
    message_size_limit: '0',
    biff: 'no',
  };
  if (opts.milter) {
    main.smtpd_milters = opts.milter;
    main.non_smtpd_milters = opts.milter;
    main.milter_default_action = 'tempfail';
  }
  Object.assign(main, opts.mainCf);
  writeFileSync(path.join(configDir, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}\n`).join(''));
  writeFileSync(path.join(configDir, 'master.cf'), masterCf(smtpPort));
  // Postfix re-reads a config file modified within the last second or so after
  // dozing ("hot" file in dict_load_file), which costs each process that loads
  // a just-written main.cf ~2 s; backdate them.
  const past = new Date(Date.now() - 60_000);
  for (const file of ['main.cf', 'master.cf']) utimesSync(path.join(configDir, file), past, past);

  const child = spawn(POSTFIX, ['-c', configDir, 'start-fg'], {
    env: { ...process.env, MAIL_CONFIG: configDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => { hasExited = true; });

  // If the test process dies without stop(), do not leave a master behind.
  const onExit = () => {
    const pid = masterPid(queueDir, child);
    if (pid) try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    process.removeListener('exit', onExit);
    if (!hasExited) {
      // `postfix start-fg` execs postfix-script, which runs `master -s` in the
      // foreground; the master is what must get the signal (it passes SIGTERM
      // on to its process group). Signalling the shell would orphan it.
      const pid = masterPid(queueDir, child);
      const target = pid ?? child.pid!;
      try { process.kill(target, 'SIGTERM'); } catch { /* already gone */ }
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        try { process.kill(target, 'SIGKILL'); } catch { /* already gone */ }
        if (target !== child.pid) try { child.kill('SIGKILL'); } catch { /* already gone */ }
        await exited;
      }
      if (pid) await waitForGroupGone(pid, STOP_TIMEOUT_MS);
    }
    rmSync(root, { recursive: true, force: true });
  })());

  try {
    await waitForSmtp(smtpPort, START_TIMEOUT_MS, () => (hasExited ? `postfix start-fg exited early:\n${output}\n${log()}` : undefined));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    smtpPort,
    configDir,
    heloName,
    sendmail: (args, input) => runSendmail(configDir, args, input),
    waitForQueueEmpty: (timeoutMs) => waitForQueueEmpty(queueDir, timeoutMs, log),
    flush: async () => {
      await run(POSTKICK, ['-c', configDir, 'public', 'pickup', 'W'], configDir);
      await run(POSTQUEUE, ['-c', configDir, '-f'], configDir);
    },
    log,
    stop,
  };
}

function masterCf(smtpPort: number): string {
  // Only the services this instance needs; chroot off (no copied /etc files).
  // postlog is required when maillog_file is set.
  return [
    `127.0.0.1:${smtpPort} inet n - n - - smtpd`,
    'pickup     unix  n - n 60    1 pickup',
    'cleanup    unix  n - n -     0 cleanup',
    'qmgr       unix  n - n 300   1 qmgr',
    'rewrite    unix  - - n -     - trivial-rewrite',
    'bounce     unix  - - n -     0 bounce',
    'defer      unix  - - n -     0 bounce',
    'trace      unix  - - n -     0 bounce',
    'verify     unix  - - n -     1 verify',
    'flush      unix  n - n 1000? 0 flush',
    'proxymap   unix  - - n -     - proxymap',
    'proxywrite unix  - - n -     1 proxymap',
    'smtp       unix  - - n -     - smtp',
    'relay      unix  - - n -     - smtp',
    'showq      unix  n - n -     - showq',
    'error      unix  - - n -     - error',
    'retry      unix  - - n -     - error',
    'discard    unix  - - n -     - discard',
    'anvil      unix  - - n -     1 anvil',
    'scache     unix  - - n -     1 scache',
    'postlog    unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');
}


/** Polls until a 220 greeting is read from the port, then says QUIT. */
async function waitForSmtp(port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const greeting = await readGreeting(port).catch((err: Error) => { last = err.message; return ''; });
    if (greeting.startsWith('220')) return;
    if (greeting) last = greeting;
    if (Date.now() > deadline) throw new Error(`Postfix smtpd on 127.0.0.1:${port} not ready after ${timeoutMs} ms: ${last}`);
    await delay(50);
  }
}

function readGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('no greeting')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\n')) {
        socket.end('QUIT\r\n');
        resolve(data.trim());
      }
    });
    socket.on('close', () => resolve(data.trim()));
  });
}

function runSendmail(configDir: string, args: string[], input: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(SENDMAIL, ['-C', configDir, ...args], {
      env: { ...process.env, MAIL_CONFIG: configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`sendmail ${args.join(' ')} failed (${signal ?? code}): ${output}`));
    });
    child.stdin.on('error', () => { /* reported through the exit status */ });
    child.stdin.end(input);
  });
}

function run(command: string, args: string[], configDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, MAIL_CONFIG: configDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}): ${output}`));
    });
  });
}

async function waitForQueueEmpty(queueDir: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = queuedFiles(queueDir);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      const tail = log().split('\n').slice(-30).join('\n');
      throw new Error(`Postfix queue not empty after ${timeoutMs} ms: ${left.join(', ')}\n--- maillog tail ---\n${tail}`);
    }
    await delay(50);
  }
}

function queuedFiles(queueDir: string): string[] {
  const files: string[] = [];
  for (const queue of LIVE_QUEUES) {
    const dir = path.join(queueDir, queue);
    if (!existsSync(dir)) continue;
    // deferred/ and hold/ are hashed into subdirectories
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(`${queue}/${entry.name}`);
    }
  }
  return files;
}

/** The master's PID from its pid file, if it is the child of our postfix-script. */
function masterPid(queueDir: string, child: ChildProcess): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(queueDir, 'pid', 'master.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return procStat(pid)?.ppid === child.pid ? pid : undefined;
  } catch {
    return undefined;
  }
}

function procStat(pid: number): { ppid: number; pgrp: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** The master is a process-group leader; wait until none of its children is alive. */
async function waitForGroupGone(pgrp: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const alive = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).some((name) => {
      const stat = procStat(Number(name));
      return stat?.pgrp === pgrp && stat.state !== 'Z' && stat.state !== 'X';
    });
    if (!alive) return;
    await delay(50);
  }
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, ms, false); });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
