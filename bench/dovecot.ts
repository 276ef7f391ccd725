// A private Dovecot for the LMTP anchor: its own config, base_dir, state and Maildir in a temp
// folder, LMTP on a free loopback port, a static passdb/userdb so any test recipient is a user,
// and mail_fsync = always so a "250" means the message is on disk, as with Sealbox.
// Started with `dovecot -F -c CONF` and stopped by the master's PID.
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { scratch } from './scratch.ts';
import { freePort, greets, passwdIds } from '../test/support/local-peer.ts';

const DOVECOT = '/usr/sbin/dovecot';
const LMTP = '/usr/lib/dovecot/lmtp';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export interface DovecotInstance {
  port: number;
  maildirRoot: string;   // one Maildir per recipient below it
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

export function dovecotUnavailable(): string | undefined {
  if (!existsSync(DOVECOT) || !existsSync(LMTP)) return `${LMTP} not installed (scripts/install-peers.sh installs dovecot-lmtpd)`;
  if (process.getuid?.() !== 0) return 'a private Dovecot delivering as the mail user needs root';
  return undefined;
}

export async function startDovecot(): Promise<DovecotInstance> {
  const why = dovecotUnavailable();
  if (why) throw new Error(`cannot start Dovecot: ${why}`);
  const root = scratch.dir('dovecot');
  chmodSync(root, 0o755); // its unprivileged processes must reach base_dir and the mail
  const mail = join(root, 'mail');
  mkdirSync(join(root, 'run'));
  mkdirSync(join(root, 'state'));
  mkdirSync(mail);
  const { uid, gid } = passwdIds('mail');
  chownSync(mail, uid, gid);
  const port = await freePort();
  const conf = join(root, 'dovecot.conf');
  const logFile = join(root, 'dovecot.log');
  writeFileSync(conf, `# sealbox benchmark anchor (${userInfo().username})
base_dir = ${root}/run
state_dir = ${root}/state
log_path = ${logFile}
instance_name = sealbox-bench-${port}
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:${mail}/%n
mail_fsync = always
mail_uid = ${uid}
mail_gid = ${gid}
first_valid_uid = ${uid}
first_valid_gid = ${gid}
default_internal_user = dovecot
default_login_user = dovenull
lmtp_rcpt_check_quota = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${mail}/%n
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
  unix_listener lmtp {
    mode = 0
  }
}
`);
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  scratch.watch(pid);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => { gone = true; });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + output;

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    if (!gone) {
      // The master passes SIGTERM on to its children and waits for them.
      process.kill(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), STOP_TIMEOUT_MS); })]);
      clearTimeout(timer);
      if (!ok) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        await exited;
      }
    }
    scratch.unwatch(pid);
    scratch.remove(root);
  })());

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`dovecot exited before listening:\n${log()}`);
    }
    if (await greets(port, '220', 'QUIT\r\n')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dovecot LMTP on 127.0.0.1:${port} not ready after ${START_TIMEOUT_MS} ms:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, maildirRoot: mail, pid, log, stop };
}

// Messages delivered so far: files in new/ and cur/ of every recipient's Maildir.
export function maildirCount(root: string): number {
  let n = 0;
  for (const user of readdirSync(root)) {
    for (const sub of ['new', 'cur']) {
      const dir = join(root, user, sub);
      if (existsSync(dir)) n += readdirSync(dir).length;
    }
  }
  return n;
}

