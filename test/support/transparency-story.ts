// The investigation that "Who accessed my mailbox" is tested with, in the API (in process) and
// in Chromium: ivan ("Иван Петров") searches, opens messages as the viewer does (view, body,
// evidence, conversation; one downloaded, one opened twice), exports and is refused once, under a grant over
// olga's and bob's mailboxes; then a second request, and one on petra's mailbox, whose owner is
// told two days after a grant ends. olga reads her own mail too.
import assert from 'node:assert/strict';
import { startInProcessWorld } from './in-process.ts';
import type { InProcessWorld } from './in-process.ts';

export const DAY = 86_400_000;

// A person with a display name, enrolled and signed in (the world's own people have none).
export async function addPerson(world: InProcessWorld, name: string, displayName: string, roles: string[]) {
  const r = await world.as.adm.call('POST', '/api/v1/users', { name, displayName, roles, email: `${name}@corp.test` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const client = world.client();
  await client.enrolAndSignIn(name, r.body.enrolmentCode, `${name}-correct-horse-battery`);
  world.as[name] = client;
  return client;
}

// The investigation both tests tell: returns the grant ids.
export async function investigate(world: InProcessWorld) {
  const { as, sha } = world;
  const ok = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await as[who].call(method, path, body);
    assert.ok(r.status < 300, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  const file = async (ticket: string, mailboxes: string[], permissions: string[]) => {
    const id = (await ok('ivan', 'POST', '/api/v1/requests', { purpose: 'security-incident', justification: `phishing case ${ticket}`, ticket, mailboxes, permissions, durationHours: 4 })).body.id as string;
    await ok('appr', 'POST', `/api/v1/requests/${id}/approve`, { reason: 'ticket checked' });
    return id;
  };
  // A grant over olga's and bob's mailboxes: searches, two messages opened as the viewer opens
  // them (one of them twice, one downloaded), an export, and a message outside the scope.
  const main = await file('SEC-1', ['olga@corp.test', 'bob@corp.test'], ['search', 'read', 'export']);
  world.clock.advance(60_000);
  await ok('ivan', 'GET', `/api/v1/search?q=invoice&grant=${main}`);
  world.clock.advance(60_000);
  for (const m of [sha.o1, sha.o2]) {
    await ok('ivan', 'GET', `/api/v1/messages/${m}?grant=${main}`);
    await ok('ivan', 'GET', `/api/v1/messages/${m}/body?grant=${main}`);
    await ok('ivan', 'GET', `/api/v1/messages/${m}/evidence?grant=${main}`);
    // The viewer lists the message's conversation too (recorded as a search).
    await ok('ivan', 'GET', `/api/v1/messages/${m}/thread?grant=${main}`);
  }
  await ok('ivan', 'GET', `/api/v1/messages/${sha.o2}/raw?grant=${main}`);
  await ok('ivan', 'GET', `/api/v1/messages/${sha.b1}?grant=${main}`);
  world.clock.advance(60_000);
  await ok('ivan', 'GET', `/api/v1/messages/${sha.o1}?grant=${main}`);
  await ok('ivan', 'GET', `/api/v1/search?q=budget&grant=${main}`);
  assert.equal((await ok('ivan', 'GET', `/api/v1/export?q=invoice&grant=${main}`)).headers.get('x-sealbox-messages'), '3');
  assert.equal((await as.ivan.call('GET', `/api/v1/messages/${sha.c1}?grant=${main}`)).status, 404);
  world.clock.advance(60_000);
  // A second request, later, on olga's mailbox alone: one message read.
  const second = await file('SEC-2', ['olga@corp.test'], ['read']);
  await ok('ivan', 'GET', `/api/v1/messages/${sha.o3}?grant=${second}`);
  // A grant on petra's mailbox, whose owner is told two days after it ends.
  const late = await file('SEC-3', ['petra@corp.test'], ['search', 'read']);
  await ok('ivan', 'GET', `/api/v1/messages/${sha.p1}?grant=${late}`);
  await ok('ivan', 'GET', `/api/v1/messages/${sha.p1}/body?grant=${late}`);
  // The owner's own reads are recorded too, but are not someone else's access.
  await ok('olga', 'GET', `/api/v1/messages/${sha.o1}`);
  await ok('olga', 'GET', `/api/v1/search?q=invoice`);
  return { main, second, late };
}

export const STORY = {
  messages: {
    o1: { from: 'Leverandør Salg <sales@vendor.test>', to: 'Olga Berg <olga@corp.test>', subject: 'invoice 1 overdue', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
    o2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'invoice 2 dispute', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
    o3: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'budget draft', date: 'Sat, 15 Mar 2025 10:00:00 +0000' },
    b1: { from: 'x@ext.test', to: 'bob@corp.test', subject: 'invoice 3 paid', date: 'Sun, 16 Feb 2025 10:00:00 +0000' },
    c1: { from: 'x@ext.test', to: 'carl@corp.test', subject: 'carl memo', date: 'Sun, 16 Feb 2025 10:00:00 +0000' },
    p1: { from: 'x@ext.test', to: 'petra@corp.test', subject: 'petra memo', date: 'Sun, 16 Feb 2025 10:00:00 +0000' },
  },
  mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'carl@corp.test': 'carl', 'petra@corp.test': 'petra' },
  users: { olga: ['owner'], bob: ['owner'], carl: ['owner'], petra: ['owner'], appr: ['approver'] },
  config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
};

// The world of the story: ivan ("Иван Петров") investigates; petra is told two days after.
export async function storyWorld(how: { listen?: boolean } = {}) {
  const world = await startInProcessWorld(STORY, how);
  await addPerson(world, 'ivan', 'Иван Петров', ['requester']);
  const policy = await world.as.adm.call('POST', '/api/v1/mailboxes/petra@corp.test/policy', { notifyMode: 'after', notifyAfterDays: 2 });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  return world;
}
