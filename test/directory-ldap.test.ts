// Directory sync from LDAP (issue 16, step 2) against a private Debian slapd loaded with a few
// hundred people: a dry run changes nothing and lists the plan; a run makes the mailboxes,
// addresses, managers and departments the LDIF says, gives the roles that read nothing at once and
// files the others, files the disabled person's leaving date; a second run changes nothing; a
// removed person becomes a leaver; the mass-removal guard stops a sync that would remove most
// people. Whoever runs the directory gets no mailbox and no role by it: the administrator named by
// the directory as owner of a mailbox, or as a member of a role's group, waits for an approver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startInProcessWorld } from './support/in-process.ts';
import { startSlapd } from './support/slapd.ts';
import type { Slapd } from './support/slapd.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { waitUntil } from './support/wait.ts';
import { testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';

const PEOPLE = 300;
const uid = (i: number) => `u${String(i).padStart(3, '0')}`;
const DEPARTMENTS = ['sales', 'legal', 'finance', 'it', 'hr'];
// u001 leads; the first of each ten reports to u001, the rest to the first of their ten.
const leadOf = (i: number) => (i === 1 ? null : i <= 10 || (i - 1) % 10 === 0 ? uid(1) : uid(Math.floor((i - 1) / 10) * 10 + 1));

// The organisation: managers as leadOf says; every third person has an alias; u300 is disabled; groups give roles; a shared board mailbox
// owned by u001, and a vault mailbox the directory hands to the Sealbox administrator.
function organisation(s: Slapd): string {
  const out: string[] = [
    `dn: ou=people,${s.suffix}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ou=groups,${s.suffix}\nobjectClass: organizationalUnit\nou: groups\n`,
    `dn: ou=shared,${s.suffix}\nobjectClass: organizationalUnit\nou: shared\n`,
  ];
  const dn = (u: string) => `uid=${u},ou=people,${s.suffix}`;
  for (let i = 1; i <= PEOPLE; i++) {
    const u = uid(i);
    const lead = leadOf(i);
    out.push([
      `dn: ${dn(u)}`, 'objectClass: inetOrgPerson', 'objectClass: sealboxMailUser', `uid: ${u}`, `cn: Person ${i}`, `sn: ${i}`,
      `displayName: Person ${i}`, `mail: ${u}@corp.test`, ...(i % 3 === 0 ? [`mailAlternateAddress: ${u}.alias@corp.test`] : []),
      ...(lead ? [`manager: ${dn(lead)}`] : []), `departmentNumber: ${DEPARTMENTS[i % 5]}`, ...(i === PEOPLE ? ['employeeType: disabled'] : []), '',
    ].join('\n'));
  }
  // The Sealbox administrator in the directory, claiming the CFO's address.
  out.push(`dn: ${dn('adm')}\nobjectClass: inetOrgPerson\nuid: adm\ncn: Admin\nsn: Admin\nmail: cfo@corp.test\n`);
  const group = (cn: string, members: string[]) => `dn: cn=${cn},ou=groups,${s.suffix}\nobjectClass: groupOfNames\ncn: ${cn}\n${members.map((m) => `member: ${dn(m)}`).join('\n')}\n`;
  out.push(group('sealbox-approvers', ['u002', 'u003']), group('sealbox-requesters', ['u004', 'u005']), group('sealbox-auditors', ['u006', 'adm']));
  out.push(`dn: cn=board,ou=shared,${s.suffix}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\ncn: board\ndisplayName: The board\nmail: board@corp.test\nmember: ${dn('u001')}\nowner: ${dn('u001')}\n`);
  out.push(`dn: cn=vault,ou=shared,${s.suffix}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\ncn: vault\nmail: vault@corp.test\nmember: ${dn('adm')}\nowner: ${dn('adm')}\n`);
  return out.join('\n');
}

function ldapConfig(s: Slapd, passwordFile: string) {
  return {
    url: s.url, bindDn: s.rootDn, bindPasswordFile: passwordFile, baseDns: [s.suffix], preset: 'ldap',
    disabledFilter: '(employeeType=disabled)', sharedFilter: '(&(objectClass=groupOfNames)(mail=*))', everyMinutes: 0,
  };
}

const roleGroups = { approver: ['sealbox-approvers'], requester: ['sealbox-requesters'], auditor: ['sealbox-auditors'] };

test('LDAP sync: dry run, run, nothing twice, a removed person leaves, the mass-removal guard', { timeout: 300_000 }, async (t) => {
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  await slapd.add(organisation(slapd));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, `${slapd.rootPassword}\n`);

  const world = await startInProcessWorld({
    messages: { cfo: { from: 'x@ext.test', to: 'cfo@corp.test', subject: 'quarterly numbers', date: 'Wed, 15 Jan 2025 10:00:00 +0000' } },
    mailboxes: { 'cfo@corp.test': 'cfo' },
    users: { cfo: ['owner'], u002: ['owner'], u004: ['owner'], u007: ['owner', 'requester'], u299: ['owner', 'records'], u300: ['owner'], appr: ['approver'], aud: ['auditor'] },
    // The people the directory gives mail were added at the console, not by the admin who syncs.
    madeAtConsole: ['u002', 'u004', 'u007', 'u299', 'u300'],
    config: { directory: { maxRemovalShare: 0.2, ldap: ldapConfig(slapd, passwordFile) }, sso: { roleGroups } },
  });
  t.after(() => world.stop());
  const { as, archive } = world;
  const s = archive.services;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const read = <T>(work: (tx: any) => Promise<T>) => s.db.read(work);
  const mailbox = (name: string) => read((tx) => s.mailboxes.byName(tx, name));
  const user = (name: string) => read((tx) => s.people.byName(tx, name));

  // Only admins sync; the refusal is recorded.
  await call('aud', 'POST', '/api/v1/directory/sync', { dryRun: true }, 403);
  await call('adm', 'POST', '/api/v1/directory/sync', { dryRun: 'yes' }, 400);

  // The dry run lists the plan and changes nothing.
  const dry = await call('adm', 'POST', '/api/v1/directory/sync', { dryRun: true });
  assert.equal(dry.state, 'dry-run');
  assert.equal(dry.summary.people, PEOPLE + 1);
  assert.equal(dry.summary.shared, 2);
  const kinds = (r: any) => r.changes.reduce((m: Record<string, number>, c: any) => ({ ...m, [c.kind]: (m[c.kind] ?? 0) + 1 }), {});
  assert.deepEqual(kinds(dry), { mailbox: PEOPLE + 1 + 2, leave: 1, disable: 1, roles: 3, 'role.file': 2 });
  assert.ok(dry.changes.every((c: any) => c.outcome === 'would apply'));
  assert.equal(await mailbox('u001@corp.test'), null, 'a dry run makes no mailbox');
  assert.deepEqual((await user('u004'))!.roles, ['owner']);

  // The run.
  const run = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.equal(run.state, 'applied');
  assert.deepEqual(kinds(run), kinds(dry));
  for (let i = 1; i < PEOPLE; i++) {
    const m = await mailbox(`${uid(i)}@corp.test`);
    assert.ok(m, `mailbox of ${uid(i)}`);
    assert.equal(m.owner, uid(i));
    assert.equal(m.displayName, `Person ${i}`);
    assert.equal(m.department, DEPARTMENTS[i % 5]);
    assert.deepEqual(m.addresses.sort(), [`${uid(i)}@corp.test`, ...(i % 3 === 0 ? [`${uid(i)}.alias@corp.test`] : [])].sort());
    assert.equal(m.manager, leadOf(i), `manager of ${uid(i)}`);
  }
  assert.equal((await mailbox('board@corp.test'))!.owner, 'u001');
  // Roles: requester at once for u004, taken from u007 (no longer in the group); approver and
  // auditor filed for an approver, not given.
  assert.deepEqual((await user('u004'))!.roles.sort(), ['owner', 'requester']);
  assert.deepEqual((await user('u007'))!.roles, ['owner']);
  assert.deepEqual((await user('u002'))!.roles, ['owner']);
  const roleChanges = await call('appr', 'GET', '/api/v1/role-changes');
  const filed = roleChanges.changes.filter((c: any) => c.state === 'pending').map((c: any) => `${c.user}:${c.role}`).sort();
  assert.deepEqual(filed, ['adm:auditor', 'u002:approver']);
  // The disabled person: their account disabled at once, their leaving date filed, not applied.
  assert.equal((await user('u300'))!.disabled, true);
  const leavers = await read((tx) => s.leavers.changes(tx));
  assert.deepEqual(leavers.map((c) => [c.mailbox, c.kind, c.decision, c.source]), [['u300@corp.test', 'leave', null, 'directory']]);
  assert.deepEqual(await read((tx) => s.leavers.states(tx)), []);

  // Whoever runs the directory gets nothing by it: the CFO's address stays the CFO's, the vault
  // is not the administrator's; both wait for someone else.
  assert.equal((await mailbox('cfo@corp.test'))!.owner, 'cfo');
  assert.equal((await mailbox('vault@corp.test')), null);
  const staged = (await call('adm', 'GET', '/api/v1/ownership-changes')).changes.filter((c: any) => c.state === 'pending');
  assert.deepEqual(staged.map((c: any) => `${c.mailbox}:${c.ownerAfter}`).sort(), ['cfo@corp.test:adm', 'vault@corp.test:adm']);
  assert.ok(run.changes.filter((c: any) => c.kind === 'mailbox' && c.owner === 'adm').every((c: any) => c.outcome.startsWith('staged')));

  // Every change is in the ledger, and the tables agree with it.
  const entries = (await world.takeAll()).filter((e) => e.actor === 'user:adm' && e.result === 'success');
  const ops = (op: string) => entries.filter((e) => e.operation === op);
  assert.deepEqual(ops('directory.sync').map((e) => e.parameters.state), ['dry-run', 'applied']);
  assert.equal(ops('mailboxes.import').length, 1);
  assert.equal(Object.keys(ops('mailboxes.import')[0].parameters.owners).length, PEOPLE + 1);
  assert.deepEqual(ops('mailboxes.import')[0].parameters.leavers.filed.map((l: any) => l.mailbox), ['u300@corp.test']);
  assert.deepEqual(ops('user.role.file').map((e) => `${e.parameters.name}:${e.parameters.role}`).sort(), ['adm:auditor', 'u002:approver']);
  assert.deepEqual(ops('user.roles').map((e) => e.parameters.name).sort(), ['adm', 'u004', 'u007']);
  assert.deepEqual(ops('user.disable').map((e) => e.parameters.name), ['u300']);
  assert.deepEqual((await world.verify()).problems, []);

  // An approver approves u002's role: it applies.
  const u002Change = roleChanges.changes.find((c: any) => c.user === 'u002');
  await call('appr', 'POST', `/api/v1/role-changes/${u002Change.id}/approve`, { reason: 'team lead' });
  assert.deepEqual((await user('u002'))!.roles.sort(), ['approver', 'owner']);

  // A second run changes nothing.
  const again = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.deepEqual(again.changes, []);
  assert.equal(again.summary.changes, 0);

  // An alias of u003's given to u002 takes it from u003: staged, once.
  await slapd.modify(`dn: uid=u002,ou=people,${slapd.suffix}\nchangetype: modify\nadd: mailAlternateAddress\nmailAlternateAddress: u003.alias@corp.test\n`);
  const conflict = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.deepEqual(conflict.changes.map((c: any) => [c.mailbox, c.what, c.outcome.replace(/own_\w+/, 'own_…')]), [['u002@corp.test', ['addresses'], 'staged own_…: takes addresses or the mailbox from u003']]);
  assert.deepEqual((await mailbox('u003@corp.test'))!.addresses.sort(), ['u003.alias@corp.test', 'u003@corp.test']);
  assert.deepEqual((await call('adm', 'POST', '/api/v1/directory/sync', {})).changes, []);

  // A rule keeps hr's mail 30 days (filed by the admin, approved by someone else). The directory
  // moving u006 from legal to hr would keep their mail to come 30 days: staged, and not staged
  // again by the next sync while it waits.
  const hr = await call('adm', 'POST', '/api/v1/retention/rules', { name: 'HR', departments: ['hr'], days: 30 });
  await call('appr', 'POST', `/api/v1/retention/changes/${hr.change.id}/approve`, { reason: 'HR keeps little' });
  await slapd.modify(`dn: uid=u006,ou=people,${slapd.suffix}\nchangetype: modify\nreplace: departmentNumber\ndepartmentNumber: hr\n`);
  const toHr = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.deepEqual(toHr.changes.map((c: any) => [c.mailbox, c.what, c.outcome.replace(/own_\w+/, 'own_…').replace(/ \(.*/, '')]),
    [['u006@corp.test', ['department'], 'staged own_…: changes the department legal to hr, so that its mail']]);
  assert.equal((await mailbox('u006@corp.test'))!.department, 'legal');
  assert.deepEqual((await call('adm', 'POST', '/api/v1/directory/sync', {})).changes, []);

  // A removed person becomes a leaver. Whoever holds a power over others (u299 keeps records) is
  // not disabled by the directory: an admin does it.
  await slapd.delete([`uid=u004,ou=people,${slapd.suffix}`, `uid=u299,ou=people,${slapd.suffix}`]);
  const removal = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.deepEqual(removal.changes.map((c: any) => `${c.kind}:${c.user}`).sort(), ['disable:u004', 'leave:u004', 'leave:u299']);
  assert.equal((await user('u004'))!.disabled, true);
  assert.equal((await user('u299'))!.disabled, false);
  assert.deepEqual(removal.skipped, [{ entry: 'u299', why: 'no longer in the directory, but holds the role records: not disabled by the directory; an admin disables the account' }]);
  assert.deepEqual((await read((tx) => s.leavers.changes(tx))).map((c) => c.mailbox).sort(), ['u004@corp.test', 'u299@corp.test', 'u300@corp.test']);

  // Most people gone: the guard stops the sync before anything changes.
  await slapd.delete(Array.from({ length: 200 }, (_, i) => `uid=${uid(i + 50)},ou=people,${slapd.suffix}`));
  const stopped = await call('adm', 'POST', '/api/v1/directory/sync', {});
  assert.equal(stopped.state, 'stopped');
  assert.match(stopped.message, /would disable or mark as gone 200 of 29\d people/);
  assert.equal((await read((tx) => s.leavers.changes(tx))).length, 3, 'nothing filed by a stopped sync');
  const confirmed = await call('adm', 'POST', '/api/v1/directory/sync', { confirm: true });
  assert.equal(confirmed.state, 'applied');
  assert.equal((await read((tx) => s.leavers.changes(tx))).length, 203);

  // The syncs, newest first, with their changes; auditors read them too.
  const syncs = await call('aud', 'GET', '/api/v1/directory/syncs?limit=10');
  assert.deepEqual(syncs.syncs.map((y: any) => y.state), ['applied', 'stopped', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'dry-run']);
  assert.deepEqual(syncs.roleGroups, roleGroups);
  assert.equal(syncs.syncs[1].changes.filter((c: any) => c.kind === 'leave').length, 200);
  await call('u007', 'GET', '/api/v1/directory/syncs', undefined, 403);
  assert.deepEqual((await world.verify()).problems, []);
});

test('sealbox directory sync at the console: dry run, run, nothing twice, the guard and --confirm', { timeout: 300_000 }, async (t) => {
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  await slapd.add(organisation(slapd));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, slapd.rootPassword);
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig({ directory: { ldap: ldapConfig(slapd, passwordFile) }, sso: { roleGroups } });
  // An archive made as an operator makes one: an import.
  mkdirSync(join(dir, 'eml'));
  writeFileSync(join(dir, 'eml', 'one.eml'), 'From: x@ext.test\r\nTo: u001@corp.test\r\nSubject: hello\r\nMessage-ID: <m1@ext.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nhi\r\n');
  assert.equal((await runImport(['eml', '--data', data, '--config', config, join(dir, 'eml')], join(dir, 'report.json'))).code, 0);
  const cli = (...args: string[]) => sealbox(['directory', 'sync', '--data', data, '--config', config, ...args]);

  const dry = await cli('--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout.toString(), /mailbox u001@corp\.test \(new\) owner u001: would apply/);
  assert.match(dry.stdout.toString(), /would make 304 change\(s\)/);
  const run = await cli('--json');
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout.toString());
  assert.equal(result.state, 'applied');
  assert.equal(result.actor.startsWith('os:'), true);
  const again = await cli();
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout.toString(), /made 0 change\(s\)/);

  await slapd.delete(Array.from({ length: 100 }, (_, i) => `uid=${uid(i + 1)},ou=people,${slapd.suffix}`));
  const stopped = await cli();
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /would disable or mark as gone 100 of 300 people .*--confirm/);
  const confirmed = await cli('--confirm');
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.match(confirmed.stdout.toString(), /leaver u001 \(u001@corp\.test\) left on .*: filed lvr_/);

  // A directory that refuses the bind changes nothing and says why.
  writeFileSync(passwordFile, 'wrong');
  const refused = await cli();
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /refused the bind as cn=admin,dc=corp,dc=test/);
});

test('serve syncs the directory on its schedule, as system:directory', { timeout: 120_000 }, async (t) => {
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  await slapd.add(organisation(slapd));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, slapd.rootPassword);
  // Every 1.2 seconds.
  const config = testConfig({ directory: { ldap: { ...ldapConfig(slapd, passwordFile), everyMinutes: 0.02 } }, sso: { roleGroups } });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.kill());
  const db = new DatabaseSync(join(server.data, 'sealbox.db'), { readOnly: true });
  t.after(() => db.close());
  const syncs = () => db.prepare('SELECT actor, state, summary FROM directory_sync ORDER BY started_at').all() as { actor: string; state: string; summary: string }[];
  const first = await waitUntil('a scheduled sync', () => syncs()[0], { timeoutMs: 60_000, detail: () => server.stderr() });
  assert.deepEqual([first.actor, first.state, JSON.parse(first.summary).changes], ['system:directory', 'applied', 304]);
  // The next one finds nothing to change.
  const second = await waitUntil('a second scheduled sync', () => syncs()[1], { timeoutMs: 60_000, detail: () => server.stderr() });
  assert.equal(JSON.parse(second.summary).changes, 0);
  assert.equal(await server.stop(), 0);
});

test("the AD preset: sAMAccountName, proxyAddresses, userAccountControl, department, managedBy", { timeout: 120_000 }, async (t) => {
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  const base = `ou=staff,${slapd.suffix}`;
  const dn = (cn: string) => `cn=${cn},${base}`;
  const person = (cn: string, sam: string, uac: number, extra: string[]) => [
    `dn: ${dn(cn)}`, 'objectClass: user', `cn: ${cn}`, `sn: ${cn}`, `sAMAccountName: ${sam}`, 'objectCategory: person', `userAccountControl: ${uac}`, `displayName: ${cn}`, ...extra, '',
  ].join('\n');
  await slapd.add([
    `dn: ${base}\nobjectClass: organizationalUnit\nou: staff\n`,
    person('Kari Nordmann', 'Kari', 512, ['mail: kari@corp.test', 'proxyAddresses: SMTP:kari.nordmann@corp.test', 'proxyAddresses: smtp:kari@corp.test', 'proxyAddresses: smtp:kn@corp.test',
      'proxyAddresses: X500:/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=kari', 'department: Finance']),
    person('Ola Nordmann', 'ola', 514, ['mail: ola@corp.test', `manager: ${dn('Kari Nordmann')}`, 'department: Sales']),
    person('Per Hansen', 'per', 66048, ['mail: per@corp.test', `manager: ${dn('Kari Nordmann')}`]),
    person('No Login', 'with space', 512, ['mail: nologin@corp.test']),
    `dn: cn=Sealbox Auditors,${base}\nobjectClass: group\ncn: Sealbox Auditors\nobjectCategory: group\nmember: ${dn('Per Hansen')}\n`,
    `dn: cn=Finance Team,${base}\nobjectClass: group\ncn: Finance Team\nobjectCategory: group\nmail: finance@corp.test\nproxyAddresses: SMTP:finance@corp.test\nproxyAddresses: smtp:fin@corp.test\nmember: ${dn('Kari Nordmann')}\nmanagedBy: ${dn('Kari Nordmann')}\n`,
  ].join('\n'));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, slapd.rootPassword);
  const { LdapDirectory } = await import('../src/directory/ldap-directory.ts');
  const snapshot = await new LdapDirectory({
    url: slapd.url, bindDn: slapd.rootDn, bindPasswordFile: passwordFile, baseDns: [base], preset: 'ad', attributes: {},
    sharedFilter: '(&(objectClass=group)(mail=*))', everyMinutes: 0, timeoutMs: 10_000, startTls: false, allowPlaintext: false,
  }).read();
  assert.deepEqual(snapshot.people.map((p) => ({ ...p })).sort((a, b) => a.userName.localeCompare(b.userName)), [
    { userName: 'kari', displayName: 'Kari Nordmann', addresses: ['kari.nordmann@corp.test', 'kari@corp.test', 'kn@corp.test'], manager: null, department: 'Finance', disabled: false, groups: ['Finance Team'] },
    { userName: 'ola', displayName: 'Ola Nordmann', addresses: ['ola@corp.test'], manager: 'kari', department: 'Sales', disabled: true, groups: [] },
    { userName: 'per', displayName: 'Per Hansen', addresses: ['per@corp.test'], manager: 'kari', department: null, disabled: false, groups: ['Sealbox Auditors'] },
  ]);
  assert.deepEqual(snapshot.shared, [{ name: 'finance@corp.test', displayName: 'Finance Team', addresses: ['finance@corp.test', 'fin@corp.test'], owner: 'kari' }]);
  assert.deepEqual(snapshot.skipped, [{ entry: dn('No Login'), why: '"with space" (sAMAccountName) cannot be a Sealbox user name' }]);
});
