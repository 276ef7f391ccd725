import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';

test('export needs the export permission and holds exactly the scope; break-glass reviews are closed by someone else; sign-in is rate limited', { timeout: 60_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'ola@corp.test': 'ola', 'per@corp.test': 'per' },
    users: { ola: ['owner'], ivar: ['requester', 'breakglass'], anne: ['approver'] },
    access: { signinPerMinute: 14 },
  });
  t.after(() => world.stop());
  const sent = [
    Buffer.from('From: x@partner.test\r\nTo: ola@corp.test\r\nSubject: quarterly numbers\r\nDate: Mon, 04 Mar 2024 09:00:00 +0000\r\n\r\nFrom here on, numbers.\r\n>From the desk\r\n'),
    Buffer.from('From: y@partner.test\r\nTo: per@corp.test\r\nSubject: quarterly numbers for per\r\nDate: Mon, 04 Mar 2024 09:00:00 +0000\r\n\r\nper only\r\n'),
  ];
  await world.deliver({ from: 'x@partner.test', to: ['ola@corp.test'] }, sent[0]);
  await world.deliver({ from: 'y@partner.test', to: ['per@corp.test'] }, sent[1]);
  const { ola, ivar, anne } = world.as;

  // The owner exports her own mail as mboxrd, exactly.
  let r = await ola.call('GET', '/api/v1/export?q=quarterly');
  assert.equal(r.status, 200);
  const mbox = r.body.toString('latin1');
  assert.equal(r.headers.get('x-sealbox-messages'), '1');
  assert.match(mbox, /^From sealbox@localhost /);
  assert.match(mbox, /\n>>From the desk\n/, 'mboxrd quoting');
  assert.ok(!mbox.includes('per only'));

  // A grant without the export permission cannot export; one with it exports only its scope.
  r = await ivar.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'case 1', ticket: 'LEG-1', mailboxes: ['ola@corp.test'], permissions: ['search'], durationHours: 1 });
  const searchOnly = r.body.id;
  await anne.call('POST', `/api/v1/requests/${searchOnly}/approve`, { reason: 'ok' });
  r = await ivar.call('GET', `/api/v1/export?q=quarterly&grant=${searchOnly}`);
  assert.equal(r.status, 403);
  assert.match(r.body.error.message, /does not allow export/);
  r = await ivar.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'case 1 export', ticket: 'LEG-1', mailboxes: ['ola@corp.test'], permissions: ['search', 'export'], durationHours: 1 });
  const withExport = r.body.id;
  await anne.call('POST', `/api/v1/requests/${withExport}/approve`, { reason: 'ok' });
  r = await ivar.call('GET', `/api/v1/export?q=quarterly&grant=${withExport}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-sealbox-messages'), '1');
  assert.ok(!r.body.toString('latin1').includes('per only'), "per's mail is outside the scope");

  // Break-glass: a review item that the holder cannot close, someone else must.
  r = await ivar.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'phishing', mailboxes: ['per@corp.test'], permissions: ['search'], durationHours: 0.25 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const reviews = (await anne.call('GET', '/api/v1/reviews')).body.reviews;
  const review = reviews.find((x: any) => x.requestId === r.body.id);
  assert.equal(review.state, 'open');
  assert.equal((await ivar.call('POST', `/api/v1/reviews/${review.id}/claim`, {})).status, 403);
  assert.equal((await anne.call('POST', `/api/v1/reviews/${review.id}/close`, { note: 'fine' })).status, 409, 'an unclaimed item is not closed unreviewed');
  assert.equal((await anne.call('POST', `/api/v1/reviews/${review.id}/claim`, {})).status, 200);
  r = await anne.call('POST', `/api/v1/reviews/${review.id}/review`, { note: 'incident INC-5 confirmed, access proportionate' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await ivar.call('POST', `/api/v1/reviews/${review.id}/close`, { note: 'fine' })).status, 403);
  r = await anne.call('POST', `/api/v1/reviews/${review.id}/close`, { note: 'closed' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await anne.call('GET', '/api/v1/reviews')).body.reviews.find((x: any) => x.id === review.id).state, 'closed');

  // Sign-in attempts per client address are limited (on top of the per-account lockout).
  let status = 0;
  for (let i = 0; i < 20 && status !== 429; i++) status = (await world.client().call('POST', '/api/v1/session', { name: 'nobody', password: 'x' })).status;
  assert.equal(status, 429);
});
