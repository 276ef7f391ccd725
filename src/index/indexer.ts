import { DatabaseSync } from 'node:sqlite';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Envelope } from '../core/types.ts';
import { SMALL_MESSAGE_BYTES } from '../store/archive-reader.ts';
import type { ArchiveReader } from '../store/archive-reader.ts';
import type { CaptureRow, SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
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
    recordFailure: index.prepare(`INSERT INTO index_failure (capture_row, sha256, error, first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(capture_row) DO UPDATE SET error = excluded.error, last_failed_at = excluded.last_failed_at, attempts = attempts + 1`),
    clearFailure: index.prepare('DELETE FROM index_failure WHERE capture_row = ?'),
    failedRows: index.prepare('SELECT capture_row FROM index_failure ORDER BY last_failed_at, capture_row LIMIT ?'),
    failureCount: index.prepare('SELECT COUNT(*) AS n FROM index_failure'),
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
    this.#more = false;
    const rows = this.#o.meta.capturesAfter(this.cursor(), this.#o.batch);
    if (rows.length === 0) return 0;
    const covered = await this.#index(rows, { advanceCursor: true });
    this.#more = covered < rows.length || rows.length === this.#o.batch;
    return covered;
  }

  // Tries the captures that failed before once more (their blob may be back, the fault gone).
  async retryFailures(limit = this.#o.batch): Promise<{ retried: number; stillFailing: number }> {
    const ids = (this.#sql.failedRows.all(limit) as { capture_row: number }[]).map((r) => Number(r.capture_row));
    if (ids.length === 0) return { retried: 0, stillFailing: 0 };
    const rows = this.#o.meta.capturesByRowIds(ids);
    // A capture row that is gone (never expected) is not retried for ever.
    const present = new Set(rows.map((r) => r.rowId));
    for (const id of ids) if (!present.has(id)) this.#sql.clearFailure.run(id);
    await this.#index(rows, { advanceCursor: false });
    const stillFailing = (this.#sql.failureCount.get() as { n: number }).n;
    return { retried: rows.length, stillFailing: Number(stillFailing) };
  }

  failureCount(): number {
    return Number((this.#sql.failureCount.get() as { n: number }).n);
  }

  // One transaction for the rows (in receipt order); each capture in a savepoint of its own, so a
  // capture that cannot be read or indexed is recorded as failed and the others still go in.
  async #index(rows: (CaptureRow & { sha256: string })[], options: { advanceCursor: boolean }): Promise<number> {
    const { index, log } = this.#o;
    const sql = this.#sql;
    const parsedInBatch = new Set<number>();
    // A message newer than every indexed one needs no lookup: most captures are of new messages.
    const maxDocId = (sql.maxDocId.get() as { id: number }).id;
    const work: { row: (typeof rows)[number]; parsed: ParsedMessage | null; auth: unknown; error: string | null }[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (bytes >= MAX_BATCH_BYTES) break;
      let parsed: ParsedMessage | null = null;
      let raw: { raw: Buffer; truncated: boolean } | null = null;
      const needsDoc = !parsedInBatch.has(row.messageRowId) && (row.messageRowId > maxDocId || sql.docExists.get(row.messageRowId) === undefined);
      const needsAuth = this.#o.auth !== null && row.envelope !== null;
      try {
        if (needsDoc || needsAuth) {
          raw = await this.#raw(row.sha256);
          bytes += raw.raw.length;
        }
        if (needsDoc) {
          parsed = await parseMessage(raw!.raw);
          if (raw!.truncated) parsed = { ...parsed, parseError: `only the first ${MAX_PARSE_BYTES} bytes were indexed${parsed.parseError ? `; ${parsed.parseError}` : ''}` };
          parsedInBatch.add(row.messageRowId);
        }
      } catch (err) {
        work.push({ row, parsed: null, auth: null, error: (err as Error).message || String(err) });
        continue;
      }
      // A signature covers the whole message: a truncated copy would look altered, so it is not judged.
      const auth = !needsAuth ? null : raw!.truncated ? Promise.resolve({ error: `larger than ${MAX_PARSE_BYTES} bytes: not verified` }) : this.#authenticate(raw!.raw, row.envelope!, row.id);
      work.push({ row, parsed, auth, error: null });
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
    const now = Date.now();
    let failures = 0;

    index.exec('BEGIN IMMEDIATE');
    try {
      work.forEach((w, i) => {
        const { row, parsed } = w;
        const docId = row.messageRowId;
        if (w.error === null) {
          index.exec('SAVEPOINT capture');
          try {
            this.#indexOne(row, parsed, auths[i], { namedIn, part, named });
            sql.clearFailure.run(row.rowId);
            index.exec('RELEASE capture');
            return;
          } catch (err) {
            index.exec('ROLLBACK TO capture');
            index.exec('RELEASE capture');
            named.delete(docId);
            w.error = (err as Error).message || String(err);
          }
        }
        failures++;
        sql.recordFailure.run(row.rowId, row.sha256, w.error, now, now);
        log.error({ captureId: row.id, sha256: row.sha256, err: w.error }, 'capture could not be indexed; recorded, the rest of the batch goes on');
      });
      // Before the cursor moves past this batch: if this fails, the whole batch is retried.
      if (internal.size > 0) this.#autoMailboxes([...internal]);
      if (options.advanceCursor) sql.setCursor.run(String(work.at(-1)!.row.rowId));
      index.exec('COMMIT');
    } catch (err) {
      if (index.isTransaction) index.exec('ROLLBACK');
      throw err;
    }
    log.debug({ captures: work.length, failures, cursor: options.advanceCursor ? work.at(-1)!.row.rowId : undefined }, 'indexed');
    return work.length;
  }

  #indexOne(row: CaptureRow & { sha256: string }, parsed: ParsedMessage | null, auth: unknown, h: {
    namedIn(docId: number): Named;
    part(docId: number, role: string, address: string, name: string | null, n: Named): void;
    named: Map<number, Named>;
  }): void {
    const sql = this.#sql;
    const docId = row.messageRowId;
    const env = row.envelope;
    if (parsed) {
      const p = parsed;
      const n: Named = { recipients: new Set(), from: new Set() };
      h.named.set(docId, n);
      sql.insertDoc.run(docId, row.sha256, p.messageId, p.messageId?.toLowerCase() ?? null, p.date ?? row.receivedAt,
        p.from.map(display).join(', ') || null, p.subject, p.attachments.length > 0 ? 1 : 0, p.parseError);
      for (const [role, list] of [['from', p.from], ['sender', p.sender], ['to', p.to], ['cc', p.cc], ['bcc', p.bcc]] as const) {
        for (const a of list) h.part(docId, role, a.address, a.name || null, n);
      }
      for (const a of p.attachments) sql.insertAttachment.run(docId, a.filename, a.filename?.toLowerCase() ?? null, a.contentType, a.size, a.sha256);
      const addresses = [...p.from, ...p.sender, ...p.to, ...p.cc, ...p.bcc].map(display).join(' ');
      sql.insertFts.run(docId, p.subject ?? '', addresses, p.text, p.attachments.map((a) => a.filename ?? '').join(' '));
    } else if (sql.docExists.get(docId) === undefined) {
      // Its message could not be read in this batch: nothing to link the envelope to yet.
      throw new Error('the message of this capture is not indexed');
    }
    // The envelope of every receipt: a recipient that no header names was Bcc'd.
    if (env) {
      const n = h.namedIn(docId);
      for (const r of env.rcptTo) if (!n.recipients.has(r.address.toLowerCase())) h.part(docId, 'bcc', r.address, null, n);
      if (env.mailFrom && !n.from.has(env.mailFrom.toLowerCase())) h.part(docId, 'sender', env.mailFrom, null, n);
    }
    if (auth !== null && auth !== undefined) sql.insertAuth.run(row.rowId, JSON.stringify(auth));
  }

  async #raw(sha256: string): Promise<{ raw: Buffer; truncated: boolean }> {
    const row = this.#o.reader.message(sha256);
    if (row.size <= SMALL_MESSAGE_BYTES) return { raw: await this.#o.reader.readSmall(row), truncated: false };
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
