// The search index's contract, run against every implementation (SQLite FTS5 in index.db, and
// tsvector + GIN on PostgreSQL, on a private cluster, each backend a schema of its own). A small archive is built the way the
// server builds it — openArchive, the directory, the CaptureWriter, then the Indexer writing
// through the implementation's IndexStore, the attachment extractor after it — and every query's
// answer is checked against a tally made from the messages as written here (CORPUS), never
// against another run of the index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openArchive } from '../../src/archive.ts';
import type { Archive } from '../../src/archive.ts';
import type { DirectoryRow } from '../../src/access/directory-csv.ts';
import { CaptureWriter } from '../../src/capture/capture-writer.ts';
import { loadConfig } from '../../src/core/config.ts';
import { newId } from '../../src/core/ids.ts';
import type { Envelope } from '../../src/core/types.ts';
import type { IndexStore } from '../../src/index/index-store.ts';
import { Indexer } from '../../src/index/indexer.ts';
import type { SearchIndex, SearchOptions, SearchScope } from '../../src/index/search-index.ts';
import { QueryError } from '../../src/index/search-query.ts';
import type { MessageDates } from '../../src/oversight/message-dates.ts';
import { ArchiveWriter } from '../../src/store/archive-writer.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);

// The write side the indexer uses and the read side searches use, over the same index.
interface IndexBackend {
  store: IndexStore;
  search: SearchIndex;
  dates: MessageDates;
  close?(): void | Promise<void>;
}

// Each index beside the metadata of an archive of its backend, as the server keeps it: SQLite's
// index.db beside sealbox.db, PostgreSQL's tables in the archive's schema (whose mailbox tables
// its scope and mailbox: conditions read, and whose capture inserts queue the captures for it).
// store: the config's store section for an archive in this folder (undefined: the default).
const INDEXES: { name: string; store(dir: string): Record<string, unknown> | undefined }[] = [
  { name: 'SQLite FTS5 (index.db)', store: () => undefined },
  { name: 'PostgreSQL tsvector + GIN', store: postgresStoreIn },
];

// The store section for a schema of the suite's cluster, as an operator writes it (the password
// in a 0600 file of its own).
function postgresStoreIn(dir: string): Record<string, unknown> {
  const url = new URL(postgres.url());
  const passwordFile = join(dir, 'pg.password');
  writeFileSync(passwordFile, decodeURIComponent(url.password) + '\n', { mode: 0o600 });
  url.password = '';
  return { kind: 'postgres', postgres: { url: url.toString(), passwordFile, schema: postgres.schemaFor(dir) } };
}

// ---------------------------------------------------------------------------------------
// The archive's content, as written

interface Person { name: string | null; address: string }
interface Receipt { mailFrom: string; rcptTo: string[] }
// text: the words reading it yields (attachment:); outcome: how its reading ends; types: the
// type: values that find it.
interface Attachment { filename: string; contentType: string; content: Buffer; text: string; outcome: 'ok' | 'failed'; types: string[] }
interface Mail {
  key: string;
  from: Person;
  to: Person[];
  cc?: Person[];
  subject: string;
  body: string;
  date: string | null;              // the Date header (ISO here); null: none, the receipt time counts
  receivedAt: string;
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  attachments?: Attachment[];
  receipts?: (Receipt | null)[];     // one capture each; null: no envelope (an import)
}

const p = (name: string | null, address: string): Person => ({ name, address });
const ALICE = p('Alice Smith', 'alice@corp.example');
const BOB = p('Bob', 'bob@corp.example');
const CAROL = p('Carol Jones', 'carol@corp.example');
const DAVE = p('Dave', 'dave@corp.example');
const EVE = p('Eve', 'eve@partner.example');

const CORPUS: Mail[] = [
  { key: 'm1', from: ALICE, to: [BOB], subject: 'Invoice 1001 for March', body: 'Please pay the invoice by wire transfer before Friday.',
    date: '2026-03-02T09:00:00Z', receivedAt: '2026-03-02T09:01:00Z', messageId: 'INV-1001@corp.example',
    // Not a PDF at all: its reading fails, and its name alone is searchable.
    attachments: [{ filename: 'invoice-1001.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 invoice 1001\n'), text: '', outcome: 'failed', types: ['pdf'] }] },
  // A reply to m1's Message-ID, which m9 carries too: both are in its thread.
  { key: 'm2', from: BOB, to: [p('Alice', 'alice@corp.example')], cc: [CAROL], subject: 'Re: Invoice 1001 for March', body: 'The transfer was wired this morning.',
    date: '2026-03-03T10:00:00Z', receivedAt: '2026-03-03T10:01:00Z', messageId: 're-1001@corp.example', inReplyTo: 'INV-1001@corp.example' },
  { key: 'm3', from: p('Sales', 'sales@vendor.example'), to: [p(null, 'a.smith@corp.example')], subject: 'Quarterly pricing', body: 'Our new pricing list is attached.',
    date: '2026-03-05T08:00:00Z', receivedAt: '2026-03-05T08:01:00Z', messageId: 'pricing-q2@vendor.example',
    attachments: [{ filename: 'pricing.csv', contentType: 'text/csv', content: Buffer.from('item,price\nwidget,10\n'), text: 'item,price widget,10', outcome: 'ok', types: ['csv', 'text'] }],
    receipts: [{ mailFrom: 'bounce@vendor.example', rcptTo: ['a.smith@corp.example', 'dave@corp.example'] }] },
  // The same bytes received twice: the second receipt names Bob only in its envelope.
  { key: 'm4', from: CAROL, to: [p('Team', 'team@partner.example')], subject: 'Lunch on Friday', body: 'Shall we meet for lunch near the station?',
    date: '2026-03-10T11:00:00Z', receivedAt: '2026-03-10T11:01:00Z', messageId: 'lunch@corp.example',
    // Its text read after the first receipt's batch, and again after the second names Bob.
    attachments: [{ filename: 'menu.csv', contentType: 'text/csv', content: Buffer.from('dish,price\nsoup,4\n'), text: 'dish,price soup,4', outcome: 'ok', types: ['csv', 'text'] }],
    receipts: [null, { mailFrom: 'carol@corp.example', rcptTo: ['team@partner.example', 'bob@corp.example'] }] },
  { key: 'm5', from: DAVE, to: [CAROL], cc: [BOB], subject: 'Security incident report', body: 'Suspicious login from an unknown address. Invoices are not affected.',
    date: '2026-03-12T16:00:00Z', receivedAt: '2026-03-12T16:01:00Z', messageId: 'incident-7@corp.example' },
  { key: 'm6', from: p('Alice Cooper', 'acooper@partner.example'), to: [BOB], subject: 'Band rehearsal', body: 'Rehearsal moved to Thursday.',
    date: '2026-02-20T19:00:00Z', receivedAt: '2026-02-20T19:01:00Z', messageId: 'band@partner.example' },
  { key: 'm7', from: p(null, 'noreply@mail.corp.example'), to: [p(null, 'carol@corp.example')], subject: 'Password expiry', body: 'Your password expires soon.',
    date: '2026-02-25T07:00:00Z', receivedAt: '2026-02-25T07:01:00Z', messageId: 'expiry@mail.corp.example' },
  { key: 'm8', from: BOB, to: [DAVE], subject: 'Old notes', body: 'Notes from the workshop.',
    date: null, receivedAt: '2026-01-15T12:00:00Z', messageId: 'notes@corp.example' },
  // Another message under m1's Message-ID (a forged or altered copy): kept, never merged.
  { key: 'm9', from: ALICE, to: [EVE], subject: 'Invoice 1001 for March', body: 'Please pay the invoice to account 999.',
    date: '2026-03-02T09:30:00Z', receivedAt: '2026-03-02T09:31:00Z', messageId: 'INV-1001@corp.example' },
  { key: 'm10', from: EVE, to: [p('Alice', 'alice@corp.example'), BOB], subject: 'Contract draft', body: 'See the draft contract.',
    date: '2026-04-01T10:00:00Z', receivedAt: '2026-04-01T10:01:00Z', messageId: 'contract@partner.example',
    attachments: [{ filename: 'contract-draft.txt', contentType: 'text/plain', content: Buffer.from('Clause 1: the parties agree.\n'), text: 'Clause 1: the parties agree.', outcome: 'ok', types: ['txt', 'text', 'plain'] }] },
  { key: 'm11', from: CAROL, to: [BOB], subject: 'Budget review', body: 'Numbers for the budget review.',
    date: '2026-03-15T09:00:00Z', receivedAt: '2026-03-15T09:01:00Z', messageId: 'budget@corp.example',
    receipts: [{ mailFrom: 'carol@corp.example', rcptTo: ['bob@corp.example', 'dave@corp.example'] }] },
  // A conversation with letters written two ways (ß = ss, æ = ae, ø = oe), markup in its text, and
  // a reply (m14) archived before the message it answers (m15), which refers to the root.
  { key: 'm12', from: EVE, to: [CAROL], subject: 'Straßenfest am Samstag', body: 'Das Straßenfest beginnt um 10 Uhr. <b>Bring</b> <script>alert(1)</script> Kuchen & Kaffee mit.',
    date: '2026-03-20T10:00:00Z', receivedAt: '2026-03-20T10:01:00Z', messageId: 'fest@partner.example' },
  { key: 'm13', from: CAROL, to: [EVE], subject: 'Re: Straßenfest am Samstag', body: 'The encyclopædia says smørrebrød suits a strassenfest. Søren agrees.',
    date: '2026-03-21T10:00:00Z', receivedAt: '2026-03-21T10:01:00Z', messageId: 'fest-1@corp.example', inReplyTo: 'fest@partner.example', references: ['fest@partner.example'] },
  { key: 'm14', from: EVE, to: [DAVE], subject: 'Re: Re: Straßenfest am Samstag', body: 'Dave, can you bring chairs?',
    date: '2026-03-23T10:00:00Z', receivedAt: '2026-03-23T10:01:00Z', messageId: 'fest-3@partner.example', inReplyTo: 'fest-2@corp.example' },
  { key: 'm15', from: CAROL, to: [EVE], subject: 'Re: Straßenfest am Samstag', body: 'Tables are booked.',
    date: '2026-03-22T10:00:00Z', receivedAt: '2026-03-22T10:01:00Z', messageId: 'fest-2@corp.example', inReplyTo: 'fest@partner.example', references: ['fest@partner.example'] },
  // Words only inside attachments: an invitation (its summary, place, description and people; in
  // LF lines, as postal-mime hands a calendar over, so that its hash is the one below) and an HTML
  // page in windows-1252, as its <meta> says.
  { key: 'm16', from: EVE, to: [CAROL], subject: 'Kickoff invitation', body: 'The agenda and the invitation are attached.',
    date: '2026-03-25T10:00:00Z', receivedAt: '2026-03-25T10:01:00Z', messageId: 'kickoff@partner.example',
    attachments: [
      { filename: 'invite.ics', contentType: 'text/calendar', content: Buffer.from(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Conformance//EN', 'METHOD:REQUEST',
        'BEGIN:VEVENT', 'UID:kickoff@partner.example', 'DTSTART:20260401T090000Z', 'SUMMARY:Project kickoff', 'LOCATION:Boardroom Zanzibar',
        'DESCRIPTION:Bring the budget figures\\, please.\\nCoffee provid', ' ed.', 'ORGANIZER;CN=Eve:mailto:eve@partner.example',
        'ATTENDEE;CN="Carol Jones";ROLE=REQ-PARTICIPANT:mailto:carol@corp.example', 'END:VEVENT', 'END:VCALENDAR', ''].join('\n')),
        text: 'Project kickoff Boardroom Zanzibar Bring the budget figures, please. Coffee provided. Eve eve@partner.example Carol Jones carol@corp.example', outcome: 'ok', types: ['calendar', 'ics'] },
      { filename: 'agenda.html', contentType: 'text/html', content: Buffer.from('<html><head><meta charset="windows-1252"><title>Draft</title></head><body><h1>Agenda</h1><p>Welcome to the M\xf6nchengladbach office</p><p>Item one: roadmap &amp; milestones</p></body></html>', 'latin1'),
        text: 'Agenda Welcome to the Mönchengladbach office Item one: roadmap & milestones', outcome: 'ok', types: ['html'] },
    ] },
];

const DIRECTORY: DirectoryRow[] = [
  { name: 'alice', addresses: ['alice@corp.example', 'a.smith@corp.example'], displayName: 'Alice Smith', owner: null, sensitivity: null, manager: null },
  { name: 'bob', addresses: ['bob@corp.example'], displayName: 'Bob', owner: null, sensitivity: null, manager: null },
  { name: 'carol', addresses: ['carol@corp.example'], displayName: 'Carol Jones', owner: null, sensitivity: null, manager: null },
  { name: 'dave', addresses: ['dave@corp.example'], displayName: 'Dave', owner: null, sensitivity: null, manager: null },
];

function display(x: Person): string {
  return x.name ? `"${x.name}" <${x.address}>` : x.address;
}

// RFC 2047, for a subject that is not ASCII.
function encodeWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?utf-8?b?${Buffer.from(text).toString('base64')}?=`;
}

function rawMessage(m: Mail): Buffer {
  const headers = [`From: ${display(m.from)}`, `To: ${m.to.map(display).join(', ')}`];
  if (m.cc) headers.push(`Cc: ${m.cc.map(display).join(', ')}`);
  headers.push(`Subject: ${encodeWord(m.subject)}`, `Message-ID: <${m.messageId}>`, 'MIME-Version: 1.0');
  if (m.inReplyTo) headers.push(`In-Reply-To: <${m.inReplyTo}>`);
  if (m.references) headers.push(`References: ${m.references.map((r) => `<${r}>`).join(' ')}`);
  if (m.date) headers.push(`Date: ${new Date(m.date).toUTCString()}`);
  if (!m.attachments) return Buffer.from([...headers, 'Content-Type: text/plain; charset=utf-8', '', m.body, ''].join('\r\n'));
  const boundary = `b-${m.key}`;
  const parts = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', m.body];
  for (const a of m.attachments) {
    parts.push(`--${boundary}`, `Content-Type: ${a.contentType}; name="${a.filename}"`, `Content-Disposition: attachment; filename="${a.filename}"`,
      'Content-Transfer-Encoding: base64', '', a.content.toString('base64'));
  }
  parts.push(`--${boundary}--`, '');
  return Buffer.from([...headers, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', ...parts].join('\r\n'));
}

function envelope(r: Receipt): Envelope {
  return {
    mailFrom: r.mailFrom, mailFromArgs: {}, rcptTo: r.rcptTo.map((address) => ({ address, args: {} })),
    clientAddress: '192.0.2.25', clientPort: 41000, clientHelo: 'mx.example', clientName: null, authUser: null, queueId: null,
    protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 2525, helo: 'mx.example' }, xforward: {},
  };
}

// ---------------------------------------------------------------------------------------
// The tally: what each message is, in the query language's terms (src/index/search-query.ts)

type Role = 'from' | 'sender' | 'to' | 'cc' | 'bcc';
interface Part { role: Role; address: string; name: string | null }

const ROLE_ORDER: Role[] = ['from', 'sender', 'to', 'cc', 'bcc'];
const dateOf = (m: Mail) => Date.parse(m.date ?? m.receivedAt);
const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const DAY = 86_400_000;
const hasAttachment = (m: Mail) => (m.attachments?.length ?? 0) > 0;

// Full text is cut into words at anything but letters and digits, case folded.
const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}\p{Co}]+/u).filter(Boolean);
type Column = 'subject' | 'addresses' | 'body' | 'filenames' | 'attachments';
function columns(m: Mail): Record<Column, string[]> {
  const people = [m.from, ...m.to, ...(m.cc ?? [])];
  return {
    subject: words(m.subject),
    addresses: words(people.map((x) => `${x.name ?? ''} ${x.address}`).join(' ')),
    body: words(m.body),
    filenames: words((m.attachments ?? []).map((a) => a.filename).join(' ')),
    attachments: words((m.attachments ?? []).map((a) => a.text).join(' ')),
  };
}
const ALL_COLUMNS: Column[] = ['subject', 'addresses', 'body', 'filenames', 'attachments'];
const hasType = (m: Mail, type: string) => (m.attachments ?? []).some((a) => a.types.includes(type));
const has = (m: Mail, word: string, only: Column[] = ALL_COLUMNS) => only.some((c) => columns(m)[c].includes(word));
const hasPrefix = (m: Mail, prefix: string, only: Column[] = ALL_COLUMNS) => only.some((c) => columns(m)[c].some((w) => w.startsWith(prefix)));
function hasPhrase(m: Mail, phrase: string, only: Column[] = ALL_COLUMNS): boolean {
  const want = words(phrase);
  return only.some((c) => {
    const ws = columns(m)[c];
    return ws.some((_, i) => want.every((w, j) => ws[i + j] === w));
  });
}

// Every address taking part: the headers, then each receipt's envelope (a recipient no header
// names was Bcc'd; a MAIL FROM that is not a From address is the sender).
function parts(m: Mail): Part[] {
  const out: Part[] = [];
  const add = (role: Role, x: Person) => {
    const address = x.address.toLowerCase();
    if (!out.some((q) => q.role === role && q.address === address)) out.push({ role, address, name: x.name ? x.name.toLowerCase() : null });
  };
  add('from', m.from);
  for (const x of m.to) add('to', x);
  for (const x of m.cc ?? []) add('cc', x);
  const named = new Set([...m.to, ...(m.cc ?? [])].map((x) => x.address.toLowerCase()));
  for (const r of m.receipts ?? []) {
    if (!r) continue;
    for (const a of r.rcptTo) if (!named.has(a)) add('bcc', p(null, a));
    if (r.mailFrom !== m.from.address) add('sender', p(null, r.mailFrom));
  }
  return out;
}

// A Bcc the reader may see (SearchOptions.envelopeOf): always, unless the reader is a mailbox
// owner who neither received it as that Bcc nor sent the message.
function visible(m: Mail, part: Part, own: string[] | null): boolean {
  if (own === null || part.role !== 'bcc') return true;
  return own.includes(part.address) || parts(m).some((q) => (q.role === 'from' || q.role === 'sender') && own.includes(q.address));
}

// from:/to:/…: "a@b.c" that address, "@b.c" that domain, "a@" that local part, "b.c" domain,
// address or local part, "a" local part, address or a word of the display name.
function addressMatches(value: string, part: Part): boolean {
  const v = value.toLowerCase();
  const domain = part.address.slice(part.address.lastIndexOf('@') + 1);
  if (v.startsWith('@')) return domain === v.slice(1);
  if (v.endsWith('@')) return part.address.startsWith(v);
  if (v.includes('@')) return part.address === v;
  if (v.includes('.')) return domain === v || part.address === v || part.address.startsWith(`${v}@`);
  const nameWords = (part.name ?? '').split(/[ \t,.;:"'()<>/\\@_+&|-]+/).filter(Boolean);
  return part.address === v || part.address.startsWith(`${v}@`) || nameWords.includes(v);
}

const mailboxAddresses = (name: string) => DIRECTORY.find((r) => r.name === name)!.addresses;
const holderOf = (address: string) => DIRECTORY.find((r) => r.addresses.includes(address))?.name ?? null;

interface Tally {
  role(role: Role, value: string): (m: Mail) => boolean;
  mailbox(nameOrAddress: string): (m: Mail) => boolean;
}
function tally(own: string[] | null): Tally {
  return {
    role: (role, value) => (m) => parts(m).some((x) => x.role === role && addressMatches(value, x) && visible(m, x, own)),
    mailbox: (nameOrAddress) => (m) => {
      const v = nameOrAddress.toLowerCase();
      const box = DIRECTORY.find((r) => r.name.toLowerCase() === v)?.name ?? holderOf(v);
      return box !== null && parts(m).some((x) => mailboxAddresses(box).includes(x.address) && visible(m, x, own));
    },
  };
}
const T = tally(null);

const newestFirst = (ms: Mail[]) => [...ms].sort((a, b) => dateOf(b) - dateOf(a));
const keysOf = (ms: Mail[]) => ms.map((m) => m.key);

// ---------------------------------------------------------------------------------------

// One folder for the whole file, removed at exit; a fresh one inside it for each backend opened.
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function tempDir(): string {
  return mkdtempSync(join(ROOT, 'db-'));
}

for (const impl of INDEXES) {
  describe(`SearchIndex: ${impl.name}`, () => {
    let archive: Archive;
    let index: SearchIndex;
    let store: IndexStore;
    let backend: IndexBackend | undefined;
    const sha = new Map<string, string>();     // key → sha256
    const keyOf = new Map<string, string>();   // sha256 → key
    const box = new Map<string, { id: number }>();
    const rows = new Map<string, number>();    // key → message row id, read once all is written
    const rowOf = (key: string) => rows.get(key)!;

    before(async () => {
      const log = pino({ level: 'silent' });
      const dir = tempDir();
      const storeSection = impl.store(dir);
      const file = join(dir, 'sealbox.json');
      writeFileSync(file, JSON.stringify(storeSection ? { store: storeSection } : {}));
      const config = loadConfig(file, { data: dir }, {});
      archive = await openArchive(config, 'server', { log });
      const { stores } = archive;
      const { mailboxes } = archive.services;
      await stores.meta.write(async (tx) => {
        for (const row of DIRECTORY) await mailboxes.apply(tx, row);
      });
      await stores.meta.read(async (tx) => {
        for (const row of DIRECTORY) box.set(row.name, { id: (await mailboxes.byName(tx, row.name))!.id });
      });

      const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger: archive.ledger, log, maxBatch: config.commit.maxBatch, retention: archive.retention });
      const capture = new CaptureWriter({ writer, blobs: stores.blobs, keys: stores.keys, inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes });
      for (const m of CORPUS) {
        const raw = rawMessage(m);
        for (const receipt of m.receipts ?? [null]) {
          const incoming = capture.begin({ journal: 'off' });
          await incoming.write(raw);
          const receivedAt = Date.parse(m.receivedAt);
          const { result } = await incoming.commit({
            id: newId('cap', receivedAt), source: receipt ? 'smtp' : 'import:conformance', receivedAt,
            envelope: receipt ? envelope(receipt) : null, provenance: receipt ? null : { file: `${m.key}.eml` },
          });
          assert.equal(result.sha256, createHash('sha256').update(raw).digest('hex'));
          sha.set(m.key, result.sha256);
          keyOf.set(result.sha256, m.key);
        }
      }
      await writer.drain();

      backend = archive.index;
      index = backend.search;
      store = backend.store;
      // Wired as the index worker wires it, but with small batches, so that m4's second receipt
      // reaches a message indexed in an earlier batch; no DNS (auth verdicts are not this contract).
      const indexer = new Indexer({
        captures: stores.repos.captures, index: backend.store, reader: stores.reader, meta: stores.meta, log,
        batch: 4, internalDomains: config.internalDomains, auth: null, attachmentText: true,
      });
      while (await indexer.runOnce() > 0);
      await indexer.extraction!.drain();
      indexer.extraction!.close();
      await stores.meta.read(async (tx) => {
        for (const [key, sha256] of sha) rows.set(key, (await stores.meta.getMessage(tx, sha256))!.id);
      });
    });

    after(async () => {
      await backend?.close?.();
      archive?.close();
    });

    const found = async (query: string, options: Partial<SearchOptions> = {}) => (await index.search(query, { limit: 100, ...options })).hits.map((h) => keyOf.get(h.sha256) ?? h.sha256);
    const check = async (cases: [string, (m: Mail) => boolean][], options: Partial<SearchOptions> = {}, what = '') => {
      for (const [query, expected] of cases) {
        assert.deepEqual(await found(query, options), keysOf(newestFirst(CORPUS.filter(expected))), `${query}${what}`);
      }
    };

    test('the index covers every capture, with no failures', async () => {
      const { meta } = archive.stores;
      const { last, counts } = await meta.read(async (tx) => ({ last: await meta.lastCaptureRowId(tx), counts: await meta.counts(tx) }));
      assert.equal((await index.cursor()), last);
      assert.equal(counts.captures, CORPUS.reduce((n, m) => n + (m.receipts?.length ?? 1), 0));
      assert.deepEqual((await index.failures()), { count: 0, recent: [] });
      assert.equal(await index.pendingExtraction(), 0, 'every attachment read');
    });

    test('words, phrases and prefixes; subject: and filename: search their column only', async () => {
      await check([
        ['invoice', (m) => has(m, 'invoice')],
        ['INVOICE', (m) => has(m, 'invoice')],
        ['friday', (m) => has(m, 'friday')],
        ['cooper', (m) => has(m, 'cooper')],
        ['1001', (m) => has(m, '1001')],
        ['nosuchword', () => false],
        ['"wire transfer"', (m) => hasPhrase(m, 'wire transfer')],
        ['"transfer wire"', (m) => hasPhrase(m, 'transfer wire')],
        ['"invoice 1001"', (m) => hasPhrase(m, 'invoice 1001')],
        ['invoice*', (m) => hasPrefix(m, 'invoice')],
        ['rehears*', (m) => hasPrefix(m, 'rehears')],
        ['subject:invoice', (m) => has(m, 'invoice', ['subject'])],
        ['subject:friday', (m) => has(m, 'friday', ['subject'])],
        ['subject:"invoice 1001"', (m) => hasPhrase(m, 'invoice 1001', ['subject'])],
        ['subject:rev*', (m) => hasPrefix(m, 'rev', ['subject'])],
        ['filename:pricing', (m) => has(m, 'pricing', ['filenames'])],
        ['filename:contract*', (m) => hasPrefix(m, 'contract', ['filenames'])],
        ['filename:pdf', (m) => has(m, 'pdf', ['filenames'])],
      ]);
      // The cases above are not vacuous.
      assert.deepEqual(await found('friday'), ['m4', 'm1']);
      assert.deepEqual(await found('subject:friday'), ['m4'], 'm1 says Friday in its body, not its subject');
      assert.deepEqual(await found('"wire transfer"'), ['m1'], 'm2 has both words, not the phrase');
      assert.deepEqual(await found('invoice*'), ['m5', 'm2', 'm9', 'm1'], 'm5 says "invoices"');
    });

    test('attachment: searches the text read from inside attachments; plain words find it too; type: their kind', async () => {
      await check([
        ['attachment:widget', (m) => has(m, 'widget', ['attachments'])],
        ['widget', (m) => has(m, 'widget')],
        ['attachment:parties', (m) => has(m, 'parties', ['attachments'])],
        ['attachment:"parties agree"', (m) => hasPhrase(m, 'parties agree', ['attachments'])],
        ['attachment:"agree parties"', (m) => hasPhrase(m, 'agree parties', ['attachments'])],
        ['attachment:zanzib*', (m) => hasPrefix(m, 'zanzib', ['attachments'])],
        ['zanzibar', (m) => has(m, 'zanzibar')],
        ['attachment:budget', (m) => has(m, 'budget', ['attachments'])],
        ['budget', (m) => has(m, 'budget')],
        ['budget -attachment:budget', (m) => has(m, 'budget') && !has(m, 'budget', ['attachments'])],
        ['subject:budget OR attachment:budget', (m) => has(m, 'budget', ['subject']) || has(m, 'budget', ['attachments'])],
        ['attachment:carol', (m) => has(m, 'carol', ['attachments'])],
        ['attachment:invoice', (m) => has(m, 'invoice', ['attachments'])],
        ['attachment:contract', (m) => has(m, 'contract', ['attachments'])],
        ['invitation attachment:coffee', (m) => has(m, 'invitation') && has(m, 'coffee', ['attachments'])],
        ['attachment:item from:sales@vendor.example', (m) => has(m, 'item', ['attachments']) && T.role('from', 'sales@vendor.example')(m)],
        ['type:pdf', (m) => hasType(m, 'pdf')],
        ['type:PDF', (m) => hasType(m, 'pdf')],
        ['type:csv', (m) => hasType(m, 'csv')],
        ['type:text', (m) => hasType(m, 'text')],
        ['type:txt', (m) => hasType(m, 'txt')],
        ['type:plain', (m) => hasType(m, 'plain')],
        ['type:calendar', (m) => hasType(m, 'calendar')],
        ['type:ics', (m) => hasType(m, 'ics')],
        ['type:html', (m) => hasType(m, 'html')],
        ['type:docx', (m) => hasType(m, 'docx')],
        ['type:pdf OR type:csv', (m) => hasType(m, 'pdf') || hasType(m, 'csv')],
        ['has:attachment -type:text', (m) => hasAttachment(m) && !hasType(m, 'text')],
      ]);
      // The cases above are not vacuous.
      assert.deepEqual(await found('widget'), ['m3'], 'a word only inside an attachment');
      assert.deepEqual(await found('attachment:invoice'), [], 'm1\'s "PDF" could not be read: its name is searchable, not its bytes');
      assert.deepEqual(await found('attachment:contract'), [], 'an attachment\'s name is not its text');
      assert.deepEqual(await found('attachment:carol'), ['m16'], 'Carol takes part in m15 too, but only m16\'s attachment names her');
      assert.deepEqual(await found('budget'), ['m16', 'm11']);
      assert.deepEqual(await found('attachment:monchengladbach'), ['m16'], 'the page in its own charset, accents folded');
      assert.deepEqual(await found('attachment:"Mönchengladbach office"'), ['m16']);
      assert.deepEqual(await found('attachment:draft'), [], 'an HTML title is not text');
      assert.deepEqual(await found('type:text'), ['m10', 'm4', 'm3']);
      assert.equal((await index.search('attachment:"parties agree" type:TXT', { limit: 1 })).query, 'attachment:"parties agree" AND type:txt', 'the canonical form');
    });

    test('from:, to:, cc:, bcc:, sender: by address, domain, local part and display name', async () => {
      await check([
        ['from:alice@corp.example', T.role('from', 'alice@corp.example')],
        ['from:Alice@Corp.Example', T.role('from', 'alice@corp.example')],
        ['from:@corp.example', T.role('from', '@corp.example')],
        ['from:corp.example', T.role('from', 'corp.example')],
        ['from:mail.corp.example', T.role('from', 'mail.corp.example')],
        ['from:alice@', T.role('from', 'alice@')],
        ['from:alice', T.role('from', 'alice')],
        ['from:cooper', T.role('from', 'cooper')],
        ['from:smith', T.role('from', 'smith')],
        ['from:bounce@vendor.example', T.role('from', 'bounce@vendor.example')],
        ['to:bob@corp.example', T.role('to', 'bob@corp.example')],
        ['to:dave@corp.example', T.role('to', 'dave@corp.example')],
        ['to:a.smith', T.role('to', 'a.smith')],
        ['to:smith', T.role('to', 'smith')],
        ['to:@partner.example', T.role('to', '@partner.example')],
        ['to:partner.example', T.role('to', 'partner.example')],
        ['to:team', T.role('to', 'team')],
        ['to:jones', T.role('to', 'jones')],
        ['cc:bob@corp.example', T.role('cc', 'bob@corp.example')],
        ['cc:carol', T.role('cc', 'carol')],
        ['cc:jones', T.role('cc', 'jones')],
        ['bcc:dave@corp.example', T.role('bcc', 'dave@corp.example')],
        ['bcc:dave', T.role('bcc', 'dave')],
        ['bcc:bob@corp.example', T.role('bcc', 'bob@corp.example')],
        ['sender:bounce@vendor.example', T.role('sender', 'bounce@vendor.example')],
        ['sender:vendor.example', T.role('sender', 'vendor.example')],
      ]);
      // The cases above are not vacuous.
      assert.deepEqual(await found('bcc:dave@corp.example'), ['m11', 'm3'], 'an envelope-only recipient is a Bcc');
      assert.deepEqual(await found('bcc:bob@corp.example'), ['m4'], 'every receipt of the same bytes counts');
      assert.deepEqual((await found('from:@corp.example')).includes('m7'), false, 'a domain is not its subdomains');
    });

    test('mailbox:, has:attachment, dates, message-id: and sha256:', async () => {
      const m4 = sha.get('m4')!;
      await check([
        ['mailbox:alice', T.mailbox('alice')],
        ['mailbox:Alice', T.mailbox('alice')],
        ['mailbox:a.smith@corp.example', T.mailbox('a.smith@corp.example')],
        ['mailbox:dave', T.mailbox('dave')],
        ['mailbox:bob', T.mailbox('bob')],
        ['mailbox:nobody@corp.example', T.mailbox('nobody@corp.example')],
        ['mailbox:eve@partner.example', T.mailbox('eve@partner.example')],
        ['has:attachment', hasAttachment],
        ['on:2026-03-02', (m) => dateOf(m) >= day('2026-03-02') && dateOf(m) < day('2026-03-02') + DAY],
        ['after:2026-03-10', (m) => dateOf(m) >= day('2026-03-10') + DAY],
        ['before:2026-02-25', (m) => dateOf(m) < day('2026-02-25')],
        ['after:2026-03-01 before:2026-03-05', (m) => dateOf(m) >= day('2026-03-02') && dateOf(m) < day('2026-03-05')],
        ['before:2026-02-01', (m) => dateOf(m) < day('2026-02-01')],
        ['message-id:<INV-1001@corp.example>', (m) => m.messageId.toLowerCase() === 'inv-1001@corp.example'],
        ['message-id:inv-1001@CORP.example', (m) => m.messageId.toLowerCase() === 'inv-1001@corp.example'],
        [`sha256:${m4}`, (m) => sha.get(m.key) === m4],
        [`sha256:${m4.slice(0, 10).toUpperCase()}`, (m) => sha.get(m.key)!.startsWith(m4.slice(0, 10))],
      ]);
      assert.deepEqual(await found('before:2026-02-01'), ['m8'], 'a message without a Date header is dated by its receipt');
      assert.deepEqual((await found('mailbox:dave')).includes('m3'), true, 'a mailbox holds its envelope-only mail');
    });

    test('AND, OR, NOT and grouping', async () => {
      const notFts = (m: Mail) => !has(m, 'transfer');
      await check([
        ['invoice transfer', (m) => has(m, 'invoice') && has(m, 'transfer')],
        ['invoice AND transfer', (m) => has(m, 'invoice') && has(m, 'transfer')],
        ['invoice OR lunch', (m) => has(m, 'invoice') || has(m, 'lunch')],
        ['invoice -transfer', (m) => has(m, 'invoice') && notFts(m)],
        ['invoice AND NOT transfer', (m) => has(m, 'invoice') && notFts(m)],
        ['-invoice', (m) => !has(m, 'invoice')],
        ['NOT invoice', (m) => !has(m, 'invoice')],
        ['-invoice -lunch', (m) => !has(m, 'invoice') && !has(m, 'lunch')],
        ['NOT (invoice OR lunch)', (m) => !(has(m, 'invoice') || has(m, 'lunch'))],
        ['NOT has:attachment', (m) => !hasAttachment(m)],
        ['lunch OR invoice -transfer', (m) => has(m, 'lunch') || (has(m, 'invoice') && notFts(m))],
        ['(lunch OR invoice) -transfer', (m) => (has(m, 'lunch') || has(m, 'invoice')) && notFts(m)],
        ['(lunch OR rehearsal) from:carol@corp.example', (m) => (has(m, 'lunch') || has(m, 'rehearsal')) && T.role('from', 'carol@corp.example')(m)],
        ['invoice -from:bob@corp.example', (m) => has(m, 'invoice') && !T.role('from', 'bob@corp.example')(m)],
        ['from:bob@corp.example invoice', (m) => has(m, 'invoice') && T.role('from', 'bob@corp.example')(m)],
        ['to:bob@corp.example budget', (m) => has(m, 'budget') && T.role('to', 'bob@corp.example')(m)],
        ['from:bob@corp.example -invoice', (m) => !has(m, 'invoice') && T.role('from', 'bob@corp.example')(m)],
        ['from:alice OR to:alice', (m) => T.role('from', 'alice')(m) || T.role('to', 'alice')(m)],
        ['(invoice OR contract) has:attachment', (m) => (has(m, 'invoice') || has(m, 'contract')) && hasAttachment(m)],
        ['subject:invoice OR filename:contract*', (m) => has(m, 'invoice', ['subject']) || hasPrefix(m, 'contract', ['filenames'])],
        ['(invoice OR from:eve@partner.example) -transfer', (m) => (has(m, 'invoice') || T.role('from', 'eve@partner.example')(m)) && notFts(m)],
        ['from:@corp.example -has:attachment after:2026-03-01', (m) => T.role('from', '@corp.example')(m) && !hasAttachment(m) && dateOf(m) >= day('2026-03-02')],
        ['to:bob@corp.example OR cc:bob@corp.example OR bcc:bob@corp.example', (m) => ['to', 'cc', 'bcc'].some((r) => T.role(r as Role, 'bob@corp.example')(m))],
        ['mailbox:carol NOT from:carol', (m) => T.mailbox('carol')(m) && !T.role('from', 'carol')(m)],
      ]);
      assert.equal((await index.search('invoice -transfer', { limit: 1 })).query, 'invoice AND NOT transfer', 'the canonical form, for the ledger');
    });

    test('newest first; limit and offset page through the same order; hits carry what lists show', async () => {
      const all = keysOf(newestFirst(CORPUS));
      assert.deepEqual(await found('example'), all, 'every message names an address at an .example domain');
      const pages: string[] = [];
      for (let offset = 0; offset < all.length + 4; offset += 4) {
        const page = await found('example', { limit: 4, offset });
        assert.ok(page.length <= 4);
        pages.push(...page);
      }
      assert.deepEqual(pages, all);
      assert.deepEqual(await found('example', { limit: 1 }), all.slice(0, 1));
      assert.deepEqual(await found('example', { limit: 3, offset: all.length - 1 }), all.slice(-1));
      assert.deepEqual(await found('example', { limit: 3, offset: all.length }), []);

      const [hit] = (await index.search('subject:contract', { limit: 5 })).hits;
      assert.deepEqual(hit, { sha256: sha.get('m10'), messageId: 'contract@partner.example', date: Date.parse('2026-04-01T10:00:00Z'), from: 'Eve <eve@partner.example>', subject: 'Contract draft' });
    });

    test('countUpTo: a person\'s search counts no further than asked and says so; a page past it counts every match', async () => {
      const all = keysOf(newestFirst(CORPUS));
      const search = (query: string, options: Partial<SearchOptions>) => index.search(query, { limit: 3, ...options });
      for (const sort of ['newest', 'oldest', 'relevance'] as const) {
        const capped = await search('example', { countUpTo: 5, sort });
        assert.equal(capped.total, 5, sort);
        assert.equal(capped.totalIsLowerBound, true, `${sort}: more than 5 found`);
        assert.equal(capped.hits.length, 3);
        const exact = await search('example', { countUpTo: all.length, sort });
        assert.deepEqual([exact.total, exact.totalIsLowerBound], [all.length, undefined], `${sort}: as many as asked: exact`);
      }
      const first = await search('example', { countUpTo: 5 });
      assert.deepEqual(first.hits.map((h) => keyOf.get(h.sha256)), all.slice(0, 3), 'the same page as without a bound');
      // The page past the bound: every match counted, and the page found.
      const past = await search('example', { countUpTo: 5, offset: 6 });
      assert.deepEqual([past.total, past.totalIsLowerBound], [all.length, undefined]);
      assert.deepEqual(past.hits.map((h) => keyOf.get(h.sha256)), all.slice(6, 9));
      // Within mailboxes too.
      const bob = box.get('bob')!;
      const inBob = CORPUS.filter(T.mailbox('bob'));
      assert.ok(inBob.length > 2, 'bob\'s mailbox holds several');
      const scoped = await search('example', { limit: 2, countUpTo: 2, scope: { mailboxes: [bob], dateFrom: null, dateTo: null, fixedQuery: null } });
      assert.deepEqual([scoped.total, scoped.totalIsLowerBound], [2, true]);
      assert.deepEqual(scoped.hits.map((h) => keyOf.get(h.sha256)), keysOf(newestFirst(inBob)).slice(0, 2));
    });

    test('a scope (mailboxes, date window, fixed query) restricts every search and findInScope agrees', async () => {
      const ids = (...names: string[]) => names.map((n) => box.get(n)!);
      const scopes: { what: string; scope: SearchScope; fixed(m: Mail): boolean }[] = [
        { what: 'carol', scope: { mailboxes: ids('carol'), dateFrom: null, dateTo: null, fixedQuery: null }, fixed: () => true },
        { what: 'alice and bob, 2 and 3 March', scope: { mailboxes: ids('alice', 'bob'), dateFrom: day('2026-03-02'), dateTo: day('2026-03-04'), fixedQuery: null }, fixed: () => true },
        { what: 'bob before March', scope: { mailboxes: ids('bob'), dateFrom: null, dateTo: day('2026-03-01'), fixedQuery: null }, fixed: () => true },
        { what: 'bob, fixed query invoice', scope: { mailboxes: ids('bob'), dateFrom: null, dateTo: null, fixedQuery: 'invoice' }, fixed: (m) => has(m, 'invoice') },
        { what: 'alice, fixed query with an OR', scope: { mailboxes: ids('alice'), dateFrom: null, dateTo: null, fixedQuery: 'from:eve@partner.example OR has:attachment' },
          fixed: (m) => T.role('from', 'eve@partner.example')(m) || hasAttachment(m) },
        // Checked for one message (findInScope), a fixed query's words, attachments and mailboxes
        // are looked at on that message's own rows; a search lists them: both must agree.
        { what: 'alice and bob, fixed query with an attachment type, a word and a mailbox', scope: { mailboxes: ids('alice', 'bob'), dateFrom: null, dateTo: null, fixedQuery: 'type:csv OR lunch OR mailbox:carol' },
          fixed: (m) => hasType(m, 'csv') || has(m, 'lunch') || T.mailbox('carol')(m) },
        { what: 'bob (a Bcc of a later copy included)', scope: { mailboxes: ids('bob'), dateFrom: null, dateTo: null, fixedQuery: null }, fixed: () => true },
        { what: 'dave (envelope-only mail included)', scope: { mailboxes: ids('dave'), dateFrom: null, dateTo: null, fixedQuery: null }, fixed: () => true },
        { what: 'no mailbox', scope: { mailboxes: [], dateFrom: null, dateTo: null, fixedQuery: null }, fixed: () => false },
      ];
      const inScope = (m: Mail, s: (typeof scopes)[number]) => {
        const addresses = DIRECTORY.filter((r) => s.scope.mailboxes.some((b) => b.id === box.get(r.name)!.id)).flatMap((r) => r.addresses);
        const d = dateOf(m);
        return parts(m).some((x) => addresses.includes(x.address)) && (s.scope.dateFrom === null || d >= s.scope.dateFrom)
          && (s.scope.dateTo === null || d < s.scope.dateTo) && s.fixed(m);
      };
      const queries: [string, (m: Mail) => boolean][] = [
        ['example', () => true],
        ['invoice', (m) => has(m, 'invoice')],
        ['invoice OR lunch', (m) => has(m, 'invoice') || has(m, 'lunch')],
        ['NOT invoice', (m) => !has(m, 'invoice')],
        ['has:attachment', hasAttachment],
        ['attachment:soup', (m) => (m.attachments ?? []).some((a) => a.text.includes('soup'))],
        ['from:bob@corp.example', T.role('from', 'bob@corp.example')],
        ['from:@partner.example', T.role('from', '@partner.example')],
        ['to:@corp.example invoice', (m) => T.role('to', '@corp.example')(m) && has(m, 'invoice')],
        ['after:2026-03-04', (m) => dateOf(m) >= day('2026-03-05')],
        ['mailbox:carol', T.mailbox('carol')],
      ];
      for (const s of scopes) {
        await check(queries.map(([q, expected]) => [q, (m: Mail) => expected(m) && inScope(m, s)]), { scope: s.scope }, ` within ${s.what}`);
        for (const m of CORPUS) {
          assert.equal((await index.findInScope(sha.get(m.key)!, s.scope)), inScope(m, s) ? rowOf(m.key) : null, `findInScope ${m.key} within ${s.what}`);
        }
        assert.deepEqual(await index.inScope([...CORPUS.map((m) => sha.get(m.key)!), '0'.repeat(64)], s.scope),
          new Map(CORPUS.filter((m) => inScope(m, s)).map((m) => [sha.get(m.key)!, rowOf(m.key)])), `inScope, all at once, within ${s.what}`);
        // Each message with the one farthest from it by row id: a list too sparse to be asked as a
        // window of ids (SQLite asks a fixed query of a close list's window, of a sparse one row by row).
        for (const m of CORPUS) {
          const far = CORPUS.reduce((a, b) => (Math.abs(rowOf(b.key) - rowOf(m.key)) > Math.abs(rowOf(a.key) - rowOf(m.key)) ? b : a));
          const pair = [m, far];
          assert.deepEqual(await index.inScope(pair.map((x) => sha.get(x.key)!), s.scope), new Map(pair.filter((x) => inScope(x, s)).map((x) => [sha.get(x.key)!, rowOf(x.key)])),
            `inScope of ${m.key} and ${far.key}, within ${s.what}`);
        }
        // What the scope holds, read in windows of ids (a window of 3 ends inside the corpus and
        // between its rows; one past the last row is read too): each message once, by id.
        const expected = CORPUS.filter((m) => inScope(m, s)).map((m) => ({ id: rowOf(m.key), sha256: sha.get(m.key)! })).sort((a, b) => a.id - b.id);
        const last = Math.max(...CORPUS.map((m) => rowOf(m.key)));
        const windowed: { id: number; sha256: string }[] = [];
        for (let after = 0; after <= last; after += 3) windowed.push(...await index.inScopeBetween(s.scope, after, after + 3));
        assert.deepEqual(windowed, expected, `inScopeBetween in windows of 3, within ${s.what}`);
        assert.deepEqual(await index.inScopeBetween(s.scope, 0, last), expected, `inScopeBetween in one window, within ${s.what}`);
      }
      assert.deepEqual(await index.inScope([], scopes[0]!.scope), new Map());
      assert.deepEqual(await index.indexed([...CORPUS.map((m) => rowOf(m.key)), 987_654_321]), new Set(CORPUS.map((m) => rowOf(m.key))), 'indexed: every document, not a row the index lacks');
      assert.deepEqual(await found('invoice OR lunch', { scope: scopes[3]!.scope }), ['m2', 'm1'], 'an OR in the query does not step outside the fixed query');
      assert.equal((await index.findInScope('0'.repeat(64), scopes[0]!.scope)), null, 'a message not in the archive');
    });

    test('sameMessageId names the other copies within the scope only', async () => {
      const scope = (name: string): SearchScope => ({ mailboxes: [box.get(name)!], dateFrom: null, dateTo: null, fixedQuery: null });
      assert.deepEqual((await index.sameMessageId('inv-1001@corp.example', rowOf('m1'), scope('alice'))), [sha.get('m9')]);
      assert.deepEqual((await index.sameMessageId('inv-1001@corp.example', rowOf('m9'), scope('alice'))), [sha.get('m1')]);
      assert.deepEqual((await index.sameMessageId('inv-1001@corp.example', rowOf('m1'), scope('bob'))), [], 'the copy Bob cannot read is not named to him');
      assert.deepEqual((await index.sameMessageId('re-1001@corp.example', rowOf('m2'), scope('alice'))), [], 'no other copy');
      assert.deepEqual((await index.sameMessageId('inv-1001@corp.example', rowOf('m1'), { ...scope('alice'), dateTo: day('2026-03-02') + 9.25 * 3600_000 })), [], 'outside the date window');
    });

    test('document, participants and attachments of every message', async () => {
      for (const m of CORPUS) {
        const row = rowOf(m.key);
        const doc = (await index.document(row));
        assert.ok(doc, m.key);
        assert.deepEqual(
          { id: doc.id, sha256: doc.sha256, messageId: doc.message_id, messageIdLc: doc.message_id_lc, date: doc.date, subject: doc.subject, hasAttachment: Boolean(doc.has_attachment), parseError: doc.parse_error },
          { id: row, sha256: sha.get(m.key), messageId: m.messageId, messageIdLc: m.messageId.toLowerCase(), date: dateOf(m), subject: m.subject, hasAttachment: hasAttachment(m), parseError: null },
          m.key,
        );
        assert.match(doc.from_text ?? '', new RegExp(m.from.address.replace(/\./g, '\\.')), `${m.key}: from_text shows the sender`);
        const want = parts(m).map((x) => ({ address: x.address, role: x.role, name: x.name, mailbox: holderOf(x.address) }))
          .sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
        assert.deepEqual((await index.participants(row)).map((x) => ({ ...x })), want, `${m.key}: participants`);
        assert.deepEqual((await index.attachments(row)).map((a) => ({ ...a, extraction: a.extraction?.replace(/:.*/s, '') })), (m.attachments ?? []).map((a) => ({
          filename: a.filename, contentType: a.contentType, size: a.content.length, sha256: createHash('sha256').update(a.content).digest('hex'), extraction: a.outcome,
        })), `${m.key}: attachments`);
      }
      assert.equal((await index.document(1_000_000)), null);
      assert.deepEqual((await index.participants(1_000_000)), []);
    });

    test('mailboxesHolding: the mailboxes with an address taking part in any of the messages', async () => {
      const all = [...box.values()].map((b) => b.id);
      const name = (id: number) => [...box.entries()].find(([, b]) => b.id === id)![0];
      for (const keys of [['m3'], ['m4'], ['m3', 'm4'], ['m6', 'm7'], ['m9'], []]) {
        const want = new Set(CORPUS.filter((m) => keys.includes(m.key)).flatMap((m) => parts(m).map((x) => holderOf(x.address))).filter((n) => n !== null));
        const got = (await index.mailboxesHolding(keys.map((k) => sha.get(k)!), all));
        assert.deepEqual(new Set([...got].map(name)), want, keys.join(' '));
      }
      assert.deepEqual((await index.mailboxesHolding([sha.get('m3')!], [box.get('bob')!.id])), new Set(), 'only among the mailboxes asked about');
    });

    test('messagesWith and mailboxesWith: the mail of a person in any role, and the mailboxes holding it', async () => {
      for (const people of [['eve@partner.example'], ['dave@corp.example'], ['sales@vendor.example', 'bounce@vendor.example'], ['team@partner.example'], ['nobody@nowhere.example']]) {
        const theirs = CORPUS.filter((m) => parts(m).some((x) => people.includes(x.address)));
        const got = await index.messagesWith(people);
        assert.deepEqual(got.map((g) => keyOf.get(g.sha256)).sort(), theirs.map((m) => m.key).sort(), people.join(' '));
        const want = [...new Set(theirs.flatMap((m) => parts(m).map((x) => holderOf(x.address))).filter((n) => n !== null))].sort();
        assert.deepEqual(await index.mailboxesWith(people), want, people.join(' '));
      }
      assert.deepEqual(await index.mailboxesWith([]), []);
    });

    test('messagesOnlyOf: the messages no mailbox outside the set takes part in', async () => {
      const name = (id: number) => [...box.entries()].find(([, b]) => b.id === id)![0];
      const holders = (m: Mail) => [...new Set(parts(m).map((x) => holderOf(x.address)).filter((n): n is string => n !== null))].sort();
      for (const names of [['alice'], ['bob'], ['dave'], ['alice', 'bob'], ['alice', 'bob', 'carol'], [...box.keys()], []]) {
        const want = CORPUS.filter((m) => holders(m).length > 0 && holders(m).every((h) => names.includes(h))).map((m) => [rowOf(m.key), holders(m).join(' ')]).sort((a, b) => Number(a[0]) - Number(b[0]));
        const got = await index.messagesOnlyOf(names.map((n) => box.get(n)!.id), 1000);
        assert.deepEqual(got.map((g) => [g.id, g.mailboxes.map(name).sort().join(' ')]), want, names.join(' ') || '(none)');
        for (const g of got) assert.equal(g.sha256, sha.get(CORPUS.find((m) => rowOf(m.key) === g.id)!.key));
      }
      const all = await index.messagesOnlyOf([...box.values()].map((b) => b.id), 1000);
      assert.deepEqual((await index.messagesOnlyOf([...box.values()].map((b) => b.id), 2)).map((g) => g.id), all.slice(0, 2).map((g) => g.id), 'limited, in archive order');
    });

    test("envelopeOf: an owner's bcc: and mailbox: see a Bcc only as they received or sent it", async () => {
      const queries = (t: Tally): [string, (m: Mail) => boolean][] => [
        ['bcc:dave@corp.example', t.role('bcc', 'dave@corp.example')],
        ['bcc:bob@corp.example', t.role('bcc', 'bob@corp.example')],
        ['bcc:@corp.example', t.role('bcc', '@corp.example')],
        ['mailbox:dave', t.mailbox('dave')],
        ['mailbox:bob', t.mailbox('bob')],
        ['to:bob@corp.example', t.role('to', 'bob@corp.example')],
        ['mailbox:dave OR bcc:bob', (m) => t.mailbox('dave')(m) || t.role('bcc', 'bob')(m)],
      ];
      for (const owner of ['bob', 'carol', 'dave']) {
        await check(queries(tally(mailboxAddresses(owner))), { envelopeOf: [box.get(owner)!.id] }, ` as the owner of ${owner}`);
      }
      assert.deepEqual(await found('bcc:dave@corp.example', { envelopeOf: [box.get('carol')!.id] }), ['m11'], 'Carol sent m11, not m3');
      assert.deepEqual(await found('mailbox:dave', { envelopeOf: [box.get('bob')!.id] }), ['m14', 'm5', 'm8'], "Dave's Bccs are not Bob's to see");
    });

    test('total: every match in the scope, whatever the page', async () => {
      const ids = (...names: string[]) => names.map((n) => box.get(n)!);
      const carol: SearchScope = { mailboxes: ids('carol'), dateFrom: null, dateTo: null, fixedQuery: null };
      const cases: [string, (m: Mail) => boolean][] = [
        ['example', () => true], ['invoice', (m) => has(m, 'invoice')], ['nosuchword', () => false],
        ['from:@corp.example -has:attachment', (m) => T.role('from', '@corp.example')(m) && !hasAttachment(m)],
      ];
      for (const [query, expected] of cases) {
        const want = CORPUS.filter(expected).length;
        for (const page of [{ limit: 100 }, { limit: 2 }, { limit: 2, offset: 3 }, { limit: 5, offset: 100 }]) {
          assert.equal((await index.search(query, page)).total, want, `${query} ${JSON.stringify(page)}`);
        }
        const inCarol = CORPUS.filter((m) => expected(m) && parts(m).some((x) => x.address === 'carol@corp.example')).length;
        assert.equal((await index.search(query, { limit: 1, scope: carol })).total, inCarol, `${query} within carol`);
        assert.equal((await index.search(query, { limit: 1, offset: 50, scope: carol })).total, inCarol, `${query} within carol, past the end`);
      }
      assert.equal((await index.search('example', { limit: 1 })).total, CORPUS.length, 'not vacuous');
    });

    test('oldest first pages through the reverse order', async () => {
      const oldest = keysOf(newestFirst(CORPUS).reverse());
      assert.deepEqual(await found('example', { sort: 'oldest' }), oldest);
      const pages: string[] = [];
      for (let offset = 0; offset < oldest.length; offset += 5) pages.push(...await found('example', { sort: 'oldest', limit: 5, offset }));
      assert.deepEqual(pages, oldest);
      assert.deepEqual(await found('invoice', { sort: 'oldest' }), keysOf(newestFirst(CORPUS.filter((m) => has(m, 'invoice'))).reverse()));
      assert.deepEqual(await found('example', { sort: 'newest' }), keysOf(newestFirst(CORPUS)));
    });

    test('best match first: the same matches and total, the best first; without words, newest first', async () => {
      const invoice = CORPUS.filter((m) => has(m, 'invoice'));
      const r = (await index.search('invoice', { limit: 100, sort: 'relevance' }));
      assert.equal(r.sort, 'relevance');
      assert.deepEqual(new Set(r.hits.map((h) => keyOf.get(h.sha256))), new Set(keysOf(invoice)));
      assert.equal(r.total, invoice.length);
      assert.equal(keyOf.get(r.hits[0]!.sha256), 'm1', 'm1 says invoice in its subject, its text and its attachment\'s name');
      const pages: string[] = [];
      for (let offset = 0; offset < invoice.length; offset += 2) pages.push(...await found('invoice', { sort: 'relevance', limit: 2, offset }));
      assert.deepEqual(pages, r.hits.map((h) => keyOf.get(h.sha256)), 'pages follow the same order');
      const mixed = await found('invoice OR from:eve@partner.example', { sort: 'relevance' });
      const byEve = CORPUS.filter((m) => m.from === EVE && !has(m, 'invoice'));
      assert.deepEqual(mixed.slice(-byEve.length), keysOf(newestFirst(byEve)), 'found without the word: last, newest first');
      const carol: SearchScope = { mailboxes: [box.get('carol')!], dateFrom: null, dateTo: null, fixedQuery: null };
      const scoped = (await index.search('invoice', { limit: 100, sort: 'relevance', scope: carol }));
      assert.deepEqual(new Set(scoped.hits.map((h) => keyOf.get(h.sha256))), new Set(keysOf(invoice.filter((m) => parts(m).some((x) => x.address === 'carol@corp.example')))));
      const carols = new Set(keysOf(invoice.filter((m) => parts(m).some((x) => x.address === 'carol@corp.example'))));
      assert.deepEqual(scoped.hits.map((h) => keyOf.get(h.sha256)), r.hits.map((h) => keyOf.get(h.sha256)).filter((k) => carols.has(k!)), 'in the order of the same search over everything');
      const words = (await index.search('from:@corp.example', { limit: 100, sort: 'relevance' }));
      assert.deepEqual([words.sort, words.hits.map((h) => keyOf.get(h.sha256))], ['newest', await found('from:@corp.example')]);
    });

    test('best match first over a long list (rankUpTo): the newest ranked, then the older newest first; pages agree', async () => {
      const invoice = CORPUS;   // every message says example (its addresses)
      assert.ok(invoice.length > 6, 'enough matches to bound');
      const whole = await found('example', { sort: 'relevance' });
      const newest = keysOf(newestFirst(invoice));
      const bounded = await index.search('example', { limit: 100, sort: 'relevance', rankUpTo: 5 });
      assert.equal(bounded.rankedNewest, 5);
      assert.equal(bounded.total, invoice.length, 'the total is every match');
      const top = new Set(newest.slice(0, 5));
      const keys = bounded.hits.map((h) => keyOf.get(h.sha256));
      assert.deepEqual(keys.slice(0, 5), whole.filter((k) => top.has(k)), 'the newest five, in the order of the whole ranking');
      assert.deepEqual(keys.slice(5), newest.slice(5), 'then the older ones, newest first');
      const pages: (string | undefined)[] = [];
      for (let offset = 0; offset < invoice.length; offset += 2) pages.push(...(await index.search('example', { limit: 2, offset, sort: 'relevance', rankUpTo: 5 })).hits.map((h) => keyOf.get(h.sha256)));
      assert.deepEqual(pages, keys, 'pages follow the same order, across the bound too');
      const enough = await index.search('example', { limit: 100, sort: 'relevance', rankUpTo: invoice.length });
      assert.equal(enough.rankedNewest, undefined, 'no more matches than the bound: every match ranked');
      assert.deepEqual(enough.hits.map((h) => keyOf.get(h.sha256)), whole);
      // Within a mailbox, the same.
      const carol: SearchScope = { mailboxes: [box.get('carol')!], dateFrom: null, dateTo: null, fixedQuery: null };
      const carolNewest = await found('example', { scope: carol });
      assert.ok(carolNewest.length > 2, 'carol has several');
      const scoped = await index.search('example', { limit: 100, sort: 'relevance', rankUpTo: 2, scope: carol });
      const carolTop = new Set(carolNewest.slice(0, 2));
      const scopedKeys = scoped.hits.map((h) => keyOf.get(h.sha256));
      assert.equal(scoped.rankedNewest, 2);
      assert.deepEqual(scopedKeys.slice(0, 2), whole.filter((k) => carolTop.has(k)));
      assert.deepEqual(scopedKeys.slice(2), carolNewest.slice(2));
    });

    test('ß and ss, æ and ae, ø and oe find each other, in words, prefixes, phrases and subject:', async () => {
      const fest = ['m15', 'm13', 'm12'];
      for (const query of ['strassenfest', 'straßenfest', 'STRASSENFEST', 'STRAẞENFEST', 'strass*', 'straß*', 'stras*', '"das strassenfest"', 'strassenfest OR nosuchword']) {
        const want = query.startsWith('"das') ? ['m12'] : ['m14', ...fest];
        assert.deepEqual(await found(query), want, query);
      }
      assert.deepEqual(await found('subject:strassenfest'), ['m14', ...fest], 'every subject says Straßenfest');
      assert.deepEqual(await found('encyclopaedia'), ['m13']);
      assert.deepEqual(await found('encyclopædia'), ['m13']);
      assert.deepEqual(await found('smoerrebroed'), ['m13']);
      assert.deepEqual(await found('soeren'), ['m13']);
      assert.deepEqual(await found('-strassenfest from:eve@partner.example'), keysOf(newestFirst(CORPUS.filter((m) => m.from === EVE && !['m12', 'm14'].includes(m.key)))), 'NOT takes every spelling too');
      assert.deepEqual(await found('strasenfest'), [], 'one s is not ß');
      assert.deepEqual(await found('smorrebrod'), [], 'ø is oe, not o');
    });

    test('thread: the conversation within the scope only, oldest first', async () => {
      const ids = (...names: string[]) => names.map((n) => box.get(n)!);
      const scope = (...names: string[]): SearchScope => ({ mailboxes: ids(...names), dateFrom: null, dateTo: null, fixedQuery: null });
      const thread = async (key: string, s: SearchScope) => (await index.thread(rowOf(key), s)).map((h) => keyOf.get(h.sha256));
      const everyone = scope('alice', 'bob', 'carol', 'dave');
      for (const k of ['m12', 'm13', 'm14', 'm15']) assert.deepEqual(await thread(k, everyone), ['m12', 'm13', 'm15', 'm14'], `${k}: a reply archived before its parent joins the thread`);
      assert.deepEqual(await thread('m12', scope('carol')), ['m12', 'm13', 'm15'], 'm14 went to Dave only: not listed, not counted');
      assert.deepEqual(await thread('m14', scope('dave')), ['m14']);
      assert.deepEqual(await thread('m12', scope('dave')), [], 'the message itself out of scope: nothing');
      assert.deepEqual(await thread('m2', scope('alice')), ['m1', 'm9', 'm2'], 'both messages with the Message-ID m2 answers');
      assert.deepEqual(await thread('m2', scope('bob')), ['m1', 'm2'], 'm9 is not in Bob\'s mailbox');
      assert.deepEqual(await thread('m2', { ...scope('alice'), dateFrom: day('2026-03-03') }), ['m2'], 'the date window holds');
      assert.deepEqual(await thread('m2', { ...scope('alice', 'bob'), fixedQuery: 'transfer' }), ['m1', 'm2'], 'the fixed query holds');
      assert.deepEqual(await thread('m6', everyone), ['m6'], 'a message that answers nothing and is not answered');
      const [first] = (await index.thread(rowOf('m12'), everyone));
      assert.deepEqual(first, { sha256: sha.get('m12'), messageId: 'fest@partner.example', date: Date.parse('2026-03-20T10:00:00Z'), from: 'Eve <eve@partner.example>', subject: 'Straßenfest am Samstag' });
    });

    test('snippets: the words found marked, everything else escaped', async () => {
      const m12 = CORPUS.find((m) => m.key === 'm12')!.body;
      const m13 = CORPUS.find((m) => m.key === 'm13')!.body;
      const texts = [{ key: 'a', text: m12 }, { key: 'b', text: m13 }, { key: 'c', text: 'Nothing about it here.' }];
      const got = (await index.snippets('strassenfest', texts));
      assert.equal(got.get('a'), 'Das <mark>Straßenfest</mark> beginnt um 10 Uhr. &lt;b&gt;Bring&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; Kuchen &amp; Kaffee mit.');
      assert.match(got.get('b')!, /suits a <mark>strassenfest<\/mark>/);
      assert.equal(got.get('c'), 'Nothing about it here.', 'no word found: the start of the text');
      for (const html of got.values()) assert.doesNotMatch(html.replaceAll('<mark>', '').replaceAll('</mark>', ''), /<|>/, 'no markup but the marks');
      assert.equal((await index.snippets('script -kuchen', texts)).get('a'), 'Das Straßenfest beginnt um 10 Uhr. &lt;b&gt;Bring&lt;/b&gt; &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; Kuchen &amp; Kaffee mit.', 'a word excluded is not marked');
      assert.equal((await index.snippets('from:eve subject:kuchen', texts)).get('a'), 'Das Straßenfest beginnt um 10 Uhr. &lt;b&gt;Bring&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; Kuchen &amp; Kaffee mit.', 'no word to find in the text');
      const long = `${'lorem ipsum '.repeat(100)}the needle is here ${'dolor sit '.repeat(100)}`;
      assert.match((await index.snippets('needle', [{ key: 'x', text: long }])).get('x')!, /^….*the <mark>needle<\/mark> is here.*…$/);
      assert.ok((await index.snippets('nosuchword', [{ key: 'x', text: long }])).get('x')!.endsWith('…'), 'the start of a long text is cut');
      assert.equal((await index.snippets('marker', [{ key: 'x', text: 'a \uE000marker\uE001 b' }])).get('x'), 'a <mark>marker</mark> b', 'the text cannot forge marks');
      assert.deepEqual((await index.snippets('anything', [])), new Map());
    });

    test('the write side: a batch commits whole or not at all, a savepoint undoes only its part', async () => {
      const doc = (id: number) => ({ id, sha256: id.toString(16).padStart(64, '0'), messageId: `tx-${id}@conformance.example`, date: 0, fromText: null, subject: `transaction ${id}`, hasAttachment: false, parseError: null, refersTo: [] });
      const has = (id: number) => store.read((tx) => store.hasDocument(tx, id));
      const cursor = await store.read((tx) => store.cursor(tx));
      await assert.rejects(store.write(async (tx) => {
        await store.addDocument(tx, doc(2_000_001));
        await store.setCursor(tx, cursor + 1000);
        assert.equal(await store.hasDocument(tx, 2_000_001), true, 'the transaction sees its own write');
        throw new Error('the batch fails');
      }), /the batch fails/);
      assert.equal(await has(2_000_001), false, 'a failed batch leaves nothing');
      assert.equal(await store.read((tx) => store.cursor(tx)), cursor, 'nor moves the cursor');
      assert.equal((await index.search('transaction', { limit: 10 })).total, 0, 'nor anything a search finds');

      await store.write(async (tx) => {
        await assert.rejects(store.savepoint(tx, async () => {
          await store.addDocument(tx, doc(2_000_002));
          throw new Error('one capture fails');
        }), /one capture fails/);
        await store.savepoint(tx, () => store.addDocument(tx, doc(2_000_003)));
        await store.recordFailure(tx, 999_999, doc(2_000_002).sha256, 'one capture fails', 1);
      });
      assert.equal(await has(2_000_002), false, 'the failed part is undone');
      assert.equal(await has(2_000_003), true, 'the rest of the batch commits');
      assert.deepEqual((await index.failures()).recent.map((f) => f.captureRow), [999_999]);
      await store.write(async (tx) => {
        await store.clearFailure(tx, 999_999);
        await assert.rejects(store.write(async () => {}), /inside/, 'a transaction inside another is refused, not a deadlock');
      });
      await assert.rejects(store.read((tx) => store.addDocument(tx, doc(2_000_004))), /readonly|read-only|query_only/i, 'a read transaction writes nothing');
      assert.equal(await has(2_000_004), false);
      assert.deepEqual(await index.failures(), { count: 0, recent: [] });
    });

    test('datesOf: each message\'s date as indexed (its Date, else its receipt), null for one not indexed', async () => {
      const unknown = 'f'.repeat(64);
      const asked = [...CORPUS.map((m) => sha.get(m.key)!), unknown, sha.get('m1')!];
      const got = await backend!.dates.datesOf(asked);
      assert.equal(got.size, CORPUS.length + 1, 'one entry per message asked about');
      for (const m of CORPUS) assert.equal(got.get(sha.get(m.key)!), dateOf(m), m.key);
      assert.equal(got.get(unknown), null);
      assert.deepEqual(await backend!.dates.datesOf([]), new Map());
    });

    test('removeDocument: a disposed message leaves no trace in any answer', async () => {
      const id = 2_000_010;
      const sha256 = 'e'.repeat(64);
      const capture = 3_000_010;
      await store.write(async (tx) => {
        await store.addDocument(tx, { id, sha256, messageId: 'disposed@conformance.example', date: Date.parse('2026-03-30T10:00:00Z'), fromText: 'Bob', subject: 'Zyxwvut plan', hasAttachment: true, parseError: null, refersTo: [] });
        await store.addParticipation(tx, id, { role: 'from', address: 'bob@corp.example', domain: 'corp.example', name: 'bob' });
        await store.addAttachment(tx, id, { filename: 'plan.txt', contentType: 'text/plain', size: 10, sha256: 'd'.repeat(64) });
        await store.addFullText(tx, id, { subject: 'Zyxwvut plan', addresses: 'Bob bob@corp.example', body: 'the zyxwvut body', filenames: 'plan.txt', attachments: '' });
        await store.queueExtraction(tx, id);
        await store.setAuthVerdicts(tx, capture, { spf: 'pass' });
        await store.queueAuth(tx, capture);
      });
      await store.write((tx) => store.completeExtraction(tx, id, { subject: 'Zyxwvut plan', addresses: 'Bob bob@corp.example', body: 'the zyxwvut body', filenames: 'plan.txt', attachments: 'qwertzu inside' },
        [{ attachment: 0, extraction: 'ok', text: 'qwertzu inside' }], 1));
      const bob: SearchScope = { mailboxes: [box.get('bob')!], dateFrom: null, dateTo: null, fixedQuery: null };
      assert.deepEqual((await index.search('zyxwvut', { limit: 10 })).hits.map((h) => h.sha256), [sha256], 'found before');
      assert.deepEqual((await index.attachmentHits('qwertzu', [sha256])).get(sha256), [{ attachment: 0, filename: 'plan.txt' }]);
      assert.equal(await index.findInScope(sha256, bob), id);
      assert.equal(await index.pendingAuth(), 1);

      await store.write((tx) => store.removeDocument(tx, id, [capture]));
      for (const query of ['zyxwvut', 'qwertzu', 'attachment:qwertzu', 'filename:plan', `sha256:${sha256}`, 'message-id:disposed@conformance.example']) {
        assert.deepEqual((await index.search(query, { limit: 10 })).total, 0, query);
      }
      assert.equal(await store.read((tx) => store.hasDocument(tx, id)), false);
      assert.equal(await index.findInScope(sha256, bob), null);
      assert.equal(await index.document(id), null);
      assert.deepEqual(await index.participants(id), []);
      assert.deepEqual(await index.attachments(id), []);
      assert.deepEqual(await index.attachmentHits('qwertzu', [sha256]), new Map());
      assert.equal(await index.authVerdicts(capture), null);
      assert.equal(await index.pendingAuth(), 0);
      assert.deepEqual(await index.messagesWith(['bob@corp.example']).then((r) => r.filter((m) => m.id === id)), []);
      assert.equal(typeof await store.purgeRemoved(), 'boolean');
      assert.equal((await index.search('example', { limit: 1 })).total, CORPUS.length, 'the rest is untouched');
    });

    // More matches than a scoped search sorts whole (SQLite reads them a month at a time): every
    // page, newest and oldest first, is the matches in date order, undated ones last (newest
    // first), and the mail of other mailboxes never comes in.
    test('a big mailbox pages in date order: deep offsets, undated messages, other mailboxes left out', async () => {
      const docs: { id: number; sha256: string; date: number | null; dave: boolean; attachment: boolean }[] = [];
      const start = Date.parse('2020-01-01T00:00:00Z');
      for (let i = 0; i < 2_600; i++) {
        const date = i % 97 === 0 ? null : start + ((i * 13) % 1_100) * 86_400_000 + (i % 7) * 3_600_000;
        docs.push({ id: 4_000_000 + i, sha256: createHash('sha256').update(`bulk ${i}`).digest('hex'), date, dave: i % 10 !== 3, attachment: i % 4 === 0 });
      }
      await store.write(async (tx) => {
        for (const d of docs) {
          await store.addDocument(tx, { id: d.id, sha256: d.sha256, messageId: null, date: d.date, fromText: null, subject: 'Bulk', hasAttachment: d.attachment, parseError: null, refersTo: [] });
          const who = d.dave ? 'dave@corp.example' : 'stranger@elsewhere.example';
          await store.addParticipation(tx, d.id, { role: 'to', address: who, domain: who.split('@')[1]!, name: null });
          // Mail to oneself: the same address in two roles, one message.
          if (d.id % 5 === 0) await store.addParticipation(tx, d.id, { role: 'from', address: who, domain: who.split('@')[1]!, name: null });
          await store.addFullText(tx, d.id, { subject: 'Bulk', addresses: who, body: `zqbulk number ${d.id}`, filenames: '', attachments: '' });
        }
      });
      try {
        const dave: SearchScope = { mailboxes: [box.get('dave')!], dateFrom: null, dateTo: null, fixedQuery: null };
        const order = (list: typeof docs, dir: 1 | -1) => [...list].sort((a, b) => (a.date === null || b.date === null
          ? (a.date === null ? -1 : 0) - (b.date === null ? -1 : 0) : a.date - b.date) * dir || (a.id - b.id) * dir);
        const check = async (query: string, keep: (d: (typeof docs)[number]) => boolean, pages: [number, number][]) => {
          const mine = docs.filter((d) => d.dave && keep(d));
          for (const sort of ['newest', 'oldest'] as const) {
            const expected = order(mine, sort === 'newest' ? -1 : 1).map((d) => d.sha256);
            for (const [offset, limit] of pages) {
              const got = await index.search(query, { limit, offset, sort, scope: dave });
              assert.equal(got.total, mine.length, `${query} ${sort} total`);
              assert.deepEqual(got.hits.map((h) => h.sha256), expected.slice(offset, offset + limit), `${query} ${sort} at ${offset}`);
            }
          }
        };
        await check('zqbulk', () => true, [[0, 50], [1_000, 50], [2_280, 100], [2_400, 10]]);
        await check('zqbulk has:attachment', (d) => d.attachment, [[0, 50], [550, 50]]);
        const after = Date.parse('2021-07-01T00:00:00Z');
        await check('zqbulk after:2021-06-30', (d) => d.date !== null && d.date >= after, [[0, 50], [700, 50]]);
        // Dates alone (PostgreSQL reads them from the mailbox's own entries in date order).
        await check('after:2021-06-30 before:2025-01-01', (d) => d.date !== null && d.date >= after, [[0, 50], [700, 50], [1_100, 50]]);
        const from = Date.parse('2020-03-01T00:00:00Z'), to = Date.parse('2021-01-01T00:00:00Z');
        await check('after:2020-02-29 before:2021-01-01', (d) => d.date !== null && d.date >= from && d.date < to, [[0, 50], [500, 50]]);
        await check('on:2020-01-14', (d) => d.date !== null && d.date >= Date.parse('2020-01-14') && d.date < Date.parse('2020-01-15'), [[0, 10]]);
        await check('after:2030-01-01', () => false, [[0, 10]]);
        const bounded = await index.search('before:2021-01-01', { limit: 5, countUpTo: 100, scope: dave });
        assert.deepEqual({ total: bounded.total, lowerBound: bounded.totalIsLowerBound }, { total: 100, lowerBound: true }, 'a bounded count of dates alone');
        assert.deepEqual(bounded.hits.map((h) => h.sha256), order(docs.filter((d) => d.dave && d.date !== null && d.date < to), -1).slice(0, 5).map((d) => d.sha256));
        const windowed = await index.search('before:2021-01-01', { limit: 50, scope: { ...dave, dateFrom: from, dateTo: Date.parse('2020-06-01') } });
        assert.deepEqual(windowed.hits.map((h) => h.sha256), order(docs.filter((d) => d.dave && d.date !== null && d.date >= from && d.date < Date.parse('2020-06-01')), -1).slice(0, 50).map((d) => d.sha256), 'within the scope\'s dates');
        // The hex of dave@, as SQLite's scope tokens spell it: the user's words never reach them.
        for (const query of ['a64617665*', 'hattachment', 'dnone', 'd202001']) await check(query, () => false, [[0, 10]]);
      } finally {
        await store.write(async (tx) => { for (const d of docs) await store.removeDocument(tx, d.id, []); });
      }
    });

    test('a query the language refuses is a QueryError', async () => {
      for (const query of ['"unclosed', 'from:', 'colour:red', '(invoice', 'invoice OR', 'before:2026-02-30', 'type:*', 'type:"a b"', 'attachment:', '']) {
        await assert.rejects(index.search(query, { limit: 10 }), (err: unknown) => err instanceof QueryError && err.code === 'SEALBOX_ERR_QUERY', JSON.stringify(query));
      }
    });
  });
}
