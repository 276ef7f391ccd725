import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';

/**
 * A real store fault: another process's connection holds the archive database's write lock
 * until release(). Taking the lock waits for a write the server has in flight (busy timeout),
 * so the test never fails with "database is locked" itself; the server then waits past its own
 * busy timeout and fails.
 */
export function holdArchiveWriteLock(data: string): { release(): void } {
  const db = new DatabaseSync(join(data, 'sealbox.db'));
  db.exec('PRAGMA busy_timeout = 60000');
  db.exec('BEGIN EXCLUSIVE');
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
