import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessWorld } from './support/in-process.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startWebhookSink } from './support/webhook-sink.ts';

test('requests, decisions and break-glass notify the right people by mail and signed webhook, as mailbox policy says', { timeout: 60_000 }, async (t) => {
  // A local SMTP sink and a webhook receiver: real peers on the loopback, reached by the
  // in-process notification sender, which the test kicks instead of waiting for its timer.
  const sink = await startSmtpSink();
  const inbox = sink.inbox;
  const webhook = await startWebhookSink();
  const hooks = webhook.posts;
  // The world stops first: the sender's pooled SMTP connections end before the sink closes (a
  // closing SMTP server waits for its clients).
  let world: InProcessWorld | null = null;
  t.after(async () => {
    await world?.stop();
    await sink.close();
    await webhook.close();
  });
  world = await startInProcessWorld({
    messages: { hello: { from: 'x@partner.test', to: 'erik@corp.test', subject: 'hello', date: 'Tue, 05 Mar 2024 10:00:00 +0000' } },
    mailboxes: { 'erik@corp.test': 'erik' },
    users: { erik: ['owner'], ida: ['requester', 'breakglass'], alma: ['approver'], aud: ['auditor'], root: ['admin'] },
    config: { notify: { smtp: `127.0.0.1:${sink.port}`, from: 'sealbox@corp.test', auditors: ['security-advisor@corp.test'], webhooks: [{ url: webhook.url, secretFile: webhook.secretFile }], retrySeconds: 1 } },
  });
  const { erik, ida, alma, root: admin } = world.as;
  const { notifications } = world.parts;

  // Norway: the owner is told before access, with reasons, and the security adviser and HR too.
  let r = await admin.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'none' });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /legal basis/);
  r = await admin.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'before', notifyAlso: ['hr@corp.test', 'security-advisor@corp.test'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await erik.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'none', legalBasis: 'none' });
  assert.equal(r.status, 403, 'only admins set policy');

  // What is due goes out now; the check holds once the sender is done (no waiting, no retry).
  const sentNow = async (what: string, check: () => boolean) => {
    await notifications.kick();
    assert.ok(check(), `${what}; inbox: ${JSON.stringify(inbox.map((m) => m.to))}`);
  };
  const mailTo = (addr: string, subject: RegExp) => inbox.some((m) => m.to.includes(addr) && subject.test(m.data));

  r = await ida.call('POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'harassment complaint', ticket: 'HR-9', mailboxes: ['erik@corp.test'], permissions: ['search'], durationHours: 1 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = r.body.id;
  await sentNow('approvers told of the new request', () => mailTo('alma@corp.test', /awaits a decision/));
  assert.ok(!mailTo('ida@corp.test', /awaits a decision/), 'the requester is not asked to approve');

  r = await alma.call('POST', `/api/v1/requests/${id}/approve`, { reason: 'case opened by HR' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await sentNow('requester, owner, HR and security adviser told', () =>
    mailTo('ida@corp.test', /approved by alma/) && mailTo('erik@corp.test', /Access to your mailbox/) && mailTo('hr@corp.test', /Access to mailbox/) && mailTo('security-advisor@corp.test', /Access to mailbox/));
  const ownerMail = inbox.find((m) => m.to.includes('erik@corp.test') && /Access to your mailbox/.test(m.data))!.data;
  assert.match(ownerMail, /HR-9/);
  assert.match(ownerMail, /harassment complaint/);

  r = await ida.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'active phishing', mailboxes: ['erik@corp.test'], permissions: ['search', 'read'], durationHours: 0.5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.state, 'active');
  await sentNow('break-glass alert', () => mailTo('alma@corp.test', /BREAK-GLASS/) && mailTo('aud@corp.test', /BREAK-GLASS/) && mailTo('security-advisor@corp.test', /BREAK-GLASS/));
  r = await ida.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'again', mailboxes: ['erik@corp.test'], permissions: ['search'], durationHours: 2 });
  assert.equal(r.status, 400, 'break-glass lasts an hour at most');

  await sentNow('webhooks', () => hooks.some((h) => h.body.includes('breakglass.opened')));
  assert.ok(hooks.length > 0);
  for (const h of hooks) assert.ok(webhook.signedOk(h), 'every webhook is signed with the shared secret');
});
