// The AD preset against a real Active Directory domain controller: Debian's Samba provisioned
// into a temp folder (test/support/samba-ad.ts), entries written over LDAP as the domain's
// Administrator. What test/directory-ldap.test.ts shows with AD's attributes added to slapd's
// schema, here against AD's own: the default user filter `(objectCategory=person)` (a DN in real
// AD), sAMAccountName, proxyAddresses (SMTP: primary, smtp: aliases, X500: ignored),
// userAccountControl bit 2, department, manager, groups by member/memberOf (memberOf computed by
// the DC), shared mailboxes owned by managedBy. Skipped (said why) when no samba is installed or
// port 389 of the loopback is taken (Samba's AD LDAP port cannot be moved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LdapDirectory } from '../src/directory/ldap-directory.ts';
import { startSambaAd } from './support/samba-ad.ts';

test('the AD preset against a Samba Active Directory domain controller', { timeout: 300_000 }, async (t) => {
  const ad = await startSambaAd();
  if (!ad) {
    t.skip('no Samba AD DC here (samba not installed, or port 389 of the loopback taken)');
    return;
  }
  t.after(() => ad.stop());
  const base = `OU=Staff,${ad.baseDn}`;
  const dn = (cn: string) => `CN=${cn},${base}`;
  // 544: a normal account that needs no password (none is set here); 546: the same, disabled.
  const person = (cn: string, sam: string, uac: number, extra: string[]) => [
    `dn: ${dn(cn)}`, 'objectClass: user', `sAMAccountName: ${sam}`, `userAccountControl: ${uac}`, `displayName: ${cn}`, ...extra, '',
  ].join('\n');
  await ad.add([
    `dn: ${base}\nobjectClass: organizationalUnit\nou: Staff\n`,
    person('Kari Nordmann', 'Kari', 544, ['mail: kari@corp.test', 'proxyAddresses: SMTP:kari.nordmann@corp.test', 'proxyAddresses: smtp:kari@corp.test', 'proxyAddresses: smtp:kn@corp.test',
      'proxyAddresses: X500:/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=kari', 'department: Finance']),
    person('Ola Nordmann', 'ola', 546, ['mail: ola@corp.test', `manager: ${dn('Kari Nordmann')}`, 'department: Sales']),
    person('Per Hansen', 'per', 66080, ['mail: per@corp.test', `manager: ${dn('Kari Nordmann')}`]),
    person('No Login', 'with space', 544, ['mail: nologin@corp.test']),
    `dn: ${dn('Sealbox Auditors')}\nobjectClass: group\nmember: ${dn('Per Hansen')}\n`,
    `dn: ${dn('Finance Team')}\nobjectClass: group\nmail: finance@corp.test\nproxyAddresses: SMTP:finance@corp.test\nproxyAddresses: smtp:fin@corp.test\nmember: ${dn('Kari Nordmann')}\nmanagedBy: ${dn('Kari Nordmann')}\n`,
  ].join('\n'));
  const passwordFile = join(ad.dir, 'bind-password');
  writeFileSync(passwordFile, `${ad.password}\n`, { mode: 0o600 });
  const snapshot = await new LdapDirectory({
    url: ad.url, bindDn: ad.bindDn, bindPasswordFile: passwordFile, baseDns: [base], preset: 'ad', attributes: {},
    sharedFilter: '(&(objectClass=group)(mail=*))', everyMinutes: 0, timeoutMs: 10_000, startTls: false, allowPlaintext: false,
  }).read();
  assert.deepEqual(snapshot.people.map((p) => ({ ...p })).sort((a, b) => a.userName.localeCompare(b.userName)), [
    { userName: 'kari', displayName: 'Kari Nordmann', addresses: ['kari.nordmann@corp.test', 'kari@corp.test', 'kn@corp.test'], manager: null, department: 'Finance', disabled: false, groups: ['Finance Team'] },
    { userName: 'ola', displayName: 'Ola Nordmann', addresses: ['ola@corp.test'], manager: 'kari', department: 'Sales', disabled: true, groups: [] },
    { userName: 'per', displayName: 'Per Hansen', addresses: ['per@corp.test'], manager: 'kari', department: null, disabled: false, groups: ['Sealbox Auditors'] },
  ]);
  assert.deepEqual(snapshot.shared, [{ name: 'finance@corp.test', displayName: 'Finance Team', addresses: ['finance@corp.test', 'fin@corp.test'], owner: 'kari' }]);
  assert.deepEqual(snapshot.skipped.map((s) => s.why), ['"with space" (sAMAccountName) cannot be a Sealbox user name']);
});
