import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { resolveFrom } from '../core/config.ts';
import type { StoredCheckpoint } from '../ledger/ledger.ts';
import type { SqliteMetadataStore } from './sqlite/metadata-store.ts';

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
export function queueWitnessMail(config: Config, meta: SqliteMetadataStore, checkpoint: StoredCheckpoint): void {
  const insert = meta.prepare('INSERT INTO notification (kind, recipient, subject, body, created_at, not_before) VALUES (?, ?, ?, ?, ?, ?)');
  for (const to of [...config.ledger.witnesses.emails, ...config.ledger.witnesses.webhooks.map((w) => w.url)]) insert.run('ledger.checkpoint', to, `Sealbox ledger checkpoint ${checkpoint.size} (${config.ledger.origin})`, checkpoint.note, checkpoint.createdAt, checkpoint.createdAt);
}
