import type { Clock } from '../core/clock.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import { SealboxError } from '../core/errors.ts';
import type { Actor, Audit } from '../access/audit.ts';
import type { People, User } from '../access/people.ts';
import type { LedgerHistory } from './ledger-history.ts';
import type { ReviewChange, ReviewStore, StoredReviewItem } from './review-store.ts';

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

// Who a step records beside the state: the claimer, the closer; reopening forgets both.
const WHO: Partial<Record<ReviewAction, (userId: number, at: number) => Omit<ReviewChange, 'state' | 'at' | 'note'>>> = {
  claim: (userId) => ({ claimedBy: userId }),
  close: (userId, at) => ({ closedBy: userId, closedAt: at }),
  reopen: () => ({ claimedBy: null, closedBy: null, closedAt: null }),
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
  readonly #store: ReviewStore;
  readonly #history: LedgerHistory;
  readonly #audit: Audit;
  readonly #people: People;
  readonly #clock: Clock;

  constructor(d: { store: ReviewStore; history: LedgerHistory; audit: Audit; people: People; clock: Clock }) {
    this.#store = d.store;
    this.#history = d.history;
    this.#audit = d.audit;
    this.#people = d.people;
    this.#clock = d.clock;
  }

  // Queues an item once: the id names what is reviewed, so a second sweep adds nothing.
  add(tx: Tx, item: { id: string; kind: ReviewKind; requestId?: string | null; subjectUserId: number | null; reason: string; ledgerIndex?: number | null }): Promise<boolean> {
    return this.#store.add(tx, { ...item, requestId: item.requestId ?? null, ledgerIndex: item.ledgerIndex ?? null }, this.#clock.now());
  }

  async list(tx: Tx, filter: { state?: string; kind?: string } = {}): Promise<ReviewItem[]> {
    const out: ReviewItem[] = [];
    for (const r of await this.#store.list(tx, filter)) out.push(await this.#item(tx, r));
    return out;
  }

  async get(tx: Tx, id: string): Promise<ReviewItem> {
    const stored = await this.#store.get(tx, id);
    if (!stored) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no review item ${id}`);
    return this.#item(tx, stored);
  }

  // What the reviewer looks at, in metadata form: the entry that raised the item and every
  // ledger entry under its grant (queries, messages opened, exports, decisions) — never content.
  async activity(tx: Tx, item: ReviewItem): Promise<LedgerEntry[]> {
    const out = new Map<number, LedgerEntry>();
    if (item.ledgerIndex !== null) {
      const e = await this.#history.entryAt(tx, item.ledgerIndex);
      if (e) out.set(item.ledgerIndex, e);
    }
    if (item.requestId) {
      for (const e of await this.#history.entriesOfGrant(tx, item.requestId)) {
        if (e.grantId === item.requestId && !e.operation.startsWith('review.')) out.set(e.index, e);
      }
    }
    return [...out.values()].sort((a, b) => a.index - b.index);
  }

  // Decided on the item as it stands in the transaction that changes it, so of two steps at once
  // only one passes (two claims); a refusal rolls that back and is then recorded on its own.
  async step(actor: Actor & { user: User }, id: string, action: ReviewAction, note: string | null): Promise<ReviewItem> {
    const user = actor.user;
    const spec = STEPS[action];
    const text = note?.trim() || null;
    let refused = null as { why: string; grantId: string | null } | null;
    try {
      const { after } = await this.#audit.record(actor, ({ before }: { before: ReviewItem }) => ({ operation: `review.${action}`, grantId: before.requestId, parameters: { review: id, kind: before.kind, from: before.state, to: spec.to, note: text, ledgerIndex: before.ledgerIndex } }), async (tx) => {
        const item = await this.get(tx, id);
        const refuse = (why: string, code: 'SEALBOX_ERR_FORBIDDEN' | 'SEALBOX_ERR_CONFLICT' = 'SEALBOX_ERR_FORBIDDEN'): never => {
          refused = { why, grantId: item.requestId };
          throw new SealboxError(code, why);
        };
        if (!user.roles.some((r) => r === 'approver' || r === 'auditor')) refuse('only approvers and auditors review');
        if (item.subject === user.name) refuse('no one reviews their own actions');
        if (!spec.from.includes(item.state)) refuse(`review ${id} is ${item.state}; ${action} needs ${spec.from.join(' or ')}`, 'SEALBOX_ERR_CONFLICT');
        if (spec.claimerOnly && item.claimedBy !== user.name) refuse(`review ${id} is claimed by ${item.claimedBy}; only they decide`);
        if (action !== 'claim' && !text) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `a note is required to ${action} a review`);
        const now = this.#clock.now();
        await this.#store.update(tx, id, { state: spec.to, at: now, note: text, ...WHO[action]?.(user.id, now) });
        return { before: item, after: await this.get(tx, id) };
      });
      return after;
    } catch (err) {
      if (refused) await this.#audit.denied(actor, { operation: `review.${action}`, grantId: refused.grantId, parameters: { review: id } }, refused.why);
      throw err;
    }
  }

  async #item(tx: Tx, r: StoredReviewItem): Promise<ReviewItem> {
    const name = async (id: number | null) => (id === null ? null : (await this.#people.byId(tx, id))?.name ?? `#${id}`);
    return {
      id: r.id, kind: r.kind, requestId: r.requestId, subject: await name(r.subjectUserId), reason: r.reason, ledgerIndex: r.ledgerIndex, state: r.state,
      claimedBy: await name(r.claimedBy), createdAt: r.createdAt, updatedAt: r.updatedAt, closedBy: await name(r.closedBy), note: r.note,
    };
  }
}
