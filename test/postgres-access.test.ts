// Governed access over the HTTP API on PostgreSQL (store.kind "postgres"): the world of
// access-world.ts (a real `sealbox serve` on port 0, mail over SMTP, people signed in like
// browsers) with its metadata, ledger and search index in a private PostgreSQL cluster. The flows
// the SQLite tests drive, with their real results: a request with purpose and ticket approved by
// someone else, two approvals for an executive's mailbox, a scoped and time-bound grant (search
// and view inside its scope, refused outside, ended by revocation and by time), every search and
// view in the ledger, the owner's "who accessed my mailbox", break-glass and the auditor's review
// queue and report, an export job end to end, a legal hold that a disposal run respects, and
// `sealbox verify` green on what all of it left behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startWorld, waitForState } from './support/access-world.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { postgresStore, startPostgres } from './support/postgres.ts';
import type { Postgres } from './support/postgres.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { waitUntil } from './support/wait.ts';

let cluster: Postgres;
before(async () => { cluster = await startPostgres(); }, { timeout: 120_000 });
after(async () => { await cluster?.stop(); });

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('governed access over the API on PostgreSQL: grants, the ledger, transparency, oversight, export, holds and disposal', { timeout: 300_000 }, async (t) => {
  // Notifications go to a local SMTP sink; the oversight sweep runs often, samples every closed
  // grant, and re-verifies the ledger against the tables every second or so.
  const sink = await startSmtpSink();
  t.after(() => sink.close());
  const database = await postgresStore(cluster, 'access');
  const world = await startWorld({
    messages: {
      invoice: { from: 'carol@partner.test', to: 'alice@corp.test', subject: 'Invoice for March', date: 'Tue, 05 Mar 2024 10:00:00 +0000' },
      lunch: { from: 'alice@corp.test', to: 'bob@corp.test', subject: 'Lunch plans', date: 'Wed, 06 Mar 2024 10:00:00 +0000' },
      salary: { from: 'bob@corp.test', to: 'dave@partner.test', subject: 'Bob private salary talk', date: 'Thu, 07 Mar 2024 10:00:00 +0000' },
      old: { from: 'alice@corp.test', to: 'carol@partner.test', subject: 'Old contract', date: 'Mon, 01 Jan 2018 10:00:00 +0000' },
      board: { from: 'x@ext.test', to: 'ceo@corp.test', subject: 'Board pack', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      danaOnly: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'Dana travel plans', date: 'Wed, 15 Jan 2025 10:00:00 +0000' },
      danaHeld: { from: 'x@ext.test', to: 'dana@corp.test', subject: 'Merger terms', date: 'Thu, 16 Jan 2025 10:00:00 +0000' },
    },
    // ceo@ is tagged executive: two approvals (access.sensitivityApprovals by default).
    mailboxes: { 'alice@corp.test': 'alice', 'bob@corp.test': 'bob', 'ceo@corp.test': ',executive', 'dana@corp.test': '' },
    users: {
      alice: ['owner'], bob: ['owner', 'approver'], ivan: ['requester', 'approver'], anna: ['approver'], alan: ['approver'],
      bea: ['breakglass'], rec: ['records'], aud: ['auditor'],
    },
    access: { pendingLapseHours: 0.003 },
    config: {
      store: database.store,
      retention: { disposeEveryHours: 0 },
      notify: { smtp: `127.0.0.1:${sink.port}`, from: 'sealbox@corp.test', retrySeconds: 1 },
      oversight: { sampleRate: 1, verifyEveryMinutes: 0.02, sweepSeconds: 0.3, auditorDigest: 'off', ownerDigest: 'off' },
      export: { jobs: 1 },
    },
  });
  let stopped = false;
  t.after(async () => { if (!stopped) await world.stop(); });
  const { as, sha, raw } = world;
  const startedAt = Date.now();
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.body instanceof Buffer ? r.body.toString() : JSON.stringify(r.body)}`);
    return r.body;
  };
  const subjects = (body: any) => body.results.map((h: any) => h.subject).sort();
  // Nothing of the metadata or the index is in the data folder.
  assert.ok(!existsSync(join(world.server.data, 'sealbox.db')) && !existsSync(join(world.server.data, 'index.db')), 'no SQLite database in the data folder');

  // The owner reads her own mailbox, and nothing else; no standing access for anyone else.
  assert.deepEqual(subjects(await call('alice', 'GET', '/api/v1/search?q=body')), ['Invoice for March', 'Lunch plans', 'Old contract']);
  assert.deepEqual((await call('alice', 'GET', '/api/v1/search?q=salary')).results, []);
  assert.equal((await call('ivan', 'GET', '/api/v1/search?q=invoice', undefined, 403)).error.code, 'SEALBOX_ERR_FORBIDDEN');

  // U+0000, which PostgreSQL's text cannot hold: a search for it is a bad query, recorded as the
  // search's refusal with the query as given, and the ledger filtered by her mailbox still reads
  // (it failed on PostgreSQL from then on); anywhere else it is bad input, named, and no 500.
  await world.takeAll();
  assert.match((await call('alice', 'GET', `/api/v1/search?q=${encodeURIComponent('a\u0000b')}`, undefined, 400)).error.message, /control character U\+0000/);
  const [refusedSearch] = await world.take('alice');
  assert.deepEqual([refusedSearch.operation, refusedSearch.result, refusedSearch.parameters.query], ['search', 'denied', 'a\u0000b']);
  const byMailbox = (await call('aud', 'GET', '/api/v1/ledger/entries?mailbox=alice@corp.test&limit=1000')).entries as LedgerEntryView[];
  assert.ok(byMailbox.length > 0 && byMailbox.every((e) => e.objects.mailboxes.includes('alice@corp.test')));
  assert.ok(byMailbox.some((e) => e.index === refusedSearch.index), 'the refused search is found by her mailbox too');
  const nul = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'hr-investigation', justification: 'a\u0000b', ticket: 'HR-0', mailboxes: ['alice@corp.test'], permissions: ['search'], durationHours: 1 }, 400);
  assert.deepEqual([nul.error.code, nul.error.fields], ['SEALBOX_ERR_BAD_INPUT', ['justification']]);
  for (const [method, path] of [['GET', '/api/v1/requests/%00'], ['POST', '/api/v1/requests/%00/revoke'], ['GET', '/api/v1/mailboxes?q=%00'], ['GET', '/api/v1/search?q=invoice&grant=%00']]) {
    assert.equal((await call(method === 'GET' ? 'aud' : 'ivan', method, path, method === 'POST' ? { reason: 'x' } : undefined, 400)).error.code, 'SEALBOX_ERR_BAD_INPUT', path);
  }
  await world.takeAll();

  // A request with purpose, ticket, scope and a date window; nobody approves their own.
  const request = await call('ivan', 'POST', '/api/v1/requests', {
    purpose: 'hr-investigation', justification: 'complaint 42 about invoices', ticket: 'HR-42', mailboxes: ['alice@corp.test'],
    dateFrom: '2024-01-01', dateTo: '2024-12-31', permissions: ['search', 'read', 'export'], durationHours: 2,
  });
  assert.equal(request.state, 'pending');
  assert.match((await call('ivan', 'POST', `/api/v1/requests/${request.id}/approve`, { reason: 'me' }, 403)).error.message, /own request/);
  await call('ivan', 'GET', `/api/v1/search?q=invoice&grant=${request.id}`, undefined, 403);
  const approved = await call('anna', 'POST', `/api/v1/requests/${request.id}/approve`, { reason: 'HR case confirmed' });
  assert.equal(approved.state, 'active');
  assert.ok(Date.parse(approved.endsAt) - Date.parse(approved.startsAt) === 2 * 3_600_000, 'two hours long');
  const filed = await world.takeAll();
  assert.deepEqual(filed.filter((e) => e.type === 'access' || e.operation.startsWith('request.')).map((e) => [e.actor, e.operation, e.result]), [
    ['user:ivan', 'request.file', 'success'], ['user:ivan', 'request.approve', 'denied'], ['user:ivan', 'search', 'denied'], ['user:anna', 'request.approve', 'success'],
  ]);

  // Under the grant: only the scope (alice's mailbox, 2024); each search and view is one entry.
  assert.deepEqual(subjects(await call('ivan', 'GET', `/api/v1/search?q=body&grant=${request.id}`)), ['Invoice for March', 'Lunch plans'], 'the 2018 message is outside the date window');
  assert.deepEqual((await call('ivan', 'GET', `/api/v1/search?q=salary&grant=${request.id}`)).results, [], 'a subject outside the scope is not found');
  const viewed = await call('ivan', 'GET', `/api/v1/messages/${sha.invoice}?grant=${request.id}`);
  assert.ok(viewed.mailboxes.some((m: any) => m.address === 'alice@corp.test'));
  assert.ok((await call('ivan', 'GET', `/api/v1/messages/${sha.invoice}/raw?grant=${request.id}`)).equals(raw.invoice), 'raw bytes are exact');
  assert.equal((await call('ivan', 'GET', `/api/v1/messages/${sha.salary}?grant=${request.id}`, undefined, 404)).error.code, 'SEALBOX_ERR_NOT_FOUND', 'outside the grant looks like missing');
  await call('ivan', 'GET', `/api/v1/messages/${sha.old}?grant=${request.id}`, undefined, 404);
  const reads = (await world.take('ivan')).filter((e) => e.type === 'access');
  assert.deepEqual(reads.map((e) => [e.operation, e.result, e.grantId, e.logonType]), [
    ['search', 'success', request.id, 'delegated'], ['search', 'success', request.id, 'delegated'], ['view', 'success', request.id, 'delegated'],
    ['raw', 'success', request.id, 'delegated'], ['view', 'denied', request.id, 'delegated'], ['view', 'denied', request.id, 'delegated'],
  ]);
  assert.deepEqual(reads[0].parameters.query, 'body');
  assert.deepEqual([...reads[0].objects.messages].sort(), [sha.invoice, sha.lunch].sort(), 'the search entry names what it found');
  assert.deepEqual(reads[2].objects.messages, [sha.invoice]);

  // An export job under the grant, end to end: started, made, downloaded, each step an entry.
  const job = await call('ivan', 'POST', '/api/v1/exports', { q: 'body', grant: request.id, note: 'production for HR-42' }, 202);
  assert.equal(job.found, 2, 'the scope: two messages');
  let done: any = null;
  await waitUntil('the export job is done', async () => {
    done = await call('ivan', 'GET', `/api/v1/exports/${job.id}`);
    assert.ok(!['failed', 'cancelled'].includes(done.state), JSON.stringify(done));
    return done.state === 'done';
  }, { timeoutMs: 60_000, intervalMs: 100 });
  assert.equal((await call('bob', 'GET', `/api/v1/exports/${job.id}`, undefined, 404)).error.code, 'SEALBOX_ERR_NOT_FOUND', 'a job is its owner\'s');
  const volumes: string[] = [];
  for (const f of done.files) {
    const zip = await call('ivan', 'GET', `/api/v1/exports/${job.id}/files/${f.name}`);
    assert.equal(digest(zip), f.sha256);
    volumes.push(join(tempDataDir(), f.name));
    writeFileSync(volumes.at(-1)!, zip);
  }
  // Unzipped by a reader that is not ours: the two messages, bit-exact.
  const listed = execFileSync('python3', ['-c', 'import sys, zipfile, hashlib\nfor v in sys.argv[1:]:\n    z = zipfile.ZipFile(v)\n    for n in z.namelist():\n        if n.startswith("messages/"): print(n, hashlib.sha256(z.read(n)).hexdigest())', ...volumes], { encoding: 'utf8' });
  assert.deepEqual(listed.trim().split('\n').sort(), [sha.invoice, sha.lunch].map((s) => `messages/${s}.eml ${s}`).sort());
  const exported = (await world.take('ivan')).filter((e) => e.operation.startsWith('export'));
  assert.deepEqual(exported.map((e) => [e.operation, e.result, e.grantId, [...e.objects.messages].sort()]), [
    ['export.job', 'success', request.id, [sha.invoice, sha.lunch].sort()],
    ['export', 'success', request.id, [sha.invoice, sha.lunch].sort()],
    ...done.files.map(() => ['export.download', 'success', request.id, [sha.invoice, sha.lunch].sort()]),
  ]);
  assert.equal(exported[1].parameters.manifestSha256, done.manifestSha256);

  // "I'm done": revocation is immediate.
  assert.equal((await call('ivan', 'POST', `/api/v1/requests/${request.id}/revoke`, { reason: 'done' })).state, 'revoked');
  assert.match((await call('ivan', 'GET', `/api/v1/search?q=invoice&grant=${request.id}`, undefined, 403)).error.message, /revoked/);

  // A grant ends by itself (1.8 seconds long).
  const short = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'user-support', justification: 'restore a mail', ticket: 'SUP-7', mailboxes: ['alice@corp.test'], permissions: ['search'], durationHours: 0.0005 });
  await call('bob', 'POST', `/api/v1/requests/${short.id}/approve`, { reason: 'ok' });
  await waitForState(as.ivan, short.id, 'expired');
  assert.match((await call('ivan', 'GET', `/api/v1/search?q=invoice&grant=${short.id}`, undefined, 403)).error.message, /expired/);

  // Bob may not approve access to his own mailbox: to him such a request does not exist.
  const onBob = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'litigation', ticket: 'LEG-1', mailboxes: ['bob@corp.test'], permissions: ['search'], durationHours: 1 });
  assert.equal((await call('bob', 'POST', `/api/v1/requests/${onBob.id}/approve`, { reason: 'fine by me' }, 404)).error.code, 'SEALBOX_ERR_NOT_FOUND');
  await call('ivan', 'POST', `/api/v1/requests/${onBob.id}/revoke`, { reason: 'withdrawn' });

  // An executive's mailbox needs two approvals, from two people.
  const exec = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'board dispute', ticket: 'LEG-2', mailboxes: ['ceo@corp.test'], permissions: ['search', 'read'], durationHours: 1 });
  assert.equal((await call('anna', 'POST', `/api/v1/requests/${exec.id}/approve`, { reason: 'confirmed with legal' })).state, 'pending', 'one of two');
  await call('ivan', 'GET', `/api/v1/search?q=board&grant=${exec.id}`, undefined, 403);
  await call('anna', 'POST', `/api/v1/requests/${exec.id}/approve`, { reason: 'again' }, 409);
  assert.equal((await call('alan', 'POST', `/api/v1/requests/${exec.id}/approve`, { reason: 'confirmed' })).state, 'active');
  assert.deepEqual(subjects(await call('ivan', 'GET', `/api/v1/search?q=board&grant=${exec.id}`)), ['Board pack']);
  await call('ivan', 'POST', `/api/v1/requests/${exec.id}/revoke`, { reason: 'done' });

  // The owner sees who read her mailbox, when and why: ivan under HR-42 (searches, views, the
  // export), and nothing of bob's or the ceo's mailbox.
  const mine = await call('alice', 'GET', '/api/v1/mailboxes/mine/accesses');
  assert.deepEqual(mine.mailboxes, ['alice@corp.test']);
  const group = mine.requests.find((g: any) => g.request?.id === request.id);
  assert.deepEqual([group.person.name, group.request.ticket, group.request.purpose], ['ivan', 'HR-42', 'hr-investigation']);
  assert.deepEqual({ searches: group.searches, read: group.messagesRead, downloads: group.downloads, exports: group.exports, exported: group.messagesExported },
    { searches: 2, read: 1, downloads: 1, exports: 1, exported: 2 });
  assert.ok(!mine.requests.some((g: any) => g.request?.id === exec.id || g.request?.id === onBob.id), 'only her own mailbox');
  assert.deepEqual((await call('bob', 'GET', '/api/v1/mailboxes/mine/accesses')).requests.filter((g: any) => g.request?.id === request.id).map((g: any) => g.messagesRead), [],
    'a search that found only alice\'s mail is not bob\'s to see');

  // Break-glass: immediate access, then the auditor's review queue.
  const bg = await call('bea', 'POST', '/api/v1/breakglass', { purpose: 'security-incident', justification: 'phishing on alice', mailboxes: ['alice@corp.test'], permissions: ['search', 'read'], durationHours: 0.25 });
  assert.equal(subjects(await call('bea', 'GET', `/api/v1/search?q=body&grant=${bg.id}`)).length, 3, 'no date window: all of alice\'s mail');
  await call('bea', 'POST', `/api/v1/requests/${bg.id}/revoke`, {});
  const queue = (await call('aud', 'GET', '/api/v1/reviews')).reviews;
  const item = queue.find((i: any) => i.id === `rev_${bg.id}`);
  assert.ok(item, `the break-glass use is in the queue: ${JSON.stringify(queue.map((i: any) => i.id))}`);
  assert.equal(item.subject, 'bea');
  assert.match((await call('bea', 'POST', `/api/v1/reviews/rev_${bg.id}/claim`, {}, 403)).error.message, /.+/);
  await call('aud', 'POST', `/api/v1/reviews/rev_${bg.id}/claim`, {});
  await call('aud', 'POST', `/api/v1/reviews/rev_${bg.id}/review`, { note: 'incident confirmed, proportionate' });
  await call('aud', 'POST', `/api/v1/reviews/rev_${bg.id}/review`, { note: 'again' }, 409);
  const detail = await call('aud', 'GET', `/api/v1/reviews/rev_${bg.id}`);
  assert.ok(detail.activity.some((e: any) => e.operation === 'search' && e.query === 'body'), 'the reviewer sees the query');
  assert.ok(!JSON.stringify(detail).includes('body text'), 'no content');

  // The auditor's report over the period counts it all; nobody else gets one.
  await call('ivan', 'GET', '/api/v1/oversight/report', undefined, 403);
  const to = Date.now() + 1;
  await waitUntil('the period is over', () => Date.now() > to, { intervalMs: 1 });
  const report = await call('aud', 'GET', `/api/v1/oversight/report?from=${new Date(startedAt).toISOString()}&to=${new Date(to).toISOString()}`);
  assert.deepEqual(report.requests, { filed: 4, approved: 3, denied: 0, lapsed: 0, pending: 0, withdrawn: 1 });
  assert.deepEqual({ uses: report.breakglass.uses, reviewed: report.breakglass.reviewed, awaiting: report.breakglass.awaitingReview }, { uses: 1, reviewed: 1, awaiting: 0 });
  const ivan = report.people.find((p: any) => p.user === 'ivan');
  assert.deepEqual({ searches: ivan.searches, read: ivan.messagesRead, exports: ivan.exports, downloads: ivan.downloads, exported: ivan.messagesExported },
    { searches: 3, read: 1, exports: 1, downloads: 1, exported: 3 }, 'the export\'s two messages and the raw download');
  assert.deepEqual(report.outsideDateWindow.violations, [], 'nothing read outside a grant\'s date window');
  assert.deepEqual(report.tickets.withoutTicket, []);
  // The same report on the command line, with an auditor's ledger-scoped token.
  const audToken = (await call('aud', 'POST', '/api/v1/tokens', { name: 'reports', scopes: ['ledger'], days: 1 })).token;
  const cli = await sealbox(['report', '--data', world.server.data, '--config', world.config, '--token', audToken, '--from', new Date(startedAt).toISOString(), '--to', new Date(to).toISOString(), '--format', 'json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(JSON.parse(cli.stdout.toString()), report);
  // A request nobody decides on lapses (access.pendingLapseHours: 10.8 seconds), by the sweep.
  const forgotten = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'user-support', justification: 'forgotten', ticket: 'SUP-8', mailboxes: ['alice@corp.test'], permissions: ['search'], durationHours: 1 });

  // A legal hold on dana's merger mail; dana left two years ago (approved), so her mail is due
  // at once, and a disposal run takes what the hold does not cover.
  await call('alice', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['dana@corp.test'] }, 403);
  const hold = await call('rec', 'POST', '/api/v1/holds', { name: 'Merger', matter: 'LEG-7', custodians: ['dana@corp.test'], query: 'merger' });
  assert.equal(hold.state, 'on');
  const left = await call('rec', 'POST', '/api/v1/mailboxes/dana@corp.test/leaver', { left: '2024-01-31', reason: 'resigned, HR ticket 55' });
  await call('anna', 'POST', `/api/v1/leaver-changes/${left.id}/approve`, { reason: 'HR confirmed' });
  const policy = 'leaver dana@corp.test (left 2024-01-31)';
  const { next } = await call('aud', 'GET', '/api/v1/disposals');
  assert.deepEqual([next.due, next.held, next.heldMessages, next.complete], [[{ policy, messages: 1 }], [{ hold: hold.id, name: 'Merger', messages: 1 }], 1, true]);
  await call('bob', 'POST', '/api/v1/disposals/run', {}, 403);
  const ran = await call('rec', 'POST', '/api/v1/disposals/run', {});
  assert.deepEqual([ran.ran.due, ran.ran.held, ran.entries.map((e: any) => e.messages)], [[{ policy, messages: 1 }], [{ hold: hold.id, name: 'Merger', messages: 1 }], [1]]);
  assert.deepEqual((await call('rec', 'POST', '/api/v1/disposals/run', {})).entries, [], 'what went is not due again');
  // Under a grant on her mailbox: the held message is there, the disposed one is gone.
  const danaGrant = await call('ivan', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'matter LEG-7', ticket: 'LEG-7', mailboxes: ['dana@corp.test'], permissions: ['search', 'read'], durationHours: 1 });
  await call('anna', 'POST', `/api/v1/requests/${danaGrant.id}/approve`, { reason: 'ok' });
  assert.deepEqual(subjects(await call('ivan', 'GET', `/api/v1/search?q=body&grant=${danaGrant.id}`)), ['Merger terms'], 'the disposed message is no longer found');
  await call('ivan', 'GET', `/api/v1/messages/${sha.danaHeld}?grant=${danaGrant.id}`);
  await call('ivan', 'GET', `/api/v1/messages/${sha.danaOnly}?grant=${danaGrant.id}`, undefined, 410);
  const entries: LedgerEntryView[] = await world.takeAll();
  const dispose = entries.filter((e) => e.operation === 'dispose');
  assert.deepEqual(dispose.map((e) => [e.actor, e.objects.messages, e.parameters.policy]), [['user:rec', [sha.danaOnly], policy]]);
  // Every refusal since the export is in the ledger too: a second approval and a second review
  // (409), a review of one's own use, an approval on one's own mailbox, searches under a revoked,
  // an expired and a half-approved grant, a report for a non-auditor, a hold placed by an owner,
  // a disposal run by an approver, the disposed message's view (410).
  assert.deepEqual(entries.filter((e) => e.result === 'denied').map((e) => [e.actor, e.operation]).sort(), [
    ['user:alice', 'hold.place'], ['user:anna', 'request.approve'], ['user:aud', 'review.review'], ['user:bea', 'review.claim'], ['user:bob', 'disposal.run'],
    ['user:bob', 'request.approve'], ['user:ivan', 'oversight.report'], ['user:ivan', 'search'], ['user:ivan', 'search'], ['user:ivan', 'search'], ['user:ivan', 'view'],
  ]);

  // The sweep: the forgotten request lapsed; every closed grant sampled for review, each with
  // its activity (the queries, the messages viewed), none of it content.
  await waitForState(as.aud, forgotten.id, 'lapsed');
  await call('ivan', 'POST', `/api/v1/requests/${danaGrant.id}/revoke`, { reason: 'done' });
  const closed = [request.id, short.id, exec.id, danaGrant.id].sort();
  let sample: any[] = [];
  await waitUntil('the sweep samples every closed grant', async () => (sample = (await call('aud', 'GET', '/api/v1/reviews?kind=sample')).reviews).length >= closed.length,
    { timeoutMs: 30_000, detail: () => JSON.stringify(sample.map((i) => i.requestId)) });
  assert.deepEqual(sample.map((i) => i.requestId).sort(), closed);
  const sampled = await call('aud', 'GET', `/api/v1/reviews/rev_sample_${request.id}`);
  assert.equal(sampled.subject, 'ivan');
  assert.deepEqual(sampled.activity.filter((e: any) => e.operation === 'search' && e.result === 'success').map((e: any) => e.query), ['body', 'salary']);
  assert.deepEqual(sampled.activity.filter((e: any) => e.operation === 'view' && e.result === 'success').map((e: any) => e.messages), [[sha.invoice]]);
  assert.ok(!JSON.stringify(sampled).includes('body text'), 'no content');

  // Mail: the requester learns of the decision and the owner of the access, with the ticket;
  // the auditors of the break-glass use; and the background verification found nothing amiss.
  const told = (to: string, what: RegExp) => sink.inbox.some((m) => m.to.includes(to) && what.test(m.data));
  await waitUntil('the notifications are delivered', () => told('ivan@corp.test', /approved by anna/) && told('alice@corp.test', /Access to your mailbox[\s\S]*HR-42/) && told('aud@corp.test', /X-Sealbox-Event: alert\.breakglass/),
    { timeoutMs: 30_000, detail: () => JSON.stringify(sink.inbox.map((m) => [m.to, m.data.slice(0, 300)])) });
  assert.deepEqual(sink.inbox.filter((m) => /alert\.verify-failure/.test(m.data)).map((m) => m.data.slice(0, 2000)), [], 'the ledger and the tables agree all along');
  // The archive and the index verify at the console, beside the running server.
  for (const args of [['verify'], ['verify', '--index']]) {
    const r = await sealbox([...args, '--data', world.server.data, '--config', world.config]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout.toString(), /^OK: /m);
  }

  // Changed in the database behind the server's back: an owner given past the ledger, then a
  // ledger leaf; the background verification alerts the auditors of each.
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    assert.equal((await db.query("UPDATE mailbox SET owner = 'ivan' WHERE name = 'alice@corp.test'")).rowCount, 1);
    const alerted = (what: RegExp) => sink.inbox.some((m) => m.to.includes('aud@corp.test') && /X-Sealbox-Event: alert\.verify-failure/.test(m.data) && what.test(m.data.replace(/=\r\n/g, '')));
    await waitUntil('alert: access state', () => alerted(/owner of mailbox alice@corp\.test in the database differs from the ledger/), { timeoutMs: 30_000, detail: () => world.server.stderr().slice(-3000) });
    assert.equal((await db.query("UPDATE ledger SET leaf = leaf || '\\x20'::bytea WHERE idx = 10")).rowCount, 1);
    await waitUntil('alert: a ledger leaf changed', () => alerted(/leaf bytes do not match/), { timeoutMs: 30_000, detail: () => world.server.stderr().slice(-3000) });
  } finally {
    await db.end();
  }
  await world.stop();
  stopped = true;
});
