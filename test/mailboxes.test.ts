// Mailboxes: a CSV directory maps addresses (aliases included) to named mailboxes; addresses in
// the internal domains get a mailbox of their own. A bad line rejects the whole file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { loadConfig } from '../src/core/config.ts';
import { Indexer } from '../src/index/indexer.ts';
import { openIndexDb } from '../src/index/sqlite/index-db.ts';
import { SqliteIndexStore } from '../src/index/sqlite/index-store.ts';
import { openStores } from '../src/store/open-stores.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';
import type { SqliteMetadataStore } from '../src/store/sqlite/metadata-store.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function csvFile(text: string): string {
  const file = join(tempDataDir(), 'directory.csv');
  writeFileSync(file, text);
  return file;
}

// Reads as a person who owns the mailboxes concerned (made after the directory import).
let token = '';
async function search(common: string[], query: string): Promise<string[]> {
  const r = await readAs(token, ['search', ...common, '--json', query]);
  assert.equal(r.code, 0, `${query}: ${r.stderr}`);
  return r.stdout.toString().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).sha256);
}

async function ledgerLines(common: string[]): Promise<number> {
  const r = await sealbox(['ledger', 'export', ...common]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString().split('\n').filter((l) => l.trim() !== '').length;
}

async function deliver(port: number, from: string, to: string[], data: Buffer): Promise<void> {
  const client = await RawSmtpClient.connect(port);
  const r = await client.send({ from, to }, data);
  assert.equal(r.data[0].code, 250, r.data[0].text);
  await client.quit();
}

test('a CSV directory makes mailboxes with aliases; search and show use them', { timeout: 120_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];

  const before = await ledgerLines(common);
  const imported = await sealbox(['mailboxes', 'import', ...common, csvFile([
    'addresses,display_name,owner,sensitivity',
    'alice@corp.example;a.smith@corp.example,Alice Smith,,',
    'ceo@corp.example,The CEO,,executive',
    '',
  ].join('\n'))]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout.toString(), /imported 2 mailbox\(es\) with 3 address\(es\)/);
  assert.equal(await ledgerLines(common), before + 1, 'the import is one admin entry in the ledger');
  // No owner yet, so the reader can be given both at once (a change of owner would be staged).
  token = await readerToken(server.data, ['alice@corp.example', 'ceo@corp.example'], { config });

  // Mail to Alice's alias only; the CEO is not involved.
  const toAlias = Buffer.from('From: Vendor <sales@vendor.example>\r\nTo: A. Smith <a.smith@corp.example>\r\nSubject: your quote\r\nMessage-ID: <quote-1@vendor.example>\r\n\r\nPlease find the quote.\r\n');
  await deliver(server.smtp.port, 'sales@vendor.example', ['a.smith@corp.example'], toAlias);
  // And one the CEO gets as an envelope-only (Bcc) recipient.
  const bccCeo = Buffer.from('From: Vendor <sales@vendor.example>\r\nTo: Bob <bob@corp.example>\r\nSubject: pricing\r\nMessage-ID: <pricing-1@vendor.example>\r\n\r\nNew prices.\r\n');
  await deliver(server.smtp.port, 'sales@vendor.example', ['bob@corp.example', 'ceo@corp.example'], bccCeo);
  await waitForIndex(server.data);

  assert.deepEqual(await search(common, 'mailbox:alice@corp.example'), [sha256(toAlias)], 'by mailbox name');
  assert.deepEqual(await search(common, 'mailbox:a.smith@corp.example'), [sha256(toAlias)], 'by any of its addresses');
  assert.deepEqual(await search(common, 'mailbox:ceo@corp.example'), [sha256(bccCeo)], 'an envelope-only recipient belongs to the mailbox too');
  assert.deepEqual(await search(common, 'mailbox:nobody@corp.example'), []);

  const shown = await readAs(token, ['show', ...common, '--json', sha256(toAlias)]);
  assert.equal(shown.code, 0, shown.stderr);
  const view = JSON.parse(shown.stdout.toString());
  const by = (address: string) => view.mailboxes.find((m: any) => m.address === address);
  assert.equal(by('a.smith@corp.example')?.mailbox, 'alice@corp.example', JSON.stringify(view.mailboxes));
  assert.equal(by('a.smith@corp.example')?.role, 'to');
  assert.equal(by('sales@vendor.example')?.mailbox, null, 'an outside address has no mailbox');
});

test('a CSV with a bad line is refused as a whole, naming the line, and changes nothing', { timeout: 120_000 }, async (t) => {
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const data = Buffer.from('From: x@vendor.example\r\nTo: bob@corp.example, carol@corp.example\r\nSubject: hello\r\n\r\nhi\r\n');
  await deliver(server.smtp.port, 'x@vendor.example', ['bob@corp.example', 'carol@corp.example'], data);
  await waitForIndex(server.data);
  const entries = await ledgerLines(common);

  const cases: [string, string, RegExp][] = [
    ['unknown column', 'addresses,display_name,owner,division\nbob@corp.example,Bob,bob,sales\n', /line 1: unknown column "division"/],
    ['two departments', 'addresses,display_name,owner,department\nbob@corp.example,Bob,bob,Sales;Legal\n', /line 2: department "Sales;Legal" names more than one/],
    ['bad address', 'addresses,display_name,owner,sensitivity\nbob@corp.example,Bob,bob,\ncarol.corp.example,Carol,carol,\n', /line 3: "carol\.corp\.example" is not an email address/],
    ['wrong field count', 'addresses,display_name,owner,sensitivity\nbob@corp.example,Bob,bob,\ncarol@corp.example,Carol,carol\n', /line 3: 3 fields, the header has 4/],
  ];
  for (const [what, text, message] of cases) {
    const r = await sealbox(['mailboxes', 'import', ...common, csvFile(text)]);
    assert.equal(r.code, 2, `${what}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.match(r.stderr, /SEALBOX_ERR_BAD_INPUT/, what);
    assert.equal(r.stdout.toString(), '', what);
  }
  assert.equal(await ledgerLines(common), entries, 'no import was recorded');
  token = await readerToken(server.data, ['reader@corp.example'], { config });
  // Bob's line came before the bad one in two of the files: it was not applied either.
  assert.deepEqual(await search(common, 'mailbox:bob@corp.example'), []);
  assert.deepEqual(await search(common, 'mailbox:carol@corp.example'), []);
});

test('internalDomains: every address in them gets a mailbox of its own', { timeout: 120_000 }, async (t) => {
  const config = testConfig({ internalDomains: ['corp.example'] });
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const data = Buffer.from('From: Dave <dave@corp.example>\r\nTo: Erin <erin@corp.example>, Partner <p@partner.example>\r\nSubject: plan\r\n\r\nthe plan\r\n');
  await deliver(server.smtp.port, 'dave@corp.example', ['erin@corp.example', 'p@partner.example', 'frank@corp.example'], data);
  await waitForIndex(server.data);
  token = await readerToken(server.data, ['dave@corp.example', 'erin@corp.example', 'frank@corp.example'], { config });

  for (const address of ['dave@corp.example', 'erin@corp.example', 'frank@corp.example']) {
    assert.deepEqual(await search(common, `mailbox:${address}`), [sha256(data)], address);
  }
  assert.deepEqual(await search(common, 'mailbox:p@partner.example'), [], 'an outside domain gets no mailbox');
  const shown = await readAs(token, ['show', ...common, '--json', sha256(data)]);
  const view = JSON.parse(shown.stdout.toString());
  const mailboxOf = Object.fromEntries(view.mailboxes.map((m: any) => [`${m.role} ${m.address}`, m.mailbox]));
  assert.deepEqual(mailboxOf, {
    'from dave@corp.example': 'dave@corp.example',
    'to erin@corp.example': 'erin@corp.example',
    'to p@partner.example': null,
    'bcc frank@corp.example': 'frank@corp.example',
  });
});

test('automatic mailboxes are not lost when the batch that found them fails', { timeout: 120_000 }, async (t) => {
  // An archive whose one message names internal addresses, indexed without internalDomains.
  const plain = testConfig();
  const server = await startSealbox({ args: ['--config', plain] });
  const data = Buffer.from('From: Gina <gina@corp.example>\r\nTo: Hal <hal@corp.example>\r\nSubject: numbers\r\n\r\nthe numbers\r\n');
  await deliver(server.smtp.port, 'gina@corp.example', ['hal@corp.example'], data);
  assert.equal(await server.stop(), 0, server.stderr());

  // Index it again from scratch (the index is rebuildable), now with internalDomains, while
  // another process holds the archive database's write lock: the batch fails.
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(server.data, `index.db${suffix}`), { force: true });
  const stores = openStores(loadConfig(plain, { data: server.data }, {}), { create: false });
  const index = openIndexDb(stores.paths.index, stores.paths.meta);
  t.after(() => { index.close(); stores.close(); });
  (stores.meta as SqliteMetadataStore).db.exec('PRAGMA busy_timeout = 50');
  const indexer = new Indexer({ captures: stores.repos.captures, index: new SqliteIndexStore(index), reader: stores.reader, meta: stores.meta, log: pino({ level: 'silent' }), batch: 200, internalDomains: ['corp.example'], auth: null, attachmentText: false });
  const locker = new DatabaseSync(join(server.data, 'sealbox.db'));
  locker.exec('BEGIN IMMEDIATE');
  await assert.rejects(indexer.runOnce(), /locked|busy/i);
  locker.exec('ROLLBACK');
  locker.close();

  // The retry must cover that batch again, mailboxes included.
  assert.equal(await indexer.runOnce(), 1, 'the failed batch is indexed on the retry');
  assert.equal((await stores.meta.read((tx) => stores.meta.mailboxForAddress(tx, 'gina@corp.example')))?.name, 'gina@corp.example');
  assert.equal((await stores.meta.read((tx) => stores.meta.mailboxForAddress(tx, 'hal@corp.example')))?.name, 'hal@corp.example');
  assert.equal(await indexer.runOnce(), 0);
});
