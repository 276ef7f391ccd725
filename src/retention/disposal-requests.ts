import type { Actor } from '../access/audit.ts';
import type { FourEyes } from '../access/four-eyes.ts';
import type { Notifier } from '../access/notifier.ts';
import type { User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { SearchIndex } from '../index/search-index.ts';
import type { DisposalRequest, DisposalRequestStore } from './disposal-request-store.ts';
import type { Disposal } from './disposal.ts';
import { keptSaid } from './kept-by-rule.ts';
import type { LegalHolds } from './legal-holds.ts';
import type { RuleActor } from './retention-rules.ts';

export interface DisposalRequestDeps {
  store: DisposalRequestStore;
  meta: Transactions;
  fourEyes: FourEyes;
  notifier: Notifier;
  clock: Clock;
  holds: LegalHolds;
  search: SearchIndex;
  disposal: Disposal;
}

export interface EarlyDisposalOutcome {
  request: string;
  disposed: string[];
  kept: { sha256: string; why: string }[];
  disposeEntry: number | null;
}

// Destroying mail before its retention ends (a message archived that never should have been):
// shortening what was promised, so filed by one person and decided by an approver who is neither
// the filer nor linked to them, like every such change. A legal hold still wins, and so does a
// retention rule's minimum (what the law makes the organisation keep): what either keeps stays,
// with the reason in the outcome.
export class DisposalRequests {
  readonly #d: DisposalRequestDeps;

  constructor(d: DisposalRequestDeps) {
    this.#d = d;
  }

  list(tx: Tx): Promise<DisposalRequest[]> {
    return this.#d.store.list(tx);
  }

  async file(tx: Tx, actor: RuleActor, input: { sha256s: string[]; reason: string }): Promise<DisposalRequest> {
    const sha256s = [...new Set(input.sha256s.map((s) => s.trim().toLowerCase()))];
    if (sha256s.length === 0 || sha256s.some((s) => !/^[0-9a-f]{64}$/.test(s))) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'name the messages by their sha256 (64 hex digits)', { fields: ['sha256s'] });
    if (!input.reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required', { fields: ['reason'] });
    const { store, notifier, clock } = this.#d;
    const r = { id: newId('dpr', clock.now()), sha256s, reason: input.reason.trim(), filedBy: actor.user?.id ?? null, filedByLabel: actor.label, filedAt: clock.now() };
    await store.add(tx, r);
    await notifier.toApprovers(tx, 'disposal.request', actor.user?.id ?? null, `Early disposal ${r.id} awaits a decision`,
      `${actor.label.replace(/^user:/, '')} asks to destroy ${sha256s.length} message${sha256s.length === 1 ? '' : 's'} before their retention ends.\nReason given: ${r.reason}\nRequest: ${r.id}`);
    return (await store.get(tx, r.id))!;
  }

  get(tx: Tx, id: string): Promise<DisposalRequest | null> {
    return this.#d.store.get(tx, id);
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<DisposalRequest> {
    const { store, fourEyes, clock } = this.#d;
    const r = await store.get(tx, id);
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no disposal request ${id}`);
    await fourEyes.mayDecide(tx, approver, r, { name: 'disposal request', self: 'no one approves destroying mail they asked to destroy' }, reason);
    await store.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: clock.now() });
    return (await store.get(tx, id))!;
  }

  // Carries out an approved request, once.
  async execute(actor: Actor, id: string): Promise<EarlyDisposalOutcome> {
    const { store, meta, holds, search, disposal, clock } = this.#d;
    const { r, held } = await meta.read(async (tx) => ({ r: await store.get(tx, id), held: await holds.inForce(tx, search) }));
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no disposal request ${id}`);
    if (r.decision !== 'approve') throw new SealboxError('SEALBOX_ERR_CONFLICT', `disposal request ${id} is not approved`);
    if (r.executedAt !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `disposal request ${id} was carried out already`);
    const now = clock.now();
    const { go, kept: keeps } = await disposal.earlyKeeps(r.sha256s, now, held);
    const kept = keeps.map((k) => ({ sha256: k.sha256, why: 'holds' in k ? `under legal hold ${k.holds.join(', ')}` : keptSaid(k.rule) }));
    const done = go.length > 0 ? await disposal.dispose(go, `disposal request ${id}`, actor, { holdsInForce: held.ids, minimumAt: now }) : null;
    const outcome: EarlyDisposalOutcome = { request: id, disposed: done?.disposed ?? [], kept, disposeEntry: done?.ledgerIndex ?? null };
    // The dispose entry records what went; a crash before this line runs it again harmlessly.
    await meta.write(async (tx) => store.executed(tx, id, { at: clock.now(), outcome }));
    return outcome;
  }
}
