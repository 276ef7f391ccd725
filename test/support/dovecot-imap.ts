// A private Dovecot IMAP server for the import tests: its own config, base_dir and state in a
// temp folder, IMAP on a free loopback port, one user in a passwd-file, mail in a Maildir++ the
// test fills before starting it. Started with `dovecot -F -c CONF`, stopped by the master's PID.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { freePort, greets, passwdIds } from './local-peer.ts';

const DOVECOT = '/usr/sbin/dovecot';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export interface DovecotImap {
  port: number;
  user: string;
  password: string;
  pid: number;
  log(): string;
  // SIGKILLs the server's imap processes (children of our master): every session drops at once.
  killSessions(): number;
  stop(): Promise<void>;
}

export function dovecotImapUnavailable(): string | undefined {
  if (!existsSync(DOVECOT) || !existsSync('/usr/lib/dovecot/imap')) return 'dovecot-imapd is not installed (scripts/install-peers.sh installs it)';
  if (process.getuid?.() !== 0) return 'a private Dovecot serving mail as the mail user needs root';
  return undefined;
}

// The Maildir++ a test fills: INBOX is the root, other folders are ".Name" below it.
export function newMaildirRoot(): { root: string; mail: string; folder(name: string): string } {
  const root = mkdtempSync(join(os.tmpdir(), 'sealbox-dovecot-'));
  chmodSync(root, 0o755); // Dovecot's unprivileged processes must reach base_dir and the mail
  const mail = join(root, 'mail', 'importer');
  const folder = (name: string) => {
    const dir = name === 'INBOX' ? mail : join(mail, `.${name}`);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    return dir;
  };
  folder('INBOX');
  return { root, mail, folder };
}

export async function startDovecotImap(root: string): Promise<DovecotImap> {
  const why = dovecotImapUnavailable();
  if (why) throw new Error(`cannot start Dovecot: ${why}`);
  const { uid, gid } = passwdIds('mail');
  const mailRoot = join(root, 'mail');
  chownTree(mailRoot, uid, gid);
  mkdirSync(join(root, 'run'), { recursive: true });
  mkdirSync(join(root, 'state'), { recursive: true });
  const user = 'importer';
  const password = 'import-test-password';
  const users = join(root, 'users');
  writeFileSync(users, `${user}:{PLAIN}${password}:${uid}:${gid}::${mailRoot}/${user}\n`);
  const port = await freePort();
  const conf = join(root, 'dovecot.conf');
  const logFile = join(root, 'dovecot.log');
  writeFileSync(conf, `# sealbox import test
base_dir = ${root}/run
state_dir = ${root}/state
log_path = ${logFile}
instance_name = sealbox-import-${port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${mailRoot}/%n
mail_uid = ${uid}
mail_gid = ${gid}
first_valid_uid = ${uid}
first_valid_gid = ${gid}
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = ${users}
}
userdb {
  driver = passwd-file
  args = ${users}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`);
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { gone = true; resolve(); }));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + output;
  const killOnExit = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    if (!gone) {
      process.kill(pid, 'SIGTERM'); // the master passes it on to its children and waits for them
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), STOP_TIMEOUT_MS); })]);
      clearTimeout(timer);
      if (!ok) {
        killOnExit();
        await exited;
      }
    }
    process.off('exit', killOnExit);
    if (!process.env.SEALBOX_KEEP_TEST_DATA) rmSync(root, { recursive: true, force: true });
  })());

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gone) {
      const text = log();
      await stop();
      throw new Error(`dovecot exited before listening:\n${text}`);
    }
    if (await greets(port, '* OK', 'a LOGOUT\r\n')) break;
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`dovecot IMAP on 127.0.0.1:${port} not ready after ${START_TIMEOUT_MS} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const killSessions = () => {
    let killed = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // "pid (comm) state ppid …": comm may hold spaces, so read after the last ")".
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && comm === 'imap') {
        try {
          process.kill(Number(entry), 'SIGKILL');
          killed++;
        } catch { /* gone */ }
      }
    }
    return killed;
  };
  return { port, user, password, pid, log, killSessions, stop };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

