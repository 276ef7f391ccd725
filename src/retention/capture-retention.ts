import type { CaptureRecord } from '../core/types.ts';
import type { Tx } from '../core/transactions.ts';
import { directionOf, domainOf, envelopeAddresses, RetentionPolicy } from './retention-policy.ts';
import type { CaptureTerms } from './retention-policy.ts';
import type { RetentionStore } from './retention-store.ts';

export interface RetentionSettings {
  defaultDays: number | null;     // retention.defaultDays (null: kept for ever)
  internalDomains: string[];
}

// The archive writer's side of retention: each capture's retain-until and minimum, fixed in the
// transaction that commits it, from the rules as they are in that transaction. The rules are kept
// in memory and read again only when their version changed (a rule changed by any process); the
// mailboxes of a whole batch's envelope addresses are looked up at once, and only when a rule
// asks for them.
export class CaptureRetention {
  readonly #store: RetentionStore;
  readonly #defaultDays: number | null;
  readonly #internal: ReadonlySet<string>;
  #cached: { version: number; policy: RetentionPolicy } | null = null;

  constructor(store: RetentionStore, settings: RetentionSettings) {
    this.#store = store;
    this.#defaultDays = settings.defaultDays;
    this.#internal = new Set(settings.internalDomains.map((d) => d.toLowerCase()));
  }

  async policy(tx: Tx): Promise<RetentionPolicy> {
    const version = await this.#store.version(tx);
    if (this.#cached?.version !== version) this.#cached = { version, policy: new RetentionPolicy(await this.#store.rules(tx), this.#defaultDays) };
    return this.#cached.policy;
  }

  async forBatch(tx: Tx, captures: readonly CaptureRecord[]): Promise<CaptureTerms[]> {
    const policy = await this.policy(tx);
    const addresses = captures.map((c) => (c.envelope ? envelopeAddresses(c.envelope) : null));
    const wanted = policy.needsMailboxes ? [...new Set(addresses.flatMap((a) => a ?? []))] : [];
    const boxes = wanted.length > 0 ? await this.#store.mailboxesOf(tx, wanted) : [];
    const byAddress = new Map(boxes.map((b) => [b.address, b]));
    return captures.map((c, i) => {
      const own = addresses[i];
      if (!c.envelope || !own) return policy.termsOf({ known: false }, c.receivedAt);
      return policy.termsOf({
        known: true, addresses: own, domains: [...new Set(own.map(domainOf))],
        mailboxes: own.flatMap((a) => byAddress.get(a) ?? []), direction: directionOf(c.envelope, this.#internal),
      }, c.receivedAt);
    });
  }
}
