import type { Tx } from '../../core/transactions.ts';
import type { Hold, HoldNotice, HoldRelease, HoldStore } from '../../retention/hold-store.ts';
import { on } from './transactions.ts';

export class SqliteHoldStore implements HoldStore {
  async addHold(tx: Tx, h: Omit<Hold, 'releasedAt'>): Promise<void> {
    on(tx).prepare(`INSERT INTO hold (id, name, matter, custodians, date_from, date_to, query, placed_by, placed_by_label, placed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(h.id, h.name, h.matter, JSON.stringify(h.custodians), h.dateFrom, h.dateTo, h.query, h.placedBy, h.placedByLabel, h.placedAt);
  }

  async hold(tx: Tx, id: string): Promise<Hold | null> {
    const row = on(tx).prepare('SELECT * FROM hold WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toHold(row) : null;
  }

  async holds(tx: Tx): Promise<Hold[]> {
    return (on(tx).prepare('SELECT * FROM hold ORDER BY placed_at DESC, id DESC').all() as Record<string, any>[]).map(toHold);
  }

  async activeHolds(tx: Tx): Promise<Hold[]> {
    return (on(tx).prepare('SELECT * FROM hold WHERE released_at IS NULL ORDER BY placed_at, id').all() as Record<string, any>[]).map(toHold);
  }

  async addRelease(tx: Tx, r: Omit<HoldRelease, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    on(tx).prepare('INSERT INTO hold_release (id, hold_id, reason, filed_by, filed_by_label, filed_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.id, r.holdId, r.reason, r.filedBy, r.filedByLabel, r.filedAt);
  }

  async release(tx: Tx, id: string): Promise<HoldRelease | null> {
    const row = on(tx).prepare('SELECT * FROM hold_release WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRelease(row) : null;
  }

  async releases(tx: Tx, holdId?: string): Promise<HoldRelease[]> {
    const rows = holdId === undefined
      ? on(tx).prepare('SELECT * FROM hold_release ORDER BY filed_at DESC, id DESC LIMIT 500').all()
      : on(tx).prepare('SELECT * FROM hold_release WHERE hold_id = ? ORDER BY filed_at DESC, id DESC').all(holdId);
    return (rows as Record<string, any>[]).map(toRelease);
  }

  async decideRelease(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE hold_release SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ? AND decision IS NULL').run(d.by, d.decision, d.reason, d.at, id);
  }

  async endHold(tx: Tx, holdId: string, releaseId: string, at: number): Promise<void> {
    on(tx).prepare('UPDATE hold SET released_at = ?, released_by_release = ? WHERE id = ? AND released_at IS NULL').run(at, releaseId, holdId);
  }

  async addNotice(tx: Tx, n: Omit<HoldNotice, 'acknowledgedAt'>): Promise<void> {
    on(tx).prepare('INSERT OR IGNORE INTO hold_notice (hold_id, mailbox_id, owner, notified_at) VALUES (?, ?, ?, ?)').run(n.holdId, n.mailboxId, n.owner, n.notifiedAt);
  }

  async notices(tx: Tx, holdId: string): Promise<HoldNotice[]> {
    return (on(tx).prepare('SELECT * FROM hold_notice WHERE hold_id = ? ORDER BY mailbox_id').all(holdId) as Record<string, any>[]).map(toNotice);
  }

  async noticesTo(tx: Tx, owner: string): Promise<HoldNotice[]> {
    return (on(tx).prepare('SELECT * FROM hold_notice WHERE owner = ? ORDER BY hold_id, mailbox_id').all(owner) as Record<string, any>[]).map(toNotice);
  }

  async acknowledge(tx: Tx, holdId: string, owner: string, at: number): Promise<boolean> {
    return Number(on(tx).prepare('UPDATE hold_notice SET acknowledged_at = ? WHERE hold_id = ? AND owner = ? AND acknowledged_at IS NULL').run(at, holdId, owner).changes) > 0;
  }
}

function toHold(r: Record<string, any>): Hold {
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: r.id, name: r.name, matter: r.matter, custodians: JSON.parse(r.custodians), dateFrom: n(r.date_from), dateTo: n(r.date_to), query: r.query,
    placedBy: n(r.placed_by), placedByLabel: r.placed_by_label, placedAt: Number(r.placed_at), releasedAt: n(r.released_at),
  };
}

function toNotice(r: Record<string, any>): HoldNotice {
  return { holdId: r.hold_id, mailboxId: Number(r.mailbox_id), owner: r.owner, notifiedAt: Number(r.notified_at), acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at) };
}

function toRelease(r: Record<string, any>): HoldRelease {
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: r.id, holdId: r.hold_id, reason: r.reason, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label, filedAt: Number(r.filed_at),
    decidedBy: n(r.decided_by), decision: r.decision, decisionReason: r.decision_reason, decidedAt: n(r.decided_at),
  };
}
