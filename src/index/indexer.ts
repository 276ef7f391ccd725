import { DatabaseSync } from 'node:sqlite';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Envelope } from '../core/types.ts';
import { SMALL_MESSAGE_BYTES } from '../store/archive-reader.ts';
import type { ArchiveReader } from '../store/archive-reader.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
import { authenticateMessage } from './authenticate-message.ts';
import type { Resolver } from './dns-resolver.ts';
import { parseMessage } from './parse-message.ts';
import type { ParsedMessage } from './parse-message.ts';

const SCHEMA = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

// Messages larger than this are indexed from their first bytes only (the archive keeps all of
// them); parsing holds the whole input in memory.
export const MAX_PARSE_BYTES = 32 * 1024 * 1024;

// A batch holds every message it read until it commits: past this many bytes it takes no more
// captures, so a run of large messages cannot outgrow the indexer's bounded heap.
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

export function openIndexDb(path: string, metaPath: string, options: { readOnly?: boolean } = {}): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  db.exec('PRAGMA busy_timeout = 10000');
  if (!options.readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    // The index is rebuildable from the archive and its cursor commits with its rows.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
  }
  db.prepare('ATTACH DATABASE ? AS meta').run(`file:${metaPath}?mode=ro`);
  return db;
}

export interface IndexerOptions {
  meta: SqliteMetadataStore;      // read: the capture queue; write: automatic mailboxes
  index: DatabaseSync;
  reader: ArchiveReader;
  log: Logger;
  batch: number;
  internalDomains: string[];
  auth: { resolver: Resolver; mta: string } | null;
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(index: DatabaseSync) {
  return {
    cursor: index.prepare("SELECT value FROM index_state WHERE key = 'cursor'"),
    setCursor: index.prepare("INSERT INTO index_state (key, value) VALUES ('cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    docExists: index.prepare('SELECT 1 FROM doc WHERE id = ?'),
    maxDocId: index.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM doc'),
    insertDoc: index.prepare(`INSERT INTO doc (id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, parse_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertFts: index.prepare('INSERT INTO doc_fts (rowid, subject, addresses, body, filenames) VALUES (?, ?, ?, ?, ?)'),
    insertPart: index.prepare('INSERT OR IGNORE INTO participation (doc_id, role, address, domain, name) VALUES (?, ?, ?, ?, ?)'),
    insertAttachment: index.prepare('INSERT INTO attachment (doc_id, filename, filename_lc, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?)'),
    insertAuth: index.prepare('INSERT OR REPLACE INTO capture_auth (capture_row, verdicts) VALUES (?, ?)'),
    headerAddresses: index.prepare("SELECT address FROM participation WHERE doc_id = ? AND role IN ('to', 'cc', 'bcc')"),
    fromAddresses: index.prepare("SELECT address FROM participation WHERE doc_id = ? AND role = 'from'"),
  };
}

// A message's participants as the envelope step needs them: addresses named as recipient
// (to, cc, bcc) and as From, as stored (trimmed, lowercased).
interface Named {
  recipients: Set<string>;
  from: Set<string>;
}

// The queue after the commit: captures in order of receipt, with the cursor stored in the
// index database in the same transaction as the rows it covers, so a crash re-runs exactly the
// unfinished captures and nothing is indexed twice.
export class Indexer {
  readonly #o: IndexerOptions;
  readonly #internal: Set<string>;
  readonly #sql: Statements;
  #more = false;

  constructor(options: IndexerOptions) {
    this.#o = options;
    this.#internal = new Set(options.internalDomains.map((d) => d.toLowerCase()));
    this.#sql = prepareStatements(options.index);
  }

  cursor(): number {
    const row = this.#sql.cursor.get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  // Whether the last batch left captures behind (it was full, or reached MAX_BATCH_BYTES).
  get more(): boolean {
    return this.#more;
  }

  // Indexes the next batch; returns how many captures it covered (0: nothing to do).
  async runOnce(): Promise<number> {
    const { meta, index, log } = this.#o;
    const sql = this.#sql;
    this.#more = false;
    const rows = meta.capturesAfter(this.cursor(), this.#o.batch);
    if (rows.length === 0) return 0;

    const parsedInBatch = new Set<number>();
    // A message newer than every indexed one needs no lookup: most captures are of new messages.
    const maxDocId = (sql.maxDocId.get() as { id: number }).id;
    const work: { row: (typeof rows)[number]; parsed: ParsedMessage | null; auth: unknown }[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (bytes >= MAX_BATCH_BYTES) break;
      let parsed: ParsedMessage | null = null;
      let raw: { raw: Buffer; truncated: boolean } | null = null;
      const needsDoc = !parsedInBatch.has(row.messageRowId) && (row.messageRowId > maxDocId || sql.docExists.get(row.messageRowId) === undefined);
      const needsAuth = this.#o.auth !== null && row.envelope !== null;
      if (needsDoc || needsAuth) {
        raw = await this.#raw(row.sha256);
        bytes += raw.raw.length;
      }
      if (needsDoc) {
        parsed = await parseMessage(raw!.raw);
        if (raw!.truncated) parsed = { ...parsed, parseError: `only the first ${MAX_PARSE_BYTES} bytes were indexed${parsed.parseError ? `; ${parsed.parseError}` : ''}` };
        parsedInBatch.add(row.messageRowId);
      }
      // A signature covers the whole message: a truncated copy would look altered, so it is not judged.
      const auth = !needsAuth ? null : raw!.truncated ? Promise.resolve({ error: `larger than ${MAX_PARSE_BYTES} bytes: not verified` }) : this.#authenticate(raw!.raw, row.envelope!, row.id);
      work.push({ row, parsed, auth });
    }
    const auths = await Promise.all(work.map((w) => w.auth));

    const internal = new Set<string>();
    // Per message of this batch: who is named, kept up to date as rows are added, so the
    // envelope step does not read back what this batch wrote.
    const named = new Map<number, Named>();
    const namedIn = (docId: number): Named => {
      let n = named.get(docId);
      if (!n) {
        const addresses = (stmt: typeof sql.headerAddresses) => new Set((stmt.all(docId) as { address: string }[]).map((r) => r.address));
        n = { recipients: addresses(sql.headerAddresses), from: addresses(sql.fromAddresses) };
        named.set(docId, n);
      }
      return n;
    };
    const part = (docId: number, role: string, address: string, name: string | null, n: Named) => {
      const a = address.trim().toLowerCase();
      if (!a) return;
      const domain = a.slice(a.lastIndexOf('@') + 1);
      if (this.#internal.has(domain)) internal.add(a);
      sql.insertPart.run(docId, role, a, domain, name ? name.toLowerCase() : null);
      if (role === 'from') n.from.add(a);
      else if (role === 'to' || role === 'cc' || role === 'bcc') n.recipients.add(a);
    };

    index.exec('BEGIN IMMEDIATE');
    try {
      work.forEach(({ row, parsed }, i) => {
        const docId = row.messageRowId;
        const env = row.envelope;
        if (parsed) {
          const p = parsed;
          const n: Named = { recipients: new Set(), from: new Set() };
          named.set(docId, n);
          sql.insertDoc.run(docId, row.sha256, p.messageId, p.messageId?.toLowerCase() ?? null, p.date ?? row.receivedAt,
            p.from.map(display).join(', ') || null, p.subject, p.attachments.length > 0 ? 1 : 0, p.parseError);
          for (const [role, list] of [['from', p.from], ['sender', p.sender], ['to', p.to], ['cc', p.cc], ['bcc', p.bcc]] as const) {
            for (const a of list) part(docId, role, a.address, a.name || null, n);
          }
          for (const a of p.attachments) sql.insertAttachment.run(docId, a.filename, a.filename?.toLowerCase() ?? null, a.contentType, a.size, a.sha256);
          const addresses = [...p.from, ...p.sender, ...p.to, ...p.cc, ...p.bcc].map(display)
            .concat(env ? [env.mailFrom ?? '', ...env.rcptTo.map((r) => r.address)] : []).join(' ');
          sql.insertFts.run(docId, p.subject ?? '', addresses, p.text, p.attachments.map((a) => a.filename ?? '').join(' '));
        }
        // The envelope of every receipt: a recipient that no header names was Bcc'd.
        if (env) {
          const n = namedIn(docId);
          for (const r of env.rcptTo) if (!n.recipients.has(r.address.toLowerCase())) part(docId, 'bcc', r.address, null, n);
          if (env.mailFrom && !n.from.has(env.mailFrom.toLowerCase())) part(docId, 'sender', env.mailFrom, null, n);
        }
        if (auths[i] !== null && auths[i] !== undefined) sql.insertAuth.run(row.rowId, JSON.stringify(auths[i]));
      });
      // Before the cursor moves past this batch: if this fails, the whole batch is retried.
      if (internal.size > 0) this.#autoMailboxes([...internal]);
      sql.setCursor.run(String(work.at(-1)!.row.rowId));
      index.exec('COMMIT');
    } catch (err) {
      if (index.isTransaction) index.exec('ROLLBACK');
      throw err;
    }
    this.#more = work.length < rows.length || rows.length === this.#o.batch;
    log.debug({ captures: work.length, cursor: work.at(-1)!.row.rowId }, 'indexed');
    return work.length;
  }

  async #raw(sha256: string): Promise<{ raw: Buffer; truncated: boolean }> {
    const row = this.#o.reader.message(sha256);
    if (row.size <= SMALL_MESSAGE_BYTES) return { raw: this.#o.reader.readSmall(row), truncated: false };
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = this.#o.reader.stream(row);
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= MAX_PARSE_BYTES) {
        stream.destroy();
        break;
      }
    }
    return { raw: Buffer.concat(chunks).subarray(0, MAX_PARSE_BYTES), truncated: size >= MAX_PARSE_BYTES };
  }

  async #authenticate(raw: Buffer, env: Envelope, captureId: string): Promise<unknown> {
    const auth = this.#o.auth!;
    try {
      return await authenticateMessage(raw, { clientAddress: env.clientAddress, clientHelo: env.clientHelo, mailFrom: env.mailFrom, mta: auth.mta, resolver: auth.resolver });
    } catch (err) {
      // A fault in verification must not stop indexing: the verdict records it.
      this.#o.log.warn({ err, captureId }, 'authentication check failed');
      return { error: (err as Error).message };
    }
  }

  // Addresses in an internal domain get a mailbox of their own unless the directory maps them.
  #autoMailboxes(addresses: string[]): void {
    const { meta } = this.#o;
    meta.transaction(() => {
      for (const address of addresses) {
        if (meta.mailboxForAddress(address)) continue;
        meta.setMailboxAddress(address, meta.upsertMailbox({ name: address, auto: true }));
      }
    });
  }
}

function display(a: { address: string; name: string }): string {
  return a.name ? `${a.name} <${a.address}>` : a.address;
}
