import { openArchive } from '../src/archive.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './support/access-world.ts';
import { loadConfig } from '../src/core/config.ts';
import { REMOTE_CONTENT_WINDOW_MS } from '../src/api/content-routes.ts';

// The viewer may load a message's remote content only on the strength of a recorded
// remote-content read: that user's, that message's, under that grant, and for 15 minutes from
// the moment it was written — checked here at the edges of the window, on the real entry.
test('a recorded remote-content read opens remote content for its user, message and grant, for 15 minutes only', { timeout: 180_000 }, async () => {
  const world = await startWorld({
    messages: {
      m1: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'newsletter one', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      m2: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'newsletter two', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], rita: ['requester'], alan: ['approver'] },
  });
  const { as, sha } = world;
  let stopped = false;
  try {
    const grant = (await as.rita.call('POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'hold', ticket: 'LH-1', mailboxes: ['olga@corp.test'], permissions: ['search', 'read'], durationHours: 1 })).body.id;
    assert.equal((await as.alan.call('POST', `/api/v1/requests/${grant}/approve`, { reason: 'ok' })).status, 200);
    const r = await as.rita.call('POST', `/api/v1/messages/${sha.m1}/remote-content`, { grant });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const index = r.body.ledgerIndex as number;
    const now = await as.rita.call('GET', `/api/v1/messages/${sha.m1}/body?grant=${grant}&remote=${index}`);
    assert.equal(now.status, 200, 'at once: allowed');
    assert.match(now.headers.get('content-security-policy')!, /img-src data: http: https:/);
    await world.stop();
    stopped = true;

    const config = loadConfig(world.config, { data: world.server.data });
    const archive = await openArchive(config, 'console');
    const { stores, services: s } = archive;
    try {
      const { entry } = (await stores.meta.read((tx) => stores.meta.entry(tx, index)))!;
      assert.equal(entry.operation, 'remote-content');
      const rita = (await s.db.read((tx) => s.people.byName(tx, 'rita')))!;
      const olga = (await s.db.read((tx) => s.people.byName(tx, 'olga')))!;
      const ok = (at: number, user = rita, message = sha.m1, g: string | null = grant) => s.content.remoteContentRecorded(user, message, g, index, at, REMOTE_CONTENT_WINDOW_MS);
      assert.equal(await ok(entry.time), true, 'when written');
      assert.equal(await ok(entry.time + REMOTE_CONTENT_WINDOW_MS), true, 'at 15 minutes');
      assert.equal(await ok(entry.time + REMOTE_CONTENT_WINDOW_MS + 1), false, 'after 15 minutes');
      assert.equal(await ok(entry.time - 1), false, 'before it was written');
      assert.equal(await ok(entry.time, olga), false, 'another user');
      assert.equal(await ok(entry.time, rita, sha.m2), false, 'another message');
      assert.equal(await ok(entry.time, rita, sha.m1, null), false, 'without its grant');
      assert.equal(await s.content.remoteContentRecorded(rita, sha.m1, grant, index - 1, entry.time, REMOTE_CONTENT_WINDOW_MS), false, 'another entry');
    } finally {
      archive.close();
    }
  } finally {
    if (!stopped) await world.stop();
  }
});
