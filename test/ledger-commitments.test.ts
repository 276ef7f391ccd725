// What the ledger commits to, checked against the database rows that claim to describe it: an
// edit of any capture field (envelope, source, receipt time, provenance, size, retain-until,
// keep-until), of who can read what (a mailbox owner) or of whose mail goes early (a leaving
// date) is named by `verify`, though the tree itself is untouched. And a capture whose blob is damaged on disk fails
// its indexing alone: the rest of its batch is indexed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { openArchive, testConfig, waitForIndex } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';

const eml = (n: number) => Buffer.from(`From: alice@example.test\r\nTo: carol@example.test\r\nSubject: commitment ${n}\r\nMessage-ID: <commit-${n}@example.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nbody ${n}\r\n`);

function edit(data: string, sql: string, ...params: (string | number)[]): void {
  const db = new DatabaseSync(join(data, 'sealbox.db'));
  try {
    assert.equal(Number(db.prepare(sql).run(...params).changes), 1, `the edit changed one row: ${sql}`);
  } finally {
    db.close();
  }
}

async function verifyOutput(data: string): Promise<{ code: number | null; text: string }> {
  const r = await sealbox(['verify', '--data', data]);
  return { code: r.code, text: r.stdout.toString() + r.stderr.toString() };
}

test('verify names every database edit of a field the ledger commits to', { timeout: 180_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig({ internalDomains: ['example.test'], retention: { defaultDays: 3650 } });
  // One capture from the MTA (an envelope) and one from an import (provenance).
  const server = await startSealbox({ data, args: ['--config', config] });
  const client = await RawSmtpClient.connect(server.smtp.port);
  const sent = await client.send({ from: 'alice@example.test', to: ['carol@example.test', 'bob@example.test'] }, eml(1));
  assert.equal(sent.data.at(-1)?.code, 250);
  await client.quit();
  await waitForIndex(data);
  assert.equal(await server.stop(), 0);
  mkdirSync(join(dir, 'eml'));
  writeFileSync(join(dir, 'eml', 'two.eml'), eml(2));
  assert.equal((await runImport(['eml', '--data', data, '--config', config, join(dir, 'eml')], join(dir, 'report.json'))).code, 0);

  const clean = await verifyOutput(data);
  assert.equal(clean.code, 0, clean.text);

  const smtp = "(SELECT id FROM capture WHERE source = 'smtp')";
  const imported = "(SELECT id FROM capture WHERE source LIKE 'import:%')";
  const edits: { what: string; sql: string; params?: (string | number)[]; named: RegExp }[] = [
    { what: 'a recipient replaced in the envelope', sql: `UPDATE capture SET envelope = replace(envelope, 'bob@example.test', 'mallory@example.test') WHERE id = ${smtp}`, named: /capture \S+: envelope in the database differs from ledger entry \d+: .*mallory@example\.test.*ledger .*bob@example\.test/ },
    { what: 'the client address', sql: `UPDATE capture SET envelope = json_set(envelope, '$.transport.address', '203.0.113.9') WHERE id = ${smtp}`, named: /capture \S+: (envelope|clientIp) in the database differs/ },
    { what: 'the source', sql: `UPDATE capture SET source = 'lmtp' WHERE id = ${smtp}`, named: /capture \S+: source in the database differs from ledger entry \d+: database "lmtp", ledger "smtp"/ },
    { what: 'the receipt time', sql: `UPDATE capture SET received_at = received_at + 86400000 WHERE id = ${smtp}`, named: /capture \S+: receivedAt in the database differs/ },
    { what: 'the provenance', sql: `UPDATE capture SET provenance = json_set(provenance, '$.forged', 1) WHERE id = ${imported}`, named: /capture \S+: provenance in the database differs/ },
    // Retention fixed at capture: shortened in the table so disposal would come early.
    { what: 'the retain-until shortened', sql: `UPDATE capture SET retain_until = retain_until - 3000 * 86400000 WHERE id = ${smtp}`, named: /capture \S+: retainUntil in the database differs from ledger entry \d+: database \d+, ledger \d+/ },
    // and its minimum, so a leaver's schedule, an erasure or an early disposal would take it sooner
    { what: 'the keep-until shortened', sql: `UPDATE capture SET keep_until = keep_until - 3000 * 86400000 WHERE id = ${smtp}`, named: /capture \S+: keepUntil in the database differs from ledger entry \d+: database \d+, ledger \d+/ },
    { what: 'the message size', sql: "UPDATE message SET size = size + 1 WHERE id = (SELECT MIN(id) FROM message)", named: /capture \S+: size in the database differs/ },
    // The personal part of a version-2 entry, beside its leaf: changed, or removed without an
    // erasure entry that names it.
    { what: "an entry's payload changed", sql: `UPDATE ledger_payload SET payload = replace(payload, 'bob@example.test', 'mallory@example.test') WHERE idx = (SELECT ledger_index FROM capture WHERE id = ${smtp})`, named: /ledger entry \d+: its personal payload does not match the leaf's commitment \(changed\)/ },
    { what: "an entry's payload removed", sql: `UPDATE ledger_payload SET payload = NULL, salt = NULL WHERE idx = (SELECT ledger_index FROM capture WHERE id = ${imported})`, named: /ledger entry \d+: its personal payload is missing and no erasure entry names it \(removed\)/ },
    // A capture's leaf replaced by JSON that parses but is no entry: named, and verify goes on.
    { what: 'a leaf that is no entry', sql: `UPDATE ledger SET leaf = CAST('{"type":"capture"}' AS BLOB) WHERE idx = (SELECT ledger_index FROM capture WHERE id = ${smtp})`, named: /ledger entry \d+: leaf is not a valid entry/ },
    { what: 'a mailbox given an owner', sql: "UPDATE mailbox SET owner = 'mallory' WHERE name = 'bob@example.test'", named: /access state: owner of mailbox bob@example\.test is in the database but no ledger entry gives it/ },
    // A leaving date lets a mailbox's mail go early: written straight into the table, with no approval.
    { what: 'a leaving date without an approval', sql: "INSERT INTO leaver (mailbox_id, left_on, dispose_from, change_id) SELECT id, 0, 0, 'lvr_forged' FROM mailbox WHERE name = 'bob@example.test'", named: /access state: leaving date of mailbox bob@example\.test is in the database but no ledger entry gives it: .*"change":"lvr_forged"/ },
  ];
  for (const e of edits) {
    const copy = join(dir, `copy-${edits.indexOf(e)}`);
    execFileSync('cp', ['-a', data, copy]);
    edit(copy, e.sql, ...(e.params ?? []));
    const r = await verifyOutput(copy);
    assert.equal(r.code, 1, `${e.what}: verify fails\n${r.text}`);
    assert.match(r.text, e.named, `${e.what} is named`);
  }
});

test('a capture whose blob is damaged fails its indexing alone; the rest of the batch is indexed', { timeout: 180_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig();
  mkdirSync(join(dir, 'eml'));
  for (let n = 1; n <= 6; n++) writeFileSync(join(dir, 'eml', `m${n}.eml`), eml(n));
  assert.equal((await runImport(['eml', '--data', data, '--config', config, join(dir, 'eml')], join(dir, 'report.json'))).code, 0);

  // Nothing is indexed yet (the importer does not index): damage the third message's blob.
  const db = new DatabaseSync(join(data, 'sealbox.db'), { readOnly: true });
  const victim = db.prepare('SELECT sha256, blob_file, blob_offset, blob_length FROM message ORDER BY id LIMIT 1 OFFSET 2').get() as Record<string, string | number>;
  db.close();
  const path = join(data, 'blobs', String(victim.blob_file));
  const bytes = readFileSync(path);
  bytes[Number(victim.blob_offset) + Math.floor(Number(victim.blob_length) / 2)] ^= 0xff;
  writeFileSync(path, bytes);

  const server = await startSealbox({ data, args: ['--config', config] });
  try {
    await waitForIndex(data);
    const stats = JSON.parse((await sealbox(['stats', '--data', data, '--json'])).stdout.toString());
    assert.equal(stats.indexFailures.count, 1, JSON.stringify(stats.indexFailures));
    assert.equal(stats.indexFailures.recent[0].sha256, victim.sha256);
    assert.match(stats.indexFailures.recent[0].error, /authenticate|damaged|Unsupported/);
    const archive = await openArchive(data);
    try {
      const hits = (await archive.search.search('subject:commitment', { limit: 100 })).hits.map((h) => h.sha256);
      assert.equal(hits.length, 5, 'the five other messages of the batch are indexed');
      assert.ok(!hits.includes(String(victim.sha256)));
    } finally {
      archive.close();
    }
    assert.doesNotMatch(server.stderr(), /indexing batch failed/, 'no batch failed as a whole');
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const r = await verifyOutput(data);
  assert.equal(r.code, 1);
  assert.match(r.text, new RegExp(`FAIL message ${victim.sha256}: blob .* is damaged`));
});
