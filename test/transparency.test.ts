// "Who accessed my mailbox" as the API answers it, in process: an investigator searches, opens
// messages the way the viewer does (view, body, evidence; one downloaded), exports and is
// refused once, under a grant over two people's mailboxes. The owner gets one group per person
// and request: display name, purpose, ticket, first and last access, and what the person did
// (messages read counted once however many parts were fetched, only the owner's own messages),
// never their own reads; an owner under "told N days after" sees nothing until then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY, investigate, storyWorld } from './support/transparency-story.ts';

test('who accessed my mailbox: one group per person and request, counting what the person did', { timeout: 120_000 }, async (t) => {
  const world = await storyWorld();
  t.after(() => world.stop());
  const { as, sha } = world;
  const started = world.clock.now();
  const { main, second, late } = await investigate(world);
  const mine = async (who: string) => {
    const r = await as[who].call('GET', '/api/v1/mailboxes/mine/accesses');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  const olga = await mine('olga');
  assert.deepEqual(olga.mailboxes, ['olga@corp.test']);
  assert.equal(olga.truncated, false);
  assert.deepEqual(olga.requests.map((g: any) => [g.request?.id, g.person, g.request?.ticket, g.request?.purpose]), [
    [second, { name: 'ivan', displayName: 'Иван Петров' }, 'SEC-2', 'security-incident'],
    [main, { name: 'ivan', displayName: 'Иван Петров' }, 'SEC-1', 'security-incident'],
  ], 'newest first, by display name, never olga herself');
  const [g2, g1] = olga.requests;
  // Two searches (the conversations the viewer listed are part of reading, not searches), two of
  // olga's messages read (four parts each, one twice, one downloaded),
  // one export of three messages of which two are olga's, one refusal.
  assert.deepEqual({ searches: g1.searches, read: g1.messagesRead, downloads: g1.downloads, exports: g1.exports, exported: g1.messagesExported, refused: g1.refused },
    { searches: 2, read: 2, downloads: 1, exports: 1, exported: 2, refused: 1 });
  assert.equal(g1.request.justification, 'phishing case SEC-1');
  assert.deepEqual(g1.mailboxes, ['olga@corp.test']);
  assert.ok(Date.parse(g1.first) >= started + 60_000 && Date.parse(g1.last) - Date.parse(g1.first) >= 2 * 60_000 && Date.parse(g1.last) - Date.parse(g1.first) < 3 * 60_000, `${g1.first} – ${g1.last}`);
  assert.deepEqual(g1.details.map((d: any) => d.kind === 'read' ? ['read', d.sha256, d.parts] : d.kind === 'search' ? ['search', d.query, d.results] : d.kind === 'export' ? ['export', d.query, d.messages] : [d.kind, d.operation]), [
    ['search', 'invoice', 2],
    ['read', sha.o1, ['view', 'body', 'evidence', 'conversation']],
    ['read', sha.o2, ['view', 'body', 'evidence', 'conversation', 'raw']],
    ['search', 'budget', 1],
    ['export', 'invoice', 2],
    ['refused', 'view'],
  ], 'bob\'s message read under the same grant is not olga\'s to see');
  assert.deepEqual([g2.searches, g2.messagesRead, g2.exports, g2.refused, g2.details.length], [0, 1, 0, 0, 1]);
  assert.deepEqual(olga.accesses.filter((a: any) => a.actor === 'olga'), [], 'her own reads are left out of the entries too');

  // bob sees his one message read, the search and the export that found it (not the search
  // that found only olga's mail), and the refusal, which named the whole scope.
  const bob = await mine('bob');
  assert.deepEqual(bob.requests.map((g: any) => [g.request.id, g.searches, g.messagesRead, g.messagesExported, g.refused]), [[main, 1, 1, 1, 1]]);

  // petra is told two days after the grant ends: nothing while it runs, nothing the day after.
  assert.deepEqual((await mine('petra')).requests, []);
  assert.equal((await as.ivan.call('POST', `/api/v1/requests/${late}/revoke`, {})).status, 200);
  world.clock.advance(DAY);
  // (sessions last less than a day: petra signs in again)
  assert.equal((await as.petra.signIn('petra', world.passwords.petra)).status, 200);
  assert.deepEqual((await mine('petra')).requests, [], 'one day after it ended');
  assert.deepEqual((await mine('petra')).accesses, []);
  world.clock.advance(DAY + 60_000);
  assert.equal((await as.petra.signIn('petra', world.passwords.petra)).status, 200);
  const petra = await mine('petra');
  assert.deepEqual(petra.requests.map((g: any) => [g.request.id, g.request.ticket, g.person.displayName, g.messagesRead, g.details.map((d: any) => d.parts)]),
    [[late, 'SEC-3', 'Иван Петров', 1, [['view', 'body']]]]);
  // carl's mailbox was never in scope: the refused read named the scope, not his mailbox.
  assert.equal((await as.carl.signIn('carl', world.passwords.carl)).status, 200);
  assert.deepEqual((await mine('carl')).requests, []);
});
