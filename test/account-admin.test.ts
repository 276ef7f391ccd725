// What an admin does about other people's accounts, in this process: the users list with display
// name, e-mail, mailboxes and a lock said as a time; unlocking a locked account (recorded, the
// person told, never one's own, never by a non-admin, each refusal recorded); a new enrolment
// code only for someone not enrolled; and the access policy's refusals naming the field at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

test('admins see accounts in full, unlock others (recorded), and re-issue only waiting codes', { timeout: 60_000 }, async (t) => {
  const w = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], ada: ['admin'] },
  });
  t.after(() => w.stop());
  const { as } = w;

  // --- olga's password is guessed five times: her account locks for 15 minutes
  const guesser = w.client();
  for (let i = 0; i < 5; i++) assert.equal((await guesser.call('POST', '/api/v1/session', { name: 'olga', password: `wrong-guess-number-${i}` })).status, 401);
  const locked = await guesser.call('POST', '/api/v1/session', { name: 'olga', password: w.passwords.olga });
  assert.equal(locked.status, 401, 'a locked account answers like a wrong password');
  const lockEntry = (await w.takeAll()).filter((e) => e.operation === 'session.create' && e.result === 'denied').at(-1)!;
  assert.match(lockEntry.parameters.reason, /^account locked after 5 failed sign-ins; it opens again by itself in 15 minutes$/, 'said in words, not as a time stamp');

  const users = await as.adm.call('GET', '/api/v1/users');
  assert.equal(users.status, 200, JSON.stringify(users.body));
  const olga = users.body.users.find((u: { name: string }) => u.name === 'olga');
  assert.deepEqual({ ...olga, lockedUntil: typeof olga.lockedUntil }, {
    name: 'olga', displayName: null, email: 'olga@corp.test', roles: ['owner'], enrolled: true, disabled: false, mailboxes: ['olga@corp.test'], lockedUntil: 'string',
  });
  const lockedFor = Date.parse(olga.lockedUntil) - w.clock.now();
  assert.ok(lockedFor > 14 * 60_000 && lockedFor <= 15 * 60_000, `locked for another ${lockedFor} ms`);
  assert.equal(users.body.users.find((u: { name: string }) => u.name === 'rita').lockedUntil, null);

  // --- not a requester, not oneself: refused and recorded
  const byRita = await as.rita.call('POST', '/api/v1/users/olga/unlock', {});
  assert.equal(byRita.status, 403, JSON.stringify(byRita.body));
  assert.deepEqual((await w.take('rita')).map((e) => [e.operation, e.result, e.parameters.name]), [['user.unlock', 'denied', 'olga']]);
  const own = await as.adm.call('POST', '/api/v1/users/adm/unlock', {});
  assert.equal(own.status, 403);
  assert.match(own.body.error.message, /no one unlocks their own account/);
  assert.deepEqual((await w.take('adm')).map((e) => [e.operation, e.result, e.parameters.name, e.parameters.reason]), [['user.unlock', 'denied', 'adm', 'no one unlocks their own account']]);

  // --- another admin unlocks her: recorded (high impact) and she is told; she signs in again
  const unlocked = await as.ada.call('POST', '/api/v1/users/olga/unlock', { reason: 'she called the help desk' });
  assert.equal(unlocked.status, 200, JSON.stringify(unlocked.body));
  assert.deepEqual(unlocked.body, { name: 'olga', lockedUntil: null });
  const [entry] = await w.take('ada');
  assert.deepEqual([entry.operation, entry.result, entry.parameters.name, entry.parameters.reason, entry.parameters.lockedUntil], ['user.unlock', 'success', 'olga', 'she called the help desk', Date.parse(olga.lockedUntil)]);
  const told = (await as.olga.call('GET', '/api/v1/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'account.unlocked');
  assert.equal(told.length, 1);
  assert.match(told[0].body, /ada opened it again: she called the help desk/);
  assert.equal((await guesser.call('POST', '/api/v1/session', { name: 'olga', password: w.passwords.olga })).status, 200, 'her own password works again');
  assert.equal((await as.adm.call('GET', '/api/v1/users')).body.users.find((u: { name: string }) => u.name === 'olga').lockedUntil, null);

  // --- nothing to unlock, or no such person: refused and recorded
  const again = await as.ada.call('POST', '/api/v1/users/olga/unlock', {});
  assert.equal(again.status, 409);
  assert.match(again.body.error.message, /olga is not locked/);
  assert.equal((await as.ada.call('POST', '/api/v1/users/nobody/unlock', {})).status, 404);
  assert.deepEqual((await w.take('ada')).map((e) => [e.operation, e.result, e.parameters.name]), [['user.unlock', 'denied', 'olga'], ['user.unlock', 'denied', 'nobody']]);

  // --- a new enrolment code only for someone not enrolled: the old one stops working
  const first = await as.adm.call('POST', '/api/v1/users', { name: 'newbie', roles: ['owner'], displayName: 'New Bie' });
  const second = await as.adm.call('POST', '/api/v1/users', { name: 'newbie', roles: ['owner'] });
  assert.equal(second.status, 200);
  assert.notEqual(first.body.enrolmentCode, second.body.enrolmentCode);
  const stale = await w.client().call('POST', '/api/v1/enrol', { name: 'newbie', code: first.body.enrolmentCode, password: 'newbie-long-enough-password' });
  assert.equal(stale.status, 401, 'the earlier code no longer works');
  assert.equal((await w.client().call('POST', '/api/v1/enrol', { name: 'newbie', code: second.body.enrolmentCode, password: 'newbie-long-enough-password' })).status, 200);
  const enrolled = await as.adm.call('POST', '/api/v1/users', { name: 'olga', roles: ['owner'] });
  assert.equal(enrolled.status, 409, 'an enrolled person gets no code from an admin: that is an account recovery');
  assert.equal(enrolled.body.enrolmentCode, undefined);
});

test('the access policy names the field at fault, in words, and keeps earlier overrides visible', { timeout: 60_000 }, async (t) => {
  const w = await startInProcessWorld({ messages: {}, mailboxes: {}, users: {} });
  t.after(() => w.stop());
  const { adm } = w.as;

  const zero = await adm.call('POST', '/api/v1/policy', { lockoutMinutes: 0 });
  assert.equal(zero.status, 400);
  assert.deepEqual(zero.body.error, { code: 'SEALBOX_ERR_BAD_INPUT', message: 'policy: "lockoutMinutes": must be more than 0', fields: ['lockoutMinutes'] });
  const half = await adm.call('POST', '/api/v1/policy', { lockoutAttempts: 2.5 });
  assert.deepEqual([half.body.error.message, half.body.error.fields], ['policy: "lockoutAttempts": must be a whole number', ['lockoutAttempts']]);
  const label = await adm.call('POST', '/api/v1/policy', { purposeLabels: { 'gossip': 'Gossip' } });
  assert.deepEqual([label.status, label.body.error.fields], [400, ['purposeLabels']]);
  assert.match(label.body.error.message, /names "gossip", which is not one of the purposes/);
  const unknown = await adm.call('POST', '/api/v1/policy', { lockoutHours: 1 });
  assert.deepEqual(unknown.body.error.fields, ['lockoutHours']);

  // Loosening a safeguard names each key it would loosen.
  assert.equal((await adm.call('POST', '/api/v1/policy', { approvalsNeeded: 2 })).status, 200);
  const looser = await adm.call('POST', '/api/v1/policy', { approvalsNeeded: 1, totpRequired: false });
  assert.equal(looser.status, 403);
  assert.deepEqual(looser.body.error.fields, ['approvalsNeeded', 'totpRequired']);

  // Labels for purposes, read by everyone signed in; what was set through the API is listed,
  // so a form changing one key can keep the others (a change replaces them all).
  const labelled = await adm.call('POST', '/api/v1/policy', { approvalsNeeded: 2, purposeLabels: { 'legal-hold': 'Legal hold (litigation)' } });
  assert.equal(labelled.status, 200, JSON.stringify(labelled.body));
  assert.deepEqual((await w.as[Object.keys(w.as).find((n) => n !== 'adm')!].call('GET', '/api/v1/policy')).body.purposeLabels, { 'legal-hold': 'Legal hold (litigation)' });
  assert.deepEqual((await adm.call('GET', '/api/v1/policy/overrides')).body, { overrides: { approvalsNeeded: 2, purposeLabels: { 'legal-hold': 'Legal hold (litigation)' } } });
});
