import type pg from 'pg';
import { SealboxError } from '../../core/errors.ts';
import type { Migration } from '../sqlite/migrate.ts';

export { migrationsIn } from '../sqlite/migrate.ts';

// Brings a schema up to the newest migration, each in its own transaction with its row in
// schema_version, so a crash leaves it at a version it really has. Every node opening the same
// database at once applies each migration once: they queue on an advisory lock of the schema's.
export async function migrate(pool: pg.Pool, schema: string, migrations: Migration[]): Promise<void> {
  const client = await pool.connect();
  client.on('error', () => {});   // a lost connection fails the query in hand; unheard, its event would end the process
  let broken = false;
  try {
    const lock = () => client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sealbox.migrate.${schema}`]);
    const current = async () => Number((await client.query<{ v: string }>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version')).rows[0]!.v);
    await client.query('BEGIN');
    try {
      await lock();
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version bigint PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
    const newest = migrations.at(-1)?.version ?? 0;
    const at = await current();
    if (at > newest) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `the archive's schema is version ${at}, newer than this Sealbox knows (${newest}): run the release that wrote it, or a newer one`);
    }
    for (const m of migrations) {
      if (m.version <= at) continue;
      await client.query('BEGIN');
      try {
        await lock();
        if (m.version > (await current())) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => { broken = true; });
        throw err;
      }
    }
  } finally {
    client.release(broken || undefined);
  }
}
