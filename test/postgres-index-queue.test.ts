// Migration 0006 of the PostgreSQL schema (src/store/postgres/migrations/0006-index-queue.sql):
// the captures the single indexer of release 0005 had not reached (past its cursor) are queued
// for the index, those it had are not; a capture inserted after it is queued in its own
// transaction, and one rolled back leaves nothing queued. Against a private PostgreSQL 15.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresIndexStore } from '../src/index/postgres/index-store.ts';
import { migrate, migrationsIn } from '../src/store/postgres/migrate.ts';
import { PostgresMetadataStore } from '../src/store/postgres/metadata-store.ts';
import { postgresForSuite } from './support/postgres.ts';

const db = postgresForSuite(before, after);
const MIGRATIONS = migrationsIn(new URL('../src/store/postgres/migrations/', import.meta.url));

const insertCapture = (client: pg.Pool | pg.PoolClient, n: number) => client.query(`WITH m AS (
    INSERT INTO message (sha256, size, blob_file, blob_offset, blob_length, compression, nonce, tag, wrapped_key, key_id, first_seen)
    VALUES ($1, 1, 'f', 0, 1, 'none', '\\x00', '\\x00', '\\x00', 'k', 0) RETURNING id)
  INSERT INTO capture (capture_id, message, source, received_at, ledger_index) SELECT $2, id, 'test', 0, $3 FROM m RETURNING id`, [String(n).padStart(64, '0'), `cap-${n}`, n]);

test('captures past the cursor are queued by migration 0006, and every capture after it with its own insert', async () => {
  const schema = 'before_index_queue';
  const pool = new pg.Pool({ connectionString: db.url(), options: `-c search_path=${schema}` });
  try {
    await migrate(pool, schema, MIGRATIONS.filter((m) => m.version < 6));
    // Five captures; the indexer of release 0005 had indexed the first three.
    for (let n = 1; n <= 5; n++) await insertCapture(pool, n);
    await pool.query("INSERT INTO index_state (key, value) VALUES ('cursor', '3')");
  } finally {
    await pool.end();
  }

  const meta = new PostgresMetadataStore({ url: db.url(), schema });
  try {
    const index = new PostgresIndexStore(meta);
    const claimed = () => index.claim(100, async (c) => [...c.rowIds]);
    assert.deepEqual(await claimed(), [4, 5], 'the two the cursor had not reached');
    assert.equal(await index.read((tx) => index.cursor(tx)), 3);

    // Queued with the insert, in its transaction: rolled back, nothing is queued.
    await insertCapture(meta.pool, 6);
    const client = await meta.pool.connect();
    try {
      await client.query('BEGIN');
      await insertCapture(client, 7);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    assert.deepEqual(await claimed(), [4, 5, 6]);

    // Indexed, the queue is empty and the cursor covers every capture.
    await index.claim(100, (c) => c.write((tx) => c.done(tx, c.rowIds)));
    assert.deepEqual(await claimed(), []);
    assert.equal(await index.read((tx) => index.cursor(tx)), 6);
  } finally {
    await meta.close();
  }
});
