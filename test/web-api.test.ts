// The API the web app adds: recovery codes, the archiving notice, the mailbox directory for
// requesters (and its CSV import) and the admins' health view; each change checked in the ledger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, base32Decode } from './support/api-client.ts';
import { recoveryCode } from './support/outbox.ts';
import { startWorld } from './support/access-world.ts';
import { currentStep, totpCode } from '../src/access/totp.ts';

test('web API: recovery codes, archiving notice, mailbox directory and import, health', { timeout: 180_000 }, async (t) => {
  const w = await startWorld({
    messages: { m1: { from: 'carol@partner.test', to: 'alice@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 10:00:00 +0000' } },
    mailboxes: { 'alice@corp.test': 'alice', 'sales@corp.test': '' },
    users: { alice: ['owner'], rita: ['requester'], anna: ['approver'] },
  });
  t.after(() => w.stop());

  await t.test('recovery codes: ten at enrolment, each signs in once instead of a TOTP code, its use in the ledger', async () => {
    const added = await w.as.adm.call('POST', '/api/v1/users', { name: 'rex', roles: ['requester'] });
    assert.equal(added.status, 200);
    const anon = new ApiClient(w.url);
    const enrol = await anon.call('POST', '/api/v1/enrol', { name: 'rex', code: added.body.enrolmentCode, password: 'rex-correct-horse-battery' });
    assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
    const codes = enrol.body.recoveryCodes as string[];
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    await w.takeAll();

    const signIn = (totp: string | undefined) => new ApiClient(w.url).call('POST', '/api/v1/session', { name: 'rex', password: 'rex-correct-horse-battery', ...(totp === undefined ? {} : { totp }) });
    assert.equal((await signIn(undefined)).status, 401, 'a second factor is required');
    const first = await signIn(codes[3].toUpperCase());   // typed in capitals: still the code
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.recoveryCodesLeft, 9);
    const again = await signIn(codes[3]);
    assert.equal(again.status, 401, 'a used recovery code is refused');
    assert.equal((await signIn('aaaaa-aaaaa')).status, 401, 'a made-up code is refused');
    const secret = base32Decode(/secret=([A-Z2-7]+)/.exec(enrol.body.totpUri)![1]);
    assert.equal((await signIn(totpCode(secret, currentStep(Date.now())))).status, 200, 'the authenticator still works');

    // Refused sign-ins name no one (anonymous), with the name tried.
    const sessions = (await w.takeAll()).filter((e) => e.operation === 'session.create' && (e.actor === 'user:rex' || e.parameters.name === 'rex'));
    assert.deepEqual(sessions.map((e) => [e.result, e.parameters.secondFactor ?? null]), [
      ['denied', null], ['success', 'recovery-code'], ['denied', null], ['denied', null], ['success', null],
    ]);
    assert.equal(sessions[1].parameters.recoveryCodesLeft, 9);

    // A new set replaces the old one.
    const rex = new ApiClient(w.url);
    rex.cookie = first.headers.get('set-cookie')!.split(';')[0];
    rex.csrf = first.body.csrfToken;
    const fresh = await rex.call('POST', '/api/v1/me/recovery-codes', {});
    assert.equal(fresh.status, 200);
    assert.equal((await signIn(codes[4])).status, 401, 'the earlier set stopped working');
    assert.equal((await signIn(fresh.body.recoveryCodes[0])).status, 200);
    assert.ok((await w.take('rex')).some((e) => e.operation === 'user.recovery-codes' && e.result === 'success'));
    // A plain owner signs in without a second factor and gets no codes.
    assert.equal((await w.as.alice.call('POST', '/api/v1/me/recovery-codes', {})).status, 409);
  });

  await t.test('archiving notice: set by an admin, shown until acknowledged, each version anew', async () => {
    assert.deepEqual((await w.as.alice.call('GET', '/api/v1/notice')).body, { text: null, version: 0, updatedAt: null, acknowledgedAt: null, mustAcknowledge: false });
    // GET /me says whether the notice waits, so that the app asks for it only then.
    const waits = async (who: string) => (await w.as[who].call('GET', '/api/v1/me')).body.mustAcknowledgeNotice;
    assert.equal(await waits('alice'), false, 'no notice');
    assert.equal((await w.as.rita.call('POST', '/api/v1/notice', { text: 'nope' })).status, 403);
    const set = await w.as.adm.call('POST', '/api/v1/notice', { text: 'All mail is archived for seven years.' });
    assert.equal(set.status, 200);
    assert.equal(set.body.version, 1);
    let mine = (await w.as.alice.call('GET', '/api/v1/notice')).body;
    assert.equal(mine.text, 'All mail is archived for seven years.');
    assert.equal(mine.mustAcknowledge, true);
    assert.equal(await waits('alice'), true, 'set, not acknowledged');
    assert.equal((await w.as.alice.call('POST', '/api/v1/notice/acknowledge', { version: 2 })).status, 409, 'a version not in force');
    assert.equal((await w.as.alice.call('POST', '/api/v1/notice/acknowledge', { version: 1 }, { csrf: false })).status, 403, 'CSRF');
    assert.equal((await w.as.alice.call('POST', '/api/v1/notice/acknowledge', { version: 1 })).status, 200);
    mine = (await w.as.alice.call('GET', '/api/v1/notice')).body;
    assert.equal(mine.mustAcknowledge, false);
    assert.equal(await waits('alice'), false, 'acknowledged');
    assert.equal(await waits('rita'), true, 'acknowledged by each person');
    assert.ok(mine.acknowledgedAt);
    assert.equal((await w.as.adm.call('GET', '/api/v1/notice')).body.acknowledgements, 1);
    await w.as.adm.call('POST', '/api/v1/notice', { text: 'All mail is archived for ten years.' });
    assert.equal((await w.as.alice.call('GET', '/api/v1/notice')).body.mustAcknowledge, true, 'a changed text is acknowledged anew');
    assert.equal(await waits('alice'), true, 'the new version waits');
    const all = await w.takeAll();
    assert.deepEqual(all.filter((e) => e.operation.startsWith('notice.')).map((e) => [e.actor, e.operation, e.result, e.parameters.version]), [
      ['user:rita', 'notice.set', 'denied', undefined],
      ['user:adm', 'notice.set', 'success', 1],
      ['user:alice', 'notice.acknowledge', 'success', 1],
      ['user:adm', 'notice.set', 'success', 2],
    ]);
  });

  await t.test('mailbox directory: requesters find mailboxes by prefix, owners may not look; admins import CSV', async () => {
    const found = await w.as.rita.call('GET', '/api/v1/mailboxes?q=ALI');
    assert.equal(found.status, 200);
    assert.deepEqual(found.body.mailboxes.map((m: any) => [m.name, m.owner, m.addresses]), [['alice@corp.test', 'alice', ['alice@corp.test']]]);
    assert.equal(found.body.mailboxes[0].sensitivity, undefined, 'requesters see no policy details');
    assert.equal((await w.as.rita.call('GET', '/api/v1/mailboxes?q=%25')).body.mailboxes.length, 0, 'a % is a character, not a wildcard');
    assert.equal((await w.as.alice.call('GET', '/api/v1/mailboxes?q=a')).status, 403);

    assert.equal((await w.as.rita.call('POST', '/api/v1/mailboxes/import', { csv: 'addresses\nx@corp.test\n' })).status, 403);
    const bad = await w.as.adm.call('POST', '/api/v1/mailboxes/import', { csv: 'addresses,owner\nbob@corp.test,bob\nnot-an-address,x\n' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /line 3/);
    assert.equal((await w.as.rita.call('GET', '/api/v1/mailboxes?q=bob')).body.mailboxes.length, 0, 'a bad file changes nothing');
    const ok = await w.as.adm.call('POST', '/api/v1/mailboxes/import', { csv: 'addresses,display_name,owner,sensitivity\nbob@corp.test;robert@corp.test,Robert Bobson,bob,hr\n', fileName: 'people.csv' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { mailboxes: 1, addresses: 2, staged: [] }, 'a mailbox with no owner yet gets its first owner at once');
    for (const q of ['bob', 'robert@', 'bobs']) {
      assert.deepEqual((await w.as.rita.call('GET', `/api/v1/mailboxes?q=${q}`)).body.mailboxes.map((m: any) => m.name), ['bob@corp.test'], q);
    }
    const full = (await w.as.adm.call('GET', '/api/v1/mailboxes?q=bob')).body.mailboxes[0];
    assert.equal(full.sensitivity, 'hr');
    assert.equal(full.notification.notifyMode, 'before');
    const entry = (await w.take('adm')).find((e) => e.operation === 'mailboxes.import' && e.result === 'success')!;
    assert.deepEqual(entry.objects.mailboxes, ['bob@corp.test']);
    assert.deepEqual(entry.parameters.owners, { 'bob@corp.test': 'bob' });
    assert.equal(entry.parameters.file, 'people.csv');
  });

  await t.test("transparency follows the mailbox's notification policy: delayed until the grant is over, or never with a legal basis", async () => {
    const policy = (body: Record<string, unknown>) => w.as.adm.call('POST', '/api/v1/mailboxes/alice@corp.test/policy', body);
    assert.equal((await policy({ notifyMode: 'after', notifyAfterDays: 0 })).status, 200);
    const filed = await w.as.rita.call('POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'complaint', ticket: 'HR-77', mailboxes: ['alice@corp.test'], permissions: ['search'], durationHours: 1 });
    assert.equal(filed.status, 200, JSON.stringify(filed.body));
    assert.equal((await w.as.anna.call('POST', `/api/v1/requests/${filed.body.id}/approve`, { reason: 'ok' })).status, 200);
    assert.equal((await w.as.rita.call('GET', `/api/v1/search?q=invoice&grant=${filed.body.id}`)).status, 200);
    const seen = async () => ((await w.as.alice.call('GET', '/api/v1/mailboxes/mine/accesses')).body.accesses as any[]).filter((a) => a.request?.id === filed.body.id);
    assert.deepEqual(await seen(), [], 'not while the grant runs');
    assert.equal((await w.as.rita.call('POST', `/api/v1/requests/${filed.body.id}/revoke`, {})).status, 200);
    const after = await seen();
    assert.deepEqual(after.map((a) => [a.actor, a.operation, a.request.purpose, a.request.ticket, a.mailboxes]), [['rita', 'search', 'hr-investigation', 'HR-77', ['alice@corp.test']]]);
    assert.equal((await policy({ notifyMode: 'after', notifyAfterDays: 30 })).status, 200);
    assert.deepEqual(await seen(), [], 'not before its 30 days are over');
    assert.equal((await policy({ notifyMode: 'none', legalBasis: 'criminal investigation, court order 12/2026' })).status, 200);
    assert.deepEqual(await seen(), [], 'never, with the legal basis recorded');
    assert.equal((await policy({ notifyMode: 'before' })).status, 200);
    assert.equal((await seen()).length, 1);
  });

  await t.test("users: an admin changes others' roles (a new second factor means an account recovery someone else approves) and disables them, never themselves", async () => {
    assert.equal((await w.as.rita.call('POST', '/api/v1/users/alice/roles', { roles: ['owner', 'approver'] })).status, 403);
    assert.equal((await w.as.adm.call('POST', '/api/v1/users/adm/roles', { roles: ['admin', 'approver'] })).status, 403, 'not one\'s own roles');
    assert.equal((await w.as.adm.call('POST', '/api/v1/users/adm/disable', { disabled: true })).status, 403);
    assert.equal((await w.as.adm.call('POST', '/api/v1/users/nobody/roles', { roles: ['owner'] })).status, 404);
    // alice signed in as a plain owner, with a password alone.
    const changed = await w.as.adm.call('POST', '/api/v1/users/alice/roles', { roles: ['owner', 'requester'] });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(changed.body.roles, ['owner', 'requester']);
    assert.equal(changed.body.enrolmentCode, undefined, 'no code for someone else ever comes back to the admin');
    assert.equal(typeof changed.body.recovery, 'string', 'a requester needs a second factor: an account recovery is filed');
    assert.equal((await w.as.alice.call('GET', '/api/v1/me')).status, 401, 'her password-only session is over');
    assert.equal((await new ApiClient(w.url).call('POST', '/api/v1/session', { name: 'alice', password: w.passwords.alice })).status, 401);
    assert.equal((await w.as.adm.call('POST', `/api/v1/recoveries/${changed.body.recovery}/approve`, { reason: 'mine' })).status, 403, 'not by the admin who asked');
    assert.equal((await w.as.anna.call('POST', `/api/v1/recoveries/${changed.body.recovery}/approve`, { reason: 'alice becomes a requester (HR-12)' })).status, 200);
    const again = new ApiClient(w.url);
    await again.enrolAndSignIn('alice', recoveryCode(w.server.data, 'alice@corp.test'), 'alice-new-horse-battery-staple');
    assert.deepEqual((await again.call('GET', '/api/v1/me')).body.roles, ['owner', 'requester']);
    w.as.alice = again;
    // Back to owner: nothing to enrol.
    const back = await w.as.adm.call('POST', '/api/v1/users/alice/roles', { roles: ['owner'] });
    assert.equal(back.body.recovery, null);
    assert.equal((await w.as.alice.call('GET', '/api/v1/me')).status, 200);

    assert.equal((await w.as.adm.call('POST', '/api/v1/users/rita/disable', { disabled: true, reason: 'left the company' })).status, 200);
    assert.equal((await w.as.rita.call('GET', '/api/v1/me')).status, 401, 'a disabled user is out at once');
    assert.equal((await w.as.adm.call('GET', '/api/v1/users')).body.users.find((u: any) => u.name === 'rita').disabled, true);
    assert.equal((await w.as.adm.call('POST', '/api/v1/users/rita/disable', { disabled: false })).status, 200);
    assert.equal((await w.as.rita.call('GET', '/api/v1/me')).status, 401, 'enabled again, her old session stays ended');
    await w.as.rita.signIn('rita', w.passwords.rita);
    assert.equal((await w.as.rita.call('GET', '/api/v1/me')).status, 200);
    const entries = (await w.take('adm')).filter((e) => e.operation.startsWith('user.'));
    assert.deepEqual(entries.map((e) => [e.operation, e.result, e.parameters.name]), [
      ['user.roles', 'denied', 'adm'], ['user.disable', 'denied', 'adm'],
      ['user.roles', 'success', 'alice'], ['user.recovery.approve', 'denied', undefined], ['user.roles', 'success', 'alice'], ['user.disable', 'success', 'rita'], ['user.enable', 'success', 'rita'],
    ]);
    assert.deepEqual([entries[2].parameters.from, entries[2].parameters.to, entries[2].parameters.reEnrolment], [['owner'], ['owner', 'requester'], true]);
  });

  await t.test('health: listeners, index lag, disk and checkpoint for admins and auditors only', async () => {
    const h = await w.as.adm.call('GET', '/api/v1/admin/health');
    assert.equal(h.status, 200);
    assert.deepEqual(h.body.listeners.map((l: any) => l.name).sort(), ['http', 'lmtp', 'smtp']);
    assert.equal(h.body.listeners.find((l: any) => l.name === 'http').port, Number(new URL(w.url).port));
    assert.equal(h.body.index.lagCaptures, 0);
    assert.ok(h.body.disk.freeBytes > 0 && h.body.disk.totalBytes >= h.body.disk.freeBytes);
    assert.ok(h.body.checkpoint.size >= 0 && Date.parse(h.body.checkpoint.at) > 0);
    assert.ok(h.body.ledger.size >= h.body.checkpoint.size);
    assert.equal((await w.as.rita.call('GET', '/api/v1/admin/health')).status, 403);
  });
});
