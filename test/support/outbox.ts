// The notification outbox as the person it is addressed to would receive it: what Sealbox queued
// for one address (the mail relay is not needed to see what would be sent, nor to whom).
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface QueuedMail {
  kind: string;
  recipient: string;
  subject: string;
  body: string;
}

export function outbox(data: string, recipient?: string): QueuedMail[] {
  const db = new DatabaseSync(join(data, 'sealbox.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT kind, recipient, subject, body FROM notification ORDER BY id').all() as unknown as QueuedMail[];
    return recipient ? rows.filter((r) => r.recipient === recipient) : rows;
  } finally {
    db.close();
  }
}

// The one-time code of the newest account recovery mailed to this address.
export function recoveryCode(data: string, recipient: string): string {
  const mail = outbox(data, recipient).filter((m) => m.kind === 'account.recovery-code').at(-1);
  if (!mail) throw new Error(`no recovery code was mailed to ${recipient}`);
  return /one-time code \(valid [^)]*\): (\S+)/.exec(mail.body)![1];
}
