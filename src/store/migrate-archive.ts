// `sealbox migrate --to CONFIG`: an embedded archive (SQLite + blob files) copied into the
// archive another config names (PostgreSQL, its blobs in files or in S3), and the copy proved.
//
// What is copied, and how:
// - The keys: the target's master key and ledger signing key are the source's (copied with mode
//   0600 where the target has none; a different key there is refused: the copy could not be read,
//   or its checkpoints would be signed by another key).
// - The metadata, table by table, row by row, every column by name, ids included, in one
//   PostgreSQL transaction into an archive that must be empty; the identity sequences then start
//   after the highest id. The source is held by its write lock throughout, so the copy is one
//   consistent state and nothing can be appended to the source meanwhile (stop its server first:
//   mail it would take during the copy is refused with 4xx while the lock is held).
// - The sealed blobs, file by file, byte for byte under the same names, so every message's
//   reference stays valid: into the target's blob folder, or as objects in its bucket, each put
//   with Object Lock until the latest keep-until of the captures it holds. What an earlier
//   attempt that failed later left there is taken if it holds the same bytes, refused if not.
// - The search index is built anew on the target from the archived messages (it is rebuildable),
//   except what cannot be rebuilt: each capture's authentication verdicts as checked at receipt
//   and the checks still pending, copied as they are. The text inside attachments is queued for
//   the target's server to read again.
// The proof: the same ledger size and root, the same newest checkpoint, every message read back
// and its sha256 checked through the target's own store (`verify` on the target), the index
// holding exactly one document per message.
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Stores } from './open-stores.ts';
import { blobSpec, openStores, storePaths } from './open-stores.ts';
import type { PostgresMetadataStore } from './postgres/metadata-store.ts';
import type { SqliteMetadataStore } from './sqlite/metadata-store.ts';

// Of the search index's tables (index.db), those that cannot be rebuilt: the verdicts at receipt.
const VERDICT_TABLES = ['capture_auth', 'auth_pending'];
// PostgreSQL takes at most 65,535 parameters a statement.
const MAX_PARAMS = 60_000;

export interface MigrationProgress {
  stage(name: string, total: number): void;
  advance(n: number): void;
}

export interface MigrationReport {
  tables: { name: string; rows: number }[];
  blobs: { files: number; bytes: number; target: 'files' | 's3' | 'in place' };
  verdicts: number;       // rows of verdicts at receipt and pending checks
  seconds: number;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

// Copies the archive `from` names into the empty one `to` names. The proof (verify, the index)
// is the caller's, on the target opened as any archive (cli/commands/migrate.ts).
export async function migrateArchive(from: Config, to: Config, progress: MigrationProgress): Promise<MigrationReport> {
  const started = performance.now();
  if (from.store.kind !== 'sqlite' || from.blobs.kind !== 'files') throw new SealboxError('SEALBOX_ERR_CONFIG', 'migrate copies an embedded archive (store.kind "sqlite", blobs.kind "files"); this one is not');
  if (to.store.kind !== 'postgres') throw new SealboxError('SEALBOX_ERR_CONFIG', 'the target config must name store.kind "postgres" (migrate --to copies an embedded archive into PostgreSQL)');
  const source = openStores(from, { create: false });
  try {
    copyKeys(source, to);
    const target = openStores(to, { create: true });
    try {
      return await copyInto(source, target, to, progress, started);
    } finally {
      target.blobs.close();
      await target.meta.close();
    }
  } finally {
    source.close();
  }
}

// The target's keys are the source's: copied where missing, refused where different.
function copyKeys(source: Stores, to: Config): void {
  const target = storePaths(to);
  for (const [what, from, into] of [['master key', source.paths.masterKey, target.masterKey], ['ledger signing key', source.paths.signingKey, target.signingKey]] as const) {
    if (resolve(from) === resolve(into)) continue;
    const bytes = readFileSync(from);
    if (existsSync(into)) {
      if (!readFileSync(into).equals(bytes)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the target's ${what} ${into} is not the source's: the copy must be opened and signed by the same keys (remove it, or point the target's keys at the source's)`);
      continue;
    }
    mkdirSync(dirname(into), { recursive: true, mode: 0o700 });
    writeFileSync(into, bytes, { mode: 0o600, flag: 'wx' });
    const fd = openSync(into, 'r');
    fsyncSync(fd);
    closeSync(fd);
  }
}

async function copyInto(source: Stores, target: Stores, to: Config, progress: MigrationProgress, started: number): Promise<MigrationReport> {
  const src = (source.meta as SqliteMetadataStore).db;
  const pgStore = target.meta as PostgresMetadataStore;
  await pgStore.ready();
  const client = await pgStore.pool.connect();
  // A lost connection fails the query in hand; its 'error' event must not end the process.
  client.on('error', () => {});
  try {
    const empty = await client.query<{ n: number }>('SELECT (SELECT count(*) FROM ledger) + (SELECT count(*) FROM message) + (SELECT count(*) FROM "user") AS n');
    if (Number(empty.rows[0]!.n) > 0) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the target archive (schema ${pgStore.schema}) is not empty: migrate copies into an empty one`);
    await checkSchema(source, src, client, pgStore.schema);
    // The source's write lock for the whole copy: one consistent state, nothing appended meanwhile.
    // Blobs first: the metadata that refers to them commits after they are durable.
    return await source.meta.write(async () => {
      const blobs = await copyBlobs(source, target, to, src, progress);
      await client.query('BEGIN');
      try {
        const tables = await copyTables(src, client, pgStore.schema, progress);
        const verdicts = await copyVerdicts(source, client, progress);
        await client.query('COMMIT');
        return { tables, blobs, verdicts, seconds: (performance.now() - started) / 1000 };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  } finally {
    client.release();
  }
}

// The metadata tables of the source, all copied but the totals, which the target's triggers
// keep as the rows arrive.
function metadataTables(src: DatabaseSync): string[] {
  return (src.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_version', 'archive_totals') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

// Every table and column to be copied has its counterpart in the target's schema: checked before
// anything is written, since objects put into a bucket with Object Lock stay there for years.
async function checkSchema(source: Stores, src: DatabaseSync, client: pg.PoolClient, schema: string): Promise<void> {
  const target = new Map<string, Set<string>>();
  for (const r of (await client.query<{ table_name: string; column_name: string }>(`SELECT c.table_name, c.column_name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'`, [schema])).rows) {
    if (!target.has(r.table_name)) target.set(r.table_name, new Set());
    target.get(r.table_name)!.add(r.column_name);
  }
  const check = (db: DatabaseSync, tables: string[]) => {
    for (const table of tables) {
      const have = target.get(table);
      if (!have) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the source's table ${table} has no counterpart in the target's schema: this build cannot migrate it`);
      for (const { name } of db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[]) {
        if (!have.has(name)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the source's column ${table}.${name} has no counterpart in the target's schema: this build cannot migrate it`);
      }
    }
  };
  check(src, metadataTables(src));
  if (!existsSync(source.paths.index)) return;
  const index = new DatabaseSync(source.paths.index, { readOnly: true });
  try {
    check(index, VERDICT_TABLES);
  } finally {
    index.close();
  }
}

// Every metadata table, in an order that puts each row after the rows it refers to, inside the
// caller's transaction: all of it or none. Their columns were checked (checkSchema).
async function copyTables(src: DatabaseSync, client: pg.PoolClient, schema: string, progress: MigrationProgress): Promise<{ name: string; rows: number }[]> {
  const sourceTables = metadataTables(src);
  const edges = (await client.query<{ child: string; parent: string }>(`SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint c
    JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_class pa ON pa.oid = c.confrelid JOIN pg_namespace n ON n.oid = ch.relnamespace
    WHERE c.contype = 'f' AND n.nspname = $1`, [schema])).rows;
  const order = dependencyOrder(sourceTables, edges);
  progress.stage('metadata rows', order.reduce((n, t) => n + countRows(src, t), 0));
  const copied: { name: string; rows: number }[] = [];
  for (const table of order) copied.push({ name: table, rows: await copyRows(src, table, client, progress) });
  // Identity columns go on after the highest id copied.
  const identities = (await client.query<{ table_name: string; column_name: string }>("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND is_identity = 'YES'", [schema])).rows;
  for (const { table_name: t, column_name: c } of identities) {
    await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), max_id) FROM (SELECT max(${quote(c)}) AS max_id FROM ${quote(t)}) m WHERE max_id IS NOT NULL`, [quote(t), c]);
  }
  return copied;
}

function countRows(db: DatabaseSync, table: string): number {
  return Number((db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n);
}

// One table's rows, every column by name, by primary key (a row that refers to an earlier one of
// its own table comes after it), many rows a statement.
async function copyRows(src: DatabaseSync, table: string, client: pg.PoolClient, progress: MigrationProgress): Promise<number> {
  const info = src.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string; pk: number }[];
  const columns = info.map((c) => c.name);
  // By primary key (a WITHOUT ROWID table has no rowid), else in the order written.
  const key = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => quote(c.name));
  const per = Math.max(1, Math.min(1000, Math.floor(MAX_PARAMS / columns.length)));
  const insert = (n: number) => `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${Array.from({ length: n }, (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ')}`;
  let rows = 0;
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const n = batch.length / columns.length;
    await client.query(insert(n), batch);
    rows += n;
    progress.advance(n);
    batch = [];
  };
  for (const row of src.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} ORDER BY ${key.length > 0 ? key.join(', ') : 'rowid'}`).iterate() as Iterable<Record<string, unknown>>) {
    for (const c of columns) {
      const v = row[c];
      batch.push(v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
    }
    if (batch.length >= per * columns.length) await flush();
  }
  await flush();
  return rows;
}

// Parents before children (Kahn's algorithm over the foreign keys); ties in name order.
function dependencyOrder(tables: string[], edges: { child: string; parent: string }[]): string[] {
  const set = new Set(tables);
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const { child, parent } of edges) if (set.has(child) && set.has(parent) && child !== parent) parents.get(child)!.add(parent);
  const order: string[] = [];
  while (order.length < tables.length) {
    const ready = tables.filter((t) => !order.includes(t) && [...parents.get(t)!].every((p) => order.includes(p)));
    if (ready.length === 0) throw new SealboxError('SEALBOX_ERR_INTERNAL', 'the target schema\'s foreign keys form a cycle');
    order.push(...ready);
  }
  return order;
}

// Every blob file under its own name. Into S3, each object is locked until the latest keep-until
// of the captures whose messages it holds (kept for ever: blobs.s3.foreverLockDays).
async function copyBlobs(source: Stores, target: Stores, to: Config, src: DatabaseSync, progress: MigrationProgress): Promise<MigrationReport['blobs']> {
  const names: string[] = [];
  for await (const name of source.blobs.list()) names.push(name);
  const sizes = names.map((n) => statSync(join(source.paths.blobs, n)).size);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  progress.stage('blob bytes', bytes);
  if (to.blobs.kind === 'files') {
    const root = blobSpec(to).root;
    if (resolve(root) === resolve(source.paths.blobs)) {
      progress.advance(bytes);
      return { files: names.length, bytes, target: 'in place' };
    }
    for (const [i, name] of names.entries()) {
      const into = join(root, name);
      mkdirSync(dirname(into), { recursive: true, mode: 0o700 });
      const from = join(source.paths.blobs, name);
      // The target's blob store, opened, begins an empty segment of the same name: taken over.
      if (existsSync(into) && statSync(into).size > 0) {
        // Left by an earlier attempt that failed later: the same bytes are kept, others refused.
        if (readFileSync(into).equals(readFileSync(from))) {
          progress.advance(sizes[i]!);
          continue;
        }
        throw new SealboxError('SEALBOX_ERR_CONFLICT', `the target's blob folder already holds a different ${name}`);
      }
      copyFileSync(from, into);
      const fd = openSync(into, 'r');
      fsyncSync(fd);
      closeSync(fd);
      progress.advance(sizes[i]!);
    }
    return { files: names.length, bytes, target: 'files' };
  }
  const put = target.blobs.importObject?.bind(target.blobs);
  if (!put) throw new SealboxError('SEALBOX_ERR_INTERNAL', 'the target\'s blob store cannot take whole objects');
  const forever = Date.now() + to.blobs.s3!.foreverLockDays * 86_400_000;
  const keep = new Map<string, number>();
  for (const r of src.prepare(`SELECT m.blob_file AS file, max(coalesce(c.keep_until, ${forever})) AS until FROM message m JOIN capture c ON c.message = m.id GROUP BY m.blob_file`).all() as { file: string; until: number }[]) keep.set(r.file, r.until);
  for (const [i, name] of names.entries()) {
    // With its sha256: an object an earlier attempt put (it failed later; the object is locked and
    // cannot be removed) stands if it holds the same bytes, as a file in the blob folder does.
    const from = join(source.paths.blobs, name);
    await put(name, createReadStream(from), keep.get(name) ?? forever, await sha256Of(from));
    progress.advance(sizes[i]!);
  }
  return { files: names.length, bytes, target: 's3' };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The authentication verdicts as checked at receipt, and the checks still pending, inside the
// caller's transaction: they cannot be rebuilt from the message later (DNS answers change).
async function copyVerdicts(source: Stores, client: pg.PoolClient, progress: MigrationProgress): Promise<number> {
  if (!existsSync(source.paths.index)) return 0;
  const index = new DatabaseSync(source.paths.index, { readOnly: true });
  try {
    progress.stage('verdicts at receipt', VERDICT_TABLES.reduce((n, t) => n + countRows(index, t), 0));
    let n = 0;
    for (const table of VERDICT_TABLES) n += await copyRows(index, table, client, progress);
    return n;
  } finally {
    index.close();
  }
}
