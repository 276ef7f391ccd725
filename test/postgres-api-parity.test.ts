// The same archive on both backends answers the same: two access worlds (a real serve each)
// given the same mail, directory and people, one on SQLite and one on PostgreSQL, and the API's
// reads compared answer for answer — searches (words, phrases, prefixes, fields, dates,
// accents and case, paging, three orders, snippets, attachments' text), under a grant and as an
// owner; each message, its thread and its evidence; mailboxes, users, requests, transparency,
// the inventory, retention, disposals, holds, leavers. What differs by nature is set aside:
// times, ids, ports, and what hashes them (leaves, checkpoints); and the order of results by
// relevance, each engine's own. Every difference is listed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './support/access-world.ts';
import type { World, WorldOptions } from './support/access-world.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres(); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

const options = (): WorldOptions => ({
  messages: {
    invoice: { from: 'carol@partner.test', to: 'alice@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 10:00:00 +0000', attachment: { filename: 'terms.txt', text: 'payment terms zanzibar net thirty' } },
    lunch: { from: 'alice@corp.test', to: 'bob@corp.test', subject: 'Lunch plans café', date: 'Wed, 06 Mar 2024 10:00:00 +0000' },
    re: { from: 'bob@corp.test', to: 'alice@corp.test', subject: 'Re: Lunch plans café', date: 'Wed, 06 Mar 2024 11:00:00 +0000' },
    salary: { from: 'bob@corp.test', to: 'dave@partner.test', subject: 'Bob private salary talk', date: 'Thu, 07 Mar 2024 10:00:00 +0000' },
    old: { from: 'alice@corp.test', to: 'carol@partner.test', subject: 'Old contract', date: 'Mon, 01 Jan 2018 10:00:00 +0000' },
    same: { from: 'alice@corp.test', to: 'carol@partner.test', subject: 'Same time one', date: 'Mon, 01 Jan 2018 10:00:00 +0000' },
    umlaut: { from: 'j@ext.test', to: 'alice@corp.test', subject: 'Grüße aus München — ÄÖÜ straße', date: 'Fri, 08 Mar 2024 10:00:00 +0100' },
  },
  mailboxes: { 'alice@corp.test': 'alice', 'bob@corp.test': 'bob', 'zed@corp.test': 'zed', 'adam@corp.test': '' },
  users: { alice: ['owner'], bob: ['owner', 'approver'], zed: ['owner'], ivan: ['requester'], anna: ['approver'], aud: ['auditor'] },
});

// An answer with what differs by nature set aside: times and ids by their shape, ports, and
// what hashes a time (a capture's leaf, the checkpoint and proof that cover it), what counts down.
const NATURE = new Set(['port', 'clientPort', 'leaf', 'leafHash', 'checkpoint', 'proof', 'inclusion', 'verifierKey', 'secondsLeft']);
function comparable(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v), (k, x) => {
    if (NATURE.has(k)) return undefined;
    if (typeof x === 'number') return x > 1e12 ? 'EPOCH' : x;
    if (typeof x !== 'string') return x;
    return x.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME').replace(/\b(req|s|tok|cap|job|hold)_[0-9a-z]+/g, '$1_ID');
  });
}

test('the API reads the same on SQLite and on PostgreSQL', { timeout: 300_000 }, async (t) => {
  const worlds: World[] = [];
  worlds.push(await startWorld({ ...options(), config: { store: { kind: 'sqlite' } } }));
  t.after(() => worlds[0]!.stop());
  worlds.push(await startWorld({ ...options(), config: { store: (await postgresStore(cluster, 'parity')).store } }));
  t.after(() => worlds[1]!.stop());
  const grants: string[] = [];
  for (const w of worlds) {
    const r = await w.as.ivan.call('POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'x', ticket: 'HR-1', mailboxes: ['alice@corp.test', 'bob@corp.test'], permissions: ['search', 'read'], durationHours: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await w.as.anna.call('POST', `/api/v1/requests/${r.body.id}/approve`, { reason: 'ok' })).status, 200);
    grants.push(r.body.id);
  }
  const sha = worlds[0]!.sha;
  const calls: [string, string][] = [];
  const qs = ['body', 'invoice', 'zanzibar', 'lunch', 'café', 'cafe', 'grüße', 'GRÜSSE', 'strasse', 'straße', 'münchen', 'from:carol@partner.test', 'to:bob@corp.test', 'from:alice', 'subject:"lunch plans"', '"plans café"', 'lun*', 'after:2024-03-06', 'before:2024-03-06', 'has:attachment', 'body -lunch', 'body OR zanzibar', 'mailbox:alice@corp.test', 'mailbox:ALICE@corp.test', 'filename:terms.txt', 'Re:', 'net thirty', 'thirty net', 'j@ext.test', 'ext.test', 'domain:partner.test'];
  for (const q of qs) for (const sort of ['newest', 'oldest', 'relevance']) calls.push(['alice', `/api/v1/search?q=${encodeURIComponent(q)}&sort=${sort}&snippets=1`]);
  for (const q of qs) calls.push(['ivan', `/api/v1/search?q=${encodeURIComponent(q)}&grant=GRANT&limit=2&offset=1`]);
  for (const k of Object.keys(sha)) calls.push(['alice', `/api/v1/messages/${sha[k]}`], ['alice', `/api/v1/messages/${sha[k]}/thread`], ['ivan', `/api/v1/messages/${sha[k]}/thread?grant=GRANT`], ['alice', `/api/v1/messages/${sha[k]}/evidence`]);
  calls.push(['adm', '/api/v1/mailboxes'], ['adm', '/api/v1/mailboxes?q=a'], ['adm', '/api/v1/users'], ['aud', '/api/v1/requests'], ['alice', '/api/v1/mailboxes/mine/accesses'], ['aud', '/api/v1/oversight/inventory'], ['alice', '/api/v1/me'], ['alice', '/api/v1/me/notifications'], ['adm', '/api/v1/retention'], ['aud', '/api/v1/disposals'], ['aud', '/api/v1/holds'], ['adm', '/api/v1/policy'], ['aud', '/api/v1/leavers']);
  const differences: string[] = [];
  const answered = { ok: 0, hits: 0 };   // the SQLite side's, so that agreeing on nothing cannot pass
  for (const [who, path] of calls) {
    const [a, b] = await Promise.all(worlds.map(async (w, i) => {
      const r = await w.as[who]!.call('GET', path.replace('GRANT', grants[i]!));
      // Relevance is each engine's own (FTS5's bm25, PostgreSQL's ts_rank): the same hits, each
      // in its own order.
      if (path.includes('sort=relevance') && Array.isArray(r.body.results)) r.body.results.sort((x: any, y: any) => x.sha256.localeCompare(y.sha256));
      if (i === 0) {
        answered.ok += r.status === 200 ? 1 : 0;
        answered.hits += r.body.results?.length ?? 0;
      }
      return comparable({ status: r.status, body: Buffer.isBuffer(r.body) ? r.body.toString() : r.body });
    }));
    try {
      assert.deepEqual(b, a);
    } catch (err) {
      differences.push(`${who} GET ${path}\n${(err as Error).message.slice(0, 2000)}`);
    }
  }
  assert.deepEqual(differences, [], `${differences.length} of ${calls.length} answers differ`);
  assert.ok(calls.length > 150);
  // A few are refusals on purpose (an unknown field, bob's message asked for by alice): those
  // must agree too.
  assert.ok(answered.ok > calls.length * 0.9 && answered.hits >= 150, `${answered.ok} of ${calls.length} answered, ${answered.hits} search results`);
});
