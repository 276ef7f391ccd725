import type { Config } from '../core/config.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
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
// the sweep that runs the check). Counting state lives in grant_message, written here.
export class AlertRules {
  readonly #meta: SqliteMetadataStore;
  readonly #config: Config['oversight'];

  constructor(meta: SqliteMetadataStore, config: Config['oversight']) {
    this.#meta = meta;
    this.#config = config;
  }

  check(e: LedgerEntry): Alert[] {
    if (e.result !== 'success') return [];
    const user = userOf(e.actor);
    const base = { requestId: e.grantId, ledgerIndex: e.index, subject: user };
    const out: Alert[] = [];
    if (e.operation === 'breakglass.open') {
      out.push({ ...base, id: `breakglass:${e.grantId}`, rule: 'breakglass', text: `${user} opened break-glass access ${e.grantId} to ${e.objects.mailboxes.join(', ')}: ${e.parameters.justification ?? ''}` });
    }
    if (e.operation === 'request.file' && typeof e.parameters.extends === 'string') {
      const chain = this.#chainLength(e.grantId!);
      if (chain >= this.#config.alertExtensions) out.push({ ...base, id: `extensions:${e.grantId}`, rule: 'extensions', text: `${user} asked to extend access to ${e.objects.mailboxes.join(', ')} for the ${ordinal(chain)} time in a row (${e.grantId} extends ${e.parameters.extends})` });
    }
    if (e.type !== 'access' || !user) return out;
    const who = e.grantId ?? e.actor;
    for (const name of e.objects.mailboxes) {
      const m = this.#meta.prepare('SELECT owner, sensitivity, manager FROM mailbox WHERE name = ?').get(name) as { owner: string | null; sensitivity: string | null; manager: string | null } | undefined;
      if (!m || m.owner === user) continue;
      if (m.sensitivity) out.push({ ...base, id: `sensitive-mailbox:${who}:${name}`, rule: 'sensitive-mailbox', text: `${user} accessed sensitive mailbox ${name} (${m.sensitivity}): ${e.operation}${e.grantId ? ` under ${e.grantId}` : ''}` });
      if (m.owner) {
        const relation = m.manager === user ? 'the manager of its owner'
          : this.#meta.prepare('SELECT 1 FROM mailbox WHERE owner = ? AND manager = ? LIMIT 1').get(user, m.owner) ? 'a subordinate of its owner' : null;
        if (relation) out.push({ ...base, id: `manager:${who}:${name}`, rule: 'manager', text: `${user}, ${relation} ${m.owner}, accessed mailbox ${name}: ${e.operation}${e.grantId ? ` under ${e.grantId}` : ''}` });
      }
    }
    if (e.grantId && READS.has(e.operation) && e.objects.messages.length > 0) {
      const add = this.#meta.prepare('INSERT OR IGNORE INTO grant_message (request_id, sha256) VALUES (?, ?)');
      for (const sha of e.objects.messages) add.run(e.grantId, sha);
      const n = Number((this.#meta.prepare('SELECT COUNT(*) AS n FROM grant_message WHERE request_id = ?').get(e.grantId) as { n: number }).n);
      if (n > this.#config.alertMessagesPerGrant) out.push({ ...base, id: `volume:${e.grantId}`, rule: 'volume', text: `${user} has read or exported ${n} messages under ${e.grantId} (alert above ${this.#config.alertMessagesPerGrant})` });
    }
    return out;
  }

  // How many extensions lead to this request (1 for a first extension).
  #chainLength(id: string): number {
    let n = 0;
    let at: string | null = id;
    const seen = new Set<string>();
    while (at && !seen.has(at)) {
      seen.add(at);
      at = (this.#meta.prepare('SELECT extends FROM access_request WHERE id = ?').get(at) as { extends: string | null } | undefined)?.extends ?? null;
      if (at) n++;
    }
    return n;
  }
}

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}
