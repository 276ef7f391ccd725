import type { Tx } from '../../core/transactions.ts';
import type { PackageItem } from '../../export/evidence-package.ts';
import type { ExportFile, ExportJob, ExportJobStore, NewExportJob } from '../../export/export-job-store.ts';
import { on } from './transactions.ts';

// As the SQLite store's: a job's columns but its list of messages (their count instead).
const WITHOUT_MESSAGES = `id, user_id, grant_id, query, options, actor, state, created_at, started_entry, canonical_query, total, '[]' AS sha256s, checkpoint_size,
  messages_done, bytes_done, bytes_total, phase, resumed, error, finished_at, ledger_index, manifest_sha256, files, json_array_length(sha256s::json) AS messages`;

export class PostgresExportJobStore implements ExportJobStore {
  async add(tx: Tx, j: NewExportJob): Promise<void> {
    await on(tx).query(`INSERT INTO export_job (id, user_id, grant_id, query, options, actor, state, created_at, started_entry, canonical_query, total, sha256s, checkpoint_size, bytes_total)
      VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11, $12, $13)`,
    [j.id, j.userId, j.grantId, j.query, JSON.stringify({ limit: j.limit, note: j.note, volumeBytes: j.volumeBytes, mboxPerCustodian: j.mboxPerCustodian, subjectAccess: j.subjectAccess, hold: j.hold, mailboxes: j.mailboxes }), JSON.stringify(j.actor), j.createdAt, j.startedEntry,
      j.canonicalQuery, j.total, JSON.stringify(j.sha256s), j.checkpointSize, j.bytesTotal]);
  }

  async get(tx: Tx, id: string): Promise<ExportJob | null> {
    const row = await on(tx).one(`SELECT ${WITHOUT_MESSAGES} FROM export_job WHERE id = $1`, [id]);
    return row ? toJob(row) : null;
  }

  async withMessages(tx: Tx, id: string): Promise<ExportJob | null> {
    const row = await on(tx).one('SELECT * FROM export_job WHERE id = $1', [id]);
    return row ? toJob(row) : null;
  }

  async ofUser(tx: Tx, userId: number): Promise<ExportJob[]> {
    return (await on(tx).query(`SELECT ${WITHOUT_MESSAGES} FROM export_job WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200`, [userId])).map(toJob);
  }

  async unfinished(tx: Tx): Promise<string[]> {
    return (await on(tx).query<{ id: string }>("SELECT id FROM export_job WHERE state IN ('queued', 'running') ORDER BY created_at, id")).map((r) => r.id);
  }

  async begin(tx: Tx, id: string): Promise<boolean> {
    return (await on(tx).run("UPDATE export_job SET resumed = resumed + (state = 'running')::int, state = 'running' WHERE id = $1 AND state IN ('queued', 'running')", [id])) === 1;
  }

  async items(tx: Tx, id: string): Promise<Map<number, PackageItem>> {
    const rows = await on(tx).query<{ position: number; made: string }>('SELECT position, made FROM export_job_item WHERE job_id = $1', [id]);
    return new Map(rows.map((r) => [r.position, JSON.parse(r.made) as PackageItem]));
  }

  async progress(tx: Tx, id: string, made: [number, PackageItem][], p: { messagesDone: number; bytesDone: number; phase: ExportJob['phase'] }): Promise<boolean> {
    if ((await on(tx).run("UPDATE export_job SET messages_done = $1, bytes_done = $2, phase = $3 WHERE id = $4 AND state = 'running'", [p.messagesDone, p.bytesDone, p.phase, id])) !== 1) return false;
    for (const [position, item] of made) {
      await on(tx).query('INSERT INTO export_job_item (job_id, position, made) VALUES ($1, $2, $3) ON CONFLICT (job_id, position) DO UPDATE SET made = excluded.made', [id, position, JSON.stringify(item)]);
    }
    return true;
  }

  async finished(tx: Tx, id: string, f: { at: number; ledgerIndex: number; manifestSha256: string; files: ExportFile[] }): Promise<void> {
    const changed = await on(tx).run("UPDATE export_job SET state = 'done', finished_at = $1, ledger_index = $2, manifest_sha256 = $3, files = $4 WHERE id = $5 AND state = 'running'",
      [f.at, f.ledgerIndex, f.manifestSha256, JSON.stringify(f.files), id]);
    // Cancelled while its entry was being made: the entry is not written, nothing is handed out.
    if (changed !== 1) throw new Error(`export job ${id} is no longer running`);
    await on(tx).query('DELETE FROM export_job_item WHERE job_id = $1', [id]);
  }

  async failed(tx: Tx, id: string, f: { at: number; error: string }): Promise<void> {
    await on(tx).query("UPDATE export_job SET state = 'failed', finished_at = $1, error = $2 WHERE id = $3 AND state IN ('queued', 'running')", [f.at, f.error, id]);
    await on(tx).query('DELETE FROM export_job_item WHERE job_id = $1', [id]);
  }

  async cancel(tx: Tx, id: string, at: number): Promise<boolean> {
    if ((await on(tx).run("UPDATE export_job SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state IN ('queued', 'running')", [at, id])) !== 1) return false;
    await on(tx).query('DELETE FROM export_job_item WHERE job_id = $1', [id]);
    return true;
  }
}

function toJob(r: Record<string, any>): ExportJob {
  const options = JSON.parse(r.options) as { limit: number; note: string | null; volumeBytes: number; mboxPerCustodian?: boolean; subjectAccess?: ExportJob['subjectAccess']; hold?: ExportJob['hold']; mailboxes?: ExportJob['mailboxes'] };
  const sha256s = JSON.parse(r.sha256s) as string[];
  return {
    id: r.id, userId: r.user_id, grantId: r.grant_id, query: r.query, canonicalQuery: r.canonical_query, limit: options.limit, note: options.note, volumeBytes: options.volumeBytes, mboxPerCustodian: options.mboxPerCustodian === true,
    subjectAccess: options.subjectAccess ?? null, hold: options.hold ?? null, mailboxes: options.mailboxes ?? [],
    actor: JSON.parse(r.actor), state: r.state, createdAt: r.created_at, startedEntry: r.started_entry, total: r.total,
    sha256s, messages: r.messages === undefined ? sha256s.length : Number(r.messages), checkpointSize: r.checkpoint_size,
    messagesDone: r.messages_done, bytesDone: r.bytes_done, bytesTotal: r.bytes_total, phase: r.phase, resumed: r.resumed,
    error: r.error ?? null, finishedAt: r.finished_at, ledgerIndex: r.ledger_index, manifestSha256: r.manifest_sha256 ?? null, files: r.files ? JSON.parse(r.files) : [],
  } as ExportJob;
}
