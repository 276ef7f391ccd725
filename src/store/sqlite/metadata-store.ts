import { DatabaseSync } from 'node:sqlite';
import type { CaptureRecord, Envelope } from '../../core/types.ts';
import { openEntry } from '../../ledger/ledger-entry.ts';
import { forkedCheckpoint, leavesCapturesOut } from '../../ledger/ledger.ts';
import type { LedgerFilter, LedgerRow, StoredCheckpoint, StoredEntry, TreeNode } from '../../ledger/ledger.ts';
import type { Subtree } from '../../ledger/merkle-tree.ts';
import type { CaptureTerms } from '../../retention/retention-policy.ts';
import type { CaptureRow, MailboxUpsert, MessageRow, MetadataStore, NewMessage } from '../metadata-store.ts';
import { migrate, migrationsIn } from './migrate.ts';
import { on, SqliteTransactions } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

const MIGRATIONS = migrationsIn(new URL('./migrations/', import.meta.url));
// The schema as it was when versions began (0001–0005); an archive made before then gets the
// columns added to it since its tables were created, and its ledger_grant links, once.
const BASELINE = 5;
const COLUMNS_ADDED: [string, string, string][] = [
  ['review_item', 'reason', 'TEXT'], ['review_item', 'ledger_index', 'INTEGER'], ['review_item', 'claimed_by', 'INTEGER'], ['review_item', 'updated_at', 'INTEGER'],
  ['mailbox', 'manager', 'TEXT'], ['access_request', 'extends', 'TEXT'],
];

export type { CaptureRow, MessageRow } from '../metadata-store.ts';

// The embedded MetadataStore: one SQLite database in WAL mode with synchronous=FULL, so a
// COMMIT has reached the disk when it returns. Its transactions are the archive's (Transactions).
export class SqliteMetadataStore implements MetadataStore {
  readonly db: DatabaseSync;
  readonly path: string;
  readonly #transactions: SqliteTransactions;

  constructor(path: string, options: { readOnly?: boolean } = {}) {
    this.path = path;
    this.db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
    // How long to wait for another connection's lock; for a transaction's, on timers that leave
    // the event loop turning (SqliteTransactions).
    this.db.exec('PRAGMA busy_timeout = 10000');
    if (!options.readOnly) {
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = FULL');
      this.db.exec('PRAGMA foreign_keys = ON');
      // What is deleted (a disposed message's key) is overwritten, not left in free pages.
      this.db.exec('PRAGMA secure_delete = ON');
      migrate(this.db, MIGRATIONS, { baseline: BASELINE, unversioned: upgradeUnversioned });
    }
    this.#transactions = new SqliteTransactions(this.db);
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#transactions.write(work);
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#transactions.read(work);
  }

  truncateLog(): Promise<boolean> {
    return this.#transactions.truncateLog();
  }

  close(): void {
    this.db.close();
  }

  // --- messages and captures ---

  async findMessageIds(tx: Tx, sha256s: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const stmt = on(tx).prepare('SELECT id FROM message WHERE sha256 = ? AND disposed_at IS NULL');
    for (const sha256 of new Set(sha256s)) {
      const row = stmt.get(sha256) as { id: number } | undefined;
      if (row) found.set(sha256, Number(row.id));
    }
    return found;
  }

  // A message disposed of before is a message again, under its old row id: new bytes, new key.
  async insertMessages(tx: Tx, rows: readonly NewMessage[]): Promise<number[]> {
    const insert = on(tx).prepare(`INSERT INTO message (sha256, size, blob_file, blob_offset, blob_length, compression, nonce, tag, wrapped_key, key_id, first_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(sha256) DO UPDATE SET blob_file = excluded.blob_file, blob_offset = excluded.blob_offset, blob_length = excluded.blob_length,
        compression = excluded.compression, nonce = excluded.nonce, tag = excluded.tag, wrapped_key = excluded.wrapped_key, key_id = excluded.key_id,
        disposed_at = NULL, disposed_by = NULL, disposed_policy = NULL WHERE message.disposed_at IS NOT NULL
      RETURNING id`);
    return rows.map(({ seal, ref, firstSeen }) => {
      const row = insert.get(seal.sha256, seal.size, ref.file, ref.offset, ref.length, seal.compression, seal.nonce, seal.tag, seal.wrappedKey, seal.keyId, firstSeen) as { id: number } | undefined;
      if (!row) throw new Error(`message ${seal.sha256} is already archived`);
      return Number(row.id);
    });
  }

  async insertCapture(tx: Tx, capture: CaptureRecord, messageRowId: number, ledgerIndex: number, terms: CaptureTerms): Promise<void> {
    on(tx).prepare(`INSERT INTO capture (capture_id, message, source, received_at, envelope, provenance, ledger_index, retain_until, retention_rule, keep_until, keep_rule)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(capture.id, messageRowId, capture.source, capture.receivedAt,
        capture.envelope ? JSON.stringify(capture.envelope) : null,
        capture.provenance ? JSON.stringify(capture.provenance) : null, ledgerIndex, terms.retainUntil, terms.ruleId, terms.keepUntil, terms.keepRule);
  }

  async hasCapture(tx: Tx, captureId: string): Promise<boolean> {
    return on(tx).prepare('SELECT 1 FROM capture WHERE capture_id = ?').get(captureId) !== undefined;
  }

  async getMessage(tx: Tx, sha256: string): Promise<MessageRow | null> {
    const row = on(tx).prepare('SELECT * FROM message WHERE sha256 = ?').get(sha256) as Record<string, any> | undefined;
    return row ? toMessageRow(row) : null;
  }

  async *allMessages(tx: Tx): AsyncGenerator<MessageRow> {
    for (const row of on(tx).rows(on(tx).prepareOnce('SELECT * FROM message ORDER BY id').iterate())) yield toMessageRow(row as Record<string, any>);
  }

  async capturesOf(tx: Tx, messageRowId: number): Promise<CaptureRow[]> {
    return (on(tx).prepare('SELECT * FROM capture WHERE message = ? ORDER BY id').all(messageRowId) as Record<string, any>[]).map(toCaptureRow);
  }

  async *allCaptures(tx: Tx): AsyncGenerator<CaptureRow & { sha256: string; size: number | null }> {
    for (const row of on(tx).rows(on(tx).prepareOnce('SELECT c.*, m.sha256 AS sha256, m.size AS size FROM capture c LEFT JOIN message m ON m.id = c.message ORDER BY c.id').iterate())) {
      yield { ...toCaptureRow(row as Record<string, any>), sha256: (row as any).sha256 as string, size: (row as any).size === null ? null : Number((row as any).size) };
    }
  }

  async lastCaptureRowId(tx: Tx): Promise<number> {
    return Number((on(tx).prepare('SELECT COALESCE(MAX(id), 0) AS n FROM capture').get() as { n: number }).n);
  }

  async counts(tx: Tx): Promise<{ captures: number; messages: number; rawBytes: number; blobBytes: number }> {
    // Kept by triggers as rows are written (migration 0024).
    const t = on(tx).prepare('SELECT captures, messages, raw_bytes, blob_bytes FROM archive_totals').get() as Record<string, number>;
    return { captures: Number(t.captures), messages: Number(t.messages), rawBytes: Number(t.raw_bytes), blobBytes: Number(t.blob_bytes) };
  }

  // --- mailboxes ---

  async upsertMailbox(tx: Tx, mailbox: MailboxUpsert): Promise<number> {
    on(tx).prepare(`INSERT INTO mailbox (name, display_name, owner, sensitivity, manager, department, auto) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET display_name = COALESCE(excluded.display_name, display_name), owner = COALESCE(excluded.owner, owner),
      sensitivity = COALESCE(excluded.sensitivity, sensitivity), manager = COALESCE(excluded.manager, manager), department = COALESCE(excluded.department, department),
      auto = MIN(auto, excluded.auto)`)
      .run(mailbox.name, mailbox.displayName ?? null, mailbox.owner ?? null, mailbox.sensitivity ?? null, mailbox.manager ?? null, mailbox.department ?? null, mailbox.auto ? 1 : 0);
    return Number((on(tx).prepare('SELECT id FROM mailbox WHERE name = ?').get(mailbox.name) as { id: number }).id);
  }

  // An address moves to this mailbox if another held it.
  async setMailboxAddress(tx: Tx, address: string, mailboxId: number): Promise<void> {
    on(tx).prepare('INSERT INTO mailbox_address (address, mailbox_id) VALUES (?, ?) ON CONFLICT(address) DO UPDATE SET mailbox_id = excluded.mailbox_id')
      .run(address.toLowerCase(), mailboxId);
  }

  // Every address of these mailboxes (lowercased, as mailbox_address keeps them).
  async mailboxAddresses(tx: Tx, mailboxIds: number[]): Promise<string[]> {
    if (mailboxIds.length === 0) return [];
    return (on(tx).prepareOnce(`SELECT address FROM mailbox_address WHERE mailbox_id IN (${mailboxIds.map(() => '?').join(', ')}) ORDER BY address`)
      .all(...mailboxIds) as { address: string }[]).map((r) => r.address);
  }

  async mailboxForAddress(tx: Tx, address: string): Promise<{ id: number; name: string } | null> {
    return (on(tx).prepare('SELECT m.id, m.name FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?')
      .get(address.toLowerCase()) as { id: number; name: string } | undefined) ?? null;
  }

  // --- ledger (LedgerStore) ---

  async ledgerSize(tx: Tx): Promise<number> {
    return Number((on(tx).prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM ledger').get() as { n: number }).n);
  }

  async appendLeaf(tx: Tx, row: LedgerRow): Promise<void> {
    on(tx).prepare('INSERT INTO ledger (idx, type, time, leaf, leaf_hash) VALUES (?, ?, ?, ?, ?)').run(row.index, row.type, row.time, row.leaf, row.leafHash);
    if (row.payload) on(tx).prepare('INSERT INTO ledger_payload (idx, salt, payload) VALUES (?, ?, ?)').run(row.index, row.salt, row.payload.toString('utf8'));
  }

  async erasePayload(tx: Tx, index: number, erasedBy: number): Promise<boolean> {
    return Number(on(tx).prepare('UPDATE ledger_payload SET salt = NULL, payload = NULL, erased_by = ? WHERE idx = ? AND payload IS NOT NULL').run(erasedBy, index).changes) === 1;
  }

  async mentioning(tx: Tx, needles: readonly string[]): Promise<{ index: number; type: string; operation: string; version: 1 | 2 }[]> {
    if (needles.length === 0) return [];
    const any = (column: string) => needles.map(() => `instr(lower(${column}), ?) > 0`).join(' OR ');
    const rows = on(tx).prepareOnce(`SELECT l.idx, l.type, json_extract(CAST(l.leaf AS TEXT), '$.operation') AS operation, p.idx IS NOT NULL AS v2 FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx
      WHERE (p.idx IS NOT NULL AND p.payload IS NOT NULL AND (${any('p.payload')})) OR (p.idx IS NULL AND json_extract(CAST(l.leaf AS TEXT), '$.v') IS NULL AND (${any('CAST(l.leaf AS TEXT)')}))
      ORDER BY l.idx`).all(...needles, ...needles) as { idx: number; type: string; operation: string; v2: number }[];
    return rows.map((r) => ({ index: Number(r.idx), type: r.type, operation: r.operation, version: r.v2 ? 2 : 1 }));
  }

  async leafHashes(tx: Tx, from: number, to: number): Promise<Buffer[]> {
    return (on(tx).prepare('SELECT leaf_hash FROM ledger WHERE idx >= ? AND idx < ? ORDER BY idx').all(from, to) as { leaf_hash: Uint8Array }[])
      .map((r) => view(r.leaf_hash));
  }

  async saveTreeNodes(tx: Tx, nodes: readonly TreeNode[]): Promise<void> {
    const insert = on(tx).prepare('INSERT OR IGNORE INTO ledger_node (level, idx, hash) VALUES (?, ?, ?)');
    for (const n of nodes) insert.run(n.level, n.index, n.hash);
  }

  async treeNodes(tx: Tx, subtrees: readonly Subtree[]): Promise<(Buffer | null)[]> {
    const get = on(tx).prepare('SELECT hash FROM ledger_node WHERE level = ? AND idx = ?');
    return subtrees.map((s) => {
      const row = get.get(s.level, s.index) as { hash: Uint8Array } | undefined;
      return row ? view(row.hash) : null;
    });
  }

  async *ledgerRows(tx: Tx, from = 0, to = Number.MAX_SAFE_INTEGER): AsyncGenerator<LedgerRow & { erasedBy: number | null }> {
    for (const r of on(tx).rows(on(tx).prepareOnce(`SELECT l.*, p.salt, p.payload, p.erased_by FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx`).iterate(from, to) as Iterable<any>)) {
      yield {
        index: Number(r.idx), type: r.type, time: Number(r.time), leaf: view(r.leaf), leafHash: view(r.leaf_hash),
        payload: r.payload === null ? null : Buffer.from(r.payload, 'utf8'), salt: r.salt === null ? null : view(r.salt), erasedBy: r.erased_by === null ? null : Number(r.erased_by),
      };
    }
  }

  // The links that find an entry again by mailbox and by grant (AuditStore), written with it.
  async linkEntry(tx: Tx, index: number, mailboxIds: readonly number[], grantId: string | null): Promise<void> {
    const link = on(tx).prepare('INSERT OR IGNORE INTO ledger_mailbox (mailbox_id, idx) VALUES (?, ?)');
    for (const id of mailboxIds) link.run(id, index);
    if (grantId) on(tx).prepare('INSERT OR IGNORE INTO ledger_grant (grant_id, idx) VALUES (?, ?)').run(grantId, index);
  }

  async entry(tx: Tx, index: number): Promise<StoredEntry | null> {
    const row = on(tx).prepare(`SELECT ${LEAF} FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE l.idx = ?`).get(index) as LeafRow | undefined;
    return row ? toStoredEntry(row) : null;
  }

  async entries(tx: Tx, f: LedgerFilter): Promise<StoredEntry[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const json = (path: string) => `json_extract(CAST(l.leaf AS TEXT), '${path}')`;
    if (f.from !== undefined) { where.push('l.idx >= ?'); params.push(f.from); }
    if (f.to !== undefined) { where.push('l.idx < ?'); params.push(f.to); }
    if (f.since !== undefined) { where.push('l.time >= ?'); params.push(f.since); }
    if (f.until !== undefined) { where.push('l.time < ?'); params.push(f.until); }
    if (f.type) { where.push('l.type = ?'); params.push(f.type); }
    if (f.actor) { where.push(`${json('$.actor')} = ?`); params.push(f.actor); }
    if (f.operation) { where.push(`${json('$.operation')} = ?`); params.push(f.operation); }
    // On the actions only where no capture can match: their own indexes (migrations 0025, 0026).
    if (leavesCapturesOut(f)) where.push("l.type <> 'capture'");
    if (f.result) { where.push(`${json('$.result')} = ?`); params.push(f.result); }
    if (f.grantId) { where.push(`${json('$.grantId')} = ?`); params.push(f.grantId); }
    // A version-1 leaf names the mailboxes itself; a version-2 entry in its payload.
    if (f.mailbox) { where.push("EXISTS (SELECT 1 FROM json_each(CASE WHEN p.idx IS NULL THEN json_extract(CAST(l.leaf AS TEXT), '$.objects.mailboxes') ELSE json_extract(p.payload, '$.mailboxes') END) j WHERE j.value = ?)"); params.push(f.mailbox); }
    if (f.limit !== undefined) params.push(f.limit);
    return (on(tx).prepare(`SELECT ${LEAF} FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY l.idx ${f.order === 'desc' ? 'DESC' : 'ASC'}${f.limit !== undefined ? ' LIMIT ?' : ''}`).all(...params) as LeafRow[]).map(toStoredEntry);
  }

  async ofGrant(tx: Tx, grantId: string): Promise<StoredEntry[]> {
    return (on(tx).prepare(`SELECT ${LEAF} FROM ledger_grant g JOIN ledger l ON l.idx = g.idx LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE g.grant_id = ? ORDER BY l.idx`).all(grantId) as LeafRow[])
      .map(toStoredEntry);
  }

  async ofMailbox(tx: Tx, mailboxIds: readonly number[], limit: number): Promise<StoredEntry[]> {
    if (mailboxIds.length === 0) return [];
    return (on(tx).prepareOnce(`SELECT ${LEAF} FROM ledger_mailbox lm JOIN ledger l ON l.idx = lm.idx LEFT JOIN ledger_payload p ON p.idx = l.idx
      WHERE lm.mailbox_id IN (${mailboxIds.map(() => '?').join(', ')}) ORDER BY l.idx DESC LIMIT ?`).all(...mailboxIds, limit) as LeafRow[]).map(toStoredEntry);
  }

  async latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | null> {
    const r = on(tx).prepare('SELECT * FROM checkpoint ORDER BY size DESC LIMIT 1').get() as any;
    return r ? toCheckpoint(r) : null;
  }

  async checkpointAt(tx: Tx, size: number): Promise<StoredCheckpoint | null> {
    const r = on(tx).prepare('SELECT * FROM checkpoint WHERE size = ?').get(size) as any;
    return r ? toCheckpoint(r) : null;
  }

  async checkpointsBefore(tx: Tx, before: number | null, limit: number): Promise<StoredCheckpoint[]> {
    return (on(tx).prepare('SELECT * FROM checkpoint WHERE size < ? ORDER BY size DESC LIMIT ?').all(before ?? Number.MAX_SAFE_INTEGER, limit) as any[]).map(toCheckpoint);
  }

  async checkpointsAfter(tx: Tx, after: number, limit: number): Promise<StoredCheckpoint[]> {
    return (on(tx).prepare('SELECT * FROM checkpoint WHERE size > ? ORDER BY size LIMIT ?').all(after, limit) as any[]).map(toCheckpoint);
  }

  async checkpointCount(tx: Tx): Promise<number> {
    return Number((on(tx).prepare('SELECT count(*) AS n FROM checkpoint').get() as { n: number }).n);
  }

  async saveCheckpoint(tx: Tx, c: StoredCheckpoint): Promise<void> {
    const saved = on(tx).prepare(`INSERT INTO checkpoint (size, root, note, frontier, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (size) DO UPDATE SET note = excluded.note, frontier = excluded.frontier, created_at = excluded.created_at WHERE root = excluded.root`).run(c.size, c.root, c.note, c.frontier, c.createdAt);
    if (saved.changes === 0) throw forkedCheckpoint(c.size);
  }

  // --- settings ---

  async getSetting(tx: Tx, key: string): Promise<string | null> {
    return (on(tx).prepare('SELECT value FROM setting WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
  }

  async setSetting(tx: Tx, key: string, value: string): Promise<void> {
    on(tx).prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}

export function toMessageRow(row: Record<string, any>): MessageRow {
  return {
    id: Number(row.id), sha256: row.sha256, size: Number(row.size), firstSeen: Number(row.first_seen),
    blobRef: { file: row.blob_file, offset: Number(row.blob_offset), length: Number(row.blob_length) },
    seal: { nonce: view(row.nonce), tag: view(row.tag), wrappedKey: row.wrapped_key ? view(row.wrapped_key) : (null as unknown as Buffer), keyId: row.key_id, compression: row.compression },
    disposed: row.disposed_at === null || row.disposed_at === undefined ? null : { at: Number(row.disposed_at), ledgerIndex: Number(row.disposed_by), policy: row.disposed_policy },
  };
}

export function toCaptureRow(row: Record<string, any>): CaptureRow {
  return {
    rowId: Number(row.id), id: row.capture_id, messageRowId: Number(row.message), source: row.source, receivedAt: Number(row.received_at),
    envelope: row.envelope ? (JSON.parse(row.envelope) as Envelope) : null,
    provenance: row.provenance ? JSON.parse(row.provenance) : null, ledgerIndex: Number(row.ledger_index),
    retainUntil: row.retain_until === null || row.retain_until === undefined ? null : Number(row.retain_until), retentionRule: row.retention_rule ?? null,
    keepUntil: row.keep_until === null || row.keep_until === undefined ? null : Number(row.keep_until), keepRule: row.keep_rule ?? null,
  };
}

// A Buffer over a BLOB column's bytes, not a copy: node:sqlite hands out a fresh array per read.
// A row edited by hand may hold text there instead: its bytes, so that verify can name the edit.
function view(bytes: Uint8Array | string): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// An entry's leaf with its payload beside it (version 2), as the reads select them.
export const LEAF = 'l.leaf, l.leaf_hash, p.salt, p.payload';
export type LeafRow = { leaf: Uint8Array; leaf_hash: Uint8Array; salt: Uint8Array | null; payload: string | null };

export function toStoredEntry(r: LeafRow): StoredEntry {
  const payload = r.payload === null ? null : Buffer.from(r.payload, 'utf8');
  return { entry: openEntry(r.leaf, payload), leaf: view(r.leaf), leafHash: view(r.leaf_hash), payload, salt: r.salt === null ? null : view(r.salt) };
}

function toCheckpoint(r: any): StoredCheckpoint {
  return { size: Number(r.size), root: view(r.root), note: r.note, frontier: r.frontier, createdAt: Number(r.created_at) };
}

function upgradeUnversioned(db: DatabaseSync): void {
  for (const [table, column, decl] of COLUMNS_ADDED) {
    const has = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
    if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
  }
  if (db.prepare("SELECT 1 FROM setting WHERE key = 'schema.ledgerGrant'").get() === undefined) {
    db.exec(`INSERT OR IGNORE INTO ledger_grant (grant_id, idx)
      SELECT json_extract(CAST(leaf AS TEXT), '$.grantId'), idx FROM ledger WHERE json_extract(CAST(leaf AS TEXT), '$.grantId') IS NOT NULL`);
  }
}
