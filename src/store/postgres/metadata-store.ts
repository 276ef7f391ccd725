// The PostgreSQL MetadataStore (store.kind "postgres", opened by src/store/open-stores.ts): the
// ledger, settings, messages, captures and mailboxes in one PostgreSQL database (or a schema of
// it), with the same contracts as the SQLite store (test/conformance/ holds both to them).
//
// The client is node-postgres (`pg`), in pure JavaScript (pg-native, its libpq binding, is a
// native addon and is not used). Chosen over `postgres` (porsager) because a transaction here is
// one pooled client checked out for its length, BEGIN … COMMIT sent by us, which is pg's
// ordinary model (pool.connect(), client.query(), client.release()), where porsager's sql.begin()
// owns the transaction's life and its tagged templates would mean rewriting every repository's
// SQL rather than translating it; pg is also the most used PostgreSQL client for Node, with
// TypeScript types, bytea as Buffer, and a per-pool type parser (bigint as a number below).
import pg from 'pg';
import type { CaptureRecord } from '../../core/types.ts';
import type { Tx } from '../../core/transactions.ts';
import { forkedCheckpoint, leavesCapturesOut } from '../../ledger/ledger.ts';
import type { LedgerFilter, LedgerRow, StoredCheckpoint, StoredEntry, TreeNode } from '../../ledger/ledger.ts';
import type { Subtree } from '../../ledger/merkle-tree.ts';
import type { CaptureTerms } from '../../retention/retention-policy.ts';
import { toCaptureRow, toMessageRow, toStoredEntry } from '../sqlite/metadata-store.ts';
import type { LeafRow } from '../sqlite/metadata-store.ts';
import type { CaptureRow, MailboxUpsert, MessageRow, MetadataStore, NewMessage } from '../metadata-store.ts';
import { migrate, migrationsIn } from './migrate.ts';
import { on, PostgresTransactions } from './transactions.ts';
import type { DeferredInsert } from './transactions.ts';

const MIGRATIONS = migrationsIn(new URL('./migrations/', import.meta.url));

// bigint (int8) columns hold ms epochs, ids and sizes, all below 2^53: read as numbers, as
// node:sqlite reads INTEGER. Every other type as pg reads it (bytea: Buffer).
const INT8 = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

// A page of a walk (allMessages, ledgerRows): read by key, page after page, in the transaction's
// one view, so a long walk holds no cursor open and no more than a page in memory.
const PAGE = 500;

export interface PostgresOptions {
  url: string;               // postgres://user:password@host:port/database
  password?: string;         // the password, when the URL holds none (config: store.postgres.passwordFile)
  schema?: string;           // the schema the archive's tables live in (made if missing); default public
  poolSize?: number;         // clients at most (a write holds one, each read one); default 10
  writeTimeoutMs?: number;   // the longest a write waits for its lock or its COMMIT's answer; default 30 s
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

// How often a node without the duties tries to take them (see holdDuties).
const DUTY_RETRY_MS = 2000;

const LEAF_INSERT: DeferredInsert = { types: ['bigint', 'text', 'bigint', 'bytea', 'bytea'], sql: (unnest) => `INSERT INTO ledger (idx, type, time, leaf, leaf_hash) SELECT * FROM ${unnest}` };
const NODE_INSERT: DeferredInsert = { types: ['smallint', 'bigint', 'bytea'], sql: (unnest) => `INSERT INTO ledger_node (level, idx, hash) SELECT * FROM ${unnest} ON CONFLICT DO NOTHING` };
const PAYLOAD_INSERT: DeferredInsert = { types: ['bigint', 'bytea', 'text'], sql: (unnest) => `INSERT INTO ledger_payload (idx, salt, payload) SELECT * FROM ${unnest}` };

export class PostgresMetadataStore implements MetadataStore {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly writeTimeoutMs: number;
  readonly #capturesChannel: string;
  readonly #captureInsert: DeferredInsert;
  readonly #transactions: PostgresTransactions;
  #ready: Promise<void> | null = null;
  #dutyClient: pg.PoolClient | null = null;
  #dutyTimer: NodeJS.Timeout | null = null;
  #onDuties: ((held: boolean) => void) | null = null;
  #onCaptures: (() => void) | null = null;
  #sweptWindow = -1;
  #closed = false;

  // Connects lazily: the first transaction waits for the schema's migrations (a failure there
  // fails that transaction, and the next one tries again).
  constructor(options: PostgresOptions) {
    const schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`store schema "${schema}" is not a plain lowercase PostgreSQL name`);
    this.schema = schema;
    this.#capturesChannel = `sealbox_captures_${schema}`;
    // Tells the node holding the duties at commit (holdDuties): a transaction's notices on one
    // channel are delivered as one.
    this.#captureInsert = {
      types: ['text', 'bigint', 'text', 'bigint', 'text', 'text', 'bigint', 'bigint', 'text', 'bigint', 'text'],
      sql: (unnest) => `WITH c AS (INSERT INTO capture (capture_id, message, source, received_at, envelope, provenance, ledger_index, retain_until, retention_rule, keep_until, keep_rule)
        SELECT * FROM ${unnest} RETURNING 1) SELECT pg_notify($12, '') WHERE EXISTS (SELECT 1 FROM c)`,
      params: [this.#capturesChannel],
    };
    this.pool = new pg.Pool({ connectionString: withPassword(options.url, options.password), max: options.poolSize ?? 10, types: TYPES, options: `-c search_path=${schema}` });
    // An idle client whose connection dies is dropped by the pool; without a listener the
    // 'error' event would end the process.
    this.pool.on('error', () => {});
    this.writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
    this.#transactions = new PostgresTransactions(this.pool, () => this.ready(), { timeoutMs: this.writeTimeoutMs });
  }

  ready(): Promise<void> {
    this.#ready ??= migrate(this.pool, this.schema, MIGRATIONS).catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#transactions.write(work);
  }

  read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#transactions.read(work);
  }

  // VACUUM of these tables, outside any transaction (PostgreSQL refuses it inside one); true
  // once done.
  async vacuum(tables: readonly string[]): Promise<boolean> {
    await this.ready();
    const client = await this.pool.connect();
    try {
      await client.query(`VACUUM ${tables.map((t) => `"${t}"`).join(', ')}`);
      return true;
    } finally {
      client.release();
    }
  }

  // Several `sealbox serve` nodes may run on one archive; one of them at a time holds its duties
  // (signing checkpoints, indexing, the sweeps and timers: see cli/serve.ts). The holder is the
  // node whose connection of its own holds a session advisory lock of the schema's: PostgreSQL
  // lets go of it when that connection ends (the node stopped, died, or was cut off for as long
  // as the keepalive settings take to notice), and the others try for it every DUTY_RETRY_MS.
  // onChange(true) when this node takes the duties, (false) when it loses them; while it holds
  // them, onCaptures after each commit of captures by any process (the index thread's wake; it
  // also looks once a second).
  async holdDuties(onChange: (held: boolean) => void, onCaptures: () => void = () => {}): Promise<{ held: boolean }> {
    await this.ready();
    this.#onDuties = onChange;
    this.#onCaptures = onCaptures;
    const held = await this.#claim().catch(() => false);
    if (!held) this.#retryDuties();
    return { held };
  }

  async #claim(): Promise<boolean> {
    const client = await this.pool.connect();
    // Until it is ours, an error is the query's to report.
    const ignore = () => {};
    client.on('error', ignore);
    let ok = false;
    try {
      ok = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`sealbox.duties.${this.schema}`])).rows[0]!.ok;
    } finally {
      if (!ok) client.release();
    }
    if (!ok || this.#closed) {
      if (ok) client.release(true);
      return false;
    }
    this.#dutyClient = client;
    await client.query(`LISTEN ${this.#capturesChannel}`).catch(() => {});
    client.on('notification', () => this.#onCaptures?.());
    client.once('error', () => {
      this.#dutyClient = null;
      client.release(true);
      this.#onDuties?.(false);
      this.#retryDuties();
    });
    return true;
  }

  #retryDuties(): void {
    if (this.#closed) return;
    this.#dutyTimer = setTimeout(() => {
      this.#claim().then((ok) => (ok ? this.#onDuties?.(true) : this.#retryDuties()), () => this.#retryDuties());
    }, DUTY_RETRY_MS);
    this.#dutyTimer.unref();
  }

  // A request counted in a rate-limit window every node shares (api/rate-limit.ts); how many
  // so far. Outside the write lock: a flood of sign-ins does not queue with the mail's writes.
  async countRequest(key: string, window: number): Promise<number> {
    await this.ready();
    const { rows } = await this.pool.query<{ n: number }>('INSERT INTO rate_window (key, win, n) VALUES ($1, $2, 1) ON CONFLICT (key, win) DO UPDATE SET n = rate_window.n + 1 RETURNING n', [key, window]);
    if (window !== this.#sweptWindow) {
      this.#sweptWindow = window;
      this.pool.query('DELETE FROM rate_window WHERE win < $1', [window - 1]).catch(() => {});
    }
    return rows[0]!.n;
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#dutyTimer) clearTimeout(this.#dutyTimer);
    // Released once: its 'error' listener (a lost lock) would release it again.
    this.#dutyClient?.removeAllListeners('error').on('error', () => {});
    this.#dutyClient?.release();
    this.#dutyClient = null;
    return this.pool.end();
  }

  // --- messages and captures ---

  // One statement for a whole group of captures.
  async findMessageIds(tx: Tx, sha256s: readonly string[]): Promise<Map<string, number>> {
    if (sha256s.length === 0) return new Map();
    const rows = await on(tx).query<{ id: number; sha256: string }>('SELECT id, sha256 FROM message WHERE sha256 = ANY($1::text[]) AND disposed_at IS NULL', [[...new Set(sha256s)]]);
    return new Map(rows.map((r) => [r.sha256, r.id]));
  }

  // A message disposed of before is a message again, under its old row id: new bytes, new key.
  // One statement for a whole group of captures (a round trip each held the write lock longer).
  async insertMessages(tx: Tx, rows: readonly NewMessage[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const column = <T>(f: (r: NewMessage) => T) => rows.map(f);
    const inserted = await on(tx).query<{ id: number; sha256: string }>(`INSERT INTO message (sha256, size, blob_file, blob_offset, blob_length, compression, nonce, tag, wrapped_key, key_id, first_seen)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bytea[], $8::bytea[], $9::bytea[], $10::text[], $11::bigint[])
      ON CONFLICT (sha256) DO UPDATE SET blob_file = excluded.blob_file, blob_offset = excluded.blob_offset, blob_length = excluded.blob_length,
        compression = excluded.compression, nonce = excluded.nonce, tag = excluded.tag, wrapped_key = excluded.wrapped_key, key_id = excluded.key_id,
        disposed_at = NULL, disposed_by = NULL, disposed_policy = NULL WHERE message.disposed_at IS NOT NULL
      RETURNING id, sha256`, [column((r) => r.seal.sha256), column((r) => r.seal.size), column((r) => r.ref.file), column((r) => r.ref.offset), column((r) => r.ref.length),
      column((r) => r.seal.compression), column((r) => r.seal.nonce), column((r) => r.seal.tag), column((r) => r.seal.wrappedKey), column((r) => r.seal.keyId), column((r) => r.firstSeen)]);
    const ids = new Map(inserted.map((r) => [r.sha256, Number(r.id)]));
    return rows.map(({ seal }) => {
      const id = ids.get(seal.sha256);
      if (id === undefined) throw new Error(`message ${seal.sha256} is already archived`);
      return id;
    });
  }

  // Sent with the transaction's other captures (PostgresTx.defer).
  async insertCapture(tx: Tx, capture: CaptureRecord, messageRowId: number, ledgerIndex: number, terms: CaptureTerms): Promise<void> {
    on(tx).defer(this.#captureInsert, [capture.id, messageRowId, capture.source, capture.receivedAt, capture.envelope ? JSON.stringify(capture.envelope) : null,
      capture.provenance ? JSON.stringify(capture.provenance) : null, ledgerIndex, terms.retainUntil, terms.ruleId, terms.keepUntil, terms.keepRule]);
  }

  async hasCapture(tx: Tx, captureId: string): Promise<boolean> {
    return (await on(tx).one('SELECT 1 FROM capture WHERE capture_id = $1', [captureId])) !== undefined;
  }

  async getMessage(tx: Tx, sha256: string): Promise<MessageRow | null> {
    const row = await on(tx).one('SELECT * FROM message WHERE sha256 = $1', [sha256]);
    return row ? toMessageRow(row) : null;
  }

  async *allMessages(tx: Tx): AsyncGenerator<MessageRow> {
    for (let after = -1; ;) {
      const rows = await on(tx).query('SELECT * FROM message WHERE id > $1 ORDER BY id LIMIT $2', [after, PAGE]);
      for (const row of rows) yield toMessageRow(row);
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.id;
    }
  }

  async capturesOf(tx: Tx, messageRowId: number): Promise<CaptureRow[]> {
    return (await on(tx).query('SELECT * FROM capture WHERE message = $1 ORDER BY id', [messageRowId])).map(toCaptureRow);
  }

  async *allCaptures(tx: Tx): AsyncGenerator<CaptureRow & { sha256: string; size: number | null }> {
    for (let after = -1; ;) {
      const rows = await on(tx).query('SELECT c.*, m.sha256 AS sha256, m.size AS size FROM capture c LEFT JOIN message m ON m.id = c.message WHERE c.id > $1 ORDER BY c.id LIMIT $2', [after, PAGE]);
      for (const row of rows) yield { ...toCaptureRow(row), sha256: row.sha256 as string, size: row.size === null ? null : Number(row.size) };
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.id;
    }
  }

  async lastCaptureRowId(tx: Tx): Promise<number> {
    return (await on(tx).one<{ n: number }>('SELECT COALESCE(MAX(id), 0) AS n FROM capture'))!.n;
  }

  async counts(tx: Tx): Promise<{ captures: number; messages: number; rawBytes: number; blobBytes: number }> {
    // Kept by triggers as rows are written (migration 0011).
    const t = (await on(tx).one('SELECT captures, messages, raw_bytes, blob_bytes FROM archive_totals'))!;
    return { captures: Number(t.captures), messages: Number(t.messages), rawBytes: Number(t.raw_bytes), blobBytes: Number(t.blob_bytes) };
  }

  // --- mailboxes ---

  async upsertMailbox(tx: Tx, mailbox: MailboxUpsert): Promise<number> {
    return (await on(tx).one<{ id: number }>(`INSERT INTO mailbox (name, display_name, owner, sensitivity, manager, department, auto) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (name) DO UPDATE SET display_name = COALESCE(excluded.display_name, mailbox.display_name), owner = COALESCE(excluded.owner, mailbox.owner),
      sensitivity = COALESCE(excluded.sensitivity, mailbox.sensitivity), manager = COALESCE(excluded.manager, mailbox.manager), department = COALESCE(excluded.department, mailbox.department),
      auto = LEAST(mailbox.auto, excluded.auto)
      RETURNING id`,
    [mailbox.name, mailbox.displayName ?? null, mailbox.owner ?? null, mailbox.sensitivity ?? null, mailbox.manager ?? null, mailbox.department ?? null, mailbox.auto ? 1 : 0]))!.id;
  }

  // An address moves to this mailbox if another held it.
  async setMailboxAddress(tx: Tx, address: string, mailboxId: number): Promise<void> {
    await on(tx).query('INSERT INTO mailbox_address (address, mailbox_id) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET mailbox_id = excluded.mailbox_id', [address.toLowerCase(), mailboxId]);
  }

  // Every address of these mailboxes (lowercased, as mailbox_address keeps them).
  async mailboxAddresses(tx: Tx, mailboxIds: number[]): Promise<string[]> {
    if (mailboxIds.length === 0) return [];
    return (await on(tx).query<{ address: string }>('SELECT address FROM mailbox_address WHERE mailbox_id = ANY($1::bigint[]) ORDER BY address COLLATE "C"', [mailboxIds])).map((r) => r.address);
  }

  async mailboxForAddress(tx: Tx, address: string): Promise<{ id: number; name: string } | null> {
    return (await on(tx).one<{ id: number; name: string }>('SELECT m.id, m.name FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = $1', [address.toLowerCase()])) ?? null;
  }

  // --- ledger (LedgerStore) ---

  async ledgerSize(tx: Tx): Promise<number> {
    return (await on(tx).one<{ n: number }>('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM ledger'))!.n;
  }

  // Sent with the transaction's other leaves (PostgresTx.defer): a batch of captures appends one
  // leaf each. The ledger's own frontier is in memory; what reads the table back sees them.
  async appendLeaf(tx: Tx, row: LedgerRow): Promise<void> {
    on(tx).defer(LEAF_INSERT, [row.index, row.type, row.time, row.leaf, row.leafHash]);
    if (row.payload) on(tx).defer(PAYLOAD_INSERT, [row.index, row.salt, row.payload.toString('utf8')]);
  }

  async erasePayload(tx: Tx, index: number, erasedBy: number): Promise<boolean> {
    return (await on(tx).query('UPDATE ledger_payload SET salt = NULL, payload = NULL, erased_by = $1 WHERE idx = $2 AND payload IS NOT NULL RETURNING idx', [erasedBy, index])).length === 1;
  }

  async mentioning(tx: Tx, needles: readonly string[]): Promise<{ index: number; type: string; operation: string; version: 1 | 2 }[]> {
    if (needles.length === 0) return [];
    const any = (column: string) => `EXISTS (SELECT 1 FROM unnest($1::text[]) n WHERE strpos(lower(${column}), n) > 0)`;
    const rows = await on(tx).query<{ idx: number; type: string; operation: string; v2: boolean }>(`SELECT l.idx, l.type, ${LEAF_JSON} ->> 'operation' AS operation, p.idx IS NOT NULL AS v2
      FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx
      WHERE (p.idx IS NOT NULL AND p.payload IS NOT NULL AND ${any('p.payload')}) OR (p.idx IS NULL AND ${LEAF_JSON} ->> 'v' IS NULL AND ${any(LEAF_TEXT)})
      ORDER BY l.idx`, [needles]);
    return rows.map((r) => ({ index: r.idx, type: r.type, operation: r.operation, version: r.v2 ? 2 : 1 }));
  }

  async leafHashes(tx: Tx, from: number, to: number): Promise<Buffer[]> {
    return (await on(tx).query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger WHERE idx >= $1 AND idx < $2 ORDER BY idx', [from, to])).map((r) => r.leaf_hash);
  }

  async saveTreeNodes(tx: Tx, nodes: readonly TreeNode[]): Promise<void> {
    for (const n of nodes) on(tx).defer(NODE_INSERT, [n.level, n.index, n.hash]);
  }

  async treeNodes(tx: Tx, subtrees: readonly Subtree[]): Promise<(Buffer | null)[]> {
    if (subtrees.length === 0) return [];
    const rows = await on(tx).query<{ level: number; idx: number; hash: Buffer }>(`SELECT n.level, n.idx, n.hash FROM ledger_node n
      JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`, [subtrees.map((s) => s.level), subtrees.map((s) => s.index)]);
    const found = new Map(rows.map((r) => [`${r.level}:${r.idx}`, r.hash]));
    return subtrees.map((s) => found.get(`${s.level}:${s.index}`) ?? null);
  }

  async *ledgerRows(tx: Tx, from = 0, to = Number.MAX_SAFE_INTEGER): AsyncGenerator<LedgerRow & { erasedBy: number | null }> {
    for (let after = from - 1; ;) {
      // The page's bounds said of the payloads too: PostgreSQL carries only equalities across a
      // join, and a merge join read the payloads' index from its first row for every page.
      const rows = await on(tx).query('SELECT l.*, p.salt, p.payload, p.erased_by FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx AND p.idx > $1 AND p.idx < $2 WHERE l.idx > $1 AND l.idx < $2 ORDER BY l.idx LIMIT $3', [after, to, PAGE]);
      for (const r of rows) {
        yield {
          index: r.idx, type: r.type, time: r.time, leaf: r.leaf, leafHash: r.leaf_hash,
          payload: r.payload === null ? null : Buffer.from(r.payload, 'utf8'), salt: r.salt, erasedBy: r.erased_by,
        };
      }
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.idx;
    }
  }

  // The links that find an entry again by mailbox and by grant (AuditStore), written with it.
  async linkEntry(tx: Tx, index: number, mailboxIds: readonly number[], grantId: string | null): Promise<void> {
    if (mailboxIds.length > 0) await on(tx).query('INSERT INTO ledger_mailbox (mailbox_id, idx) SELECT DISTINCT unnest($1::bigint[]), $2::bigint ON CONFLICT DO NOTHING', [mailboxIds, index]);
    if (grantId) await on(tx).query('INSERT INTO ledger_grant (grant_id, idx) VALUES ($1, $2) ON CONFLICT DO NOTHING', [grantId, index]);
  }

  async entry(tx: Tx, index: number): Promise<StoredEntry | null> {
    const row = await on(tx).one<LeafRow>(`SELECT ${LEAF} FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE l.idx = $1`, [index]);
    return row ? toStoredEntry(row) : null;
  }

  async entries(tx: Tx, f: LedgerFilter): Promise<StoredEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    // A range of indexes bounds the payloads too (see ledgerRows).
    const payloads: string[] = [];
    if (f.from !== undefined) { const p = param(f.from); where.push(`l.idx >= ${p}`); payloads.push(`p.idx >= ${p}`); }
    if (f.to !== undefined) { const p = param(f.to); where.push(`l.idx < ${p}`); payloads.push(`p.idx < ${p}`); }
    if (f.since !== undefined) where.push(`l.time >= ${param(f.since)}`);
    if (f.until !== undefined) where.push(`l.time < ${param(f.until)}`);
    if (f.type) where.push(`l.type = ${param(f.type)}`);
    // The indexed expressions of migrations 0012 and 0013, on the actions only where no capture can match.
    if (f.actor) where.push(`ledger_leaf_json(l.leaf) ->> 'actor' = ${param(f.actor)}`);
    if (f.operation) where.push(`ledger_leaf_json(l.leaf) ->> 'operation' = ${param(f.operation)}`);
    if (leavesCapturesOut(f)) where.push("l.type <> 'capture'");
    if (f.result) where.push(`ledger_leaf_json(l.leaf) ->> 'result' = ${param(f.result)}`);
    if (f.grantId) where.push(`ledger_leaf_json(l.leaf) ->> 'grantId' = ${param(f.grantId)}`);
    // A version-1 leaf names the mailboxes itself; a version-2 entry in its payload.
    if (f.mailbox) {
      where.push(`EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN p.idx IS NULL THEN ${LEAF_JSON} -> 'objects' -> 'mailboxes' ELSE ${jsonOf('p.payload')} -> 'mailboxes' END) j
        WHERE j = ${param(f.mailbox)})`);
    }
    const limit = f.limit !== undefined ? ` LIMIT ${param(f.limit)}` : '';
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger l LEFT JOIN ledger_payload p ON ${['p.idx = l.idx', ...payloads].join(' AND ')}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY l.idx ${f.order === 'desc' ? 'DESC' : 'ASC'}${limit}`, params)).map(toStoredEntry);
  }

  async ofGrant(tx: Tx, grantId: string): Promise<StoredEntry[]> {
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger_grant g JOIN ledger l ON l.idx = g.idx LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE g.grant_id = $1 ORDER BY l.idx`, [grantId]))
      .map(toStoredEntry);
  }

  async ofMailbox(tx: Tx, mailboxIds: readonly number[], limit: number): Promise<StoredEntry[]> {
    if (mailboxIds.length === 0) return [];
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger_mailbox lm JOIN ledger l ON l.idx = lm.idx LEFT JOIN ledger_payload p ON p.idx = l.idx
      WHERE lm.mailbox_id = ANY($1::bigint[]) ORDER BY l.idx DESC LIMIT $2`, [mailboxIds, limit])).map(toStoredEntry);
  }

  async latestCheckpoint(tx: Tx): Promise<StoredCheckpoint | null> {
    const r = await on(tx).one('SELECT * FROM checkpoint ORDER BY size DESC LIMIT 1');
    return r ? toCheckpoint(r) : null;
  }

  async checkpointAt(tx: Tx, size: number): Promise<StoredCheckpoint | null> {
    const r = await on(tx).one('SELECT * FROM checkpoint WHERE size = $1', [size]);
    return r ? toCheckpoint(r) : null;
  }

  async checkpointsBefore(tx: Tx, before: number | null, limit: number): Promise<StoredCheckpoint[]> {
    return (await on(tx).query('SELECT * FROM checkpoint WHERE size < $1 ORDER BY size DESC LIMIT $2', [before ?? Number.MAX_SAFE_INTEGER, limit])).map(toCheckpoint);
  }

  async checkpointsAfter(tx: Tx, after: number, limit: number): Promise<StoredCheckpoint[]> {
    return (await on(tx).query('SELECT * FROM checkpoint WHERE size > $1 ORDER BY size LIMIT $2', [after, limit])).map(toCheckpoint);
  }

  async checkpointCount(tx: Tx): Promise<number> {
    return Number((await on(tx).one<{ n: number }>('SELECT count(*) AS n FROM checkpoint'))!.n);
  }

  async saveCheckpoint(tx: Tx, c: StoredCheckpoint): Promise<void> {
    const saved = await on(tx).query(`INSERT INTO checkpoint (size, root, note, frontier, created_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (size) DO UPDATE SET note = excluded.note, frontier = excluded.frontier, created_at = excluded.created_at WHERE checkpoint.root = excluded.root
      RETURNING size`, [c.size, c.root, c.note, c.frontier, c.createdAt]);
    if (saved.length === 0) throw forkedCheckpoint(c.size);
  }

  // --- settings ---

  async getSetting(tx: Tx, key: string): Promise<string | null> {
    return (await on(tx).one<{ value: string }>('SELECT value FROM setting WHERE key = $1', [key]))?.value ?? null;
  }

  async setSetting(tx: Tx, key: string, value: string): Promise<void> {
    await on(tx).query('INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}

// JSON text to look into, its escapes \u0000 read as U+FFFD (sealbox_json, migration 0012).
function jsonOf(text: string): string {
  return `sealbox_json(${text})`;
}

// A leaf is the JSON text of its entry (as SQLite's CAST(leaf AS TEXT) reads it).
const LEAF_TEXT = "convert_from(l.leaf, 'UTF8')";
const LEAF_JSON = jsonOf(LEAF_TEXT);
const LEAF = 'l.leaf, l.leaf_hash, p.salt, p.payload';

function toCheckpoint(r: Record<string, any>): StoredCheckpoint {
  return { size: r.size, root: r.root, note: r.note, frontier: r.frontier, createdAt: r.created_at };
}
