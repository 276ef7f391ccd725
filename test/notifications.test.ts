import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addApiUser } from './support/api-client.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startWebhookSink } from './support/webhook-sink.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';

test('requests, decisions and break-glass notify the right people by mail and signed webhook, as mailbox policy says', { timeout: 180_000 }, async (t) => {
  // A local SMTP sink and a webhook receiver: loopback only.
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const inbox = sink.inbox;
  const webhook = await startWebhookSink();
  t.after(() => webhook.close());
  const hooks = webhook.posts;
  const config = testConfig({
    internalDomains: ['corp.test'], access: { secureCookies: false },
    notify: { smtp: `127.0.0.1:${sink.port}`, from: 'sealbox@corp.test', auditors: ['security-advisor@corp.test'], webhooks: [{ url: webhook.url, secretFile: webhook.secretFile }], retrySeconds: 1 },
  });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const smtp = await RawSmtpClient.connect(server.smtp.port);
  await smtp.send({ from: 'x@partner.test', to: ['erik@corp.test'] }, Buffer.from('From: x@partner.test\r\nTo: erik@corp.test\r\nSubject: hello\r\n\r\nhi\r\n'));
  await smtp.quit();
  await waitForIndex(server.data);

  const csv = join(tempDataDir(), 'dir.csv');
  writeFileSync(csv, 'addresses,display_name,owner,sensitivity\nerik@corp.test,Erik,erik,\n');
  assert.equal((await sealbox(['mailboxes', 'import', '--data', server.data, '--config', config, csv])).code, 0);
  const add = (name: string, roles: string[]) => addApiUser(server, config, name, roles);
  const erik = await add('erik', ['owner']);
  const ida = await add('ida', ['requester', 'breakglass']);
  const alma = await add('alma', ['approver']);
  await add('aud', ['auditor']);
  const admin = await add('root', ['admin']);

  // Norway: the owner is told before access, with reasons, and the security adviser and HR too.
  let r = await admin.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'none' });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /legal basis/);
  r = await admin.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'before', notifyAlso: ['hr@corp.test', 'security-advisor@corp.test'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await erik.call('POST', '/api/v1/mailboxes/erik@corp.test/policy', { notifyMode: 'none', legalBasis: 'none' });
  assert.equal(r.status, 403, 'only admins set policy');

  const waitFor = (what: string, check: () => boolean) => waitUntil(what, check, { detail: () => `inbox: ${JSON.stringify(inbox.map((m) => m.to))}` });
  const mailTo = (addr: string, subject: RegExp) => inbox.some((m) => m.to.includes(addr) && subject.test(m.data));

  r = await ida.call('POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'harassment complaint', ticket: 'HR-9', mailboxes: ['erik@corp.test'], permissions: ['search'], durationHours: 1 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = r.body.id;
  await waitFor('approvers told of the new request', () => mailTo('alma@corp.test', /awaits a decision/));
  assert.ok(!mailTo('ida@corp.test', /awaits a decision/), 'the requester is not asked to approve');

  r = await alma.call('POST', `/api/v1/requests/${id}/approve`, { reason: 'case opened by HR' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitFor('requester, owner, HR and security adviser told', () =>
    mailTo('ida@corp.test', /approved by alma/) && mailTo('erik@corp.test', /Access to your mailbox/) && mailTo('hr@corp.test', /Access to mailbox/) && mailTo('security-advisor@corp.test', /Access to mailbox/));
  const ownerMail = inbox.find((m) => m.to.includes('erik@corp.test'))!.data;
  assert.match(ownerMail, /HR-9/);
  assert.match(ownerMail, /harassment complaint/);

  r = await ida.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'active phishing', mailboxes: ['erik@corp.test'], permissions: ['search', 'read'], durationHours: 0.5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.state, 'active');
  await waitFor('break-glass alert', () => mailTo('alma@corp.test', /BREAK-GLASS/) && mailTo('aud@corp.test', /BREAK-GLASS/) && mailTo('security-advisor@corp.test', /BREAK-GLASS/));
  r = await ida.call('POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'again', mailboxes: ['erik@corp.test'], permissions: ['search'], durationHours: 2 });
  assert.equal(r.status, 400, 'break-glass lasts an hour at most');

  await waitFor('webhooks', () => hooks.some((h) => h.body.includes('breakglass.opened')));
  for (const h of hooks) assert.ok(webhook.signedOk(h), 'every webhook is signed with the shared secret');
});
