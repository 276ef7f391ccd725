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
  mailboxPolicy(mailboxId: number): MailboxPolicy | null;
  setMailboxPolicy(mailboxId: number, policy: MailboxPolicy): void;
  // One notification to each recipient, not sent before notBefore.
  enqueue(n: { kind: string; recipients: string[]; subject: string; body: string; createdAt: number; notBefore: number }): void;
  // Unsent ones due by now, fewer than maxAttempts tried, oldest first.
  due(now: number, maxAttempts: number, limit: number): QueuedNotification[];
  markSent(id: number, at: number): void;
  markFailed(id: number, attempts: number, retryAt: number, error: string): void;
  // Unsent (delayed ones included), due by now, and unsent after a failed attempt.
  backlog(now: number): { waiting: number; due: number; failing: number };
  // Unsent notices whose last attempt failed, by kind and channel: how many, and the latest error.
  failures(): NotificationFailure[];
}

export interface NotificationFailure {
  kind: string;
  channel: 'mail' | 'webhook';
  failing: number;
  lastError: string;
}
