import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { Ledger, StoredCheckpoint } from '../ledger/ledger.ts';
import type { Transactions } from '../core/transactions.ts';
import type { NotificationStore } from '../access/notification-store.ts';
import { queueWitnessMail, writeWitnessFiles } from './witness-publisher.ts';

// The one way a checkpoint is signed: the tree head of everything appended so far, signed in one
// transaction with the mail and webhook posts that hand it to the witnesses, then written to the
// witness folders. The server and the importer both sign through it, so a checkpoint an import
// signs reaches the witnesses like any other (its mail and posts go out once a server runs).
export class Checkpointer {
  readonly #config: Config;
  readonly #meta: Transactions;
  readonly #outbox: NotificationStore;
  readonly #ledger: Ledger;
  readonly #log: Logger;

  constructor(options: { config: Config; meta: Transactions; outbox: NotificationStore; ledger: Ledger; log: Logger }) {
    this.#config = options.config;
    this.#meta = options.meta;
    this.#outbox = options.outbox;
    this.#ledger = options.ledger;
    this.#log = options.log;
  }

  // Whether a checkpoint is due: `entries` new entries since the last, or `ms` since it.
  due(entries = this.#config.ledger.checkpointEveryEntries, ms = this.#config.ledger.checkpointEverySeconds * 1000): boolean {
    return this.#ledger.due(entries, ms);
  }

  // Signs (null when nothing new is to be signed); a fault signing is thrown, one writing a
  // witness folder only logged: the checkpoint is signed and kept, and the next one goes there.
  async sign(): Promise<StoredCheckpoint | null> {
    const signed = await this.#meta.write(async (tx) => {
      await this.#ledger.catchUp(tx);
      const cp = await this.#ledger.checkpoint(tx);
      if (cp) await queueWitnessMail(tx, this.#outbox, this.#config, cp);
      return cp;
    });
    if (signed) {
      try {
        writeWitnessFiles(this.#config, signed);
      } catch (err) {
        this.#log.error({ err, size: signed.size }, 'checkpoint signed but not written to a witness folder');
      }
    }
    return signed;
  }

  // For timers and hooks, where a failure must not stop what called it: logged, retried next time.
  async trySign(): Promise<void> {
    try {
      await this.sign();
    } catch (err) {
      this.#log.error({ err }, 'checkpoint failed');
    }
  }
}
