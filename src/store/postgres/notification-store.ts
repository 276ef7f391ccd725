import type { NotificationFailure, NotificationStore, QueuedNotification } from '../../access/notification-store.ts';
import type { MailboxPolicy } from '../../access/notifier.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresNotificationStore implements NotificationStore {
  async mailboxPolicy(tx: Tx, mailboxId: number): Promise<MailboxPolicy | null> {
    const row = await on(tx).one('SELECT * FROM mailbox_policy WHERE mailbox_id = $1', [mailboxId]);
    return row ? { notifyMode: row.notify_mode, notifyAfterDays: row.notify_after_days, legalBasis: row.legal_basis, notifyAlso: JSON.parse(row.notify_also) } : null;
  }

  async setMailboxPolicy(tx: Tx, mailboxId: number, policy: MailboxPolicy): Promise<void> {
    await on(tx).query(`INSERT INTO mailbox_policy (mailbox_id, notify_mode, notify_after_days, legal_basis, notify_also) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (mailbox_id) DO UPDATE SET notify_mode = excluded.notify_mode, notify_after_days = excluded.notify_after_days, legal_basis = excluded.legal_basis, notify_also = excluded.notify_also`,
    [mailboxId, policy.notifyMode, policy.notifyAfterDays, policy.legalBasis, JSON.stringify(policy.notifyAlso)]);
  }

  async enqueue(tx: Tx, n: { kind: string; recipients: string[]; subject: string; body: string; createdAt: number; notBefore: number }): Promise<void> {
    if (n.recipients.length === 0) return;
    // One row per recipient, in the order given (the ids keep it).
    await on(tx).query(`INSERT INTO notification (kind, recipient, subject, body, created_at, not_before)
      SELECT $1, r, $3, $4, $5, $6 FROM unnest($2::text[]) WITH ORDINALITY AS t(r, i) ORDER BY i`, [n.kind, n.recipients, n.subject, n.body, n.createdAt, n.notBefore]);
  }

  async due(tx: Tx, now: number, maxAttempts: number, limit: number): Promise<QueuedNotification[]> {
    return (await on(tx).query('SELECT * FROM notification WHERE sent_at IS NULL AND not_before <= $1 AND attempts < $2 ORDER BY id LIMIT $3', [now, maxAttempts, limit]))
      .map((r) => ({ id: r.id, kind: r.kind, recipient: r.recipient, subject: r.subject, body: r.body, createdAt: r.created_at, attempts: r.attempts }));
  }

  async markSent(tx: Tx, id: number, at: number): Promise<void> {
    await on(tx).query('UPDATE notification SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2', [at, id]);
  }

  async markFailed(tx: Tx, id: number, attempts: number, retryAt: number, error: string): Promise<void> {
    await on(tx).query('UPDATE notification SET attempts = $1, not_before = $2, last_error = $3 WHERE id = $4', [attempts, retryAt, error, id]);
  }

  async backlog(tx: Tx, now: number): Promise<{ waiting: number; due: number; failing: number }> {
    const r = (await on(tx).one(`SELECT COUNT(*) AS waiting, COUNT(*) FILTER (WHERE not_before <= $1) AS due, COUNT(*) FILTER (WHERE last_error IS NOT NULL) AS failing
      FROM notification WHERE sent_at IS NULL`, [now]))!;
    return { waiting: r.waiting, due: r.due, failing: r.failing };
  }

  async failures(tx: Tx): Promise<NotificationFailure[]> {
    const rows = await on(tx).query(`SELECT kind, channel, COUNT(*) AS n, MAX(id) AS latest FROM (
        SELECT kind, CASE WHEN lower(recipient) LIKE 'http%' THEN 'webhook' ELSE 'mail' END AS channel, id FROM notification WHERE sent_at IS NULL AND last_error IS NOT NULL) f
      GROUP BY kind, channel ORDER BY kind, channel`);
    const failures: NotificationFailure[] = [];
    for (const r of rows) {
      const last = await on(tx).one<{ last_error: string }>('SELECT last_error FROM notification WHERE id = $1', [r.latest]);
      failures.push({ kind: r.kind, channel: r.channel, failing: r.n, lastError: String(last!.last_error) });
    }
    return failures;
  }
}
