import type { Config } from '../core/config.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { OversightStore } from './oversight-store.ts';
import { userOf } from './ledger-history.ts';

export interface Alert {
  id: string;               // rule:subject — an alert is raised once per rule and subject
  rule: 'breakglass' | 'sensitive-mailbox' | 'volume' | 'extensions' | 'manager' | 'verify-failure';
  text: string;
  requestId: string | null;
  ledgerIndex: number | null;
  subject: string | null;   // the user whose action raised it
}

const READS = new Set(['view', 'raw', 'export']);

// The alert rules, each a verdict on one ledger entry (the ledger verification rule is raised by
// the sweep that runs the check). The messages read under each grant are noted here, for the
// volume rule, in the caller's transaction.
export class AlertRules {
  readonly #store: OversightStore;
  readonly #config: Config['oversight'];

  constructor(store: OversightStore, config: Config['oversight']) {
    this.#store = store;
    this.#config = config;
  }

  async check(tx: Tx, e: LedgerEntry): Promise<Alert[]> {
    if (e.result !== 'success') return [];
    const user = userOf(e.actor);
    const base = { requestId: e.grantId, ledgerIndex: e.index, subject: user };
    const out: Alert[] = [];
    if (e.operation === 'breakglass.open') {
      out.push({ ...base, id: `breakglass:${e.grantId}`, rule: 'breakglass', text: `${user} opened break-glass access ${e.grantId} to ${e.objects.mailboxes.join(', ')}: ${e.parameters.justification ?? ''}` });
    }
    if (e.operation === 'request.file' && typeof e.parameters.extends === 'string') {
      const chain = await this.#chainLength(tx, e.grantId!);
      if (chain >= this.#config.alertExtensions) out.push({ ...base, id: `extensions:${e.grantId}`, rule: 'extensions', text: `${user} asked to extend access to ${e.objects.mailboxes.join(', ')} for the ${ordinal(chain)} time in a row (${e.grantId} extends ${e.parameters.extends})` });
    }
    if (e.type !== 'access' || !user) return out;
    const who = e.grantId ?? e.actor;
    for (const name of e.objects.mailboxes) {
      const m = await this.#store.mailbox(tx, name);
      if (!m || m.owner === user) continue;
      if (m.sensitivity) out.push({ ...base, id: `sensitive-mailbox:${who}:${name}`, rule: 'sensitive-mailbox', text: `${user} accessed sensitive mailbox ${name} (${m.sensitivity}): ${e.operation}${e.grantId ? ` under ${e.grantId}` : ''}` });
      if (m.owner) {
        const relation = m.manager === user ? 'the manager of its owner'
          : await this.#store.manages(tx, m.owner, user) ? 'a subordinate of its owner' : null;
        if (relation) out.push({ ...base, id: `manager:${who}:${name}`, rule: 'manager', text: `${user}, ${relation} ${m.owner}, accessed mailbox ${name}: ${e.operation}${e.grantId ? ` under ${e.grantId}` : ''}` });
      }
    }
    if (e.grantId && READS.has(e.operation) && e.objects.messages.length > 0) {
      const n = await this.#store.addMessagesRead(tx, e.grantId, e.objects.messages);
      if (n > this.#config.alertMessagesPerGrant) out.push({ ...base, id: `volume:${e.grantId}`, rule: 'volume', text: `${user} has read or exported ${n} messages under ${e.grantId} (alert above ${this.#config.alertMessagesPerGrant})` });
    }
    return out;
  }

  // How many extensions lead to this request (1 for a first extension).
  async #chainLength(tx: Tx, id: string): Promise<number> {
    let n = 0;
    let at: string | null = id;
    const seen = new Set<string>();
    while (at && !seen.has(at)) {
      seen.add(at);
      at = await this.#store.extendsOf(tx, at);
      if (at) n++;
    }
    return n;
  }
}

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}
