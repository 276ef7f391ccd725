import type { DirectoryRow } from './mailbox-import.ts';
import type { SqliteMetadataStore } from './sqlite/metadata-store.ts';

export interface OwnershipChangeRow {
  id: string;
  mailbox: string;
  row: DirectoryRow;
  ownerBefore: string | null;
  ownerAfter: string;
  gains: { address: string; from: string | null }[];
  why: string;
  stagedBy: number | null;
  stagedByLabel: string;
  stagedAt: number;
  decidedBy: number | null;
  decision: 'approve' | 'deny' | null;
  decisionReason: string | null;
  decidedAt: number | null;
}

// The directory as it stands (whose mailbox holds an address, who owns it) and the ownership
// changes waiting for approval (src/access/mailbox-ownership.ts holds the rules).
export class OwnershipChanges {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  mailbox(name: string): { id: number; owner: string | null; sensitivity: string | null; addresses: string[] } | null {
    const m = this.#meta.prepare('SELECT id, owner, sensitivity FROM mailbox WHERE name = ?').get(name) as Record<string, any> | undefined;
    if (!m) return null;
    const addresses = (this.#meta.prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ?').all(m.id) as { address: string }[]).map((a) => a.address);
    return { id: Number(m.id), owner: m.owner ?? null, sensitivity: m.sensitivity ?? null, addresses };
  }

  holderOf(address: string): { name: string; owner: string | null } | null {
    return (this.#meta.prepare('SELECT m.name, m.owner FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(address.toLowerCase()) as { name: string; owner: string | null } | undefined) ?? null;
  }

  insert(c: Omit<OwnershipChangeRow, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): void {
    this.#meta.prepare('INSERT INTO ownership_change (id, mailbox, row, owner_before, owner_after, gains, staged_by, staged_by_label, staged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.mailbox, JSON.stringify({ ...c.row, why: c.why }), c.ownerBefore, c.ownerAfter, JSON.stringify(c.gains), c.stagedBy, c.stagedByLabel, c.stagedAt);
  }

  decide(id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): void {
    this.#meta.prepare('UPDATE ownership_change SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ?').run(d.by, d.decision, d.reason, d.at, id);
  }

  get(id: string): OwnershipChangeRow | null {
    const row = this.#meta.prepare('SELECT * FROM ownership_change WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRow(row) : null;
  }

  list(): OwnershipChangeRow[] {
    return (this.#meta.prepare('SELECT * FROM ownership_change ORDER BY staged_at DESC LIMIT 500').all() as Record<string, any>[]).map(toRow);
  }
}

function toRow(r: Record<string, any>): OwnershipChangeRow {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const { why, ...row } = JSON.parse(r.row);
  return {
    id: r.id, mailbox: r.mailbox, row, why, ownerBefore: r.owner_before ?? null, ownerAfter: r.owner_after, gains: JSON.parse(r.gains),
    stagedBy: n(r.staged_by), stagedByLabel: r.staged_by_label, stagedAt: Number(r.staged_at), decidedBy: n(r.decided_by), decision: r.decision ?? null,
    decisionReason: r.decision_reason ?? null, decidedAt: n(r.decided_at),
  };
}
