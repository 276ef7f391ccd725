// SCIM 2.0 (issue 16, step 3) with requests shaped as Microsoft documents Entra ID's provisioning
// (learn.microsoft.com, "Develop a SCIM endpoint" / "Known issues and resolutions with SCIM 2.0
// protocol compliance"): the same organisation pushed over SCIM and read from a private slapd
// reaches the same mailboxes, roles, filed roles and leavers; then deactivation, deletion and
// group membership through SCIM's PATCH and DELETE; bad input changes nothing; only an admin's
// token with the "scim" scope gets in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInProcessWorld } from './support/in-process.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { startSlapd } from './support/slapd.ts';

const N = 30;
const uid = (i: number) => `u${String(i).padStart(3, '0')}`;
const DEPARTMENTS = ['sales', 'legal', 'finance', 'it', 'hr'];
const leadOf = (i: number) => (i === 1 ? null : i <= 10 || (i - 1) % 10 === 0 ? 1 : Math.floor((i - 1) / 10) * 10 + 1);
const GROUPS: Record<string, number[]> = { 'sealbox-approvers': [2, 3], 'sealbox-requesters': [4, 5], 'sealbox-auditors': [6] };
const roleGroups = { approver: ['sealbox-approvers'], requester: ['sealbox-requesters'], auditor: ['sealbox-auditors'] };
const disabled = (i: number) => i === N;

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function ldif(suffix: string): string {
  const dn = (i: number) => `uid=${uid(i)},ou=people,${suffix}`;
  const out = [`dn: ou=people,${suffix}\nobjectClass: organizationalUnit\nou: people\n`, `dn: ou=groups,${suffix}\nobjectClass: organizationalUnit\nou: groups\n`];
  for (let i = 1; i <= N; i++) {
    out.push([`dn: ${dn(i)}`, 'objectClass: inetOrgPerson', 'objectClass: sealboxMailUser', `uid: ${uid(i)}`, `cn: Person ${i}`, `sn: ${i}`, `displayName: Person ${i}`,
      `mail: ${uid(i)}@corp.test`, ...(i % 3 === 0 ? [`mailAlternateAddress: ${uid(i)}.alias@corp.test`] : []), ...(leadOf(i) ? [`manager: ${dn(leadOf(i)!)}`] : []),
      `departmentNumber: ${DEPARTMENTS[i % 5]}`, ...(disabled(i) ? ['employeeType: disabled'] : []), ''].join('\n'));
  }
  for (const [cn, members] of Object.entries(GROUPS)) out.push(`dn: cn=${cn},ou=groups,${suffix}\nobjectClass: groupOfNames\ncn: ${cn}\n${members.map((m) => `member: ${dn(m)}`).join('\n')}\n`);
  return out.join('\n');
}

// What the directory gave, to compare two worlds by.
async function outcome(world: InProcessWorld) {
  const s = world.archive.services;
  return s.db.read(async (tx) => {
    const mailboxes = [];
    for (let i = 1; i <= N; i++) {
      const m = await s.mailboxes.byName(tx, `${uid(i)}@corp.test`);
      mailboxes.push(m && { name: m.name, owner: m.owner, displayName: m.displayName, addresses: [...m.addresses].sort(), manager: m.manager, department: m.department });
    }
    const people = (await s.people.list(tx)).map((u) => ({ name: u.name, roles: [...u.roles].sort(), disabled: u.disabled }));
    const roleChanges = (await s.roleChanges.list(tx)).map((c) => `${c.user}:${c.role}:${c.state}`).sort();
    const leavers = (await s.leavers.changes(tx)).map((c) => `${c.mailbox}:${c.kind}:${c.decision ?? 'pending'}:${c.source}`).sort();
    const owners = (await s.ownership.list(tx)).map((c) => `${c.mailbox}:${c.ownerAfter}:${c.decision ?? 'pending'}`).sort();
    return { mailboxes, people, roleChanges, leavers, owners };
  });
}

const worldOptions = (config: Record<string, unknown>) => ({
  messages: {},
  mailboxes: {},
  users: { u002: ['owner'], u004: ['owner'], u007: ['owner', 'requester'], u030: ['owner'], appr: ['approver'], aud: ['auditor'], helpdesk: ['requester'] },
  // The people the directory gives mail were added at the console, not by the admin who syncs.
  madeAtConsole: ['u002', 'u004', 'u007', 'u030'],
  config: { sso: { roleGroups }, ...config },
});

test('SCIM as Entra ID sends it reaches what the LDAP sync reaches; deactivate, delete, membership; bad input changes nothing', { timeout: 300_000 }, async (t) => {
  // The organisation read from LDAP.
  const slapd = await startSlapd();
  t.after(() => slapd.stop());
  await slapd.add(ldif(slapd.suffix));
  const passwordFile = join(slapd.dir, 'bind-password');
  writeFileSync(passwordFile, slapd.rootPassword);
  const viaLdap = await startInProcessWorld(worldOptions({
    directory: { ldap: { url: slapd.url, bindDn: slapd.rootDn, bindPasswordFile: passwordFile, baseDns: [slapd.suffix], disabledFilter: '(employeeType=disabled)', everyMinutes: 0 } },
  }));
  t.after(() => viaLdap.stop());
  const synced = await viaLdap.as.adm.call('POST', '/api/v1/directory/sync', {});
  assert.equal(synced.status, 200, JSON.stringify(synced.body));

  // The same organisation pushed over SCIM.
  const world = await startInProcessWorld(worldOptions({}));
  t.after(() => world.stop());
  const { as } = world;
  // Only admins hold SCIM tokens; the admin makes one (shown once, kept as a hash).
  assert.equal((await as.helpdesk.call('POST', '/api/v1/tokens', { name: 'entra', scopes: ['scim'], days: 365 })).status, 403);
  const made = await as.adm.call('POST', '/api/v1/tokens', { name: 'Entra ID provisioning', scopes: ['scim'], days: 365 });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const token: string = made.body.token;
  const stored = await world.archive.stores.meta.read(async (tx) => JSON.stringify((await import('../src/store/sqlite/transactions.ts')).on(tx).prepare('SELECT * FROM api_token').all()));
  assert.ok(!stored.includes(token) && !stored.includes(token.slice(-20)), 'only the hash is kept');
  const scim = async (method: string, path: string, body?: unknown, bearer = token) => {
    const r = await world.request({
      method, path: `/scim/v2${path}`,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = r.payload.toString();
    return { status: r.status, type: r.headers.get('content-type'), body: text ? JSON.parse(text) : null };
  };
  const ok = async (method: string, path: string, body: unknown, status: number) => {
    const r = await scim(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // Create User, as Entra ID sends it (its userName a user principal name).
  const ids: Record<number, string> = {};
  for (let i = 1; i <= N; i++) {
    const created = await ok('POST', '/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE],
      externalId: `0a21f0f2-8d2a-4f8e-bf98-${String(i).padStart(12, '0')}`,
      userName: `${uid(i)}@corp.test`,
      active: !disabled(i),
      displayName: `Person ${i}`,
      emails: [{ primary: true, type: 'work', value: `${uid(i)}@corp.test` }, ...(i % 3 === 0 ? [{ type: 'other', value: `${uid(i)}.alias@corp.test` }] : [])],
      meta: { resourceType: 'User' },
      name: { formatted: `Person ${i}`, familyName: String(i), givenName: 'Person' },
      roles: [],
      [ENTERPRISE]: { department: DEPARTMENTS[i % 5] },
    }, 201);
    assert.equal(created.userName, `${uid(i)}@corp.test`);
    assert.equal(created.meta.resourceType, 'User');
    ids[i] = created.id;
  }
  // Managers: a reference set once both users exist.
  for (let i = 2; i <= N; i++) {
    await ok('PATCH', `/Users/${ids[i]}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: `${ENTERPRISE}:manager`, value: ids[leadOf(i)!] }] }, 200);
  }
  // Create Group, then Add members, as Entra ID does.
  const groupIds: Record<string, string> = {};
  for (const [displayName, members] of Object.entries(GROUPS)) {
    const g = await ok('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'], externalId: `8aa1a0c0-${displayName}`, displayName, meta: { resourceType: 'Group' } }, 201);
    groupIds[displayName] = g.id;
    await ok('PATCH', `/Groups/${g.id}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: members.map((m) => ({ $ref: null, value: ids[m] })) }] }, 204);
  }

  // The same as from LDAP: mailboxes, people and their roles, filed roles, leavers.
  const [fromLdap, fromScim] = [await outcome(viaLdap), await outcome(world)];
  assert.deepEqual(fromScim, fromLdap);
  assert.ok(fromScim.mailboxes.every(Boolean));
  assert.deepEqual(fromScim.roleChanges, ['u002:approver:pending']);
  assert.deepEqual(fromScim.leavers, ['u030@corp.test:leave:pending:directory']);
  assert.deepEqual(fromScim.people.filter((p) => p.name.startsWith('u')), [
    { name: 'u002', roles: ['owner'], disabled: false }, { name: 'u004', roles: ['owner', 'requester'], disabled: false },
    { name: 'u007', roles: ['owner'], disabled: false }, { name: 'u030', roles: ['owner'], disabled: true },
  ]);

  // Get User by query, and by id; a group found by displayName without its members.
  const found = await ok('GET', `/Users?filter=${encodeURIComponent('userName eq "U001@corp.test"')}`, undefined, 200);
  assert.deepEqual([found.schemas, found.totalResults, found.Resources[0].id], [['urn:ietf:params:scim:api:messages:2.0:ListResponse'], 1, ids[1]]);
  assert.equal((await ok('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@corp.test"')}`, undefined, 200)).totalResults, 0);
  const one = await ok('GET', `/Users/${ids[4]}`, undefined, 200);
  assert.deepEqual(one.groups.map((g: any) => g.display), ['sealbox-requesters']);
  const group = await ok('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "sealbox-requesters"')}`, undefined, 200);
  assert.deepEqual([group.totalResults, group.Resources[0].id, group.Resources[0].members], [1, groupIds['sealbox-requesters'], undefined]);
  assert.equal((await scim('GET', '/Users')).type, 'application/scim+json; charset=utf-8');

  // Bad input: a SCIM error, nothing changed.
  await world.takeAll();
  const before = await outcome(world);
  const duplicate = await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'U001@corp.test', emails: [{ primary: true, value: 'x@corp.test' }] });
  assert.deepEqual([duplicate.status, duplicate.body.scimType, duplicate.body.schemas], [409, 'uniqueness', ['urn:ietf:params:scim:api:messages:2.0:Error']]);
  assert.equal((await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'not a name' })).body.scimType, 'invalidValue');
  assert.equal((await scim('GET', `/Users?filter=${encodeURIComponent('emails co "x"')}`)).body.scimType, 'invalidFilter');
  assert.equal((await scim('PATCH', `/Users/${ids[5]}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'not-an-address' }] })).status, 400);
  assert.equal((await scim('PATCH', `/Groups/${groupIds['sealbox-auditors']}`, { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: 'no-such-user' }] }] })).status, 400);
  assert.equal((await scim('GET', '/Users/no-such-id')).status, 404);
  const malformed = await world.request({ method: 'POST', path: '/scim/v2/Users', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: '{"userName":' });
  assert.equal(malformed.status, 400);
  assert.deepEqual(await outcome(world), before);
  assert.deepEqual((await world.takeAll()).filter((e) => e.result === 'success' && e.operation !== 'ledger.read'), []);

  // Only an admin's token with the scim scope gets in; the refusals are recorded.
  assert.equal((await scim('GET', '/Users', undefined, 'sbx_tok_0000_forged')).status, 401);
  const plain = await as.adm.call('POST', '/api/v1/tokens', { name: 'cli', scopes: ['admin'], days: 1 });
  const wrongScope = await scim('GET', '/Users', undefined, plain.body.token);
  assert.deepEqual([wrongScope.status, wrongScope.body.schemas], [403, ['urn:ietf:params:scim:api:messages:2.0:Error']]);
  const session = await as.adm.call('GET', '/scim/v2/Users');
  assert.equal(session.status, 403);
  const refusals = (await world.takeAll()).filter((e) => e.result === 'denied').map((e) => e.operation);
  assert.deepEqual(refusals, ['token.use', 'directory.scim']);

  // Deactivate (Entra ID: replace of active), a department changed without a path, a manager removed.
  await ok('PATCH', `/Users/${ids[20]}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: false }] }, 200);
  await ok('PATCH', `/Users/${ids[21]}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { [`${ENTERPRISE}:department`]: 'legal', displayName: 'Person Twenty-One' } }] }, 200);
  await ok('PATCH', `/Users/${ids[7]}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'u007.new@corp.test' }] }, 200);
  // Leaving a group: its role goes at once; a deleted user is a leaver.
  await ok('PATCH', `/Groups/${groupIds['sealbox-requesters']}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: ids[4] }] }] }, 204);
  await ok('PATCH', `/Groups/${groupIds['sealbox-approvers']}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: `members[value eq "${ids[2]}"]` }] }, 204);
  assert.equal((await scim('DELETE', `/Users/${ids[4]}`)).status, 204);
  assert.equal((await scim('GET', `/Users/${ids[4]}`)).status, 404);

  const after = await outcome(world);
  const mailbox = (i: number) => after.mailboxes[i - 1]!;
  assert.equal(mailbox(21).department, 'legal');
  assert.equal(mailbox(21).displayName, 'Person Twenty-One');
  assert.ok(mailbox(7).addresses.includes('u007.new@corp.test'));
  assert.deepEqual(after.people.find((p) => p.name === 'u004'), { name: 'u004', roles: ['owner'], disabled: true });
  assert.deepEqual(after.roleChanges, ['u002:approver:cancelled']);
  assert.deepEqual(after.leavers, ['u004@corp.test:leave:pending:directory', 'u020@corp.test:leave:pending:directory', 'u030@corp.test:leave:pending:directory']);
  const entries = (await world.takeAll()).filter((e) => e.actor === 'user:adm' && e.result === 'success');
  const requests = entries.filter((e) => e.operation === 'directory.sync').map((e) => `${e.parameters.request}:${e.parameters.source}`);
  assert.deepEqual(requests, ['PATCH /Users:scim', 'PATCH /Users:scim', 'PATCH /Users:scim', 'PATCH /Groups:scim', 'PATCH /Groups:scim', 'DELETE /Users:scim']);
  assert.ok(entries.some((e) => e.operation === 'user.roles' && e.parameters.name === 'u004' && e.parameters.source === 'scim'));
  assert.ok(entries.some((e) => e.operation === 'user.role.cancel' && e.parameters.name === 'u002'));
  assert.ok(entries.some((e) => e.operation === 'user.disable' && e.parameters.name === 'u004'));

  // The same request again changes nothing and leaves no entry.
  await ok('PATCH', `/Users/${ids[20]}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: false }] }, 200);
  assert.deepEqual((await world.takeAll()).filter((e) => e.result === 'success' && e.actor === 'user:adm'), []);
  const syncs = await as.aud.call('GET', '/api/v1/directory/syncs?limit=100');
  assert.ok(syncs.body.syncs.every((y: any) => y.source === 'scim' && y.state === 'applied'));
  // Each request planned only the people it touched; planning the whole directory now finds
  // nothing left to do: the requests, one by one, brought everyone where a whole sync would.
  const s = world.archive.services;
  const whole = await s.db.write(async (tx) => (await s.directory.syncIn(tx, { user: null, label: 'test', logonType: 'system', sessionId: null, clientIp: null, userAgent: null }, await s.scim.snapshot(tx), { dryRun: true })).result);
  assert.deepEqual(whole.changes, [], JSON.stringify(whole.changes.slice(0, 5)));
  assert.deepEqual((await world.verify()).problems, []);
  assert.deepEqual((await viaLdap.verify()).problems, []);
});
