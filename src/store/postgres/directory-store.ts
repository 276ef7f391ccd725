import type { Tx } from '../../core/transactions.ts';
import type { DirectorySource } from '../../directory/directory-snapshot.ts';
import type { DirectoryLink, DirectoryStore, DirectorySyncRecord } from '../../directory/directory-store.ts';
import { on } from './transactions.ts';

export class PostgresDirectoryStore implements DirectoryStore {
  async links(tx: Tx, source: DirectorySource): Promise<DirectoryLink[]> {
    return (await on(tx).query('SELECT * FROM directory_person WHERE source = $1 ORDER BY user_name', [source])).map((r) => ({
      source: r.source, userName: r.user_name, mailbox: r.mailbox, state: r.state, leftOn: r.left_on ?? null, seenAt: r.seen_at,
    }));
  }

  async saveLink(tx: Tx, l: DirectoryLink): Promise<void> {
    await on(tx).query(`INSERT INTO directory_person (source, user_name, mailbox, state, left_on, seen_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (source, user_name) DO UPDATE SET mailbox = excluded.mailbox, state = excluded.state, left_on = excluded.left_on, seen_at = excluded.seen_at`,
    [l.source, l.userName, l.mailbox, l.state, l.leftOn, l.seenAt]);
  }

  async addSync(tx: Tx, s: DirectorySyncRecord): Promise<void> {
    await on(tx).query('INSERT INTO directory_sync (id, source, actor, started_at, dry_run, state, summary, changes, skipped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [s.id, s.source, s.actor, s.startedAt, s.dryRun ? 1 : 0, s.state, JSON.stringify(s.summary), JSON.stringify(s.changes), JSON.stringify(s.skipped)]);
  }

  async syncs(tx: Tx, limit: number): Promise<DirectorySyncRecord[]> {
    return (await on(tx).query('SELECT * FROM directory_sync ORDER BY started_at DESC, id DESC LIMIT $1', [limit])).map((r) => ({
      id: r.id, source: r.source, actor: r.actor, startedAt: r.started_at, dryRun: Boolean(r.dry_run), state: r.state,
      summary: JSON.parse(r.summary), changes: JSON.parse(r.changes), skipped: JSON.parse(r.skipped),
    }));
  }
}
