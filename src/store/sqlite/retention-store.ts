import type { AddressMailbox, RetentionChangeRecord, RetentionRule, RetentionStore } from '../../retention/retention-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

// The rules' version lives in the settings: bumped in the transaction that changes a rule.
const VERSION_KEY = 'retention.version';

export class SqliteRetentionStore implements RetentionStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async version(tx: Tx): Promise<number> {
    return Number((on(tx).prepare('SELECT value FROM setting WHERE key = ?').get(VERSION_KEY) as { value: string } | undefined)?.value ?? 0);
  }

  async rules(tx: Tx): Promise<RetentionRule[]> {
    return (on(tx).prepare('SELECT * FROM retention_rule ORDER BY id').all() as Record<string, any>[]).map(toRule);
  }

  async rule(tx: Tx, id: string): Promise<RetentionRule | null> {
    const row = on(tx).prepare('SELECT * FROM retention_rule WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRule(row) : null;
  }

  async putRule(tx: Tx, r: RetentionRule, at: number): Promise<void> {
    on(tx).prepare(`INSERT INTO retention_rule (id, name, mailboxes, sensitivities, departments, domains, directions, days, min_days, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET name = excluded.name, mailboxes = excluded.mailboxes, sensitivities = excluded.sensitivities, departments = excluded.departments,
      domains = excluded.domains, directions = excluded.directions, days = excluded.days, min_days = excluded.min_days, updated_at = excluded.updated_at`)
      .run(r.id, r.name, JSON.stringify(r.mailboxes), JSON.stringify(r.sensitivities), JSON.stringify(r.departments), JSON.stringify(r.domains), JSON.stringify(r.directions), r.days, r.minDays ?? null, at);
    await this.#bump(tx);
  }

  async removeRule(tx: Tx, id: string): Promise<boolean> {
    const removed = Number(on(tx).prepare('DELETE FROM retention_rule WHERE id = ?').run(id).changes) === 1;
    if (removed) await this.#bump(tx);
    return removed;
  }

  async #bump(tx: Tx): Promise<void> {
    await this.#meta.setSetting(tx, VERSION_KEY, String(await this.version(tx) + 1));
  }

  // One statement for the whole batch: the addresses go in as one JSON array.
  async mailboxesOf(tx: Tx, addresses: readonly string[]): Promise<AddressMailbox[]> {
    if (addresses.length === 0) return [];
    return (on(tx).prepare(`SELECT a.address, m.name, m.sensitivity, m.department FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id
      WHERE a.address IN (SELECT value FROM json_each(?))`).all(JSON.stringify(addresses)) as { address: string; name: string; sensitivity: string | null; department: string | null }[])
      .map((r) => ({ address: r.address, mailbox: r.name, sensitivity: r.sensitivity ?? null, department: r.department ?? null }));
  }

  async addChange(tx: Tx, c: Omit<RetentionChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    on(tx).prepare(`INSERT INTO retention_change (id, kind, rule_id, rule_before, rule_after, why, note, filed_by, filed_by_label, filed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(c.id, c.kind, c.ruleId, c.before ? JSON.stringify(c.before) : null, c.after ? JSON.stringify(c.after) : null, c.why, c.note, c.filedBy, c.filedByLabel, c.filedAt);
  }

  async decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE retention_change SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ?').run(d.by, d.decision, d.reason, d.at, id);
  }

  async change(tx: Tx, id: string): Promise<RetentionChangeRecord | null> {
    const row = on(tx).prepare('SELECT * FROM retention_change WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toChange(row) : null;
  }

  async changes(tx: Tx): Promise<RetentionChangeRecord[]> {
    return (on(tx).prepare('SELECT * FROM retention_change ORDER BY filed_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toChange);
  }
}

function toRule(r: Record<string, any>): RetentionRule {
  return {
    id: r.id, name: r.name, mailboxes: JSON.parse(r.mailboxes), sensitivities: JSON.parse(r.sensitivities), departments: JSON.parse(r.departments),
    domains: JSON.parse(r.domains), directions: JSON.parse(r.directions), days: r.days === null ? null : Number(r.days),
    ...(r.min_days === null || r.min_days === undefined ? {} : { minDays: Number(r.min_days) }),
  };
}

// A rule kept in a change filed before departments existed has none: it matched any department.
// Read so, a change still pending across the upgrade compares equal to the rule it was filed on.
function filedRule(json: string | null): RetentionRule | null {
  return json ? { departments: [], ...JSON.parse(json) } : null;
}

function toChange(r: Record<string, any>): RetentionChangeRecord {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id, kind: r.kind, ruleId: r.rule_id, before: filedRule(r.rule_before), after: filedRule(r.rule_after),
    why: r.why, note: r.note ?? null, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label, filedAt: Number(r.filed_at),
    decidedBy: n(r.decided_by), decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: n(r.decided_at),
  };
}
