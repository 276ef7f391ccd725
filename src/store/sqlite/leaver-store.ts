import type { Tx } from '../../core/transactions.ts';
import type { LeaverChange, LeaverState, LeaverStore } from '../../retention/leaver-store.ts';
import { on } from './transactions.ts';

export class SqliteLeaverStore implements LeaverStore {
  async states(tx: Tx, mailboxIds?: readonly number[]): Promise<LeaverState[]> {
    const sql = `SELECT l.*, m.name AS mailbox, e.reason AS exempt_reason FROM leaver l JOIN mailbox m ON m.id = l.mailbox_id
      LEFT JOIN leaver_change e ON e.id = l.exemption_change`;
    const rows = mailboxIds === undefined
      ? on(tx).prepare(`${sql} ORDER BY l.mailbox_id`).all()
      : on(tx).prepare(`${sql} WHERE l.mailbox_id IN (SELECT value FROM json_each(?)) ORDER BY l.mailbox_id`).all(JSON.stringify(mailboxIds));
    return (rows as Record<string, any>[]).map((r) => ({
      mailboxId: Number(r.mailbox_id), mailbox: r.mailbox, leftOn: Number(r.left_on), disposeFrom: Number(r.dispose_from), changeId: r.change_id,
      exemption: r.exemption_change === null ? null : { changeId: r.exemption_change, until: r.exempt_until === null ? null : Number(r.exempt_until), reason: r.exempt_reason },
    }));
  }

  async addChange(tx: Tx, c: Omit<LeaverChange, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    on(tx).prepare(`INSERT INTO leaver_change (id, mailbox_id, mailbox, kind, left_on, dispose_from, exempt_until, before, reason, source, filed_by, filed_by_label, filed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(c.id, c.mailboxId, c.mailbox, c.kind, c.leftOn, c.disposeFrom, c.exemptUntil,
      c.before === null ? null : JSON.stringify(c.before), c.reason, c.source, c.filedBy, c.filedByLabel, c.filedAt);
  }

  async change(tx: Tx, id: string): Promise<LeaverChange | null> {
    const row = on(tx).prepare('SELECT * FROM leaver_change WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toChange(row) : null;
  }

  async changes(tx: Tx): Promise<LeaverChange[]> {
    return (on(tx).prepare('SELECT * FROM leaver_change ORDER BY filed_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toChange);
  }

  async filedBefore(tx: Tx, until: number): Promise<LeaverChange[]> {
    return (on(tx).prepare('SELECT * FROM leaver_change WHERE filed_at < ? ORDER BY filed_at, id').all(until) as Record<string, any>[]).map(toChange);
  }

  async pending(tx: Tx, mailboxId: number): Promise<LeaverChange[]> {
    return (on(tx).prepare('SELECT * FROM leaver_change WHERE mailbox_id = ? AND decision IS NULL ORDER BY filed_at, id').all(mailboxId) as Record<string, any>[]).map(toChange);
  }

  async decideChange(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE leaver_change SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ? AND decision IS NULL').run(d.by, d.decision, d.reason, d.at, id);
  }

  async setLeft(tx: Tx, mailboxId: number, s: { leftOn: number; disposeFrom: number; changeId: string }): Promise<void> {
    on(tx).prepare(`INSERT INTO leaver (mailbox_id, left_on, dispose_from, change_id) VALUES (?, ?, ?, ?)
      ON CONFLICT (mailbox_id) DO UPDATE SET left_on = excluded.left_on, dispose_from = excluded.dispose_from, change_id = excluded.change_id`).run(mailboxId, s.leftOn, s.disposeFrom, s.changeId);
  }

  async clearLeft(tx: Tx, mailboxId: number): Promise<void> {
    on(tx).prepare('DELETE FROM leaver WHERE mailbox_id = ?').run(mailboxId);
  }

  async setExemption(tx: Tx, mailboxId: number, e: { changeId: string; until: number | null }): Promise<void> {
    on(tx).prepare('UPDATE leaver SET exemption_change = ?, exempt_until = ? WHERE mailbox_id = ?').run(e.changeId, e.until, mailboxId);
  }
}

function toChange(r: Record<string, any>): LeaverChange {
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: r.id, mailboxId: Number(r.mailbox_id), mailbox: r.mailbox, kind: r.kind, leftOn: n(r.left_on), disposeFrom: n(r.dispose_from), exemptUntil: n(r.exempt_until),
    before: r.before === null ? null : JSON.parse(r.before), reason: r.reason, source: r.source, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label, filedAt: Number(r.filed_at),
    decidedBy: n(r.decided_by), decision: r.decision, decisionReason: r.decision_reason, decidedAt: n(r.decided_at),
  };
}
