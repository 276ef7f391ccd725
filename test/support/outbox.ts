// The notification outbox as the person it is addressed to would receive it: what Sealbox queued
// for one address (the mail relay is not needed to see what would be sent, nor to whom).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

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

// The one-time code of the newest enrolment mailed to this address (someone who owned mailboxes
// before their account was made: src/access/enrolment-codes.ts).
export function enrolmentCode(data: string, recipient: string): string {
  return enrolmentCodeIn(outbox(data, recipient), recipient);
}

export function enrolmentCodeIn(mails: readonly Pick<QueuedMail, 'kind' | 'body'>[], recipient: string): string {
  const mail = mails.filter((m) => m.kind === 'account.enrolment-code').at(-1);
  if (!mail) throw new Error(`no enrolment code was mailed to ${recipient}`);
  return /one-time enrolment code \(valid [^)]*\): (\S+)/.exec(mail.body)![1]!;
}

// The outbox of the archive a config file names, on SQLite (in the data folder) or PostgreSQL.
export async function queuedMail(configFile: string, data: string, recipient: string): Promise<QueuedMail[]> {
  const store = (JSON.parse(readFileSync(configFile, 'utf8')) as { store?: { kind: string; postgres?: { url: string; passwordFile: string; schema?: string } } }).store;
  if (store?.kind !== 'postgres') return outbox(data, recipient);
  const url = new URL(store.postgres!.url);
  url.password = encodeURIComponent(readFileSync(store.postgres!.passwordFile, 'utf8').trim());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const schema = store.postgres!.schema ?? 'public';
    return (await client.query(`SELECT kind, recipient, subject, body FROM "${schema}".notification WHERE recipient = $1 ORDER BY id`, [recipient])).rows as QueuedMail[];
  } finally {
    await client.end();
  }
}
