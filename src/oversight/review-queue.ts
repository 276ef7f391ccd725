import type { Clock } from '../core/clock.ts';
import type { LedgerEntry } from '../core/types.ts';
import { SealboxError } from '../core/errors.ts';
import type { Actor, Audit } from '../access/audit.ts';
import type { People, User } from '../access/people.ts';
import { parseEntry } from '../ledger/ledger-entry.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';

export type ReviewState = 'open' | 'claimed' | 'reviewed' | 'escalated' | 'closed';
export type ReviewAction = 'claim' | 'review' | 'escalate' | 'close' | 'reopen';
export type ReviewKind = 'breakglass' | 'sample' | 'high-impact' | 'alert';

// The workflow: open → claimed → reviewed | escalated → closed, and back to open when a closed
// (or decided) item needs another look. Only the claimer decides; anyone eligible closes.
const STEPS: Record<ReviewAction, { from: ReviewState[]; to: ReviewState; claimerOnly: boolean }> = {
  claim: { from: ['open'], to: 'claimed', claimerOnly: false },
  review: { from: ['claimed'], to: 'reviewed', claimerOnly: true },
  escalate: { from: ['claimed'], to: 'escalated', claimerOnly: true },
  close: { from: ['reviewed', 'escalated'], to: 'closed', claimerOnly: false },
  reopen: { from: ['reviewed', 'escalated', 'closed'], to: 'open', claimerOnly: false },
};

export interface ReviewItem {
  id: string;
  kind: ReviewKind;
  requestId: string | null;
  subject: string | null;
  reason: string | null;
  ledgerIndex: number | null;
  state: ReviewState;
  claimedBy: string | null;
  createdAt: number;
  updatedAt: number | null;
  closedBy: string | null;
  note: string | null;
}

// The review queue: items from the random sample of closed grants, every high-impact action,
// alerts and break-glass uses. Every step is written to the ledger with who, when, the decision
// and the note, in the same transaction as the change (evidence of review).
export class ReviewQueue {
  readonly #meta: SqliteMetadataStore;
  readonly #audit: Audit;
  readonly #people: People;
  readonly #clock: Clock;

  constructor(d: { meta: SqliteMetadataStore; audit: Audit; people: People; clock: Clock }) {
    this.#meta = d.meta;
    this.#audit = d.audit;
    this.#people = d.people;
    this.#clock = d.clock;
  }

  // Queues an item once: the id names what is reviewed, so a second sweep adds nothing.
  add(item: { id: string; kind: ReviewKind; requestId?: string | null; subjectUserId: number | null; reason: string; ledgerIndex?: number | null }): boolean {
    const r = this.#meta.prepare(`INSERT OR IGNORE INTO review_item (id, kind, request_id, subject_user_id, created_at, state, reason, ledger_index, updated_at)
      VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)`).run(item.id, item.kind, item.requestId ?? null, item.subjectUserId, this.#clock.now(), item.reason, item.ledgerIndex ?? null, this.#clock.now());
    return Number(r.changes) > 0;
  }

  list(filter: { state?: string; kind?: string } = {}): ReviewItem[] {
    const rows = this.#meta.prepare(`SELECT * FROM review_item WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY created_at DESC, id`)
      .all(filter.state ?? null, filter.kind ?? null) as Record<string, any>[];
    return rows.map((r) => this.#item(r));
  }

  get(id: string): ReviewItem {
    const row = this.#meta.prepare('SELECT * FROM review_item WHERE id = ?').get(id) as Record<string, any> | undefined;
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no review item ${id}`);
    return this.#item(row);
  }

  // What the reviewer looks at, in metadata form: the entry that raised the item and every
  // ledger entry under its grant (queries, messages opened, exports, decisions) — never content.
  activity(item: ReviewItem): LedgerEntry[] {
    const out = new Map<number, LedgerEntry>();
    if (item.ledgerIndex !== null) {
      const row = this.#meta.prepare('SELECT leaf FROM ledger WHERE idx = ?').get(item.ledgerIndex) as { leaf: Uint8Array } | undefined;
      if (row) out.set(item.ledgerIndex, parseEntry(row.leaf));
    }
    if (item.requestId) {
      const rows = this.#meta.prepare('SELECT l.idx, l.leaf FROM ledger_grant g JOIN ledger l ON l.idx = g.idx WHERE g.grant_id = ? ORDER BY l.idx').all(item.requestId) as { idx: number; leaf: Uint8Array }[];
      for (const r of rows) {
        const e = parseEntry(r.leaf);
        if (e.grantId === item.requestId && !e.operation.startsWith('review.')) out.set(Number(r.idx), e);
      }
    }
    return [...out.values()].sort((a, b) => a.index - b.index);
  }

  step(actor: Actor & { user: User }, id: string, action: ReviewAction, note: string | null): ReviewItem {
    const user = actor.user;
    const item = this.get(id);
    const spec = STEPS[action];
    const refuse = (why: string, code: 'SEALBOX_ERR_FORBIDDEN' | 'SEALBOX_ERR_CONFLICT' = 'SEALBOX_ERR_FORBIDDEN'): never => {
      this.#audit.denied(actor, { type: 'admin', operation: `review.${action}`, grantId: item.requestId, parameters: { review: id } }, why);
      throw new SealboxError(code, why);
    };
    if (!user.roles.some((r) => r === 'approver' || r === 'auditor')) refuse('only approvers and auditors review');
    if (item.subject === user.name) refuse('no one reviews their own actions');
    if (!spec.from.includes(item.state)) refuse(`review ${id} is ${item.state}; ${action} needs ${spec.from.join(' or ')}`, 'SEALBOX_ERR_CONFLICT');
    if (spec.claimerOnly && item.claimedBy !== user.name) refuse(`review ${id} is claimed by ${item.claimedBy}; only they decide`);
    if (action !== 'claim' && !note?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `a note is required to ${action} a review`);
    const now = this.#clock.now();
    return this.#audit.record(actor, { type: 'admin', operation: `review.${action}`, grantId: item.requestId, parameters: { review: id, kind: item.kind, from: item.state, to: spec.to, note: note?.trim() || null, ledgerIndex: item.ledgerIndex } }, () => {
      this.#meta.prepare(`UPDATE review_item SET state = ?, updated_at = ?, note = COALESCE(?, note),
        claimed_by = CASE WHEN ? = 'claim' THEN ? WHEN ? = 'reopen' THEN NULL ELSE claimed_by END,
        closed_by = CASE WHEN ? = 'close' THEN ? WHEN ? = 'reopen' THEN NULL ELSE closed_by END,
        closed_at = CASE WHEN ? = 'close' THEN ? WHEN ? = 'reopen' THEN NULL ELSE closed_at END WHERE id = ?`)
        .run(spec.to, now, note?.trim() || null, action, user.id, action, action, user.id, action, action, now, action, id);
      return this.get(id);
    });
  }

  #item(r: Record<string, any>): ReviewItem {
    const name = (v: unknown) => (v === null || v === undefined ? null : this.#people.byId(Number(v))?.name ?? `#${v}`);
    return {
      id: r.id, kind: r.kind, requestId: r.request_id ?? null, subject: name(r.subject_user_id), reason: r.reason ?? null,
      ledgerIndex: r.ledger_index === null || r.ledger_index === undefined ? null : Number(r.ledger_index), state: r.state,
      claimedBy: name(r.claimed_by), createdAt: Number(r.created_at), updatedAt: r.updated_at === null ? null : Number(r.updated_at),
      closedBy: name(r.closed_by), note: r.note ?? null,
    };
  }
}
