// GDPR Art. 17 (issue 15, item 6): an erasure request, filed by one person and approved by
// another, disposes of the mail the person takes part in that nothing keeps, and erases their
// personal data from the ledger's payloads: afterwards no leaf and no payload of the ledger holds
// their address, every leaf hash is what it was (so every proof still verifies), and verify passes
// against the archive's checkpoints and an older one kept as a witness. Mail a legal hold covers
// stays, with the reason in the certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWhole } from '../src/cli/commands/verify.ts';
import { startInProcessWorld } from './support/in-process.ts';

const ERIN = 'erin@ext.test';
const HANK = 'hank@ext.test';

test('an approved erasure leaves no trace of the address in the ledger, and every proof verifies', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      e1: { from: ERIN, to: 'olga@corp.test', subject: 'proposal', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      e2: { from: ERIN, to: 'olga@corp.test', subject: 'follow-up', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
      h1: { from: HANK, to: 'olga@corp.test', subject: 'dispute letter', date: 'Fri, 17 Jan 2025 10:00:00 +0000' },
      o1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'lunch', date: 'Sat, 18 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha, archive } = world;
  const { meta } = archive.stores;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // An investigation searches for Erin by address: the query is in that entry's payload.
  const grant = (await call('rita', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'complaint', ticket: 'LEG-1', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).id;
  await call('appr', 'POST', `/api/v1/requests/${grant}/approve`, { reason: 'ok' });
  assert.equal((await call('rita', 'GET', `/api/v1/search?q=from:${ERIN}&grant=${grant}`)).results.length, 2);
  await call('olga', 'GET', `/api/v1/messages/${sha.e1}`);
  await call('adm', 'POST', '/api/v1/holds', { name: 'Dispute', matter: 'LEG-9', custodians: ['olga@corp.test'], query: 'dispute' });
  await world.parts.checkpoint();
  const witnessed = (await meta.read((tx) => meta.latestCheckpoint(tx)))!;
  const hashesBefore = await meta.read((tx) => meta.leafHashes(tx, 0, witnessed.size));

  const rows = async () => {
    const out: { index: number; text: string }[] = [];
    await meta.read(async (tx) => {
      for await (const r of meta.ledgerRows(tx)) out.push({ index: r.index, text: `${r.leaf.toString('utf8')} ${r.payload?.toString('utf8') ?? ''}`.toLowerCase() });
    });
    return out;
  };
  assert.ok((await rows()).filter((r) => r.text.includes(ERIN)).length >= 3, 'before: the captures and the search name her (not vacuous)');

  // Filed by one, refused to the same person, approved by another.
  await call('olga', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: [ERIN], reference: 'DSR-1', reason: 'her request' }, 403);
  await call('both', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: ['not-an-address'], reference: 'DSR-1', reason: 'x' }, 400);
  const filed = await call('both', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: [ERIN.toUpperCase()], reference: 'DSR-1', reason: 'her request of 2 Dec' });
  assert.deepEqual([filed.state, filed.addresses], ['pending', [ERIN]]);
  const self = await call('both', 'POST', `/api/v1/subject-requests/${filed.id}/approve`, { reason: 'ok' }, 403);
  assert.match(self.error.message, /no one approves an erasure they asked for/);
  const done = await call('appr', 'POST', `/api/v1/subject-requests/${filed.id}/approve`, { reason: 'nothing keeps her mail' });
  assert.equal(done.state, 'approved');
  assert.deepEqual(done.outcome.messages.disposed.sort(), [sha.e1, sha.e2].sort());
  assert.deepEqual(done.outcome.messages.kept, []);
  assert.ok(done.outcome.ledger.erased >= 1, 'the search entry, at least');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.e1}`)).status, 410);
  await call('appr', 'POST', `/api/v1/subject-requests/${filed.id}/approve`, { reason: 'again' }, 409);

  // No leaf and no payload of the ledger holds her address; every earlier leaf hash is unchanged.
  assert.deepEqual((await rows()).filter((r) => r.text.includes(ERIN)).map((r) => r.index), [], 'no trace of the address');
  assert.deepEqual(await meta.read((tx) => meta.leafHashes(tx, 0, witnessed.size)), hashesBefore, 'the tree is the tree the witness signed');
  await world.parts.checkpoint();
  assert.deepEqual((await verifyWhole(archive, [{ source: 'witness', note: witnessed.note }])).problems, []);
  const listed = (await call('aud', 'GET', '/api/v1/subject-requests')).requests;
  assert.equal(listed[0].state, 'carried out');
  assert.match(listed[0].addresses[0], /^sha256:[0-9a-f]{64}$/, 'the request keeps only a hash of what it erased');
  assert.ok(!JSON.stringify(listed).includes(ERIN));

  // Hank's letter is under legal hold: it stays, and the certificate says why.
  const hank = await call('both', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: [HANK], reference: 'DSR-2', reason: 'his request' });
  const kept = await call('appr', 'POST', `/api/v1/subject-requests/${hank.id}/approve`, { reason: 'ok' });
  assert.deepEqual(kept.outcome.messages.disposed, []);
  assert.deepEqual(kept.outcome.messages.kept.map((k: any) => k.sha256), [sha.h1]);
  assert.match(kept.outcome.messages.kept[0].why, /legal hold hold_\S+ \(Art\. 17\(3\)\(e\)\)/);
  assert.deepEqual(kept.outcome.ledger.kept.map((k: any) => k.why), ['the receipt of a message kept (above)']);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.h1}`)).status, 200);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.o1}`)).status, 200, 'nobody else\'s mail is touched');
  assert.deepEqual((await verifyWhole(archive)).problems, []);
});
