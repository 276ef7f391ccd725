import type { Tx } from '../../core/transactions.ts';
import type { PostgresMetadataStore } from '../../store/postgres/metadata-store.ts';
import { on, PostgresTransactions } from '../../store/postgres/transactions.ts';
import type { CompletenessSummary } from '../index-completeness.ts';
import type { AttachmentOutcome, FullText, IndexClaim, IndexStore, NewAttachment, NewDocument, Participation } from '../index-store.ts';
import { documentVector, vectorOf } from './words.ts';

// The advisory lock of the index's writes: one indexer batch at a time across the nodes (the
// cursor is one value); apart from the metadata's write lock.
export const INDEX_WRITE_LOCK = 0x5ea1b0c6;

// The index's transactions on the metadata store's pool, in its schema (the tables of migration
// 0003), with a lock of their own.
export function indexTransactions(meta: PostgresMetadataStore): PostgresTransactions {
  return new PostgresTransactions(meta.pool, () => meta.ready(), { lock: INDEX_WRITE_LOCK, timeoutMs: meta.writeTimeoutMs });
}

// The indexer's writes to the search index on PostgreSQL (see search-index.ts for the design).
export class PostgresIndexStore implements IndexStore {
  readonly #meta: PostgresMetadataStore;
  readonly #tx: PostgresTransactions;

  constructor(meta: PostgresMetadataStore, transactions: PostgresTransactions = indexTransactions(meta)) {
    this.#meta = meta;
    this.#tx = transactions;
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#tx.write(async (tx) => {
      const result = await work(tx);
      await this.#flush(tx);
      return result;
    });
  }

  // A document's participation rows wait until the next statement of their transaction and go
  // in as one insert (the indexer names five or so a message: a round trip each was most of its
  // statements). Every statement here goes through #on or #onRows, which write them first, so
  // what this transaction reads or writes next (scope_words at the full text, namedAddresses)
  // sees them, and a failure is the capture's that added them (its full text follows its
  // participants).
  //
  // A new document's row waits too, for its words (addDocument to addFullText), and goes in with
  // them: written first and its words set after, every row was written twice (an UPDATE is a new
  // row version, with new entries in each of doc's indexes). The statements the indexer makes
  // between the two touch no row of doc (#onRows); any other writes the rows waiting first,
  // without their words, and their words are then set on them as before.
  readonly #pending = new WeakMap<Tx, { participation: [number[], string[], string[], string[], (string | null)[]] | null; docs: Map<number, DocRow> }>();

  #waiting(tx: Tx) {
    let pending = this.#pending.get(tx);
    if (!pending) this.#pending.set(tx, pending = { participation: null, docs: new Map() });
    return pending;
  }

  async #on(tx: Tx): Promise<ReturnType<typeof on>> {
    await this.#flush(tx);
    return on(tx);
  }

  // For statements that do not read or write doc.
  async #onRows(tx: Tx): Promise<ReturnType<typeof on>> {
    await this.#flushParticipation(tx);
    return on(tx);
  }

  async #flush(tx: Tx): Promise<void> {
    await this.#flushParticipation(tx);
    const docs = this.#pending.get(tx)?.docs;
    if (!docs) return;
    this.#pending.delete(tx);
    for (const row of docs.values()) await on(tx).run(`INSERT INTO doc (${DOC_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, row);
  }

  async #flushParticipation(tx: Tx): Promise<void> {
    const pending = this.#pending.get(tx);
    const rows = pending?.participation;
    if (!pending || !rows) return;
    pending.participation = null;
    // Each row carries its document's date (migration 0015): from the row waiting to be written,
    // else from the row written before (a later capture naming someone new).
    const dates = rows[0].map((id) => pending.docs.get(id)?.[4] ?? null);
    await on(tx).run(`INSERT INTO participation (doc_id, role, address, domain, name, date)
      SELECT u.doc_id, u.role, u.address, u.domain, u.name, COALESCE(u.date, (SELECT d.date FROM doc d WHERE d.id = u.doc_id))
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(doc_id, role, address, domain, name, date) ON CONFLICT DO NOTHING`, [...rows, dates]);
  }

  // What a read transaction was given to write is refused with it, as a write made at once is.
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#tx.read(async (tx) => {
      const result = await work(tx);
      await this.#flush(tx);
      return result;
    });
  }

  async cursor(tx: Tx): Promise<number> {
    const row = await (await this.#on(tx)).one<{ value: string }>("SELECT value FROM index_state WHERE key = 'cursor'");
    return row ? Number(row.value) : 0;
  }

  async setCursor(tx: Tx, captureRowId: number): Promise<void> {
    await this.#setState(tx, 'cursor', String(captureRowId));
  }

  // The queue's rows are claimed in a transaction of their own, outside the write lock, so the
  // nodes read and parse their batches side by side and take the lock only to write them. Rows
  // another node holds are skipped, never waited for.
  claim<T>(limit: number, work: (claim: IndexClaim) => Promise<T>): Promise<T> {
    return this.#tx.claim(
      async (tx) => (await on(tx).query<{ capture_row: number }>('SELECT capture_row FROM index_queue ORDER BY capture_row LIMIT $1 FOR UPDATE SKIP LOCKED', [limit])).map((r) => Number(r.capture_row)),
      (rowIds, write) => work({
        rowIds,
        write: (w) => write(async (tx) => {
          try {
            const result = await w(tx);
            await this.#flush(tx);
            return result;
          } catch (err) {
            this.#pending.delete(tx);
            throw err;
          }
        }),
        done: async (tx, done) => {
          const pg = await this.#on(tx);
          await pg.run('DELETE FROM index_queue WHERE capture_row = ANY($1::bigint[])', [[...done]]);
          // Every capture below the first still queued (claimed by another node, or left for
          // later) is indexed; none queued: all of them. Captures commit one transaction at a time
          // in the order of their ids (the metadata's write lock), each with its queue row.
          await pg.run(`INSERT INTO index_state (key, value)
            SELECT 'cursor', COALESCE((SELECT MIN(capture_row) - 1 FROM index_queue), (SELECT MAX(id) FROM capture), 0)::text
            ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
        },
      }),
    );
  }

  async #setState(tx: Tx, key: string, value: string): Promise<void> {
    await (await this.#on(tx)).run('INSERT INTO index_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async savepoint(tx: Tx, work: () => Promise<void>): Promise<void> {
    const pg = await this.#on(tx);
    await pg.run('SAVEPOINT capture');
    try {
      await work();
      await this.#flush(tx);
      await pg.run('RELEASE SAVEPOINT capture');
    } catch (err) {
      // Rows of the failed capture not yet written are dropped with the rest of it.
      this.#pending.delete(tx);
      await pg.run('ROLLBACK TO SAVEPOINT capture');
      await pg.run('RELEASE SAVEPOINT capture');
      throw err;
    }
  }

  async lastDocumentId(tx: Tx): Promise<number> {
    return Number((await (await this.#on(tx)).one<{ id: number }>('SELECT COALESCE(MAX(id), 0) AS id FROM doc'))!.id);
  }

  async hasDocument(tx: Tx, messageRowId: number): Promise<boolean> {
    return (await (await this.#on(tx)).one('SELECT 1 FROM doc WHERE id = $1', [messageRowId])) !== undefined;
  }

  async namedAddresses(tx: Tx, messageRowId: number): Promise<{ recipients: Set<string>; from: Set<string>; all: Set<string> }> {
    const addresses = async (roles: string[]) => new Set((await (await this.#onRows(tx)).query<{ address: string }>('SELECT address FROM participation WHERE doc_id = $1 AND role = ANY($2::text[])', [messageRowId, roles])).map((r) => r.address));
    return { recipients: await addresses(['to', 'cc', 'bcc']), from: await addresses(['from']), all: await addresses(['from', 'sender', 'to', 'cc', 'bcc']) };
  }

  // The row waits for its words (#docs); its thread is settled now. Earlier replies keyed by its
  // Message-ID join it; the row itself is not among them (its key is not its own then).
  async addDocument(tx: Tx, doc: NewDocument): Promise<void> {
    const own = doc.messageId?.toLowerCase() ?? null;
    const pg = await this.#on(tx);
    const key = await threadKeyFor(tx, own, doc.refersTo, doc.sha256);
    if (own !== null && key !== own) await pg.run('UPDATE doc SET thread_key = $1 WHERE thread_key = $2', [key, own]);
    const docs = this.#waiting(tx).docs;
    docs.set(doc.id, [doc.id, doc.sha256, doc.messageId, own, doc.date, doc.fromText, doc.subject, doc.hasAttachment ? 1 : 0, doc.parseError, key, null]);
  }

  async unthreaded(tx: Tx, limit: number): Promise<{ id: number; sha256: string }[]> {
    return (await (await this.#on(tx)).query('SELECT id, sha256 FROM doc WHERE thread_key IS NULL ORDER BY id LIMIT $1', [limit])).map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  async setThread(tx: Tx, messageRowId: number, messageId: string | null, refersTo: string[]): Promise<void> {
    const own = messageId?.toLowerCase() ?? null;
    const row = await (await this.#on(tx)).one<{ sha256: string }>('SELECT sha256 FROM doc WHERE id = $1', [messageRowId]);
    if (row === undefined) return;
    const key = await threadKeyFor(tx, own, refersTo, row.sha256);
    await (await this.#on(tx)).run('UPDATE doc SET thread_key = $1 WHERE id = $2', [key, messageRowId]);
    if (own !== null && key !== own) await (await this.#on(tx)).run('UPDATE doc SET thread_key = $1 WHERE thread_key = $2', [key, own]);
  }

  async addParticipation(tx: Tx, messageRowId: number, p: Participation): Promise<void> {
    const pending = this.#waiting(tx);
    const rows = pending.participation ??= [[], [], [], [], []];
    rows[0].push(messageRowId);
    rows[1].push(p.role);
    rows[2].push(p.address);
    rows[3].push(p.domain);
    rows[4].push(p.name);
  }

  async addAttachment(tx: Tx, messageRowId: number, a: NewAttachment): Promise<void> {
    await (await this.#onRows(tx)).run('INSERT INTO attachment (doc_id, filename, filename_lc, content_type, size, sha256) VALUES ($1, $2, $3, $4, $5, $6)',
      [messageRowId, a.filename, a.filename?.toLowerCase() ?? null, a.contentType, a.size, a.sha256]);
  }

  // The document's participants are written first (addParticipation); its words go in with its
  // row, or are set on a row already written, replacing any, with a lexeme per participant and
  // the others of scope_words (migrations 0004, 0008) for searches within mailboxes.
  async addFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void> {
    const docs = this.#pending.get(tx)?.docs;
    const row = docs?.get(messageRowId);
    if (row === undefined) {
      await (await this.#on(tx)).run('UPDATE doc SET words = $2::tsvector || scope_words($1) WHERE id = $1', [messageRowId, documentVector(text)]);
      return;
    }
    // Its participants first, while their date can still be read from the waiting row.
    await this.#flushParticipation(tx);
    docs!.delete(messageRowId);
    await (await this.#on(tx)).run(`INSERT INTO doc (${DOC_COLUMNS}, words)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::tsvector || scope_words($1, $8, $5))`, [...row, documentVector(text)]);
  }

  // After a later capture named someone new: the same, with the new participant's lexeme.
  async replaceFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void> {
    await this.addFullText(tx, messageRowId, text);
  }

  async setAuthVerdicts(tx: Tx, captureRowId: number, verdicts: unknown): Promise<void> {
    await (await this.#on(tx)).run('INSERT INTO capture_auth (capture_row, verdicts) VALUES ($1, $2) ON CONFLICT (capture_row) DO UPDATE SET verdicts = excluded.verdicts', [captureRowId, JSON.stringify(verdicts)]);
  }

  async setCompleteness(tx: Tx, summary: CompletenessSummary): Promise<void> {
    await this.#setState(tx, 'completeness', JSON.stringify(summary));
  }

  async queueAuth(tx: Tx, captureRowId: number): Promise<void> {
    await (await this.#on(tx)).run('INSERT INTO auth_pending (capture_row) VALUES ($1) ON CONFLICT DO NOTHING', [captureRowId]);
  }

  async pendingAuth(tx: Tx, after: number, limit: number): Promise<number[]> {
    return (await (await this.#on(tx)).query('SELECT capture_row FROM auth_pending WHERE capture_row > $1 ORDER BY capture_row LIMIT $2', [after, limit])).map((r) => Number(r.capture_row));
  }

  async pendingAuthCount(tx: Tx): Promise<number> {
    return Number((await (await this.#on(tx)).one('SELECT COUNT(*) AS n FROM auth_pending'))!.n);
  }

  async completeAuth(tx: Tx, captureRowId: number, verdicts: unknown): Promise<boolean> {
    if (await (await this.#on(tx)).run('DELETE FROM auth_pending WHERE capture_row = $1', [captureRowId]) === 0) return false;
    await this.setAuthVerdicts(tx, captureRowId, verdicts);
    return true;
  }

  async queueExtraction(tx: Tx, messageRowId: number): Promise<void> {
    await (await this.#onRows(tx)).run('INSERT INTO extraction_pending (doc_id) VALUES ($1) ON CONFLICT DO NOTHING', [messageRowId]);
  }

  async pendingExtraction(tx: Tx, after: number, limit: number): Promise<{ id: number; sha256: string | null }[]> {
    return (await (await this.#on(tx)).query('SELECT e.doc_id AS id, d.sha256 FROM extraction_pending e LEFT JOIN doc d ON d.id = e.doc_id WHERE e.doc_id > $1 ORDER BY e.doc_id LIMIT $2', [after, limit]))
      .map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
  }

  async pendingExtractionCount(tx: Tx): Promise<number> {
    return Number((await (await this.#on(tx)).one('SELECT COUNT(*) AS n FROM extraction_pending'))!.n);
  }

  async markAttachmentsRead(tx: Tx, messageRowId: number, version: number): Promise<void> {
    const row = this.#pending.get(tx)?.docs.get(messageRowId);
    if (row !== undefined) row[10] = version;
    else await (await this.#on(tx)).run('UPDATE doc SET attachments_read = $1 WHERE id = $2', [version, messageRowId]);
  }

  async queueUnread(tx: Tx, after: number, limit: number, version: number): Promise<{ scanned: number; queued: number; last: number }> {
    const ids = (await (await this.#on(tx)).query('SELECT id FROM doc WHERE id > $1 AND has_attachment = 1 AND (attachments_read IS NULL OR attachments_read < $2) ORDER BY id LIMIT $3', [after, version, limit]))
      .map((r) => Number(r.id));
    let queued = 0;
    for (const id of ids) queued += await (await this.#on(tx)).run('INSERT INTO extraction_pending (doc_id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
    return { scanned: ids.length, queued, last: ids.at(-1) ?? after };
  }

  async unreadCount(tx: Tx, version: number): Promise<number> {
    return Number((await (await this.#on(tx)).one('SELECT COUNT(*) AS n FROM doc WHERE has_attachment = 1 AND (attachments_read IS NULL OR attachments_read < $1)', [version]))!.n);
  }

  async completeExtraction(tx: Tx, messageRowId: number, text: FullText | null, outcomes: readonly AttachmentOutcome[], version: number): Promise<boolean> {
    const pg = await this.#on(tx);
    if (await pg.run('DELETE FROM extraction_pending WHERE doc_id = $1', [messageRowId]) === 0) return false;
    await pg.run('UPDATE doc SET attachments_read = $1 WHERE id = $2', [version, messageRowId]);
    if (text !== null) {
      await this.addFullText(tx, messageRowId, text);
      await pg.run('UPDATE attachment SET words = NULL WHERE doc_id = $1', [messageRowId]);
    }
    const rows = (await pg.query('SELECT id FROM attachment WHERE doc_id = $1 ORDER BY id', [messageRowId])).map((r) => Number(r.id));
    for (const o of outcomes) {
      const row = rows[o.attachment];
      if (row === undefined) continue;
      const words = text !== null && o.text ? vectorOf([{ text: o.text, weight: 'D' }]) : null;
      if (words !== null) await pg.run('UPDATE attachment SET extraction = $1, words = $2::tsvector WHERE id = $3', [o.extraction, words, row]);
      else await pg.run('UPDATE attachment SET extraction = $1 WHERE id = $2', [o.extraction, row]);
    }
    return true;
  }

  async recordFailure(tx: Tx, captureRowId: number, sha256: string, error: string, at: number): Promise<void> {
    await (await this.#on(tx)).run(`INSERT INTO index_failure (capture_row, sha256, error, first_failed_at, last_failed_at) VALUES ($1, $2, $3, $4, $4)
      ON CONFLICT (capture_row) DO UPDATE SET error = excluded.error, last_failed_at = excluded.last_failed_at, attempts = index_failure.attempts + 1`, [captureRowId, sha256, error, at]);
  }

  async clearFailure(tx: Tx, captureRowId: number): Promise<void> {
    await (await this.#on(tx)).run('DELETE FROM index_failure WHERE capture_row = $1', [captureRowId]);
  }

  async failedCaptures(tx: Tx, limit: number): Promise<number[]> {
    return (await (await this.#on(tx)).query('SELECT capture_row FROM index_failure ORDER BY last_failed_at, capture_row LIMIT $1', [limit])).map((r) => Number(r.capture_row));
  }

  async failureCount(tx: Tx): Promise<number> {
    return Number((await (await this.#on(tx)).one('SELECT COUNT(*) AS n FROM index_failure'))!.n);
  }

  async documentIds(tx: Tx, after: number, upTo: number): Promise<number[]> {
    return (await (await this.#on(tx)).query('SELECT id FROM doc WHERE id > $1 AND id <= $2 ORDER BY id', [after, upTo])).map((r) => Number(r.id));
  }

  // The document's words go with its row (and an attachment's with its own).
  async removeDocument(tx: Tx, messageRowId: number, captureRowIds: readonly number[]): Promise<void> {
    const pg = await this.#on(tx);
    for (const table of ['participation', 'attachment', 'extraction_pending']) await pg.run(`DELETE FROM ${table} WHERE doc_id = $1`, [messageRowId]);
    await pg.run('DELETE FROM doc WHERE id = $1', [messageRowId]);
    for (const table of ['capture_auth', 'auth_pending', 'index_failure']) await pg.run(`DELETE FROM ${table} WHERE capture_row = ANY($1::bigint[])`, [[...captureRowIds]]);
  }

  // A deleted row stays in its page (and the GIN index's entries) until VACUUM frees them; a
  // freed page is not overwritten (PostgreSQL has no secure_delete): the disposal proof on
  // PostgreSQL rests on VACUUM and on the storage's own encryption. One VACUUM per disposal run.
  async purgeRemoved(): Promise<boolean> {
    return this.#meta.vacuum(['doc', 'participation', 'attachment', 'capture_auth', 'extraction_pending']);
  }
}

// A row of doc as addDocument leaves it waiting: the values of DOC_COLUMNS.
type DocRow = [id: number, sha256: string, messageId: string | null, messageIdLc: string | null, date: number | null, fromText: string | null,
  subject: string | null, hasAttachment: number, parseError: string | null, threadKey: string, attachmentsRead: number | null];
const DOC_COLUMNS = 'id, sha256, message_id, message_id_lc, date, from_text, subject, has_attachment, parse_error, thread_key, attachments_read';

// The thread of the first message referred to that is indexed (References start at the root),
// else the first id referred to, else the message's own id, else its identity.
async function threadKeyFor(tx: Tx, own: string | null, refersTo: string[], sha256: string): Promise<string> {
  for (const id of refersTo) {
    if (id === own) continue;
    const row = await on(tx).one<{ thread_key: string }>('SELECT thread_key FROM doc WHERE message_id_lc = $1 AND thread_key IS NOT NULL LIMIT 1', [id]);
    if (row) return row.thread_key;
  }
  return refersTo.find((id) => id !== own) ?? own ?? `sha256:${sha256}`;
}
