import type { DatabaseSync } from 'node:sqlite';
import type { FullText, IndexStore, NewAttachment, NewDocument, Participation } from '../index-store.ts';

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(index: DatabaseSync) {
  return {
    cursor: index.prepare("SELECT value FROM index_state WHERE key = 'cursor'"),
    setCursor: index.prepare("INSERT INTO index_state (key, value) VALUES ('cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    docExists: index.prepare('SELECT 1 FROM doc WHERE id = ?'),
    maxDocId: index.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM doc'),
    insertDoc: index.prepare(`INSERT INTO doc (id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, parse_error, thread_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    threadOf: index.prepare('SELECT thread_key FROM doc WHERE message_id_lc = ? AND thread_key IS NOT NULL LIMIT 1'),
    rethread: index.prepare('UPDATE doc SET thread_key = ? WHERE thread_key = ?'),
    setThread: index.prepare('UPDATE doc SET thread_key = ? WHERE id = ?'),
    unthreaded: index.prepare('SELECT id, sha256 FROM doc WHERE thread_key IS NULL ORDER BY id LIMIT ?'),
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

// The indexer's writes to the index database (openIndexDb), every statement prepared once.
export class SqliteIndexStore implements IndexStore {
  readonly #db: DatabaseSync;
  readonly #sql: Statements;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#sql = prepareStatements(db);
  }

  cursor(): number {
    const row = this.#sql.cursor.get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  setCursor(captureRowId: number): void {
    this.#sql.setCursor.run(String(captureRowId));
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn();
      db.exec('COMMIT');
      return result;
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  savepoint(fn: () => void): void {
    const db = this.#db;
    db.exec('SAVEPOINT capture');
    try {
      fn();
      db.exec('RELEASE capture');
    } catch (err) {
      db.exec('ROLLBACK TO capture');
      db.exec('RELEASE capture');
      throw err;
    }
  }

  lastDocumentId(): number {
    return (this.#sql.maxDocId.get() as { id: number }).id;
  }

  hasDocument(messageRowId: number): boolean {
    return this.#sql.docExists.get(messageRowId) !== undefined;
  }

  namedAddresses(messageRowId: number): { recipients: Set<string>; from: Set<string> } {
    const addresses = (stmt: Statements['headerAddresses']) => new Set((stmt.all(messageRowId) as { address: string }[]).map((r) => r.address));
    return { recipients: addresses(this.#sql.headerAddresses), from: addresses(this.#sql.fromAddresses) };
  }

  addDocument(doc: NewDocument): void {
    const own = doc.messageId?.toLowerCase() ?? null;
    const key = this.#threadKeyFor(own, doc.refersTo, doc.sha256);
    this.#sql.insertDoc.run(doc.id, doc.sha256, doc.messageId, own, doc.date,
      doc.fromText, doc.subject, doc.hasAttachment ? 1 : 0, doc.parseError, key);
    if (own !== null && key !== own) this.#sql.rethread.run(key, own);
  }

  unthreaded(limit: number): { id: number; sha256: string }[] {
    return (this.#sql.unthreaded.all(limit) as { id: number; sha256: string }[]).map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  setThread(messageRowId: number, messageId: string | null, refersTo: string[]): void {
    const own = messageId?.toLowerCase() ?? null;
    const sha256 = (this.#db.prepare('SELECT sha256 FROM doc WHERE id = ?').get(messageRowId) as { sha256: string } | undefined)?.sha256;
    if (sha256 === undefined) return;
    const key = this.#threadKeyFor(own, refersTo, sha256);
    this.#sql.setThread.run(key, messageRowId);
    if (own !== null && key !== own) this.#sql.rethread.run(key, own);
  }

  // The thread of the first message referred to that is indexed (References start at the root),
  // else the first id referred to, else the message's own id, else its identity.
  #threadKeyFor(own: string | null, refersTo: string[], sha256: string): string {
    for (const id of refersTo) {
      if (id === own) continue;
      const row = this.#sql.threadOf.get(id) as { thread_key: string } | undefined;
      if (row) return row.thread_key;
    }
    return refersTo.find((id) => id !== own) ?? own ?? `sha256:${sha256}`;
  }

  addParticipation(messageRowId: number, p: Participation): void {
    this.#sql.insertPart.run(messageRowId, p.role, p.address, p.domain, p.name);
  }

  addAttachment(messageRowId: number, a: NewAttachment): void {
    this.#sql.insertAttachment.run(messageRowId, a.filename, a.filename?.toLowerCase() ?? null, a.contentType, a.size, a.sha256);
  }

  addFullText(messageRowId: number, text: FullText): void {
    this.#sql.insertFts.run(messageRowId, text.subject, text.addresses, text.body, text.filenames);
  }

  setAuthVerdicts(captureRowId: number, verdicts: unknown): void {
    this.#sql.insertAuth.run(captureRowId, JSON.stringify(verdicts));
  }

  recordFailure(captureRowId: number, sha256: string, error: string, at: number): void {
    this.#sql.recordFailure.run(captureRowId, sha256, error, at, at);
  }

  clearFailure(captureRowId: number): void {
    this.#sql.clearFailure.run(captureRowId);
  }

  failedCaptures(limit: number): number[] {
    return (this.#sql.failedRows.all(limit) as { capture_row: number }[]).map((r) => Number(r.capture_row));
  }

  failureCount(): number {
    return Number((this.#sql.failureCount.get() as { n: number }).n);
  }
}
