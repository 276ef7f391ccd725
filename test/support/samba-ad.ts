// A private Active Directory domain controller for a test: Debian's Samba, provisioned with
// `samba-tool domain provision` into a temp folder of its own (realm CORP.TEST, no DNS), run in the
// foreground with only its LDAP service and stopped by its PID. Samba's AD LDAP ports are fixed
// (389, 636, 3268, 3269), so it listens on those of the loopback; a test that finds 389 taken is
// told so (`null`) rather than fighting another instance. Entries go in over LDAP as the domain's
// Administrator (a simple bind on the loopback, which the test's smb.conf allows).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SambaAd {
  url: string;
  baseDn: string;            // DC=corp,DC=test
  bindDn: string;            // the domain's Administrator
  password: string;
  dir: string;
  add(ldif: string): Promise<void>;
  stop(): Promise<void>;
}

const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

// null: no samba here, or port 389 of the loopback is taken.
export async function startSambaAd(): Promise<SambaAd | null> {
  if (!existsSync('/usr/sbin/samba') || !existsSync('/usr/bin/samba-tool')) return null;
  if (await accepts(389)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-samba-'));
  const password = 'Sealbox-Test-Admin-1';
  const conf = join(dir, 'etc', 'smb.conf');
  await run('samba-tool', ['domain', 'provision', '--realm=CORP.TEST', '--domain=CORP', '--server-role=dc', '--dns-backend=NONE', `--adminpass=${password}`,
    `--targetdir=${dir}`, '--host-name=dc1', '--option=interfaces=127.0.0.1', '--option=bind interfaces only=yes', '--option=server services=ldap'], { timeout: 300_000 });
  // A simple bind without TLS, on the loopback only: the sync's own plain-LDAP rule allows it there.
  const text = readFileSync(conf, 'utf8').replace(/\[global\]\n/, `[global]\n\tldap server require strong auth = no\n\tlog file = ${join(dir, 'log.%m')}\n`);
  writeFileSync(conf, text);
  // -i: in the foreground (the PID held is samba's own); -M single: one process.
  const child: ChildProcess = spawn('/usr/sbin/samba', ['-i', '-M', 'single', '-s', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => { gone = true; });
  for (let i = 0; !(await accepts(389)); i++) {
    if (gone || i > 1200) {
      if (!gone) child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`samba did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = 'ldap://127.0.0.1:389';
  const baseDn = 'DC=corp,DC=test';
  const bindDn = `CN=Administrator,CN=Users,${baseDn}`;
  return {
    url, baseDn, bindDn, password, dir,
    add: async (ldif) => {
      const file = join(dir, `add-${Date.now()}.ldif`);
      writeFileSync(file, ldif);
      try {
        await run('ldapadd', ['-x', '-H', url, '-D', bindDn, '-w', password, '-f', file], { maxBuffer: 16 * 1024 * 1024 });
      } finally {
        rmSync(file, { force: true });
      }
    },
    stop: async () => {
      if (!gone) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
