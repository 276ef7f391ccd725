// Disposal destroys a message for good (issue 15, step 4a: the act itself; retention and holds
// decide what is disposed): after it, nothing of the message can be found in the data folder
// (every file searched for a word only it holds), search does not find it, reading it answers
// when and under which policy it went, and verify — against the archive's own checkpoints and an
// older checkpoint kept as a witness — still passes. The same bytes received again are a message again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyWhole } from '../src/cli/commands/verify.ts';
import { generateSigningKey } from '../src/ledger/checkpoint.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { repoRoot, tempDataDir } from './support/sealbox.ts';

const SCRIPT = join(repoRoot, 'scripts', 'verify-disposal-certificate.mjs');

// A word no other message, query or setting holds, and a sender who wrote nothing else; and a
// word found only inside its attachment (the index holds it once the attachment is read).
const SECRET = 'Quixoblatzenfjord';
const SENDER = 'quentin@unique-sender.test';
const ATTACHED = 'Vexquandrilloth';

// Every file under `dir` that holds `needle` (as is, or lowercased as the index keeps words).
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const forms = [needle, needle.toLowerCase()].map((s) => Buffer.from(s, 'utf8'));
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (forms.some((f) => readFileSync(path).includes(f))) found.push(path.slice(dir.length + 1));
    }
  };
  walk(dir);
  return found;
}

test('a disposed message is gone from every file, answers "disposed", and the ledger still verifies', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {
      gone: { from: SENDER, to: 'olga@corp.test', subject: `${SECRET} contract draft`, date: 'Wed, 15 Jan 2025 10:00:00 +0000',
        attachment: { filename: 'terms.txt', text: `Clause 9: ${ATTACHED} applies.` } },
      kept: { from: 'x@ext.test', to: 'olga@corp.test', subject: 'quarterly planning', date: 'Sat, 15 Feb 2025 10:00:00 +0000' },
    },
    mailboxes: { 'olga@corp.test': 'olga' },
    users: { olga: ['owner'], aud: ['auditor'] },
    config: { oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, sha, archive } = world;
  const { meta } = archive.stores;

  // A checkpoint from before, kept elsewhere as a witness would keep it.
  await world.parts.checkpoint();
  const before = (await meta.read((tx) => meta.latestCheckpoint(tx)))!;
  const witness = join(tempDataDir(), 'witnessed-checkpoint.txt');
  writeFileSync(witness, before.note);

  assert.ok(filesHolding(world.data, SECRET).length > 0, 'the word is in the data folder before (not vacuous)');
  assert.ok(filesHolding(world.data, SENDER).length > 0, 'and so is its sender');
  assert.ok(filesHolding(world.data, ATTACHED).length > 0, 'and the word inside its attachment, in the index');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.gone}`)).status, 200);

  const outcome = await archive.services.disposal.dispose([sha.gone, sha.gone, '0'.repeat(64)], 'mail-1y');
  assert.deepEqual(outcome.disposed, [sha.gone], 'the message once; one not archived is left out');
  assert.deepEqual({ erased: outcome.erased, bytesKept: outcome.bytesKept, purged: outcome.purged, failed: outcome.failed }, { erased: 1, bytesKept: 0, purged: true, failed: [] });

  assert.deepEqual(filesHolding(world.data, SECRET), [], 'no file of the archive holds the word any more');
  assert.deepEqual(filesHolding(world.data, SENDER), [], 'nor who sent it: its receipt\'s envelope and its capture entry\'s payload are erased');
  assert.deepEqual(filesHolding(world.data, ATTACHED), [], 'nor the text read from its attachment');

  const read = await as.olga.call('GET', `/api/v1/messages/${sha.gone}`);
  assert.equal(read.status, 410);
  assert.equal(read.body.error.code, 'SEALBOX_ERR_DISPOSED');
  assert.match(read.body.error.message, new RegExp(`disposed on \\d{4}-\\d\\d-\\d\\d under policy mail-1y \\(ledger entry ${outcome.ledgerIndex}\\)`));
  for (const part of ['/raw', '/body']) assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.gone}${part}`)).status, 410, part);
  const found = await as.olga.call('GET', `/api/v1/search?q=${SECRET}`);
  assert.equal(found.status, 200);
  assert.deepEqual(found.body.results, [], 'search does not find it');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.kept}`)).status, 200, 'the other message is untouched');
  assert.equal((await as.olga.call('GET', '/api/v1/search?q=quarterly')).body.results.length, 1);

  // The dispose entry names the message in its leaf (the policy is in its payload).
  const entry = (await meta.read((tx) => meta.entry(tx, outcome.ledgerIndex!)))!;
  assert.deepEqual([entry.entry.operation, entry.entry.actor, entry.entry.objects.messages, entry.entry.parameters], ['dispose', 'system:retention', [sha.gone], { policy: 'mail-1y', count: 1 }]);
  assert.ok(entry.leaf.toString().includes(sha.gone));
  const capture = (await meta.read(async (tx) => meta.capturesOf(tx, (await meta.getMessage(tx, sha.gone))!.id)))[0]!;
  assert.deepEqual(entry.entry.erases, [capture.ledgerIndex], 'the dispose entry erases its capture entry\'s payload');
  assert.equal(capture.envelope, null);
  const captureEntry = (await meta.read((tx) => meta.entry(tx, capture.ledgerIndex)))!;
  assert.deepEqual([captureEntry.entry.erased, captureEntry.payload, captureEntry.entry.objects.messages], [true, null, [sha.gone]], 'its leaf stays, naming the message');

  // The certificate waits for a signed checkpoint that holds the dispose entry.
  const early = await as.aud.call('GET', '/api/v1/disposals/certificate');
  assert.equal(early.status, 409, JSON.stringify(early.body));
  assert.equal((await as.olga.call('GET', '/api/v1/disposals/certificate')).status, 403, 'auditors only');

  // Nothing to do a second time; the ledger, and every checkpoint before, verify.
  assert.deepEqual((await archive.services.disposal.dispose([sha.gone], 'mail-1y')).disposed, []);
  await world.parts.checkpoint();

  // The certificate checks out offline, with the script alone and the key the witnesses hold.
  const cert = await as.aud.call('GET', '/api/v1/disposals/certificate');
  assert.equal(cert.status, 200, JSON.stringify(cert.body));
  assert.deepEqual([cert.body.disposed.messages, cert.body.disposed.sha256, cert.body.disposed.policies], [1, [sha.gone], ['mail-1y']]);
  const dir = tempDataDir();
  const check = (body: unknown) => {
    const file = join(dir, `certificate-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(body));
    return spawnSync(process.execPath, [SCRIPT, file, '--key', archive.verifierKey], { encoding: 'utf8' });
  };
  const ok = check(cert.body);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^OK 1 messages disposed in 1 entries \(policies: mail-1y\)/);
  const forged = [
    { ...cert.body, disposed: { ...cert.body.disposed, sha256: ['f'.repeat(64)] } },
    { ...cert.body, entries: cert.body.entries.map((e: any) => ({ ...e, payload: Buffer.from(Buffer.from(e.payload, 'base64').toString().replace('mail-1y', 'mail-1d')).toString('base64') })) },
    { ...cert.body, entries: cert.body.entries.map((e: any) => ({ ...e, index: e.index + 1 })) },
  ];
  for (const body of forged) assert.equal(check(body).status, 1, 'a changed certificate fails');
  const otherKey = generateSigningKey(archive.config.ledger.origin).verifierKey;
  const wrongKey = spawnSync(process.execPath, [SCRIPT, join(dir, readdirSync(dir)[0]!), '--key', otherKey], { encoding: 'utf8' });
  assert.equal(wrongKey.status, 1, 'not signed by that key');
  const report = await verifyWhole(archive, [{ source: witness, note: readFileSync(witness, 'utf8') }]);
  assert.deepEqual(report.problems, [], 'verify, against the archive and against the witness');

  // The same bytes again: a message again, readable and found.
  await world.deliver({ from: 'x@ext.test', to: ['olga@corp.test'] }, world.raw.gone);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.gone}`)).status, 200, 'archived again, readable again');
  assert.equal((await as.olga.call('GET', `/api/v1/search?q=${SECRET}`)).body.results.length, 1, 'and found again');
  assert.deepEqual((await verifyWhole(archive)).problems, []);
});
