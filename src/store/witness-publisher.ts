import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { resolveFrom } from '../core/data-paths.ts';
import type { StoredCheckpoint } from '../ledger/ledger.ts';
import type { Tx } from '../core/transactions.ts';
import type { NotificationStore } from '../access/notification-store.ts';

// Hands every signed checkpoint to the configured witnesses: written (flushed, renamed into
// place) to each witness folder as checkpoint-<size>.txt, and queued in the notification outbox
// for each witness address. A witness that kept an old checkpoint can later prove that the
// ledger it sees still extends it.
export function writeWitnessFiles(config: Config, checkpoint: StoredCheckpoint): void {
  for (const dir of config.ledger.witnesses.directories) {
    const folder = resolveFrom(config, dir);
    mkdirSync(folder, { recursive: true });
    const name = `checkpoint-${checkpoint.size}.txt`;
    const tmp = join(folder, `.${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, checkpoint.note);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(folder, name));
  }
}

// Inside the checkpoint's transaction, so the mail and webhook posts to witnesses commit with it.
export function queueWitnessMail(tx: Tx, outbox: NotificationStore, config: Config, checkpoint: StoredCheckpoint): Promise<void> {
  const recipients = [...config.ledger.witnesses.emails, ...config.ledger.witnesses.webhooks.map((w) => w.url)];
  if (recipients.length === 0) return Promise.resolve();
  return outbox.enqueue(tx, { kind: 'ledger.checkpoint', recipients, subject: `Sealbox ledger checkpoint ${checkpoint.size} (${config.ledger.origin})`, body: checkpoint.note, createdAt: checkpoint.createdAt, notBefore: checkpoint.createdAt });
}
