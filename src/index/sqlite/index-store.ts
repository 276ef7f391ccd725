import type { Tx } from '../../core/transactions.ts';
import { on } from '../../store/sqlite/transactions.ts';
import type { CompletenessSummary } from '../index-completeness.ts';
import type { AttachmentOutcome, FullText, IndexClaim, IndexStore, NewAttachment, NewDocument, Participation } from '../index-store.ts';
import type { IndexDatabase } from './index-db.ts';
import { scopeText } from './scope-tokens.ts';

const SQL = {
  cursor: "SELECT value FROM index_state WHERE key = 'cursor'",
  setCursor: "INSERT INTO index_state (key, value) VALUES ('cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  capturesAfter: 'SELECT id FROM meta.capture WHERE id > ? ORDER BY id LIMIT ?',
  setState: 'INSERT INTO index_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  docExists: 'SELECT 1 FROM doc WHERE id = ?',
  maxDocId: 'SELECT COALESCE(MAX(id), 0) AS id FROM doc',
  insertDoc: 'INSERT INTO doc (id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, parse_error, thread_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  docSha: 'SELECT sha256 FROM doc WHERE id = ?',
  threadOf: 'SELECT thread_key FROM doc WHERE message_id_lc = ? AND thread_key IS NOT NULL LIMIT 1',
  rethread: 'UPDATE doc SET thread_key = ? WHERE thread_key = ?',
  setThread: 'UPDATE doc SET thread_key = ? WHERE id = ?',
  unthreaded: 'SELECT id, sha256 FROM doc WHERE thread_key IS NULL ORDER BY id LIMIT ?',
  insertFts: 'INSERT INTO doc_fts (rowid, subject, addresses, body, filenames, attachments, scope) VALUES (?, ?, ?, ?, ?, ?, ?)',
  scopeOfDoc: 'SELECT date, has_attachment FROM doc WHERE id = ?',
  scopeParts: 'SELECT role, address, domain FROM participation WHERE doc_id = ?',
  insertPart: 'INSERT OR IGNORE INTO participation (doc_id, role, address, domain, name) VALUES (?, ?, ?, ?, ?)',
  insertAttachment: 'INSERT INTO attachment (doc_id, filename, filename_lc, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?)',
  insertAuth: 'INSERT OR REPLACE INTO capture_auth (capture_row, verdicts) VALUES (?, ?)',
  queueAuth: 'INSERT OR IGNORE INTO auth_pending (capture_row) VALUES (?)',
  pendingAuth: 'SELECT capture_row FROM auth_pending WHERE capture_row > ? ORDER BY capture_row LIMIT ?',
  pendingAuthCount: 'SELECT COUNT(*) AS n FROM auth_pending',
  unqueueAuth: 'DELETE FROM auth_pending WHERE capture_row = ?',
  queueExtraction: 'INSERT OR IGNORE INTO extraction_pending (doc_id) VALUES (?)',
  pendingExtraction: 'SELECT e.doc_id AS id, d.sha256 FROM extraction_pending e LEFT JOIN doc d ON d.id = e.doc_id WHERE e.doc_id > ? ORDER BY e.doc_id LIMIT ?',
  pendingExtractionCount: 'SELECT COUNT(*) AS n FROM extraction_pending',
  unqueueExtraction: 'DELETE FROM extraction_pending WHERE doc_id = ?',
  setAttachmentsRead: 'UPDATE doc SET attachments_read = ? WHERE id = ?',
  unread: 'SELECT id FROM doc WHERE id > ? AND has_attachment = 1 AND (attachments_read IS NULL OR attachments_read < ?) ORDER BY id LIMIT ?',
  unreadCount: 'SELECT COUNT(*) AS n FROM doc WHERE has_attachment = 1 AND (attachments_read IS NULL OR attachments_read < ?)',
  attachmentRows: 'SELECT rowid FROM attachment WHERE doc_id = ? ORDER BY rowid',
  setExtraction: 'UPDATE attachment SET extraction = ? WHERE rowid = ?',
  insertAttachmentFts: 'INSERT INTO attachment_fts (rowid, text) VALUES (?, ?)',
  removeAttachmentFts: 'DELETE FROM attachment_fts WHERE rowid IN (SELECT rowid FROM attachment WHERE doc_id = ?)',
  headerAddresses: "SELECT address FROM participation WHERE doc_id = ? AND role IN ('to', 'cc', 'bcc')",
  fromAddresses: "SELECT address FROM participation WHERE doc_id = ? AND role = 'from'",
  allAddresses: 'SELECT DISTINCT address FROM participation WHERE doc_id = ?',
  recordFailure: `INSERT INTO index_failure (capture_row, sha256, error, first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(capture_row) DO UPDATE SET error = excluded.error, last_failed_at = excluded.last_failed_at, attempts = attempts + 1`,
  clearFailure: 'DELETE FROM index_failure WHERE capture_row = ?',
  failedRows: 'SELECT capture_row FROM index_failure ORDER BY last_failed_at, capture_row LIMIT ?',
  failureCount: 'SELECT COUNT(*) AS n FROM index_failure',
  removeFts: 'DELETE FROM doc_fts WHERE rowid = ?',
  removeParts: 'DELETE FROM participation WHERE doc_id = ?',
  removeAttachments: 'DELETE FROM attachment WHERE doc_id = ?',
  removePendingExtraction: 'DELETE FROM extraction_pending WHERE doc_id = ?',
  removeDoc: 'DELETE FROM doc WHERE id = ?',
  removeAuth: 'DELETE FROM capture_auth WHERE capture_row = ?',
  removePendingAuth: 'DELETE FROM auth_pending WHERE capture_row = ?',
  removeFailure: 'DELETE FROM index_failure WHERE capture_row = ?',
  mergeFts: "INSERT INTO doc_fts (doc_fts) VALUES ('optimize')",
  mergeAttachmentFts: "INSERT INTO attachment_fts (attachment_fts) VALUES ('optimize')",
} as const;

// The indexer's writes to the index database (openIndexDb), in its transactions.
export class SqliteIndexStore implements IndexStore {
  readonly #index: IndexDatabase;

  constructor(index: IndexDatabase) {
    this.#index = index;
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#index.transactions.write(work);
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#index.transactions.read(work);
  }

  async cursor(tx: Tx): Promise<number> {
    const row = on(tx).prepare(SQL.cursor).get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  async setCursor(tx: Tx, captureRowId: number): Promise<void> {
    on(tx).prepare(SQL.setCursor).run(String(captureRowId));
  }

  // One indexer: the claim is the captures after the cursor (read from the attached sealbox.db),
  // and a write finding the cursor moved since (another process indexed them) is refused whole.
  async claim<T>(limit: number, work: (claim: IndexClaim) => Promise<T>): Promise<T> {
    const { after, rowIds } = await this.read(async (tx) => {
      const after = await this.cursor(tx);
      return { after, rowIds: (on(tx).prepare(SQL.capturesAfter).all(after, limit) as { id: number }[]).map((r) => Number(r.id)) };
    });
    return work({
      rowIds,
      write: (w) => this.write(async (tx) => {
        const now = await this.cursor(tx);
        if (now !== after) throw new Error(`another indexer moved the index cursor from ${after} to ${now} while this batch was read; the batch is left to it`);
        return w(tx);
      }),
      done: async (tx, done) => {
        if (done.length > 0) await this.setCursor(tx, Math.max(...done));
      },
    });
  }

  async savepoint(tx: Tx, work: () => Promise<void>): Promise<void> {
    const sqlite = on(tx);
    sqlite.prepare('SAVEPOINT capture').run();
    try {
      await work();
      sqlite.prepare('RELEASE capture').run();
    } catch (err) {
      sqlite.prepare('ROLLBACK TO capture').run();
      sqlite.prepare('RELEASE capture').run();
      throw err;
    }
  }

  async lastDocumentId(tx: Tx): Promise<number> {
    return (on(tx).prepare(SQL.maxDocId).get() as { id: number }).id;
  }

  async hasDocument(tx: Tx, messageRowId: number): Promise<boolean> {
    return on(tx).prepare(SQL.docExists).get(messageRowId) !== undefined;
  }

  async namedAddresses(tx: Tx, messageRowId: number): Promise<{ recipients: Set<string>; from: Set<string>; all: Set<string> }> {
    const addresses = (sql: string) => new Set((on(tx).prepare(sql).all(messageRowId) as { address: string }[]).map((r) => r.address));
    return { recipients: addresses(SQL.headerAddresses), from: addresses(SQL.fromAddresses), all: addresses(SQL.allAddresses) };
  }

  async addDocument(tx: Tx, doc: NewDocument): Promise<void> {
    const own = doc.messageId?.toLowerCase() ?? null;
    const key = threadKeyFor(tx, own, doc.refersTo, doc.sha256);
    on(tx).prepare(SQL.insertDoc).run(doc.id, doc.sha256, doc.messageId, own, doc.date,
      doc.fromText, doc.subject, doc.hasAttachment ? 1 : 0, doc.parseError, key);
    if (own !== null && key !== own) on(tx).prepare(SQL.rethread).run(key, own);
  }

  async unthreaded(tx: Tx, limit: number): Promise<{ id: number; sha256: string }[]> {
    return (on(tx).prepare(SQL.unthreaded).all(limit) as { id: number; sha256: string }[]).map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  async setThread(tx: Tx, messageRowId: number, messageId: string | null, refersTo: string[]): Promise<void> {
    const own = messageId?.toLowerCase() ?? null;
    const sha256 = (on(tx).prepare(SQL.docSha).get(messageRowId) as { sha256: string } | undefined)?.sha256;
    if (sha256 === undefined) return;
    const key = threadKeyFor(tx, own, refersTo, sha256);
    on(tx).prepare(SQL.setThread).run(key, messageRowId);
    if (own !== null && key !== own) on(tx).prepare(SQL.rethread).run(key, own);
  }

  async addParticipation(tx: Tx, messageRowId: number, p: Participation): Promise<void> {
    on(tx).prepare(SQL.insertPart).run(messageRowId, p.role, p.address, p.domain, p.name);
  }

  async addAttachment(tx: Tx, messageRowId: number, a: NewAttachment): Promise<void> {
    on(tx).prepare(SQL.insertAttachment).run(messageRowId, a.filename, a.filename?.toLowerCase() ?? null, a.contentType, a.size, a.sha256);
  }

  // The scope column (scope-tokens.ts) is made here from the document's row and participants as
  // they are now: the document and every participant of this capture are written first.
  async addFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void> {
    const sql = on(tx);
    const doc = sql.prepare(SQL.scopeOfDoc).get(messageRowId) as { date: number | null; has_attachment: number } | undefined;
    if (doc === undefined) throw new Error(`full text for message row ${messageRowId}, which has no document`);
    const participants = sql.prepare(SQL.scopeParts).all(messageRowId) as { role: string; address: string; domain: string }[];
    const scope = scopeText({ participants, date: doc.date === null ? null : Number(doc.date), hasAttachment: doc.has_attachment !== 0 });
    sql.prepare(SQL.insertFts).run(messageRowId, text.subject, text.addresses, text.body, text.filenames, text.attachments, scope);
  }

  async replaceFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void> {
    on(tx).prepare(SQL.removeFts).run(messageRowId);
    await this.addFullText(tx, messageRowId, text);
  }

  async setAuthVerdicts(tx: Tx, captureRowId: number, verdicts: unknown): Promise<void> {
    on(tx).prepare(SQL.insertAuth).run(captureRowId, JSON.stringify(verdicts));
  }

  async setCompleteness(tx: Tx, summary: CompletenessSummary): Promise<void> {
    on(tx).prepare(SQL.setState).run('completeness', JSON.stringify(summary));
  }

  async queueAuth(tx: Tx, captureRowId: number): Promise<void> {
    on(tx).prepare(SQL.queueAuth).run(captureRowId);
  }

  async pendingAuth(tx: Tx, after: number, limit: number): Promise<number[]> {
    return (on(tx).prepare(SQL.pendingAuth).all(after, limit) as { capture_row: number }[]).map((r) => Number(r.capture_row));
  }

  async pendingAuthCount(tx: Tx): Promise<number> {
    return Number((on(tx).prepare(SQL.pendingAuthCount).get() as { n: number }).n);
  }

  async completeAuth(tx: Tx, captureRowId: number, verdicts: unknown): Promise<boolean> {
    if (on(tx).prepare(SQL.unqueueAuth).run(captureRowId).changes === 0) return false;
    on(tx).prepare(SQL.insertAuth).run(captureRowId, JSON.stringify(verdicts));
    return true;
  }

  async queueExtraction(tx: Tx, messageRowId: number): Promise<void> {
    on(tx).prepare(SQL.queueExtraction).run(messageRowId);
  }

  async pendingExtraction(tx: Tx, after: number, limit: number): Promise<{ id: number; sha256: string | null }[]> {
    return (on(tx).prepare(SQL.pendingExtraction).all(after, limit) as { id: number; sha256: string | null }[]).map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  async pendingExtractionCount(tx: Tx): Promise<number> {
    return Number((on(tx).prepare(SQL.pendingExtractionCount).get() as { n: number }).n);
  }

  async markAttachmentsRead(tx: Tx, messageRowId: number, version: number): Promise<void> {
    on(tx).prepare(SQL.setAttachmentsRead).run(version, messageRowId);
  }

  async queueUnread(tx: Tx, after: number, limit: number, version: number): Promise<{ scanned: number; queued: number; last: number }> {
    const sql = on(tx);
    const ids = (sql.prepare(SQL.unread).all(after, version, limit) as { id: number }[]).map((r) => Number(r.id));
    let queued = 0;
    for (const id of ids) queued += Number(sql.prepare(SQL.queueExtraction).run(id).changes);
    return { scanned: ids.length, queued, last: ids.at(-1) ?? after };
  }

  async unreadCount(tx: Tx, version: number): Promise<number> {
    return Number((on(tx).prepare(SQL.unreadCount).get(version) as { n: number }).n);
  }

  // The full-text index keeps no text (contentless), so a row cannot be added to: it is replaced whole.
  async completeExtraction(tx: Tx, messageRowId: number, text: FullText | null, outcomes: readonly AttachmentOutcome[], version: number): Promise<boolean> {
    const sql = on(tx);
    if (sql.prepare(SQL.unqueueExtraction).run(messageRowId).changes === 0) return false;
    sql.prepare(SQL.setAttachmentsRead).run(version, messageRowId);
    if (text !== null) await this.replaceFullText(tx, messageRowId, text);
    const rows = (sql.prepare(SQL.attachmentRows).all(messageRowId) as { rowid: number }[]).map((r) => r.rowid);
    if (text !== null) sql.prepare(SQL.removeAttachmentFts).run(messageRowId);
    for (const o of outcomes) {
      const row = rows[o.attachment];
      if (row === undefined) continue;
      sql.prepare(SQL.setExtraction).run(o.extraction, row);
      if (text !== null && o.text) sql.prepare(SQL.insertAttachmentFts).run(row, o.text);
    }
    return true;
  }

  async recordFailure(tx: Tx, captureRowId: number, sha256: string, error: string, at: number): Promise<void> {
    on(tx).prepare(SQL.recordFailure).run(captureRowId, sha256, error, at, at);
  }

  async clearFailure(tx: Tx, captureRowId: number): Promise<void> {
    on(tx).prepare(SQL.clearFailure).run(captureRowId);
  }

  async failedCaptures(tx: Tx, limit: number): Promise<number[]> {
    return (on(tx).prepare(SQL.failedRows).all(limit) as { capture_row: number }[]).map((r) => Number(r.capture_row));
  }

  async failureCount(tx: Tx): Promise<number> {
    return Number((on(tx).prepare(SQL.failureCount).get() as { n: number }).n);
  }

  async documentIds(tx: Tx, after: number, upTo: number): Promise<number[]> {
    return (on(tx).prepare('SELECT id FROM doc WHERE id > ? AND id <= ? ORDER BY id').all(after, upTo) as { id: number }[]).map((r) => Number(r.id));
  }

  async removeDocument(tx: Tx, messageRowId: number, captureRowIds: readonly number[]): Promise<void> {
    const sql = on(tx);
    for (const stmt of [SQL.removeFts, SQL.removeAttachmentFts, SQL.removeParts, SQL.removeAttachments, SQL.removePendingExtraction, SQL.removeDoc]) sql.prepare(stmt).run(messageRowId);
    for (const id of captureRowIds) {
      sql.prepare(SQL.removeAuth).run(id);
      sql.prepare(SQL.removePendingAuth).run(id);
      sql.prepare(SQL.removeFailure).run(id);
    }
  }

  // FTS5's 'secure-delete' option (migration 3) does not reach this table: a contentless_delete
  // table knows no row's words when it is deleted, so the delete is a tombstone and the words
  // stay in their segment until the segment is merged (the disposal test found an attachment's
  // words there, in a segment of their own). 'optimize' merges every segment, which drops
  // tombstoned rows, secure_delete overwrites the pages it frees, and the log is cut after. It
  // rewrites the whole index: once per disposal run, not per message.
  async purgeRemoved(): Promise<boolean> {
    await this.write(async (tx) => {
      on(tx).prepare(SQL.mergeFts).run();
      on(tx).prepare(SQL.mergeAttachmentFts).run();
    });
    return this.#index.transactions.truncateLog();
  }
}

// The thread of the first message referred to that is indexed (References start at the root),
// else the first id referred to, else the message's own id, else its identity.
function threadKeyFor(tx: Tx, own: string | null, refersTo: string[], sha256: string): string {
  for (const id of refersTo) {
    if (id === own) continue;
    const row = on(tx).prepare(SQL.threadOf).get(id) as { thread_key: string } | undefined;
    if (row) return row.thread_key;
  }
  return refersTo.find((id) => id !== own) ?? own ?? `sha256:${sha256}`;
}
