import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { readConfiguredFile } from '../core/configured-files.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { parseHostPort } from '../core/config.ts';
import type { Transactions } from '../core/transactions.ts';
import type { NotificationStore, QueuedNotification } from './notification-store.ts';

const PARALLEL = 4;
const BATCH = 100;

// Delivers the outbox: mail through the configured relay, webhooks as JSON signed with
// HMAC-SHA256 (header x-sealbox-signature: t=<unix seconds>,v1=<hex of HMAC(secret, t + "." + body)>).
// Failures are retried with growing delays; every attempt's outcome stays in the outbox row.
export class NotificationSender {
  readonly #store: NotificationStore;
  readonly #db: Transactions;
  readonly #config: Config['notify'];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #secrets = new Map<string, string>();
  // nodemailer is loaded only where a relay is set (~1.3 MB of heap on the receiving thread otherwise).
  readonly #mail: Promise<Transporter> | null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  // witnessHooks: the ledger's witness webhooks (ledger.witnesses.webhooks), signed the same way.
  constructor(store: NotificationStore, db: Transactions, config: Config['notify'], clock: Clock, log: Logger, witnessHooks: Config['notify']['webhooks'] = []) {
    this.#store = store;
    this.#db = db;
    this.#config = config;
    this.#clock = clock;
    this.#log = log;
    config.webhooks.forEach((w, i) => this.#secrets.set(w.url, readConfiguredFile(`notify.webhooks[${i}].secretFile`, w.secretFile).trim()));
    witnessHooks.forEach((w, i) => this.#secrets.set(w.url, readConfiguredFile(`ledger.witnesses.webhooks[${i}].secretFile`, w.secretFile).trim()));
    const relay = config.smtp && parseHostPort(config.smtp);
    this.#mail = relay ? import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({ host: relay.host, port: relay.port, secure: false, ignoreTLS: true, pool: true, maxConnections: PARALLEL })) : null;
    this.#mail?.catch(() => {}); // a failure is each delivery's, in its outbox row
  }

  // Whether the relay answers now: start-up says so at once, not only once notices fail. Null
  // when it answers (or none is set: Notifier.delivery() says that).
  async relayProblem(): Promise<string | null> {
    if (!this.#mail) return null;
    try {
      await (await this.#mail).verify();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  start(intervalMs = 1000): void {
    // kick() logs a failure (the database gone, say); the next tick tries again.
    this.#timer = setInterval(() => void this.kick().catch(() => {}), intervalMs);
    this.#timer.unref();
  }

  kick(): Promise<void> {
    return (this.#running ??= this.#deliverDue().catch((err) => { this.#log.error({ err }, 'delivering notifications failed; will retry'); throw err; }).finally(() => { this.#running = null; }));
  }

  // Stops delivering (start() may begin again: the node holding the duties changed).
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  async close(): Promise<void> {
    await this.stop();
    (await this.#mail)?.close();
  }

  async #deliverDue(): Promise<void> {
    for (;;) {
      const due = await this.#db.read((tx) => this.#store.due(tx, this.#clock.now(), this.#config.maxAttempts, BATCH));
      // A few deliveries in flight at once (pooled SMTP connections), so a burst of notices does
      // not hold an alert back for minutes.
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(PARALLEL, due.length) }, async () => {
        while (next < due.length) await this.#deliver(due[next++]);
      }));
      if (due.length < BATCH) return;
    }
  }

  async #deliver(n: QueuedNotification): Promise<void> {
    try {
      if (/^https?:\/\//.test(n.recipient)) await this.#webhook(n);
      else if (this.#mail) await (await this.#mail).sendMail({ from: this.#config.from, to: n.recipient, subject: n.subject, text: n.body, headers: { 'X-Sealbox-Event': n.kind } });
      else throw new Error('notify.smtp is not configured');
      await this.#db.write((tx) => this.#store.markSent(tx, n.id, this.#clock.now()));
    } catch (err) {
      const attempts = n.attempts + 1;
      const retry = this.#clock.now() + this.#config.retrySeconds * 1000 * 2 ** Math.min(attempts - 1, 10);
      await this.#db.write((tx) => this.#store.markFailed(tx, n.id, attempts, retry, String((err as Error).message).slice(0, 500)));
      this.#log.warn({ notification: n.id, kind: n.kind, attempts, err: (err as Error).message }, 'notification not delivered; will retry');
    }
  }

  async #webhook(n: QueuedNotification): Promise<void> {
    const body = JSON.stringify({ id: n.id, kind: n.kind, subject: n.subject, text: n.body, createdAt: new Date(n.createdAt).toISOString() });
    const t = Math.floor(this.#clock.now() / 1000);
    const signature = createHmac('sha256', this.#secrets.get(n.recipient) ?? '').update(`${t}.${body}`).digest('hex');
    const res = await fetch(n.recipient, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sealbox-signature': `t=${t},v1=${signature}` }, body, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}
