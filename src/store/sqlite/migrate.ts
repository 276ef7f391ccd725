import { readdirSync, readFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { SealboxError } from '../../core/errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// A folder of numbered migrations, NNNN-name.sql, in the order they apply.
export function migrationsIn(folder: URL): Migration[] {
  return readdirSync(folder).filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f)).sort().map((f) => ({
    version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(new URL(f, folder), 'utf8'),
  }));
}

// Brings a database up to the newest migration, each in its own transaction with its row in
// schema_version, so a crash leaves it at a version it really has. Two processes opening the
// same archive at once apply each migration once (the check is inside the write lock).
// `unversioned` upgrades a database made before schema_version existed; it runs in the last
// baseline migration's transaction (the baseline files create only what is missing). `upTo`:
// none past this version (another connection applies them later).
export function migrate(db: DatabaseSync, migrations: Migration[], options: { baseline: number; unversioned?: (db: DatabaseSync) => void; upTo?: number }): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const current = () => Number((db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version').get() as { v: number }).v);
  const newest = migrations.at(-1)?.version ?? 0;
  if (current() > newest) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `the archive's schema is version ${current()}, newer than this Sealbox knows (${newest}): run the release that wrote it, or a newer one`);
  }
  if (current() >= Math.min(newest, options.upTo ?? newest)) return;
  const unversioned = current() === 0 && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name <> 'schema_version' LIMIT 1").get() !== undefined;
  for (const m of migrations) {
    if (options.upTo !== undefined && m.version > options.upTo) break;
    db.exec('BEGIN IMMEDIATE');
    try {
      const at = current();
      if (m.version > at) {
        db.exec(m.sql);
        if (unversioned && m.version === options.baseline) options.unversioned?.(db);
        db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}
