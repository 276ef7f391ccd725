import type { DatabaseSync } from 'node:sqlite';
import { compileQuery, describeQuery, parseQuery, QueryError } from './search-query.ts';

export interface SearchHit {
  sha256: string;
  messageId: string | null;
  date: number | null;
  from: string | null;
  subject: string | null;
}

export interface SearchResult {
  query: string;       // canonical form, for the ledger
  hits: SearchHit[];
}

// Reads the index database (with the main database attached as "meta").
export class SearchIndex {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  search(text: string, options: { limit: number; offset?: number; scope?: { where: string; params: (string | number)[] }; envelopeOf?: readonly number[] }): SearchResult {
    const node = parseQuery(text);
    const compiled = compileQuery(node, { envelopeOf: options.envelopeOf });
    const scope = options.scope ? ` AND (${options.scope.where})` : '';
    let rows: Record<string, any>[];
    try {
      rows = this.#db.prepare(`SELECT d.sha256, d.message_id, d.date, d.from_text, d.subject FROM doc d WHERE (${compiled.where})${scope} ORDER BY d.date DESC, d.id DESC LIMIT ? OFFSET ?`)
        .all(...compiled.params, ...(options.scope?.params ?? []), options.limit, options.offset ?? 0) as Record<string, any>[];
    } catch (err) {
      // A value FTS5 refuses after all (the parser lets through what it should not) is the
      // query's fault, not the archive's: a bad-query answer, never an internal error.
      if (/fts5|MATCH/i.test((err as Error).message)) throw new QueryError(`the full-text index cannot search for this query: ${(err as Error).message}`, 0);
      throw err;
    }
    return {
      query: describeQuery(node),
      hits: rows.map((r) => ({ sha256: r.sha256, messageId: r.message_id, date: r.date === null ? null : Number(r.date), from: r.from_text, subject: r.subject })),
    };
  }

  document(messageRowId: number): Record<string, any> | null {
    return (this.#db.prepare('SELECT * FROM doc WHERE id = ?').get(messageRowId) as Record<string, any> | undefined) ?? null;
  }

  participants(messageRowId: number): { address: string; role: string; name: string | null; mailbox: string | null }[] {
    return (this.#db.prepare(`SELECT p.address, p.role, p.name, m.name AS mailbox FROM participation p
      LEFT JOIN meta.mailbox_address a ON a.address = p.address LEFT JOIN meta.mailbox m ON m.id = a.mailbox_id
      WHERE p.doc_id = ? ORDER BY CASE p.role WHEN 'from' THEN 0 WHEN 'sender' THEN 1 WHEN 'to' THEN 2 WHEN 'cc' THEN 3 ELSE 4 END, p.address`)
      .all(messageRowId) as any[]);
  }

  // Which of `mailboxIds` hold at least one of the messages `sha256s`: a mailbox holds a message
  // when one of its addresses takes part in it (from, sender, to, cc, or bcc by envelope), the
  // link the scope condition reads by. One query however many messages (a search page, an export);
  // CROSS JOIN keeps SQLite starting from the messages, not from every message of a big mailbox.
  mailboxesHolding(sha256s: readonly string[], mailboxIds: readonly number[]): Set<number> {
    if (sha256s.length === 0 || mailboxIds.length === 0) return new Set();
    const rows = this.#db.prepare(`SELECT DISTINCT a.mailbox_id AS id FROM doc d
      CROSS JOIN participation p ON p.doc_id = d.id CROSS JOIN meta.mailbox_address a ON a.address = p.address
      WHERE d.sha256 IN (SELECT value FROM json_each(?)) AND a.mailbox_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(sha256s), JSON.stringify(mailboxIds)) as { id: number }[];
    return new Set(rows.map((r) => Number(r.id)));
  }

  attachments(messageRowId: number): { filename: string | null; contentType: string; size: number; sha256: string }[] {
    return (this.#db.prepare('SELECT filename, content_type AS contentType, size, sha256 FROM attachment WHERE doc_id = ? ORDER BY rowid').all(messageRowId) as any[]);
  }

  authVerdicts(captureRowId: number): unknown {
    const row = this.#db.prepare('SELECT verdicts FROM capture_auth WHERE capture_row = ?').get(captureRowId) as { verdicts: string } | undefined;
    return row ? JSON.parse(row.verdicts) : null;
  }

  // Other messages with the same Message-ID: forged or altered copies are kept and linked, never
  // merged. Only those within `scope` (the reader's): naming one outside it would tell the reader
  // that it exists, and its identity.
  sameMessageId(messageIdLc: string, exceptRowId: number, scope: { where: string; params: (string | number)[] }): string[] {
    return (this.#db.prepare(`SELECT d.sha256 FROM doc d WHERE d.message_id_lc = ? AND d.id <> ? AND (${scope.where}) ORDER BY d.id`)
      .all(messageIdLc, exceptRowId, ...scope.params) as { sha256: string }[]).map((r) => r.sha256);
  }

  // Captures the indexer could not index (each retried now and then), the most recent first.
  failures(limit = 20): { count: number; recent: { captureRow: number; sha256: string; error: string; attempts: number; lastFailedAt: number }[] } {
    const count = Number((this.#db.prepare('SELECT COUNT(*) AS n FROM index_failure').get() as { n: number }).n);
    const recent = (this.#db.prepare('SELECT capture_row, sha256, error, attempts, last_failed_at FROM index_failure ORDER BY last_failed_at DESC, capture_row DESC LIMIT ?').all(limit) as any[])
      .map((r) => ({ captureRow: Number(r.capture_row), sha256: r.sha256, error: r.error, attempts: Number(r.attempts), lastFailedAt: Number(r.last_failed_at) }));
    return { count, recent };
  }

  cursor(): number {
    const row = this.#db.prepare("SELECT value FROM index_state WHERE key = 'cursor'").get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }
}
