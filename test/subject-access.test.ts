// GDPR Art. 15 (issue 15, item 6): a data subject's access request is an access request like any
// other. A requester names the person's addresses; the request covers the mailboxes holding mail
// in which one of them takes part (any role, Bcc by envelope included), narrowed by its fixed
// query to exactly that mail. Nothing is readable before someone else approves it; then the
// ordinary export under the grant holds exactly the person's mail from every mailbox, and the
// owners of those mailboxes see the access as they see any other. The filing, the search for the
// person it made, and every refusal are ledger entries; the entries carry counts, not addresses.
// Until it is approved, its filer learns nothing of whether the person has mail: the request is
// filed and answered alike either way (sealed: no mailboxes, as many approvals as the most
// sensitive mailbox would need).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

const ERIN = 'erin@ext.test';
const ERIN_HOME = 'erin.b@home.test';   // her second address

// A message with the headers given; the envelope's recipients are To and Cc unless `rcpt` says more.
function mail(h: { from: string; to: string; cc?: string; sender?: string; subject: string; body?: string }): Buffer {
  return Buffer.from(`From: ${h.from}\r\n${h.sender ? `Sender: ${h.sender}\r\n` : ''}To: ${h.to}\r\n${h.cc ? `Cc: ${h.cc}\r\n` : ''}Subject: ${h.subject}\r\n`
    + `Date: Mon, 03 Mar 2025 10:00:00 +0000\r\nMessage-ID: <${h.subject}@corp.test>\r\n\r\n${h.body ?? h.subject} body text\r\n`);
}

test('an Art. 15 request is filed, approved by someone else and exported like any grant, and covers exactly the person\'s mail', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {},
    // ceo@ holds none of her mail; being executive (2 approvals), it makes every sealed request need 2.
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'carl@corp.test': 'carl', 'ceo@corp.test': ',executive' },
    users: { olga: ['owner'], bob: ['owner'], carl: ['owner'], rita: ['requester', 'approver'], appr: ['approver'], appr2: ['approver'], plain: ['owner'], sam: ['requester'] },
  });
  t.after(() => world.stop());
  const { as } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.body instanceof Buffer ? r.body.toString() : JSON.stringify(r.body)}`);
    return r.body;
  };
  const sent: Record<string, { envelope: { from: string; to: string[] }; raw: Buffer }> = {
    // Erin in every role, across three mailboxes:
    asFrom: { envelope: { from: ERIN, to: ['olga@corp.test'] }, raw: mail({ from: ERIN, to: 'olga@corp.test', subject: 's-from' }) },
    asCc: { envelope: { from: 'olga@corp.test', to: ['bob@corp.test', ERIN_HOME] }, raw: mail({ from: 'olga@corp.test', to: 'bob@corp.test', cc: ERIN_HOME, subject: 's-cc' }) },
    asBcc: { envelope: { from: 'bob@corp.test', to: ['carl@corp.test', ERIN] }, raw: mail({ from: 'bob@corp.test', to: 'carl@corp.test', subject: 's-bcc' }) },
    asSender: { envelope: { from: ERIN, to: ['bob@corp.test'] }, raw: mail({ from: 'olga@corp.test', sender: ERIN, to: 'bob@corp.test', subject: 's-sender' }) },
    asTo: { envelope: { from: 'carl@corp.test', to: [ERIN.toUpperCase()] }, raw: mail({ from: 'carl@corp.test', to: ERIN.toUpperCase(), subject: 's-to' }) },
    // Not hers: other people's mail in the same mailboxes, mail that only mentions her, a look-alike address.
    other1: { envelope: { from: 'x@ext.test', to: ['olga@corp.test'] }, raw: mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: 'u-other' }) },
    other2: { envelope: { from: 'bob@corp.test', to: ['carl@corp.test'] }, raw: mail({ from: 'bob@corp.test', to: 'carl@corp.test', subject: 'u-mentions', body: `ask ${ERIN} about it` }) },
    other3: { envelope: { from: `x${ERIN}`, to: ['bob@corp.test'] }, raw: mail({ from: `x${ERIN}`, to: 'bob@corp.test', subject: 'u-lookalike' }) },
    // Hers, but no archived mailbox takes part: outside every grant's scope.
    outside: { envelope: { from: ERIN, to: ['friend@other.test'] }, raw: mail({ from: ERIN, to: 'friend@other.test', subject: 'o-outside' }) },
  };
  for (const m of Object.values(sent)) await world.deliver(m.envelope, m.raw);
  await world.takeAll();

  // Bad input is answered by the field at fault, and changes nothing.
  const base = { addresses: [ERIN, ERIN_HOME], reference: 'DSAR-7', justification: 'Erin asked for a copy of her data on 2 March', durationHours: 24 };
  for (const [body, field] of [[{ ...base, addresses: [] }, 'addresses'], [{ ...base, addresses: ['not-an-address'] }, 'addresses'], [{ ...base, addresses: [' '] }, 'addresses'],
    [{ ...base, reference: '' }, 'reference'], [{ ...base, durationHours: 24 * 365 }, 'durationHours']] as const) {
    const r = await call('rita', 'POST', '/api/v1/subject-requests/access', body, 400);
    assert.deepEqual(r.error.fields, [field], JSON.stringify(r));
  }
  assert.deepEqual(await world.takeAll(), [], 'bad input is not an attempt on anything');

  // Someone without the requester role is refused, and the refusal is an entry.
  await call('plain', 'POST', '/api/v1/subject-requests/access', base, 403);
  const refused = await world.take('plain');
  assert.deepEqual(refused.map((e) => [e.operation, e.result]), [['request.file', 'denied']]);

  // Filed: an ordinary request with its purpose, the mailboxes holding her mail, and a query for
  // exactly it. A filer who is not an approver sees it sealed until it is approved (below); rita
  // is an approver too, and approvers see every request whole.
  const filed = await call('rita', 'POST', '/api/v1/subject-requests/access', base);
  assert.equal(filed.state, 'pending');
  assert.equal(filed.purpose, 'subject-access-request');
  assert.equal(filed.ticket, 'DSAR-7');
  assert.deepEqual([filed.sealed, filed.approvalsNeeded], [false, 2], 'as many approvals as the archive\'s most sensitive mailbox needs, though ceo@ holds none of her mail');
  assert.deepEqual(filed.mailboxes, ['bob@corp.test', 'carl@corp.test', 'olga@corp.test']);
  assert.deepEqual(filed.permissions, ['search', 'read', 'export']);
  assert.equal(filed.durationHours, 24);
  assert.match(filed.query, /^from:"erin@ext\.test" OR sender:"erin@ext\.test" OR to:"erin@ext\.test" OR cc:"erin@ext\.test" OR bcc:"erin@ext\.test" OR from:"erin\.b@home\.test"/);
  const [entry, ...more] = await world.take('rita');
  assert.deepEqual(more, []);
  assert.deepEqual([entry.operation, entry.result, entry.grantId, entry.objects.mailboxes], ['request.file', 'success', filed.id, filed.mailboxes]);
  assert.equal(entry.parameters.purpose, 'subject-access-request');
  assert.deepEqual(entry.parameters.subjectAccess, { addresses: 2, messages: 6, mailboxes: 3 }, 'the search for her, counted (her mail outside every mailbox included)');
  assert.ok(!JSON.stringify(entry).includes('erin'), 'the entry does not name her');
  // Approvers are told as of any request.
  const told = await call('appr', 'GET', '/api/v1/me/notifications');
  assert.ok(told.notifications.some((n: any) => n.kind === 'request.filed' && n.body.includes(filed.id)), JSON.stringify(told));

  // Nothing is readable before approval; the filer cannot approve their own request.
  const exportPath = `/api/v1/export?q=${encodeURIComponent(filed.query)}&grant=${filed.id}`;
  const early = await as.rita.call('GET', exportPath);
  assert.equal(early.status, 403, JSON.stringify(early.body));
  assert.deepEqual((await world.take('rita')).map((e) => [e.operation, e.result]), [['export', 'denied']]);
  const own = await call('rita', 'POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'fine' }, 403);
  assert.match(own.error.message, /no one can decide on their own request/);
  assert.equal((await call('appr', 'POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'identity checked, DSAR-7' })).state, 'pending');
  assert.equal((await call('appr2', 'POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'second pair of eyes' })).state, 'active');


  // The ordinary export under the grant: exactly her mail, from all three mailboxes.
  const r = await as.rita.call('GET', exportPath);
  assert.equal(r.status, 200);
  const mbox = r.body.toString('latin1');
  const subjects = [...mbox.matchAll(/^Subject: (\S+)\r?$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(subjects, ['s-bcc', 's-cc', 's-from', 's-sender', 's-to']);
  assert.deepEqual([r.headers.get('x-sealbox-messages'), r.headers.get('x-sealbox-total')], ['5', '5']);
  const exported = (await world.take('rita')).find((e) => e.operation === 'export')!;
  assert.deepEqual([exported.result, exported.grantId, exported.objects.messages.length, [...exported.objects.mailboxes].sort()], ['success', filed.id, 5, filed.mailboxes]);

  // Someone whose mail no mailbox holds: filed and answered exactly alike (only its id, times and
  // what was typed differ), so the filer learns nothing before approval; approved, its grant
  // covers no mailbox and its export holds nothing, which is the answer.
  const none = await call('sam', 'POST', '/api/v1/subject-requests/access', { ...base, addresses: ['friend@other.test'] });
  const shape = (r: any) => ({ ...r, id: undefined, createdAt: undefined, lapsesAt: undefined, query: undefined });
  const again = await call('sam', 'POST', '/api/v1/subject-requests/access', base);
  assert.deepEqual(shape(none), shape(again));
  assert.deepEqual([again.sealed, again.mailboxes, again.approvalsNeeded, again.tooFewApprovers], [true, [], 2, false]);
  assert.deepEqual(shape(await call('sam', 'GET', `/api/v1/requests/${none.id}`)), shape(await call('sam', 'GET', `/api/v1/requests/${again.id}`)));
  const [nothing] = await world.take('sam');
  assert.deepEqual([nothing.operation, nothing.result, nothing.objects.mailboxes, nothing.parameters.subjectAccess], ['request.file', 'success', [], { addresses: 1, messages: 1, mailboxes: 0 }]);
  await world.takeAll();
  for (const who of ['appr', 'appr2']) await call(who, 'POST', `/api/v1/requests/${none.id}/approve`, { reason: 'identity checked' });
  const empty = await call('sam', 'GET', `/api/v1/requests/${none.id}`);
  assert.deepEqual([empty.state, empty.sealed, empty.mailboxes], ['active', false, []]);
  const nothingThere = await as.sam.call('GET', `/api/v1/export?q=${encodeURIComponent(empty.query)}&grant=${none.id}`);
  assert.equal(nothingThere.status, 200);
  assert.deepEqual([nothingThere.body.length, nothingThere.headers.get('x-sealbox-total')], [0, '0']);
  // Denied, it stays sealed to its filer, in the answer and in the notice.
  await call('appr', 'POST', `/api/v1/requests/${again.id}/deny`, { reason: 'identity not checked' });
  assert.deepEqual((await call('sam', 'GET', `/api/v1/requests/${again.id}`)).mailboxes, []);
  const notice = (await call('sam', 'GET', '/api/v1/me/notifications')).notifications.find((n: any) => n.kind === 'request.denied' && n.body.includes(again.id));
  assert.match(notice.body, /Mailboxes: {5}those holding the person's mail \(shown once approved\)/);
  assert.ok(!/olga@corp\.test|bob@corp\.test/.test(notice.body));

  // The owners see the access on their transparency page, each counting only their own messages.
  const seen = async (who: string) => (await call(who, 'GET', '/api/v1/mailboxes/mine/accesses')).requests.filter((g: any) => g.request?.id === filed.id);
  for (const [who, mine] of [['olga', 3], ['bob', 3], ['carl', 2]] as const) {
    const [g, ...others] = await seen(who);
    assert.deepEqual(others, []);
    assert.deepEqual([g.request.purpose, g.request.ticket, g.person.name, g.exports, g.messagesExported], ['subject-access-request', 'DSAR-7', 'rita', 1, mine], who);
  }

  // A policy that does not allow the purpose refuses the request by naming it.
  const policy = await call('adm', 'GET', '/api/v1/policy');
  await call('adm', 'POST', '/api/v1/policy', { purposes: policy.purposes.filter((p: string) => p !== 'subject-access-request') });
  await world.takeAll();
  const unallowed = await call('rita', 'POST', '/api/v1/subject-requests/access', base, 400);
  assert.match(unallowed.error.message, /purpose "subject-access-request" is not allowed/);
  assert.deepEqual(await world.take('rita'), [], 'refused before anyone was searched for');
});
