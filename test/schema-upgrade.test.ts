// An archive made by the release before schema versions (test/fixtures/archive-2026-12-02: made
// by main of 2026-12-02 with three messages, seven people, one approved request and its reads)
// opens and upgrades itself: numbered migrations, each recorded in schema_version, applied
// once; everything in it still reads and verifies. An archive newer than the code is refused
// and left as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import { migrationsIn } from '../src/store/sqlite/migrate.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { ApiClient } from './support/api-client.ts';
import { testConfig } from './support/archive.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { waitUntil } from './support/wait.ts';
import { exportedEntry, exportedLines } from './support/ledger-export.ts';
import type { ExportedLine } from './support/ledger-export.ts';

const FIXTURE = new URL('./fixtures/archive-2026-12-02/', import.meta.url);

// A copy of the fixture, its keys readable by their owner only (git keeps no file modes but
// the executable bit, and Sealbox refuses key files others can read).
function copyOfFixture(): string {
  const data = tempDataDir();
  cpSync(FIXTURE, data, { recursive: true });
  for (const key of ['master.key', 'ledger-signing.pem']) chmodSync(join(data, 'keys', key), 0o600);
  return data;
}

function versions(data: string, file = 'sealbox.db'): { version: number; name: string }[] {
  const db = new DatabaseSync(join(data, file), { readOnly: true });
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").get();
    return has ? db.prepare('SELECT version, name FROM schema_version ORDER BY version').all() as any : [];
  } finally {
    db.close();
  }
}

function unthreaded(data: string): number {
  const db = new DatabaseSync(join(data, 'index.db'), { readOnly: true });
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM doc WHERE thread_key IS NULL').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

test('an archive made before schema versions upgrades itself and keeps everything', async () => {
  const data = copyOfFixture();
  assert.deepEqual(versions(data), [], 'the fixture predates schema_version');
  const config = testConfig({ internalDomains: ['corp.test'], access: { secureCookies: false } });

  const server = await startSealbox({ data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  try {
    assert.deepEqual(versions(data).map((v) => `${v.version}-${v.name}`), ['1-capture', '2-ledger', '3-governance', '4-oversight', '5-notifications', '6-inbox', '7-ledger-payload', '8-retention', '9-disposal', '10-holds', '11-subject-requests', '12-leavers', '13-disposal-requests', '14-departments', '15-retention-minimum', '16-sso', '17-directory', '18-scim', '19-object-holds', '20-export-jobs', '21-sso-links', '22-ledger-actions', '23-ledger-nodes', '24-archive-totals', '25-ledger-actors', '26-ledger-results', '27-live-retention', '28-ownership-change-mailbox']);
    // The index's own; from 7 on (rebuilds of the full-text table) applied by the index thread
    // once the server listens.
    const all = ['1-index', '2-threads', '3-secure-delete', '4-auth-pending', '5-attachment-text', '6-attachments-read', '7-scope-column'];
    await waitUntil('the index thread applied the index migrations', () => versions(data, 'index.db').length === all.length, { timeoutMs: 30_000, intervalMs: 100 });
    assert.deepEqual(versions(data, 'index.db').map((v) => `${v.version}-${v.name}`), all, 'the index database has its own');
    // Messages indexed before threads were kept get theirs from the archive when the indexer is idle.
    await waitUntil('every earlier message has its thread', () => unthreaded(data) === 0, { timeoutMs: 30_000, intervalMs: 100 });
    const alice = new ApiClient(server.http!.url);
    assert.equal((await alice.signIn('alice', 'alice-correct-horse-battery')).status, 200, 'people and their passwords survive');
    const r = await alice.call('GET', '/api/v1/search?q=lunch');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.results.length, 1, 'the index still finds her mail');
    // Migrations 5 and 7 built the full-text table anew from the words it held: phrases still match.
    const phrase = await alice.call('GET', `/api/v1/search?q=${encodeURIComponent('subject:"lunch on friday"')}`);
    assert.deepEqual(phrase.body.results?.map((x: any) => x.sha256), [r.body.results[0].sha256], JSON.stringify(phrase.body));
    const raw = await alice.call('GET', `/api/v1/messages/${r.body.results[0].sha256}`);
    assert.equal(raw.status, 200, 'the sealed message opens');
    const thread = await alice.call('GET', `/api/v1/messages/${r.body.results[0].sha256}/thread`);
    assert.equal(thread.status, 200, JSON.stringify(thread.body));
    assert.ok(thread.body.messages.some((m: any) => m.sha256 === r.body.results[0].sha256), 'its conversation holds it');
    const accesses = await alice.call('GET', '/api/v1/mailboxes/mine/accesses');
    assert.equal(accesses.status, 200);
    assert.ok(accesses.body.accesses.some((a: any) => a.actor === 'ivan' && a.request?.ticket === 'HR-1'), `the investigator's read is still on her page: ${JSON.stringify(accesses.body)}`);
    // Migration 24's totals begin from the rows there.
    const health = (await alice.call('GET', '/api/v1/health')).body;
    const db = new DatabaseSync(join(data, 'sealbox.db'), { readOnly: true });
    const counted = db.prepare('SELECT (SELECT count(*) FROM capture) AS captures, (SELECT count(*) FROM message) AS messages').get() as { captures: number; messages: number };
    db.close();
    assert.ok(counted.messages >= 3);
    assert.deepEqual([health.captures, health.messages], [Number(counted.captures), Number(counted.messages)]);
  } finally {
    assert.equal(await server.stop(), 0);
  }

  const verified = await sealbox(['verify', '--data', data, '--config', config]);
  assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
  // The fixture's entries keep their version-1 leaves; from the upgrade entry on, version 2.
  const lines = exportedLines((await sealbox(['ledger', 'export', '--data', data, '--config', config])).stdout);
  const versionOf = (l: ExportedLine) => JSON.parse(Buffer.from(l.leaf, 'base64').toString()).v ?? 1;
  const upgrade = lines.findIndex((l) => exportedEntry(l).operation === 'ledger.upgrade');
  assert.ok(upgrade > 0, 'an upgrade entry after the fixture\'s own');
  assert.deepEqual([...new Set(lines.slice(0, upgrade).map(versionOf))], [1]);
  assert.deepEqual([...new Set(lines.slice(upgrade).map(versionOf))], [2]);
  assert.ok(lines.slice(upgrade + 1).some((l) => exportedEntry(l).operation === 'search'), "alice's search is a version-2 entry");

  // A second start applies nothing again.
  const before = versions(data);
  const again = await startSealbox({ data, args: ['--config', config] });
  assert.equal(await again.stop(), 0);
  assert.deepEqual(versions(data), before);
});

// Index migration 7 rebuilds the full-text table (40 minutes and more at a million messages):
// the server must not wait for it. Here the rebuild cannot start (another connection holds the
// index's write lock, as the rebuild itself would): the server listens all the same, takes mail,
// and searches what the index held; once the lock is gone, the index thread applies it and
// indexes the new mail.
test('the server listens and takes mail while the index rebuild waits', async () => {
  const data = copyOfFixture();
  openIndexDb(join(data, 'index.db'), join(data, 'sealbox.db'), { deferRebuilds: true }).close();
  assert.equal(versions(data, 'index.db').length, 6, 'the index one migration short of the rebuild');
  const lock = new DatabaseSync(join(data, 'index.db'));
  lock.exec('BEGIN IMMEDIATE');
  const config = testConfig({ internalDomains: ['corp.test'], access: { secureCookies: false } });
  const server = await startSealbox({ data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  try {
    const smtp = await RawSmtpClient.connect(server.smtp.port);
    const raw = Buffer.from('From: carol@partner.test\r\nTo: alice@corp.test\r\nSubject: kingfisher minutes\r\nMessage-ID: <kingfisher@partner.test>\r\n\r\nThe kingfisher notes.\r\n');
    assert.equal((await smtp.send({ from: 'carol@partner.test', to: ['alice@corp.test'] }, raw)).data[0]!.code, 250);
    await smtp.quit();
    const alice = new ApiClient(server.http!.url);
    assert.equal((await alice.signIn('alice', 'alice-correct-horse-battery')).status, 200);
    const before = await alice.call('GET', '/api/v1/search?q=lunch');
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assert.equal(before.body.results.length, 1, 'the index as it was answers meanwhile');
    assert.equal(versions(data, 'index.db').length, 6, 'not rebuilt while locked');

    lock.exec('ROLLBACK');
    await waitUntil('the index thread applied the rebuild', () => versions(data, 'index.db').length === 7, { timeoutMs: 60_000, intervalMs: 200 });
    await waitUntil('the new mail is found', async () => (await alice.call('GET', '/api/v1/search?q=kingfisher')).body.results?.length === 1, { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal((await alice.call('GET', '/api/v1/search?q=lunch')).body.results.length, 1, 'and the old mail still');
  } finally {
    lock.close();
    assert.equal(await server.stop(), 0);
  }
});

test('an archive whose schema is newer than this Sealbox is refused and left unchanged', async () => {
  const data = copyOfFixture();
  const config = testConfig();
  const first = await startSealbox({ data, args: ['--config', config] });
  assert.equal(await first.stop(), 0);
  const db = new DatabaseSync(join(data, 'sealbox.db'));
  db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(9999, 'from-the-future', Date.now());
  db.close();
  const bytes = readFileSync(join(data, 'sealbox.db'));

  const refused = await sealbox(['serve', '--data', data, '--config', config, '--smtp', '127.0.0.1:0', '--lmtp', '127.0.0.1:0']);
  assert.notEqual(refused.code, 0);
  const newest = migrationsIn(new URL('../src/store/sqlite/migrations/', import.meta.url)).at(-1)!.version;
  assert.match(refused.stderr, new RegExp(`schema is version 9999, newer than this Sealbox knows \\(${newest}\\)`));
  assert.ok(readFileSync(join(data, 'sealbox.db')).equals(bytes), 'the database is not touched');
});
