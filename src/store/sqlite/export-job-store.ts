import type { Tx } from '../../core/transactions.ts';
import type { PackageItem } from '../../export/evidence-package.ts';
import type { ExportFile, ExportJob, ExportJobStore, NewExportJob } from '../../export/export-job-store.ts';
import { on } from './transactions.ts';

// A job's columns but its list of messages (their count instead): a job of 100,000 messages
// holds 6.6 MB of them, which a status poll or a list has no use for.
const WITHOUT_MESSAGES = `id, user_id, grant_id, query, options, actor, state, created_at, started_entry, canonical_query, total, '[]' AS sha256s, checkpoint_size,
  messages_done, bytes_done, bytes_total, phase, resumed, error, finished_at, ledger_index, manifest_sha256, files, json_array_length(sha256s) AS messages`;

export class SqliteExportJobStore implements ExportJobStore {
  async add(tx: Tx, j: NewExportJob): Promise<void> {
    on(tx).prepare(`INSERT INTO export_job (id, user_id, grant_id, query, options, actor, state, created_at, started_entry, canonical_query, total, sha256s, checkpoint_size, bytes_total)
      VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)`)
      .run(j.id, j.userId, j.grantId, j.query, JSON.stringify({ limit: j.limit, note: j.note, volumeBytes: j.volumeBytes, mboxPerCustodian: j.mboxPerCustodian, subjectAccess: j.subjectAccess, hold: j.hold, mailboxes: j.mailboxes }), JSON.stringify(j.actor), j.createdAt, j.startedEntry,
        j.canonicalQuery, j.total, JSON.stringify(j.sha256s), j.checkpointSize, j.bytesTotal);
  }

  async get(tx: Tx, id: string): Promise<ExportJob | null> {
    const row = on(tx).prepare(`SELECT ${WITHOUT_MESSAGES} FROM export_job WHERE id = ?`).get(id) as Record<string, any> | undefined;
    return row ? toJob(row) : null;
  }

  async withMessages(tx: Tx, id: string): Promise<ExportJob | null> {
    const row = on(tx).prepare('SELECT * FROM export_job WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toJob(row) : null;
  }

  async ofUser(tx: Tx, userId: number): Promise<ExportJob[]> {
    return (on(tx).prepare(`SELECT ${WITHOUT_MESSAGES} FROM export_job WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 200`).all(userId) as Record<string, any>[]).map(toJob);
  }

  async unfinished(tx: Tx): Promise<string[]> {
    return (on(tx).prepare("SELECT id FROM export_job WHERE state IN ('queued', 'running') ORDER BY created_at, id").all() as { id: string }[]).map((r) => r.id);
  }

  async begin(tx: Tx, id: string): Promise<boolean> {
    const r = on(tx).prepare("UPDATE export_job SET resumed = resumed + (state = 'running'), state = 'running' WHERE id = ? AND state IN ('queued', 'running')").run(id);
    return Number(r.changes) === 1;
  }

  async items(tx: Tx, id: string): Promise<Map<number, PackageItem>> {
    const rows = on(tx).prepare('SELECT position, made FROM export_job_item WHERE job_id = ?').all(id) as { position: number; made: string }[];
    return new Map(rows.map((r) => [Number(r.position), JSON.parse(r.made) as PackageItem]));
  }

  async progress(tx: Tx, id: string, made: [number, PackageItem][], p: { messagesDone: number; bytesDone: number; phase: ExportJob['phase'] }): Promise<boolean> {
    const r = on(tx).prepare("UPDATE export_job SET messages_done = ?, bytes_done = ?, phase = ? WHERE id = ? AND state = 'running'").run(p.messagesDone, p.bytesDone, p.phase, id);
    if (Number(r.changes) !== 1) return false;
    const put = on(tx).prepare('INSERT OR REPLACE INTO export_job_item (job_id, position, made) VALUES (?, ?, ?)');
    for (const [position, item] of made) put.run(id, position, JSON.stringify(item));
    return true;
  }

  async finished(tx: Tx, id: string, f: { at: number; ledgerIndex: number; manifestSha256: string; files: ExportFile[] }): Promise<void> {
    const r = on(tx).prepare("UPDATE export_job SET state = 'done', finished_at = ?, ledger_index = ?, manifest_sha256 = ?, files = ? WHERE id = ? AND state = 'running'")
      .run(f.at, f.ledgerIndex, f.manifestSha256, JSON.stringify(f.files), id);
    // Cancelled while its entry was being made: the entry is not written, nothing is handed out.
    if (Number(r.changes) !== 1) throw new Error(`export job ${id} is no longer running`);
    on(tx).prepare('DELETE FROM export_job_item WHERE job_id = ?').run(id);
  }

  async failed(tx: Tx, id: string, f: { at: number; error: string }): Promise<void> {
    on(tx).prepare("UPDATE export_job SET state = 'failed', finished_at = ?, error = ? WHERE id = ? AND state IN ('queued', 'running')").run(f.at, f.error, id);
    on(tx).prepare('DELETE FROM export_job_item WHERE job_id = ?').run(id);
  }

  async cancel(tx: Tx, id: string, at: number): Promise<boolean> {
    const r = on(tx).prepare("UPDATE export_job SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ('queued', 'running')").run(at, id);
    if (Number(r.changes) !== 1) return false;
    on(tx).prepare('DELETE FROM export_job_item WHERE job_id = ?').run(id);
    return true;
  }
}

function toJob(r: Record<string, any>): ExportJob {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const options = JSON.parse(r.options) as { limit: number; note: string | null; volumeBytes: number; mboxPerCustodian?: boolean; subjectAccess?: ExportJob['subjectAccess']; hold?: ExportJob['hold']; mailboxes?: ExportJob['mailboxes'] };
  const sha256s = JSON.parse(r.sha256s) as string[];
  return {
    id: r.id, userId: Number(r.user_id), grantId: r.grant_id, query: r.query, canonicalQuery: r.canonical_query, limit: options.limit, note: options.note, volumeBytes: options.volumeBytes, mboxPerCustodian: options.mboxPerCustodian === true,
    subjectAccess: options.subjectAccess ?? null, hold: options.hold ?? null, mailboxes: options.mailboxes ?? [],
    actor: JSON.parse(r.actor), state: r.state, createdAt: Number(r.created_at), startedEntry: Number(r.started_entry), total: Number(r.total),
    sha256s, messages: r.messages === undefined ? sha256s.length : Number(r.messages), checkpointSize: Number(r.checkpoint_size),
    messagesDone: Number(r.messages_done), bytesDone: Number(r.bytes_done), bytesTotal: Number(r.bytes_total), phase: r.phase, resumed: Number(r.resumed),
    error: r.error ?? null, finishedAt: n(r.finished_at), ledgerIndex: n(r.ledger_index), manifestSha256: r.manifest_sha256 ?? null, files: r.files ? JSON.parse(r.files) : [],
  } as ExportJob;
}
