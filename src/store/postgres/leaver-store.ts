import type { Tx } from '../../core/transactions.ts';
import type { LeaverChange, LeaverState, LeaverStore } from '../../retention/leaver-store.ts';
import { on } from './transactions.ts';

export class PostgresLeaverStore implements LeaverStore {
  async states(tx: Tx, mailboxIds?: readonly number[]): Promise<LeaverState[]> {
    const sql = `SELECT l.*, m.name AS mailbox, e.reason AS exempt_reason FROM leaver l JOIN mailbox m ON m.id = l.mailbox_id
      LEFT JOIN leaver_change e ON e.id = l.exemption_change`;
    const rows = mailboxIds === undefined
      ? await on(tx).query(`${sql} ORDER BY l.mailbox_id`)
      : await on(tx).query(`${sql} WHERE l.mailbox_id = ANY($1::bigint[]) ORDER BY l.mailbox_id`, [mailboxIds]);
    return rows.map((r) => ({
      mailboxId: r.mailbox_id, mailbox: r.mailbox, leftOn: r.left_on, disposeFrom: r.dispose_from, changeId: r.change_id,
      exemption: r.exemption_change === null ? null : { changeId: r.exemption_change, until: r.exempt_until, reason: r.exempt_reason },
    }));
  }

  async addChange(tx: Tx, c: Omit<LeaverChange, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    await on(tx).query(`INSERT INTO leaver_change (id, mailbox_id, mailbox, kind, left_on, dispose_from, exempt_until, before, reason, source, filed_by, filed_by_label, filed_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [c.id, c.mailboxId, c.mailbox, c.kind, c.leftOn, c.disposeFrom, c.exemptUntil,
      c.before === null ? null : JSON.stringify(c.before), c.reason, c.source, c.filedBy, c.filedByLabel, c.filedAt]);
  }

  async change(tx: Tx, id: string): Promise<LeaverChange | null> {
    const row = await on(tx).one('SELECT * FROM leaver_change WHERE id = $1', [id]);
    return row ? toChange(row) : null;
  }

  async changes(tx: Tx): Promise<LeaverChange[]> {
    return (await on(tx).query('SELECT * FROM leaver_change ORDER BY filed_at DESC, id DESC LIMIT 500')).map(toChange);
  }

  async filedBefore(tx: Tx, until: number): Promise<LeaverChange[]> {
    return (await on(tx).query('SELECT * FROM leaver_change WHERE filed_at < $1 ORDER BY filed_at, id', [until])).map(toChange);
  }

  async pending(tx: Tx, mailboxId: number): Promise<LeaverChange[]> {
    return (await on(tx).query('SELECT * FROM leaver_change WHERE mailbox_id = $1 AND decision IS NULL ORDER BY filed_at, id', [mailboxId])).map(toChange);
  }

  async decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE leaver_change SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5 AND decision IS NULL', [d.by, d.decision, d.reason, d.at, id]);
  }

  async setLeft(tx: Tx, mailboxId: number, s: { leftOn: number; disposeFrom: number; changeId: string }): Promise<void> {
    await on(tx).query(`INSERT INTO leaver (mailbox_id, left_on, dispose_from, change_id) VALUES ($1, $2, $3, $4)
      ON CONFLICT (mailbox_id) DO UPDATE SET left_on = excluded.left_on, dispose_from = excluded.dispose_from, change_id = excluded.change_id`, [mailboxId, s.leftOn, s.disposeFrom, s.changeId]);
  }

  async clearLeft(tx: Tx, mailboxId: number): Promise<void> {
    await on(tx).query('DELETE FROM leaver WHERE mailbox_id = $1', [mailboxId]);
  }

  async setExemption(tx: Tx, mailboxId: number, e: { changeId: string; until: number | null }): Promise<void> {
    await on(tx).query('UPDATE leaver SET exemption_change = $1, exempt_until = $2 WHERE mailbox_id = $3', [e.changeId, e.until, mailboxId]);
  }
}

function toChange(r: Record<string, any>): LeaverChange {
  return {
    id: r.id, mailboxId: r.mailbox_id, mailbox: r.mailbox, kind: r.kind, leftOn: r.left_on, disposeFrom: r.dispose_from, exemptUntil: r.exempt_until,
    before: r.before === null ? null : JSON.parse(r.before), reason: r.reason, source: r.source, filedBy: r.filed_by, filedByLabel: r.filed_by_label, filedAt: r.filed_at,
    decidedBy: r.decided_by, decision: r.decision, decisionReason: r.decision_reason, decidedAt: r.decided_at,
  };
}
