import type { Tx } from '../../core/transactions.ts';
import type { AddressMailbox, RetentionChangeRecord, RetentionRule, RetentionStore } from '../../retention/retention-store.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

// The rules' version lives in the settings: bumped in the transaction that changes a rule.
const VERSION_KEY = 'retention.version';

export class PostgresRetentionStore implements RetentionStore {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  async version(tx: Tx): Promise<number> {
    return Number((await this.#meta.getSetting(tx, VERSION_KEY)) ?? 0);
  }

  async rules(tx: Tx): Promise<RetentionRule[]> {
    return (await on(tx).query('SELECT * FROM retention_rule ORDER BY id')).map(toRule);
  }

  async rule(tx: Tx, id: string): Promise<RetentionRule | null> {
    const row = await on(tx).one('SELECT * FROM retention_rule WHERE id = $1', [id]);
    return row ? toRule(row) : null;
  }

  async putRule(tx: Tx, r: RetentionRule, at: number): Promise<void> {
    await on(tx).query(`INSERT INTO retention_rule (id, name, mailboxes, sensitivities, departments, domains, directions, days, min_days, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, mailboxes = excluded.mailboxes, sensitivities = excluded.sensitivities, departments = excluded.departments,
      domains = excluded.domains, directions = excluded.directions, days = excluded.days, min_days = excluded.min_days, updated_at = excluded.updated_at`,
    [r.id, r.name, JSON.stringify(r.mailboxes), JSON.stringify(r.sensitivities), JSON.stringify(r.departments), JSON.stringify(r.domains), JSON.stringify(r.directions), r.days, r.minDays ?? null, at]);
    await this.#bump(tx);
  }

  async removeRule(tx: Tx, id: string): Promise<boolean> {
    const removed = (await on(tx).run('DELETE FROM retention_rule WHERE id = $1', [id])) === 1;
    if (removed) await this.#bump(tx);
    return removed;
  }

  async #bump(tx: Tx): Promise<void> {
    await this.#meta.setSetting(tx, VERSION_KEY, String(await this.version(tx) + 1));
  }

  // One statement for the whole batch: the addresses go in as one array.
  async mailboxesOf(tx: Tx, addresses: readonly string[]): Promise<AddressMailbox[]> {
    if (addresses.length === 0) return [];
    return (await on(tx).query(`SELECT a.address, m.name, m.sensitivity, m.department FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id
      WHERE a.address = ANY($1::text[])`, [addresses]))
      .map((r) => ({ address: r.address, mailbox: r.name, sensitivity: r.sensitivity ?? null, department: r.department ?? null }));
  }

  async addChange(tx: Tx, c: Omit<RetentionChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    await on(tx).query(`INSERT INTO retention_change (id, kind, rule_id, rule_before, rule_after, why, note, filed_by, filed_by_label, filed_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [c.id, c.kind, c.ruleId, c.before ? JSON.stringify(c.before) : null, c.after ? JSON.stringify(c.after) : null, c.why, c.note, c.filedBy, c.filedByLabel, c.filedAt]);
  }

  async decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE retention_change SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5', [d.by, d.decision, d.reason, d.at, id]);
  }

  async change(tx: Tx, id: string): Promise<RetentionChangeRecord | null> {
    const row = await on(tx).one('SELECT * FROM retention_change WHERE id = $1', [id]);
    return row ? toChange(row) : null;
  }

  async changes(tx: Tx): Promise<RetentionChangeRecord[]> {
    return (await on(tx).query('SELECT * FROM retention_change ORDER BY filed_at DESC, id DESC LIMIT 500')).map(toChange);
  }
}

function toRule(r: Record<string, any>): RetentionRule {
  return {
    id: r.id, name: r.name, mailboxes: JSON.parse(r.mailboxes), sensitivities: JSON.parse(r.sensitivities), departments: JSON.parse(r.departments),
    domains: JSON.parse(r.domains), directions: JSON.parse(r.directions), days: r.days,
    ...(r.min_days === null || r.min_days === undefined ? {} : { minDays: r.min_days }),
  };
}

// A PostgreSQL archive has no change filed before departments existed; read as SQLite reads them.
function filedRule(json: string | null): RetentionRule | null {
  return json ? { departments: [], ...JSON.parse(json) } : null;
}

function toChange(r: Record<string, any>): RetentionChangeRecord {
  return {
    id: r.id, kind: r.kind, ruleId: r.rule_id, before: filedRule(r.rule_before), after: filedRule(r.rule_after),
    why: r.why, note: r.note ?? null, filedBy: r.filed_by, filedByLabel: r.filed_by_label, filedAt: r.filed_at,
    decidedBy: r.decided_by, decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: r.decided_at,
  };
}
