import { createHash } from 'node:crypto';
import type { Actor, Audit } from '../access/audit.ts';
import type { FourEyes } from '../access/four-eyes.ts';
import type { Notifier } from '../access/notifier.ts';
import { subjectAddresses } from '../access/subject-access.ts';
import type { User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { SearchIndex } from '../index/search-index.ts';
import type { LedgerStore } from '../ledger/ledger.ts';
import type { Disposal } from './disposal.ts';
import { keptSaid } from './kept-by-rule.ts';
import type { LegalHolds } from './legal-holds.ts';
import type { RuleActor } from './retention-rules.ts';
import type { SubjectRequest, SubjectStore } from './subject-store.ts';

export interface SubjectDeps {
  store: SubjectStore;
  meta: Transactions & LedgerStore;
  fourEyes: FourEyes;
  notifier: Notifier;
  clock: Clock;
  holds: LegalHolds;
  search: SearchIndex;
  disposal: Disposal;
  audit: Audit;
}

// What an erasure did: the certificate kept with the request and handed to whoever asked.
export interface ErasureOutcome {
  request: string;
  reference: string;
  subjects: string[];                 // sha256: of each address erased
  executedAt: string;
  messages: { disposed: string[]; kept: { sha256: string; why: string }[] };
  ledger: { erased: number; erasureEntry: number | null; disposeEntry: number | null; kept: { index: number; operation: string; why: string }[] };
}

// GDPR Art. 17: a person's right to have their data erased, within what the law lets the archive
// keep. Filed by one person and approved by another holding the approver role (an erasure
// destroys evidence; an administrator alone must not be able to aim it). On approval, of the mail
// the person takes part in, what a legal hold covers stays (Art. 17(3)(e)) and what a retention
// rule's minimum still keeps stays (Art. 17(3)(b): what the law makes the organisation keep; past
// it, a rule's longer maximum does not keep it); the rest is disposed of (keys, bytes, index rows, and
// who sent it to whom). In the ledger, every version-2 entry of reading and searching that
// mentions them has its personal payload erased (its leaf, and every proof, stay); records of
// administration — who may read what — stay for accountability, as do version-1 leaves, which
// hold their data in the leaf itself. Nothing is asked of the requester that names the person in
// the ledger or in a notice: the request's entries carry its id and a count.
export class SubjectRequests {
  readonly #d: SubjectDeps;

  constructor(d: SubjectDeps) {
    this.#d = d;
  }

  list(tx: Tx): Promise<SubjectRequest[]> {
    return this.#d.store.list(tx);
  }

  async file(tx: Tx, actor: RuleActor, input: { addresses: string[]; reference: string; reason: string }): Promise<SubjectRequest> {
    const addresses = subjectAddresses(input.addresses);
    if (!input.reference.trim() || !input.reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'an erasure request needs a reference and a reason', { fields: [!input.reference.trim() ? 'reference' : 'reason'] });
    const { store, notifier, clock } = this.#d;
    const r = { id: newId('dsr', clock.now()), kind: 'erasure' as const, addresses, reference: input.reference.trim(), reason: input.reason.trim(), filedBy: actor.user?.id ?? null, filedByLabel: actor.label, filedAt: clock.now() };
    await store.add(tx, r);
    await notifier.toApprovers(tx, 'subject.erasure', actor.user?.id ?? null, `Erasure request ${r.id} awaits a decision`,
      `${actor.label.replace(/^user:/, '')} asks to erase a person's data (reference ${r.reference}, ${addresses.length} address${addresses.length === 1 ? '' : 'es'}).\nRequest: ${r.id}`);
    return (await store.get(tx, r.id))!;
  }

  get(tx: Tx, id: string): Promise<SubjectRequest | null> {
    return this.#d.store.get(tx, id);
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<SubjectRequest> {
    const { store, fourEyes, clock } = this.#d;
    const r = await store.get(tx, id);
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no erasure request ${id}`);
    await fourEyes.mayDecide(tx, approver, r, { name: 'erasure request', self: 'no one approves an erasure they asked for' }, reason);
    await store.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: clock.now() });
    return (await store.get(tx, id))!;
  }

  // Carries out an approved request, once.
  async execute(actor: Actor, id: string): Promise<ErasureOutcome> {
    const { store, meta, holds, search, disposal, audit, clock } = this.#d;
    const { r, held } = await meta.read(async (tx) => ({ r: await store.get(tx, id), held: await holds.inForce(tx, search) }));
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no erasure request ${id}`);
    if (r.decision !== 'approve') throw new SealboxError('SEALBOX_ERR_CONFLICT', `erasure request ${id} is not approved`);
    if (r.executedAt !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `erasure request ${id} was carried out already`);

    const now = clock.now();
    const theirs = await search.messagesWith(r.addresses);
    const { go, kept: keeps } = await disposal.earlyKeeps(theirs.map((m) => m.sha256), now, held);
    const disposed = go.length > 0 ? await disposal.dispose(go, `erasure request ${id}`, actor, { holdsInForce: held.ids, minimumAt: now }) : null;
    const messages: ErasureOutcome['messages'] = {
      disposed: disposed?.disposed ?? [],
      kept: keeps.map((k) => ({ sha256: k.sha256, why: 'holds' in k ? `under legal hold ${k.holds.join(', ')} (Art. 17(3)(e))` : `${keptSaid(k.rule)} (Art. 17(3)(b))` })),
    };

    // The ledger: what still mentions them once their mail's receipts are erased.
    const mentions = await meta.read((tx) => meta.mentioning(tx, r.addresses));
    const kept: ErasureOutcome['ledger']['kept'] = [];
    const erases: number[] = [];
    for (const e of mentions) {
      if (e.version === 1) kept.push({ index: e.index, operation: e.operation, why: 'written before the ledger\'s version 2: the data is in the leaf, which no proof lets change' });
      else if (e.type === 'capture') kept.push({ index: e.index, operation: e.operation, why: 'the receipt of a message kept (above)' });
      else if ((e.type === 'admin' || e.type === 'system') && !e.operation.startsWith('subject.')) kept.push({ index: e.index, operation: e.operation, why: 'a record of administration (who may read what), kept for accountability (Art. 17(3)(b))' });
      else erases.push(e.index);
    }
    const subjects = r.addresses.map((a) => `sha256:${createHash('sha256').update(a).digest('hex')}`);
    return audit.record(actor, (o: ErasureOutcome) => ({ operation: 'ledger.erase', parameters: { request: id, erased: o.ledger.erased, messagesDisposed: o.messages.disposed.length, messagesKept: o.messages.kept.length }, erases }),
      async (tx) => {
        const outcome: ErasureOutcome = {
          request: id, reference: r.reference, subjects, executedAt: new Date(clock.now()).toISOString(), messages,
          ledger: { erased: erases.length, erasureEntry: await meta.ledgerSize(tx), disposeEntry: disposed?.ledgerIndex ?? null, kept },
        };
        await store.executed(tx, id, { at: clock.now(), addresses: subjects, outcome });
        return outcome;
      });
  }
}
