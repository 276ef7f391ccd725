import type { Tx } from '../core/transactions.ts';
import type { MailboxPolicy } from './notifier.ts';

export interface QueuedNotification {
  id: number;
  kind: string;
  recipient: string;          // an e-mail address or a webhook URL
  subject: string;
  body: string;
  createdAt: number;
  attempts: number;
}

// Who is told of access to a mailbox, and the outbox of notifications (src/access/notifier.ts
// fills it, src/access/notification-sender.ts empties it).
export interface NotificationStore {
  mailboxPolicy(tx: Tx, mailboxId: number): Promise<MailboxPolicy | null>;
  setMailboxPolicy(tx: Tx, mailboxId: number, policy: MailboxPolicy): Promise<void>;
  // One notification to each recipient, not sent before notBefore.
  enqueue(tx: Tx, n: { kind: string; recipients: string[]; subject: string; body: string; createdAt: number; notBefore: number }): Promise<void>;
  // Unsent ones due by now, fewer than maxAttempts tried, oldest first.
  due(tx: Tx, now: number, maxAttempts: number, limit: number): Promise<QueuedNotification[]>;
  markSent(tx: Tx, id: number, at: number): Promise<void>;
  markFailed(tx: Tx, id: number, attempts: number, retryAt: number, error: string): Promise<void>;
  // Unsent (delayed ones included), due by now, and unsent after a failed attempt.
  backlog(tx: Tx, now: number): Promise<{ waiting: number; due: number; failing: number }>;
  // Unsent notices whose last attempt failed, by kind and channel: how many, and the latest error.
  failures(tx: Tx): Promise<NotificationFailure[]>;
}

export interface NotificationFailure {
  kind: string;
  channel: 'mail' | 'webhook';
  failing: number;
  lastError: string;
}
