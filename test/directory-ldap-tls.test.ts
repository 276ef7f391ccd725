// The bind password never crosses the network in the clear. Against a private Debian slapd with
// a certificate the test makes (openssl: a CA of its own, a server certificate for 127.0.0.1) and
// `security simple_bind=1` (the server itself refuses a password on a connection that is not
// encrypted): with `startTls` and the CA in `caFile`, a sync reads the directory over StartTLS;
// without StartTLS the server refuses the bind; StartTLS against a certificate the configured CAs
// do not vouch for stops before the bind. The config refuses ldap:// to a host other than the
// loopback without StartTLS unless `allowPlaintext` says so, and StartTLS on ldaps://.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { LdapDirectory } from '../src/directory/ldap-directory.ts';
import type { LdapSettings } from '../src/directory/ldap-directory.ts';
import { testConfig } from './support/archive.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { startSlapd } from './support/slapd.ts';

test('LDAP StartTLS: the password goes out only over TLS, to a server whose certificate checks out', { timeout: 120_000 }, async (t) => {
  const slapd = await startSlapd({ tls: true });
  t.after(() => slapd.stop());
  const people = ['kari', 'ola', 'per'];
  await slapd.add([
    `dn: ou=people,${slapd.suffix}\nobjectClass: organizationalUnit\nou: people\n`,
    ...people.map((u) => `dn: uid=${u},ou=people,${slapd.suffix}\nobjectClass: inetOrgPerson\nuid: ${u}\ncn: ${u}\nsn: ${u}\nmail: ${u}@corp.test\n`),
  ].join('\n'));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, `${slapd.rootPassword}\n`);
  const settings = (over: Partial<LdapSettings>): LdapSettings => ({
    url: slapd.url, bindDn: slapd.rootDn, bindPasswordFile: passwordFile, baseDns: [slapd.suffix], preset: 'ldap', attributes: {},
    everyMinutes: 0, timeoutMs: 10_000, startTls: false, allowPlaintext: false, ...over,
  });

  await t.test('StartTLS with the CA that signed the server\'s certificate reads the directory', async () => {
    const snapshot = await new LdapDirectory(settings({ startTls: true, caFile: slapd.caFile! })).read();
    assert.deepEqual(snapshot.people.map((p) => p.userName).sort(), people);
  });

  await t.test('without StartTLS the password is refused by the server (and would have gone in the clear)', async () => {
    await assert.rejects(new LdapDirectory(settings({})).read(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SEALBOX_ERR_UPSTREAM');
      assert.match(err.message, /refused the bind/);
      assert.match(err.message, /confidentiality required/i);
      return true;
    });
  });

  await t.test('a certificate the configured CAs do not vouch for stops before the bind', async () => {
    // The system's CAs (no caFile) know nothing of the test's own CA.
    await assert.rejects(new LdapDirectory(settings({ startTls: true })).read(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SEALBOX_ERR_UPSTREAM');
      assert.match(err.message, /StartTLS with the directory at .* failed, so no password was sent: .*(self[- ]signed|certificate)/i);
      return true;
    });
  });

  await t.test('a sync through the API over StartTLS', async () => {
    const w = await startInProcessWorld({
      messages: {}, mailboxes: {}, users: {},
      config: { directory: { ldap: { url: slapd.url, bindDn: slapd.rootDn, bindPasswordFile: passwordFile, baseDns: [slapd.suffix], everyMinutes: 0, startTls: true, caFile: slapd.caFile } } },
    });
    try {
      const r = await w.as.adm.call('POST', '/api/v1/directory/sync', { dryRun: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.state, 'dry-run');
      assert.ok(r.body.changes.length >= people.length, JSON.stringify(r.body.changes.slice(0, 3)));
    } finally {
      await w.stop();
    }
  });
});

test('the config refuses a bind password in the clear to another host, and StartTLS on ldaps://', () => {
  const ldap = (over: Record<string, unknown>) => ({ directory: { ldap: { bindDn: 'cn=reader,dc=corp,dc=test', bindPasswordFile: '/etc/sealbox/ldap-password', baseDns: ['dc=corp,dc=test'], ...over } } });
  assert.throws(() => loadConfig(testConfig(ldap({ url: 'ldap://dc1.corp.test' }))), /directory\.ldap\.url.*in the clear: set startTls: true/s);
  assert.throws(() => loadConfig(testConfig(ldap({ url: 'ldaps://dc1.corp.test', startTls: true }))), /directory\.ldap\.startTls.*StartTLS is for ldap:\/\//s);
  for (const ok of [{ url: 'ldap://dc1.corp.test', startTls: true }, { url: 'ldap://dc1.corp.test', allowPlaintext: true }, { url: 'ldaps://dc1.corp.test' }, { url: 'ldap://127.0.0.1:3389' }, { url: 'ldap://localhost' }, { url: 'ldap://[::1]:389' }]) {
    const config = loadConfig(testConfig(ldap(ok)));
    assert.equal(config.directory.ldap?.url, ok.url);
  }
});
