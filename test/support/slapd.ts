// A private OpenLDAP server for a test: Debian's slapd with a slapd.conf of its own in a temp
// folder (never the system instance), an MDB database there, listening on a free loopback port;
// stopped by its PID. Entries go in and out through the real ldap-utils (ldapadd, ldapmodify,
// ldapdelete) over the network, as an administrator would change them.
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Slapd {
  url: string;
  caFile: string | null;     // tls: the CA that signed the server's certificate (PEM)
  suffix: string;
  rootDn: string;
  rootPassword: string;
  dir: string;
  add(ldif: string): Promise<void>;
  modify(ldif: string): Promise<void>;
  delete(dns: string[]): Promise<void>;
  stop(): Promise<void>;
}

// mailAlternateAddress is no attribute of Debian's schemas (Sun and qmail define it), nor are
// Active Directory's (sAMAccountName, proxyAddresses, userAccountControl, department, managedBy,
// the user and group classes): a small schema of the test's own gives them, under private-use
// OIDs, so the AD preset's reading is tested too where no Samba domain controller is at hand.
const SCHEMA = `attributetype ( 1.3.6.1.4.1.99999.1.1 NAME 'mailAlternateAddress'
  EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )
objectclass ( 1.3.6.1.4.1.99999.2.1 NAME 'sealboxMailUser' SUP top AUXILIARY
  MAY ( mailAlternateAddress $ mail ) )
attributetype ( 1.3.6.1.4.1.99999.1.2 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.3 NAME 'proxyAddresses' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.99999.1.4 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.5 NAME 'department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.6 NAME 'objectCategory' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.7 NAME 'managedBy' SUP distinguishedName SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.2.2 NAME 'user' SUP inetOrgPerson STRUCTURAL
  MAY ( sAMAccountName $ proxyAddresses $ userAccountControl $ department $ objectCategory ) )
objectclass ( 1.3.6.1.4.1.99999.2.3 NAME 'group' SUP groupOfNames STRUCTURAL
  MAY ( mail $ proxyAddresses $ managedBy $ objectCategory ) )
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// A CA of the test's own and a certificate it signs for the loopback (IP 127.0.0.1), made with
// Debian's openssl in `dir`.
async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Sealbox test LDAP CA', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n');
  await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('server.ext'), '-out', f('server.pem')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

// tls: slapd gets a certificate (StartTLS on its ldap:// port) and refuses a simple bind on a
// connection that is not encrypted (`security simple_bind=1`), so a password in the clear is refused
// by the server too; the ldap-utils below then use StartTLS (-ZZ) themselves.
export async function startSlapd(options: { suffix?: string; rootPassword?: string; tls?: boolean } = {}): Promise<Slapd> {
  const suffix = options.suffix ?? 'dc=corp,dc=test';
  const rootDn = `cn=admin,${suffix}`;
  const rootPassword = options.rootPassword ?? 'slapd-test-root';
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-slapd-'));
  mkdirSync(join(dir, 'db'));
  const tls = options.tls ? await makeCertificates(dir) : null;
  writeFileSync(join(dir, 'sealbox-test.schema'), SCHEMA);
  writeFileSync(join(dir, 'slapd.conf'), [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `include ${join(dir, 'sealbox-test.schema')}`,
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'sizelimit unlimited',
    ...(tls ? [`TLSCACertificateFile ${tls.ca}`, `TLSCertificateFile ${tls.cert}`, `TLSCertificateKeyFile ${tls.key}`, 'security simple_bind=1'] : []),
    'database mdb',
    `suffix "${suffix}"`,
    `rootdn "${rootDn}"`,
    `rootpw ${rootPassword}`,
    `directory ${join(dir, 'db')}`,
    'maxsize 268435456',
    'index objectClass eq',
    'index uid eq',
    '',
  ].join('\n'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  // -d 0: stays in the foreground (no fork), so the PID we hold is slapd's own.
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-d', '0', '-f', join(dir, 'slapd.conf'), '-h', `${url}/`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => { gone = true; });
  for (let i = 0; !(await accepts(port)); i++) {
    if (gone || i > 600) {
      if (!gone) child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`slapd did not start on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const tool = async (cmd: string, args: string[], input?: string) => {
    const file = join(dir, `input-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
    if (input !== undefined) writeFileSync(file, input);
    try {
      await run(cmd, ['-x', ...(tls ? ['-ZZ'] : []), '-H', url, '-D', rootDn, '-w', rootPassword, ...(input !== undefined ? ['-f', file] : []), ...args],
        { maxBuffer: 64 * 1024 * 1024, ...(tls ? { env: { ...process.env, LDAPTLS_CACERT: tls.ca } } : {}) });
    } finally {
      rmSync(file, { force: true });
    }
  };
  await tool('ldapadd', [], `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: Sealbox test\ndc: ${/^dc=([^,]+)/.exec(suffix)![1]}\n`);
  return {
    url, suffix, rootDn, rootPassword, dir, caFile: tls?.ca ?? null,
    add: (ldif) => tool('ldapadd', [], ldif),
    modify: (ldif) => tool('ldapmodify', [], ldif),
    delete: (dns) => tool('ldapdelete', dns),
    stop: async () => {
      if (!gone) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
