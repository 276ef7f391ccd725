// The CLI is a contract (README "Command line"): output shapes, exit codes and error codes, and
// the rule that every read of content is in the ledger before anything is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyCheckpoint } from '../src/ledger/checkpoint.ts';
import { leafHash, rootFromLeafHashes } from '../src/ledger/merkle-tree.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readerToken } from './support/reader.ts';
import { exportedEntry } from './support/ledger-export.ts';
import type { ExportedLine } from './support/ledger-export.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Exported = ExportedLine;

function jsonLines(text: string | Buffer): any[] {
  return text.toString().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

const messages = [
  Buffer.from('From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: Budget review\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <budget-1@example.test>\r\n\r\nThe budget review is on Thursday.\r\n'),
  Buffer.from('From: Carol <carol@example.test>\r\nTo: bob@example.test\r\nSubject: Budget draft\r\nDate: Tue, 03 Nov 2026 10:00:00 +0000\r\nMessage-ID: <budget-2@example.test>\r\n\r\nHere is the budget draft.\r\n'),
  Buffer.from('From: Dave <dave@example.test>\r\nTo: bob@example.test\r\nSubject: Lunch\r\n\r\nNo Message-ID and no Date here.\r\n'),
];

test('the CLI contract', { timeout: 240_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  let stopped = false;
  t.after(() => (stopped ? undefined : server.stop()));
  const common = ['--data', server.data, '--config', config];
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (const data of messages) {
    const r = await client.send({ from: 'journal@example.test', to: ['bob@example.test'] }, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
  }
  await client.quit();
  await waitForIndex(server.data);
  // Content is read by a person: here the owner of bob's mailbox, with a content token.
  const token = await readerToken(server.data, ['bob@example.test'], { config });
  const reader = [...common, '--token', token];

  const exportLedger = async (): Promise<Exported[]> => {
    const r = await sealbox(['ledger', 'export', ...common]);
    assert.equal(r.code, 0, r.stderr);
    return jsonLines(r.stdout);
  };
  const entry = exportedEntry;

  await t.test('search --json: one object per line with exactly sha256, messageId, date, from, subject', async () => {
    const r = await sealbox(['search', ...reader, '--reason', 'contract', '--json', 'budget']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.toString().endsWith('\n'));
    const hits = jsonLines(r.stdout);
    assert.equal(hits.length, 2);
    for (const hit of hits) assert.deepEqual(Object.keys(hit).sort(), ['date', 'from', 'messageId', 'sha256', 'subject']);
    // Newest first, by the Date header.
    assert.deepEqual(hits[0], { sha256: sha256(messages[1]), messageId: 'budget-2@example.test', date: '2026-11-03T10:00:00.000Z', from: 'Carol <carol@example.test>', subject: 'Budget draft' });
    assert.equal(hits[1].sha256, sha256(messages[0]));

    const lunch = jsonLines((await sealbox(['search', ...reader, '--reason', 'contract', '--json', 'subject:lunch'])).stdout);
    assert.equal(lunch.length, 1);
    assert.equal(lunch[0].messageId, null, 'a missing Message-ID is null');
    assert.match(lunch[0].date, /^\d{4}-\d\d-\d\dT/, 'without a Date header the receipt time is used');
  });

  await t.test('every successful search and show adds exactly one access entry with the reader, the note and the messages', async () => {
    let before = (await exportLedger()).length;
    const searched = await sealbox(['search', ...reader, '--reason', 'ticket HR-1234: budget leak', '--json', 'budget']);
    assert.equal(searched.code, 0, searched.stderr);
    let after = await exportLedger();
    assert.equal(after.length, before + 1);
    const s = entry(after.at(-1)!);
    assert.equal(after.at(-1)!.type, 'access');
    assert.equal(s.type, 'access');
    assert.equal(s.logonType, 'owner');
    assert.equal(s.actor, 'user:reader');
    assert.equal(s.operation, 'search');
    assert.equal(s.parameters.note, 'ticket HR-1234: budget leak');
    assert.equal(typeof s.parameters.query, 'string');
    assert.deepEqual(s.objects.messages.sort(), [sha256(messages[0]), sha256(messages[1])].sort());

    before = after.length;
    const empty = await sealbox(['search', ...reader, '--reason', 'nothing to find', 'xylophone']);
    assert.equal(empty.code, 0, empty.stderr);
    after = await exportLedger();
    assert.equal(after.length, before + 1, 'a search that finds nothing is a search all the same');
    assert.deepEqual(entry(after.at(-1)!).objects.messages, []);

    for (const format of ['--json', '--raw', null]) {
      before = after.length;
      const shown = await sealbox(['show', ...reader, '--reason', `read ${format}`, ...(format ? [format] : []), sha256(messages[2])]);
      assert.equal(shown.code, 0, shown.stderr);
      after = await exportLedger();
      assert.equal(after.length, before + 1, `show ${format}`);
      const e = entry(after.at(-1)!);
      assert.equal(e.type, 'access');
      assert.equal(e.logonType, 'owner');
      assert.equal(e.parameters.note, `read ${format}`);
      assert.deepEqual(e.objects.messages, [sha256(messages[2])]);
    }
  });

  await t.test('search and show without a valid token are refused and show nothing; a token naming a real one is recorded', async () => {
    const before = (await exportLedger()).length;
    for (const args of [['search', ...common, 'budget'], ['show', ...common, sha256(messages[0])], ['search', ...common, '--token', 'sbx_forged', 'budget'], ['show', ...common, '--token', token + 'x', '--raw', sha256(messages[0])]]) {
      const r = await sealbox(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /token/i, args.join(' '));
      assert.match(r.stderr, /\[SEALBOX_ERR_AUTH\]/, args.join(' '));
      assert.equal(r.stdout.length, 0, `${args.join(' ')} printed nothing`);
    }
    // No token and a token naming nobody leave no trace; a forged secret for the reader's real
    // token is evidence about its holder: one denied token.use entry (README: refusals are recorded).
    const added = (await exportLedger()).slice(before).map(entry);
    assert.deepEqual(added.map((e) => [e.type, e.operation, e.result, e.actor, e.parameters.route, e.parameters.tokenId, e.parameters.reason, e.objects.messages]),
      [['admin', 'token.use', 'denied', 'user:reader', 'sealbox show', /^sbx_(tok_[0-9a-z]+)_/.exec(token)![1], 'wrong token secret', []]]);
  });

  await t.test('a malformed query exits 2 naming the column and SEALBOX_ERR_QUERY; it reads nothing, and the refused attempt is recorded', async () => {
    const queries = [['from:', 6], ['budget "unclosed', 8], ['a OR', 3], ['form:x', 1]] as const;
    const before = (await exportLedger()).length;
    for (const [query, column] of queries) {
      const r = await sealbox(['search', ...reader, '--reason', 'bad query', query]);
      assert.equal(r.code, 2, `${query}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`column ${column}\\b`), `${query}: ${r.stderr}`);
      assert.match(r.stderr, /\[SEALBOX_ERR_QUERY\]/, query);
      assert.equal(r.stdout.length, 0);
    }
    const added = (await exportLedger()).slice(before).map(entry);
    assert.deepEqual(added.map((e) => [e.type, e.operation, e.result, e.parameters.query, e.objects.messages.length]), queries.map(([q]) => ['access', 'search', 'denied', q, 0]), 'one denied access entry per refused query, naming no message');
  });

  await t.test('show of an unknown sha256 exits non-zero with SEALBOX_ERR_NOT_FOUND, and the attempt is recorded as denied', async () => {
    let before = (await exportLedger()).length;
    const r = await sealbox(['show', ...reader, '--reason', 'look', '--json', 'ab'.repeat(32)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\[SEALBOX_ERR_NOT_FOUND\]/);
    assert.equal(r.stdout.length, 0);
    const after = await exportLedger();
    assert.equal(after.length, before + 1, 'guessing an id is recorded');
    assert.equal(entry(after.at(-1)!).result, 'denied');
    before = after.length;
    const bad = await sealbox(['show', ...reader, '--reason', 'look', 'not-a-hash']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[SEALBOX_ERR_BAD_INPUT\]/);
    assert.equal((await exportLedger()).length, before);
  });

  await t.test('stats --json has captures, messages, rawBytes, blobBytes, indexLag', async () => {
    const r = await sealbox(['stats', ...common, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const stats = JSON.parse(r.stdout.toString());
    assert.equal(stats.captures, 3);
    assert.equal(stats.messages, 3);
    assert.equal(stats.rawBytes, messages.reduce((n, m) => n + m.length, 0));
    assert.ok(Number.isInteger(stats.blobBytes) && stats.blobBytes > 0, `blobBytes ${stats.blobBytes}`);
    assert.deepEqual(stats.indexLag, { captures: 0 });
  });

  await t.test('verify exits 0 on a sound archive', async () => {
    const r = await sealbox(['verify', ...common]);
    assert.equal(r.code, 0, r.stdout.toString() + r.stderr);
    assert.match(r.stdout.toString(), /^OK: /m);
    assert.doesNotMatch(r.stdout.toString(), /^FAIL/m);
  });

  await t.test('ledger checkpoint verifies with ledger public-key and matches the exported leaves', async () => {
    stopped = true;
    assert.equal(await server.stop(), 0, server.stderr()); // signs a final checkpoint
    const note = await sealbox(['ledger', 'checkpoint', ...common]);
    assert.equal(note.code, 0, note.stderr);
    const key = await sealbox(['ledger', 'public-key', ...common]);
    assert.equal(key.code, 0, key.stderr);
    const checkpoint = verifyCheckpoint(note.stdout.toString(), key.stdout.toString().trim(), { origin: 'sealbox.localhost/ledger' });
    const leaves = await exportLedger();
    assert.deepEqual(leaves.map((l) => l.index), leaves.map((_, i) => i), 'indexes run 0, 1, 2, … without gaps');
    // Everything up to the shutdown is signed; the CLI's own reads since are not yet.
    assert.ok(checkpoint.size > 3 && checkpoint.size <= leaves.length, `checkpoint size ${checkpoint.size} of ${leaves.length}`);
    const hashes = leaves.slice(0, checkpoint.size).map((l) => leafHash(Buffer.from(l.leaf, 'base64')));
    assert.deepEqual(checkpoint.rootHash, rootFromLeafHashes(hashes));
    // And a changed leaf would not match.
    const altered = Buffer.from(leaves[1].leaf, 'base64');
    altered[altered.length - 2] ^= 1;
    assert.notDeepEqual(rootFromLeafHashes([hashes[0], leafHash(altered), ...hashes.slice(2)]), checkpoint.rootHash);
  });
});

test('verify exits 0 on a fresh archive', async () => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  assert.equal(await server.stop(), 0, server.stderr());
  const r = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(r.code, 0, r.stdout.toString() + r.stderr);
  const json = await sealbox(['verify', '--data', server.data, '--config', config, '--json']);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout.toString()).problems, []);
});

test('serve stops cleanly on a SIGTERM sent as soon as it says it is listening', async () => {
  const config = testConfig();
  for (let i = 0; i < 5; i++) {
    const server = await startSealbox({ args: ['--config', config] });
    assert.equal(await server.stop('SIGTERM'), 0, `start ${i}: killed instead of stopping (${server.proc.signalCode})\n${server.stderr()}`);
  }
});

test('serve refuses a config with an unknown key or a bad value, naming it', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ reciever: {} }, /unknown key "reciever"/],
    [{ receiver: { maxMesageBytes: 10 } }, /unknown key "receiver\.maxMesageBytes"/],
    [{ receiver: { maxMessageBytes: -5 } }, /"receiver\.maxMessageBytes"/],
    [{ commit: { maxBatch: 'lots' } }, /"commit\.maxBatch"/],
    [{ sso: { providers: [{ id: 'corp', label: 'Corp', issuer: 'not a url', clientId: 'sealbox' }] } }, /"sso\.providers\.0\.issuer": Invalid URL/],
  ];
  for (const [content, message] of cases) {
    const dir = tempDataDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(content));
    const r = await sealbox(['serve', '--config', file, '--data', join(dir, 'data'), '--smtp', '127.0.0.1:0', '--lmtp', '127.0.0.1:0'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${JSON.stringify(content)}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, message, JSON.stringify(content));
    assert.match(r.stderr, /\[SEALBOX_ERR_CONFIG\]/);
    assert.doesNotMatch(r.stdout.toString(), /listening/);
  }
});

test('serve refuses to start on a file a config key names that is missing, empty or malformed, naming the key', async () => {
  const dir = tempDataDir();
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  const badZone = join(dir, 'zone.json');
  writeFileSync(badZone, JSON.stringify({ 'example.test': { TXT: 'not a list' } }));
  const missing = join(dir, 'nowhere');
  const badKey = join(dir, 'bad.key');
  writeFileSync(badKey, 'c2hvcnQ=\n', { mode: 0o600 });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ auth: { dns: missing } }, /auth\.dns: cannot read .*nowhere: ENOENT/],
    [{ auth: { dns: badZone } }, /auth\.dns: .*zone\.json is not a valid zone/],
    [{ auth: { enabled: false }, receiver: { tls: { key: missing, cert: missing } } }, /receiver\.tls\.key: cannot read/],
    [{ auth: { enabled: false }, notify: { webhooks: [{ url: 'http://127.0.0.1:9/hook', secretFile: empty }] } }, /notify\.webhooks\[0\]\.secretFile: .*empty is empty/],
    [{ auth: { enabled: false }, ledger: { witnesses: { webhooks: [{ url: 'http://127.0.0.1:9/w', secretFile: missing }] } } }, /ledger\.witnesses\.webhooks\[0\]\.secretFile: cannot read/],
    [{ auth: { enabled: false }, keys: { masterKeyFile: badKey } }, /master key \(keys\.masterKeyFile\) .*bad\.key does not hold 32 bytes/],
    [{ auth: { enabled: false }, keys: { signingKeyFile: join(empty, 'under-a-file', 'signing.pem') } }, /ledger signing key \(keys\.signingKeyFile\) .*signing\.pem: ENOTDIR/],
  ];
  for (const [content, message] of cases) {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(content));
    const r = await sealbox(['serve', '--config', file, '--data', join(dir, `data-${cases.findIndex((c) => c[0] === content)}`), '--smtp', '127.0.0.1:0', '--lmtp', '127.0.0.1:0', '--http', 'off'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${JSON.stringify(content)}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, message, JSON.stringify(content));
    assert.match(r.stderr, /\[SEALBOX_ERR_CONFIG\]/);
    assert.doesNotMatch(r.stdout.toString(), /listening/);
  }
});

test('commands against a missing data folder explain it', async () => {
  const missing = join(tempDataDir(), 'no-such-archive');
  for (const args of [['search', '--token', 'sbx_x', 'budget'], ['show', '--token', 'sbx_x', 'ab'.repeat(32)], ['stats'], ['verify'], ['ledger', 'export'], ['ledger', 'checkpoint'], ['ledger', 'public-key']]) {
    const r = await sealbox([...args, '--data', missing]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.ok(r.stderr.includes(`no archive in ${missing}`), `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /sealbox serve --data/, 'and how to make one');
  }
});
