import type { Tx } from '../../core/transactions.ts';
import type { Hold, HoldNotice, HoldRelease, HoldStore } from '../../retention/hold-store.ts';
import { on } from './transactions.ts';

export class PostgresHoldStore implements HoldStore {
  async addHold(tx: Tx, h: Omit<Hold, 'releasedAt'>): Promise<void> {
    await on(tx).query(`INSERT INTO hold (id, name, matter, custodians, date_from, date_to, query, placed_by, placed_by_label, placed_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [h.id, h.name, h.matter, JSON.stringify(h.custodians), h.dateFrom, h.dateTo, h.query, h.placedBy, h.placedByLabel, h.placedAt]);
  }

  async hold(tx: Tx, id: string): Promise<Hold | null> {
    const row = await on(tx).one('SELECT * FROM hold WHERE id = $1', [id]);
    return row ? toHold(row) : null;
  }

  async holds(tx: Tx): Promise<Hold[]> {
    return (await on(tx).query('SELECT * FROM hold ORDER BY placed_at DESC, id DESC')).map(toHold);
  }

  async activeHolds(tx: Tx): Promise<Hold[]> {
    return (await on(tx).query('SELECT * FROM hold WHERE released_at IS NULL ORDER BY placed_at, id')).map(toHold);
  }

  async addRelease(tx: Tx, r: Omit<HoldRelease, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    await on(tx).query('INSERT INTO hold_release (id, hold_id, reason, filed_by, filed_by_label, filed_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [r.id, r.holdId, r.reason, r.filedBy, r.filedByLabel, r.filedAt]);
  }

  async release(tx: Tx, id: string): Promise<HoldRelease | null> {
    const row = await on(tx).one('SELECT * FROM hold_release WHERE id = $1', [id]);
    return row ? toRelease(row) : null;
  }

  async releases(tx: Tx, holdId?: string): Promise<HoldRelease[]> {
    const rows = holdId === undefined
      ? await on(tx).query('SELECT * FROM hold_release ORDER BY filed_at DESC, id DESC LIMIT 500')
      : await on(tx).query('SELECT * FROM hold_release WHERE hold_id = $1 ORDER BY filed_at DESC, id DESC', [holdId]);
    return rows.map(toRelease);
  }

  async decideRelease(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE hold_release SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5 AND decision IS NULL', [d.by, d.decision, d.reason, d.at, id]);
  }

  async endHold(tx: Tx, holdId: string, releaseId: string, at: number): Promise<void> {
    await on(tx).query('UPDATE hold SET released_at = $1, released_by_release = $2 WHERE id = $3 AND released_at IS NULL', [at, releaseId, holdId]);
  }

  async addNotice(tx: Tx, n: Omit<HoldNotice, 'acknowledgedAt'>): Promise<void> {
    await on(tx).query('INSERT INTO hold_notice (hold_id, mailbox_id, owner, notified_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [n.holdId, n.mailboxId, n.owner, n.notifiedAt]);
  }

  async notices(tx: Tx, holdId: string): Promise<HoldNotice[]> {
    return (await on(tx).query('SELECT * FROM hold_notice WHERE hold_id = $1 ORDER BY mailbox_id', [holdId])).map(toNotice);
  }

  async noticesTo(tx: Tx, owner: string): Promise<HoldNotice[]> {
    return (await on(tx).query('SELECT * FROM hold_notice WHERE owner = $1 ORDER BY hold_id, mailbox_id', [owner])).map(toNotice);
  }

  async acknowledge(tx: Tx, holdId: string, owner: string, at: number): Promise<boolean> {
    return (await on(tx).run('UPDATE hold_notice SET acknowledged_at = $1 WHERE hold_id = $2 AND owner = $3 AND acknowledged_at IS NULL', [at, holdId, owner])) > 0;
  }
}

function toHold(r: Record<string, any>): Hold {
  return {
    id: r.id, name: r.name, matter: r.matter, custodians: JSON.parse(r.custodians), dateFrom: r.date_from, dateTo: r.date_to, query: r.query,
    placedBy: r.placed_by, placedByLabel: r.placed_by_label, placedAt: r.placed_at, releasedAt: r.released_at,
  };
}

function toNotice(r: Record<string, any>): HoldNotice {
  return { holdId: r.hold_id, mailboxId: r.mailbox_id, owner: r.owner, notifiedAt: r.notified_at, acknowledgedAt: r.acknowledged_at };
}

function toRelease(r: Record<string, any>): HoldRelease {
  return {
    id: r.id, holdId: r.hold_id, reason: r.reason, filedBy: r.filed_by, filedByLabel: r.filed_by_label, filedAt: r.filed_at,
    decidedBy: r.decided_by, decision: r.decision, decisionReason: r.decision_reason, decidedAt: r.decided_at,
  };
}
