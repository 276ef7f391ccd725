// The Administration page's directory sync, in Debian's Chromium against Sealbox in this process
// and a private slapd: the admin sees where the directory is read from and which groups give which
// role, runs a dry run (nothing changes, the plan is listed) and a sync (each change with what came
// of it: applied, staged, filed); when most people vanish from the directory the sync stops and
// the page offers to go ahead; an auditor sees it all without the buttons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, openAs } from './support/browser.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { startSlapd } from './support/slapd.ts';

const N = 20;
const uid = (i: number) => `u${String(i).padStart(3, '0')}`;

test('web: the directory sync on the Administration page', { timeout: 300_000 }, async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  const dn = (i: number) => `uid=${uid(i)},ou=people,${slapd.suffix}`;
  await slapd.add([
    `dn: ou=people,${slapd.suffix}\nobjectClass: organizationalUnit\nou: people\n`,
    ...Array.from({ length: N }, (_, k) => `dn: ${dn(k + 1)}\nobjectClass: inetOrgPerson\nuid: ${uid(k + 1)}\ncn: Person ${k + 1}\nsn: ${k + 1}\ndisplayName: Person ${k + 1}\nmail: ${uid(k + 1)}@corp.test\n`),
    `dn: cn=legal,${slapd.suffix}\nobjectClass: groupOfNames\ncn: legal\nmember: ${dn(2)}\n`,
  ].join('\n'));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, slapd.rootPassword);
  const world = await startInProcessWorld({
    messages: {}, mailboxes: {}, users: { u002: ['owner'], aud: ['auditor'] }, madeAtConsole: ['u002'],
    config: {
      sso: { roleGroups: { approver: ['legal'] } },
      directory: { maxRemovalShare: 0.25, ldap: { url: slapd.url, bindDn: slapd.rootDn, bindPasswordFile: passwordFile, baseDns: [slapd.suffix], everyMinutes: 0 } },
    },
  }, { listen: true });
  t.after(() => world.stop());
  const url = world.url!;
  const problems: string[] = [];

  const adm = await openAs(browser, { url, as: world.as }, 'adm', problems);
  await adm.goto(`${url}/admin`);
  const section = adm.getByRole('region', { name: 'Directory sync' });
  await section.getByTestId('directory-source').filter({ hasText: `${slapd.url} (${slapd.suffix}), on demand only` }).waitFor();
  assert.deepEqual(await section.getByTestId('role-groups').locator('tbody tr').allTextContents(), ['approverlegalafter an approver approves']);
  await section.getByText('No sync yet.').waitFor();

  await section.getByRole('button', { name: 'Dry run' }).click();
  const last = section.getByTestId('last-sync');
  await last.filter({ hasText: 'dry run: nothing was changed' }).waitFor();
  await last.getByRole('cell', { name: 'mailbox u001@corp.test (new), owner u001' }).waitFor();
  assert.equal(await world.archive.services.db.read((tx) => world.archive.services.mailboxes.byName(tx, 'u001@corp.test')), null);

  await section.getByRole('button', { name: 'Sync now' }).click();
  await last.filter({ hasText: /LDAP, by user:adm: applied\. 20 people, 21 changes, 1 waiting for approval/ }).waitFor();
  await last.getByRole('row', { name: /role approver for u002 \(member of legal in the directory \(ldap\)\) filed role_\w+ for an approver/ }).waitFor();
  assert.equal((await world.archive.services.db.read((tx) => world.archive.services.mailboxes.byName(tx, 'u001@corp.test')))?.owner, 'u001');

  // Most people vanish: the sync stops, and the page offers to go ahead.
  await slapd.delete(Array.from({ length: 15 }, (_, k) => dn(k + 6)));
  await section.getByRole('button', { name: 'Sync now' }).click();
  await last.filter({ hasText: 'stopped by the mass-removal guard' }).waitFor();
  await last.getByRole('alert').filter({ hasText: /would disable or mark as gone 15 of 20 people/ }).waitFor();
  await section.getByRole('button', { name: 'Go ahead with the removals' }).click();
  await last.filter({ hasText: /applied\. 5 people, 15 changes/ }).waitFor();
  assert.equal((await world.archive.services.db.read((tx) => world.archive.services.leavers.changes(tx))).length, 15);

  // The auditor reads it, and runs nothing.
  const aud = await openAs(browser, { url, as: world.as }, 'aud', problems);
  await aud.goto(`${url}/admin`);
  const audSection = aud.getByRole('region', { name: 'Directory sync' });
  await audSection.getByTestId('last-sync').filter({ hasText: 'applied' }).waitFor();
  assert.equal(await audSection.getByRole('button', { name: 'Sync now' }).count(), 0);
  assert.deepEqual(problems, []);
});
