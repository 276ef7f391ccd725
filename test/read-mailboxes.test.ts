// A read names the mailboxes the message is in, not every mailbox of the grant or of the owner:
// the owner of a mailbox in scope whose mail was not read sees no access on "Who accessed my
// mailbox", and oversight counts no access to it (the sensitive-mailbox figure and alert).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';

test('a read records the mailboxes its message is in, for grants and for owners of several mailboxes', { timeout: 60_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      a1: { from: 'x@ext.test', to: 'alice@corp.test', subject: 'alpha report', date: 'Fri, 10 Jan 2025 10:00:00 +0000' },
      b1: { from: 'x@ext.test', to: 'bob@corp.test', subject: 'bravo report', date: 'Sat, 11 Jan 2025 10:00:00 +0000' },
      c1: { from: 'x@ext.test', to: 'carl@corp.test', subject: 'charlie memo', date: 'Sun, 12 Jan 2025 10:00:00 +0000' },
      s1: { from: 'x@ext.test', to: 'sales@corp.test', subject: 'sierra memo', date: 'Mon, 13 Jan 2025 10:00:00 +0000' },
    },
    // bob's mailbox is sensitive; carl owns two mailboxes.
    mailboxes: { 'alice@corp.test': 'alice', 'bob@corp.test': 'bob,hr', 'carl@corp.test': 'carl', 'sales@corp.test': 'carl' },
    users: { alice: ['owner'], bob: ['owner'], carl: ['owner'], rita: ['requester'], appr: ['approver'], aud: ['auditor'] },
    // The sweep runs when the test kicks it (world.parts.oversight), never on its timer.
    config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha } = world;
  const api = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await as[who].call(method, path, body);
    assert.ok(r.status < 300, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  // Every entry looked at so far (the alerts are picked from them), and `who`'s since the last look.
  const all: LedgerEntryView[] = [];
  const take = async (who: string) => {
    const got = await world.takeAll();
    all.push(...got);
    return got.filter((e) => e.actor === `user:${who}`);
  };
  // The access entries `who` wrote since the last look, as [operation, result, mailboxes].
  const named = async (who: string) => (await take(who)).filter((e) => e.type === 'access').map((e) => [e.operation, e.result, e.objects.mailboxes]);

  // A message To alice that carl got by Bcc (envelope only).
  const bcc = Buffer.from('From: x@ext.test\r\nTo: alice@corp.test\r\nSubject: tango notice\r\nDate: Tue, 14 Jan 2025 10:00:00 +0000\r\nMessage-ID: <tango@corp.test>\r\n\r\ntango notice body\r\n');
  const tango = createHash('sha256').update(bcc).digest('hex');
  const delivered = await world.deliver({ from: 'x@ext.test', to: ['alice@corp.test', 'carl@corp.test'] }, bcc);
  assert.deepEqual([delivered.result.sha256, delivered.result.duplicate], [tango, false], 'committed as a new message');

  await t.test('a grant over alice and bob reading only alice\'s mail names alice alone', async () => {
    const grant = (await api('rita', 'POST', '/api/v1/requests', {
      purpose: 'legal-hold', justification: 'case 1', ticket: 'RM-1', mailboxes: ['alice@corp.test', 'bob@corp.test'], permissions: ['search', 'read', 'export'], durationHours: 1,
    })).body.id as string;
    await api('appr', 'POST', `/api/v1/requests/${grant}/approve`, { reason: 'ok' });
    await named('rita');

    assert.deepEqual((await api('rita', 'GET', `/api/v1/search?q=alpha&grant=${grant}`)).body.results.map((h: any) => h.sha256), [sha.a1]);
    await api('rita', 'GET', `/api/v1/messages/${sha.a1}?grant=${grant}`);
    await api('rita', 'GET', `/api/v1/messages/${sha.a1}/raw?grant=${grant}`);
    await api('rita', 'GET', `/api/v1/messages/${sha.a1}/body?grant=${grant}`);
    await api('rita', 'GET', `/api/v1/messages/${sha.a1}/evidence?grant=${grant}`);
    await api('rita', 'POST', `/api/v1/messages/${sha.a1}/remote-content`, { grant });
    assert.equal((await api('rita', 'GET', `/api/v1/export?q=alpha&grant=${grant}`)).headers.get('x-sealbox-messages'), '1');
    const alice = ['alice@corp.test'];
    assert.deepEqual(await named('rita'), [
      ['search', 'success', alice], ['view', 'success', alice], ['raw', 'success', alice], ['body', 'success', alice],
      ['evidence', 'success', alice], ['remote-content', 'success', alice], ['export', 'success', alice],
    ]);
    // A refusal (a message outside the scope) names the scope it was tried under, as before.
    assert.equal((await as.rita.call('GET', `/api/v1/messages/${sha.c1}?grant=${grant}`)).status, 404);
    assert.deepEqual(await named('rita'), [['view', 'denied', ['alice@corp.test', 'bob@corp.test']]]);

    // Who accessed my mailbox: alice sees rita's reads, bob sees none.
    const aliceSees = (await api('alice', 'GET', '/api/v1/mailboxes/mine/accesses')).body.accesses as any[];
    assert.ok(aliceSees.some((a) => a.actor === 'rita' && a.operation === 'view' && a.request?.id === grant), JSON.stringify(aliceSees));
    assert.deepEqual([...new Set(aliceSees.filter((a) => a.result === 'success').map((a) => a.operation))].sort(), ['body', 'evidence', 'export', 'raw', 'remote-content', 'search', 'view']);
    const bobSees = (await api('bob', 'GET', '/api/v1/mailboxes/mine/accesses')).body.accesses as any[];
    assert.deepEqual(bobSees.filter((a) => a.result === 'success'), [], 'no read touched bob\'s mailbox');

    // Oversight: bob's mailbox is sensitive, and nobody read it; a sweep over these reads of
    // alice's mail raises no sensitive-mailbox alert.
    const sensitive = () => all.filter((e) => e.operation === 'alert.raise').flatMap((e) => e.parameters.alerts as any[]).filter((a) => a.rule === 'sensitive-mailbox');
    await world.parts.oversight.kick();
    await take('');
    assert.deepEqual(sensitive(), [], 'no alert for reads of alice\'s mail');
    let report = (await api('aud', 'GET', '/api/v1/oversight/report')).body;
    assert.equal(report.sensitiveAccess.find((s: any) => s.mailbox === 'bob@corp.test'), undefined, JSON.stringify(report.sensitiveAccess));

    // Now a search whose hits are in both mailboxes: it names both, and only it counts for bob.
    assert.equal((await api('rita', 'GET', `/api/v1/search?q=report&grant=${grant}`)).body.results.length, 2);
    const entries = await take('rita');
    assert.deepEqual(entries.map((e) => [e.operation, e.objects.mailboxes]), [['search', ['alice@corp.test', 'bob@corp.test']]]);
    const bothIndex = entries[0].index;
    report = (await api('aud', 'GET', '/api/v1/oversight/report')).body;
    assert.deepEqual(report.sensitiveAccess.filter((s: any) => s.mailbox === 'bob@corp.test').map((s: any) => [s.accesses, s.people]), [[1, ['rita']]]);
    assert.deepEqual(((await api('bob', 'GET', '/api/v1/mailboxes/mine/accesses')).body.accesses as any[]).filter((a) => a.result === 'success').map((a) => [a.index, a.operation, a.mailboxes]),
      [[bothIndex, 'search', ['bob@corp.test']]]);
    // The sensitive-mailbox alert is raised once per grant and mailbox: raised by that search,
    // not by any of the earlier reads of alice's mail (the sweep takes entries in order).
    await world.parts.oversight.kick();
    await take('');
    const alerts = sensitive();
    assert.deepEqual(alerts.map((a) => [a.id, a.ledgerIndex]), [[`sensitive-mailbox:${grant}:bob@corp.test`, bothIndex]]);

    // A search that finds nothing read no mail, but looked through the whole scope: it names it,
    // and bob sees it (the query is what the searcher looked for in his mailbox).
    assert.deepEqual((await api('rita', 'GET', `/api/v1/search?q=zulu&grant=${grant}`)).body.results, []);
    assert.deepEqual(await named('rita'), [['search', 'success', ['alice@corp.test', 'bob@corp.test']]]);
    assert.deepEqual(((await api('bob', 'GET', '/api/v1/mailboxes/mine/accesses')).body.accesses as any[]).filter((a) => a.result === 'success').map((a) => [a.operation, a.messages]),
      [['search', 0], ['search', 2]]);
  });

  await t.test('an owner of two mailboxes reading a message in one names that one', async () => {
    await named('carl');
    await api('carl', 'GET', `/api/v1/messages/${sha.c1}`);
    await api('carl', 'GET', `/api/v1/messages/${sha.s1}/raw`);
    assert.equal((await api('carl', 'GET', '/api/v1/search?q=charlie')).body.results.length, 1);
    assert.equal((await api('carl', 'GET', '/api/v1/search?q=memo')).body.results.length, 2);
    // Bcc'd: linked by carl's own address, the one the message was delivered to.
    await api('carl', 'GET', `/api/v1/messages/${tango}`);
    await api('carl', 'GET', `/api/v1/messages/${tango}/raw`);
    assert.deepEqual(await named('carl'), [
      ['view', 'success', ['carl@corp.test']], ['raw', 'success', ['sales@corp.test']], ['search', 'success', ['carl@corp.test']],
      ['search', 'success', ['carl@corp.test', 'sales@corp.test']], ['view', 'success', ['carl@corp.test']], ['raw', 'success', ['carl@corp.test']],
    ]);
  });
});
