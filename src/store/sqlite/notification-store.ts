import type { NotificationFailure, NotificationStore, QueuedNotification } from '../../access/notification-store.ts';
import type { MailboxPolicy } from '../../access/notifier.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteNotificationStore implements NotificationStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async mailboxPolicy(tx: Tx, mailboxId: number): Promise<MailboxPolicy | null> {
    const row = on(tx).prepare('SELECT * FROM mailbox_policy WHERE mailbox_id = ?').get(mailboxId) as Record<string, any> | undefined;
    return row ? { notifyMode: row.notify_mode, notifyAfterDays: row.notify_after_days === null ? null : Number(row.notify_after_days), legalBasis: row.legal_basis, notifyAlso: JSON.parse(row.notify_also) } : null;
  }

  async setMailboxPolicy(tx: Tx, mailboxId: number, policy: MailboxPolicy): Promise<void> {
    on(tx).prepare(`INSERT INTO mailbox_policy (mailbox_id, notify_mode, notify_after_days, legal_basis, notify_also) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(mailbox_id) DO UPDATE SET notify_mode = excluded.notify_mode, notify_after_days = excluded.notify_after_days, legal_basis = excluded.legal_basis, notify_also = excluded.notify_also`)
      .run(mailboxId, policy.notifyMode, policy.notifyAfterDays, policy.legalBasis, JSON.stringify(policy.notifyAlso));
  }

  async enqueue(tx: Tx, n: { kind: string; recipients: string[]; subject: string; body: string; createdAt: number; notBefore: number }): Promise<void> {
    const insert = on(tx).prepare('INSERT INTO notification (kind, recipient, subject, body, created_at, not_before) VALUES (?, ?, ?, ?, ?, ?)');
    for (const to of n.recipients) insert.run(n.kind, to, n.subject, n.body, n.createdAt, n.notBefore);
  }

  async due(tx: Tx, now: number, maxAttempts: number, limit: number): Promise<QueuedNotification[]> {
    return (on(tx).prepare('SELECT * FROM notification WHERE sent_at IS NULL AND not_before <= ? AND attempts < ? ORDER BY id LIMIT ?').all(now, maxAttempts, limit) as Record<string, any>[])
      .map((r) => ({ id: Number(r.id), kind: r.kind, recipient: r.recipient, subject: r.subject, body: r.body, createdAt: Number(r.created_at), attempts: Number(r.attempts) }));
  }

  async markSent(tx: Tx, id: number, at: number): Promise<void> {
    on(tx).prepare('UPDATE notification SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?').run(at, id);
  }

  async markFailed(tx: Tx, id: number, attempts: number, retryAt: number, error: string): Promise<void> {
    on(tx).prepare('UPDATE notification SET attempts = ?, not_before = ?, last_error = ? WHERE id = ?').run(attempts, retryAt, error, id);
  }

  async backlog(tx: Tx, now: number): Promise<{ waiting: number; due: number; failing: number }> {
    const count = (sql: string, ...args: number[]) => Number((on(tx).prepare(sql).get(...args) as { n: number }).n);
    return {
      waiting: count('SELECT COUNT(*) AS n FROM notification WHERE sent_at IS NULL'),
      due: count('SELECT COUNT(*) AS n FROM notification WHERE sent_at IS NULL AND not_before <= ?', now),
      failing: count('SELECT COUNT(*) AS n FROM notification WHERE sent_at IS NULL AND last_error IS NOT NULL'),
    };
  }

  async failures(tx: Tx): Promise<NotificationFailure[]> {
    const rows = on(tx).prepare(`SELECT kind, CASE WHEN recipient LIKE 'http%' THEN 'webhook' ELSE 'mail' END AS channel, COUNT(*) AS n, MAX(id) AS latest
      FROM notification WHERE sent_at IS NULL AND last_error IS NOT NULL GROUP BY kind, channel ORDER BY kind, channel`).all() as Record<string, any>[];
    const error = on(tx).prepare('SELECT last_error FROM notification WHERE id = ?');
    return rows.map((r) => ({ kind: r.kind, channel: r.channel, failing: Number(r.n), lastError: String((error.get(r.latest) as { last_error: string }).last_error) }));
  }
}
