import type { FourEyes } from '../access/four-eyes.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import type { Notifier } from '../access/notifier.ts';
import type { People, User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import type { SearchIndex, SearchScope } from '../index/search-index.ts';
import { parseQuery } from '../index/search-query.ts';
import type { Hold, HoldRelease, HoldStore } from './hold-store.ts';
import type { RuleActor } from './retention-rules.ts';

export interface HoldInput {
  name: string;
  matter: string;
  custodians: string[];        // mailbox names
  dateFrom?: number | null;
  dateTo?: number | null;
  query?: string | null;
}

export interface HoldsInForce {
  ids: string[];
  // Changes whenever what they cover may have shrunk: a hold released, a custodian's address
  // moved to another mailbox (placing a hold changes it too).
  key: string;
  // The holds covering each of these messages, by sha256 (one not covered is left out): one
  // query a hold for as many messages as are asked.
  covering(sha256s: readonly string[]): Promise<Map<string, string[]>>;
  // The messages (row ids) with ids in (after, upTo] that any of them covers: what they hold,
  // read from the holds' side a window of ids at a time.
  coveredBetween(after: number, upTo: number): Promise<Set<number>>;
}

export interface HoldDeps {
  store: HoldStore;
  mailboxes: MailboxStore;
  people: People;
  fourEyes: FourEyes;
  notifier: Notifier;
  clock: Clock;
}

// Legal holds (cases). A hold keeps what it covers — its custodians' mail in its window, matching
// its query if it has one — from disposal whatever retention says, so placing one applies at
// once; ending one is how an administrator would let evidence go, so a release is filed by one
// person and approved by another holding the approver role, never linked to the filer
// (FourEyes), as retention changes are. Holds are never deleted; the query is kept with the
// hold as the proof of its scope. Each custodian mailbox's owner is told, and may acknowledge.
export class LegalHolds {
  readonly #d: HoldDeps;

  constructor(d: HoldDeps) {
    this.#d = d;
  }

  holds(tx: Tx): Promise<Hold[]> {
    return this.#d.store.holds(tx);
  }

  async hold(tx: Tx, id: string): Promise<Hold> {
    const h = await this.#d.store.hold(tx, id);
    if (!h) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no legal hold ${id}`);
    return h;
  }

  releases(tx: Tx, holdId?: string): Promise<HoldRelease[]> {
    return this.#d.store.releases(tx, holdId);
  }

  notices(tx: Tx, holdId: string) {
    return this.#d.store.notices(tx, holdId);
  }

  // The holds a person is a custodian of: those naming a mailbox they own, and those they were
  // told of (a mailbox owned then); with only their own mailboxes among its custodians (the others
  // are not theirs to know) and their notice: when told, and whether they acknowledged it.
  async mine(tx: Tx, user: User): Promise<{ hold: Hold; mailboxes: string[]; notifiedAt: number | null; acknowledgedAt: number | null }[]> {
    const owned = new Set((await this.#d.mailboxes.ownedBy(tx, user.name)).map((m) => m.id));
    const notices = await this.#d.store.noticesTo(tx, user.name);
    const out = [];
    for (const hold of await this.#d.store.holds(tx)) {
      const told = notices.filter((n) => n.holdId === hold.id);
      const mailboxes = hold.custodians.filter((c) => owned.has(c.id) || told.some((n) => n.mailboxId === c.id)).map((c) => c.name);
      if (mailboxes.length === 0) continue;
      out.push({
        hold, mailboxes,
        notifiedAt: told.length ? Math.min(...told.map((n) => n.notifiedAt)) : null,
        // Acknowledging answers every notice of the hold to this person at once.
        acknowledgedAt: told.length && told.every((n) => n.acknowledgedAt !== null) ? Math.max(...told.map((n) => n.acknowledgedAt!)) : null,
      });
    }
    return out;
  }

  // What every hold in force covers, as a search scope (the same one grants are held to).
  async #activeScopes(tx: Tx): Promise<{ hold: Hold; scope: SearchScope }[]> {
    return (await this.#d.store.activeHolds(tx)).map((hold) => ({
      hold, scope: { mailboxes: hold.custodians, dateFrom: hold.dateFrom, dateTo: hold.dateTo, fixedQuery: hold.query },
    }));
  }

  // The holds in force (their ids, sorted: a disposal transaction checks they are still the same)
  // and which of them cover a message, judged on the index by the scope a grant of theirs would
  // have. Used after the transaction that read them: it reads the index only.
  async inForce(tx: Tx, search: Pick<SearchIndex, 'inScope' | 'inScopeBetween'>): Promise<HoldsInForce> {
    const scopes = await this.#activeScopes(tx);
    const ids = scopes.map((s) => s.hold.id).sort();
    const custodians = [...new Set(scopes.flatMap((s) => s.hold.custodians.map((c) => c.name)))].sort();
    const addresses = await Promise.all(custodians.map(async (name) => [name, (await this.#d.mailboxes.byName(tx, name))?.addresses.toSorted() ?? null]));
    return {
      ids,
      key: JSON.stringify([ids, addresses]),
      covering: async (sha256s) => {
        const by = new Map<string, string[]>();
        if (sha256s.length === 0) return by;
        for (const { hold, scope } of scopes) {
          for (const sha256 of (await search.inScope(sha256s, scope)).keys()) by.set(sha256, [...(by.get(sha256) ?? []), hold.id]);
        }
        return by;
      },
      coveredBetween: async (after, upTo) => {
        const ids = new Set<number>();
        for (const { scope } of scopes) for (const m of await search.inScopeBetween(scope, after, upTo)) ids.add(m.id);
        return ids;
      },
    };
  }

  // The mailboxes the holds in force name as custodians (mailbox id → hold ids).
  async custodians(tx: Tx): Promise<Map<number, string[]>> {
    const by = new Map<number, string[]>();
    for (const hold of await this.#d.store.activeHolds(tx)) for (const c of hold.custodians) by.set(c.id, [...(by.get(c.id) ?? []), hold.id]);
    return by;
  }

  async place(tx: Tx, actor: RuleActor, input: HoldInput): Promise<Hold> {
    const { store, mailboxes, people, notifier, clock } = this.#d;
    const name = input.name.trim();
    const matter = input.matter.trim();
    if (!name || !matter) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a legal hold needs a name and a matter reference', { fields: [!name ? 'name' : 'matter'] });
    const names = [...new Set(input.custodians.map((c) => c.trim()).filter(Boolean))];
    if (names.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a legal hold names at least one custodian mailbox', { fields: ['custodians'] });
    const custodians: { id: number; name: string; owner: string | null }[] = [];
    for (const n of names) {
      const m = await mailboxes.byName(tx, n);
      if (!m) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${n}"`, { fields: ['custodians'] });
      custodians.push({ id: m.id, name: m.name, owner: m.owner });
    }
    const dateFrom = input.dateFrom ?? null;
    const dateTo = input.dateTo ?? null;
    if (dateFrom !== null && dateTo !== null && dateFrom >= dateTo) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the hold\'s window ends before it starts', { fields: ['dateTo'] });
    const query = input.query?.trim() || null;
    if (query !== null) parseQuery(query);   // a query the language refuses is refused here, with its position
    const hold = {
      id: newId('hold', clock.now()), name, matter, custodians: custodians.map(({ id, name }) => ({ id, name })), dateFrom, dateTo, query,
      placedBy: actor.user?.id ?? null, placedByLabel: actor.label, placedAt: clock.now(),
    };
    await store.addHold(tx, hold);
    for (const c of custodians) {
      const owner = c.owner ? await people.byName(tx, c.owner) : null;
      if (!owner || owner.disabled) continue;
      await store.addNotice(tx, { holdId: hold.id, mailboxId: c.id, owner: owner.name, notifiedAt: clock.now() });
      await notifier.toPerson(tx, 'hold.notice', owner, `Legal hold: preserve your mail for "${name}"`,
        `Your mailbox ${c.name} is under legal hold ${hold.id} for ${name} (matter ${matter})${windowText(hold)}${query ? `, mail matching: ${query}` : ''}.\n`
        + 'The archive keeps this mail whatever its retention says until the hold is released. Do not delete related mail or documents elsewhere.\n'
        + 'Please acknowledge this notice in Sealbox (Notifications).');
    }
    return (await store.hold(tx, hold.id))!;
  }

  async fileRelease(tx: Tx, actor: RuleActor, holdId: string, reason: string): Promise<HoldRelease> {
    const { store, notifier, clock } = this.#d;
    const hold = await this.hold(tx, holdId);
    if (hold.releasedAt !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `legal hold ${holdId} was released already`);
    if (!reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required', { fields: ['reason'] });
    const release = { id: newId('hrl', clock.now()), holdId, reason: reason.trim(), filedBy: actor.user?.id ?? null, filedByLabel: actor.label, filedAt: clock.now() };
    await store.addRelease(tx, release);
    await notifier.toApprovers(tx, 'hold.release', actor.user?.id ?? null, `Release of legal hold ${hold.name} awaits a decision`,
      `${actor.label.replace(/^user:/, '')} asks to release legal hold ${hold.id} "${hold.name}" (matter ${hold.matter}).\nReason given: ${release.reason}\nOnce released, its custodians' mail follows retention again and may be disposed.\nRelease: ${release.id}`);
    return (await store.release(tx, release.id))!;
  }

  async decideRelease(tx: Tx, approver: User, releaseId: string, decision: 'approve' | 'deny', reason: string): Promise<HoldRelease> {
    const { store, fourEyes, clock } = this.#d;
    const r = await store.release(tx, releaseId);
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no hold release ${releaseId}`);
    await fourEyes.mayDecide(tx, approver, r, { name: 'hold release', self: 'no one approves the release of a hold they asked to release' }, reason);
    const hold = await this.hold(tx, r.holdId);
    if (decision === 'approve' && hold.releasedAt !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `legal hold ${hold.id} was released already`);
    await store.decideRelease(tx, releaseId, { by: approver.id, decision, reason: reason.trim(), at: clock.now() });
    if (decision === 'approve') await store.endHold(tx, hold.id, releaseId, clock.now());
    return (await store.release(tx, releaseId))!;
  }

  async acknowledge(tx: Tx, user: User, holdId: string): Promise<void> {
    await this.hold(tx, holdId);
    if (!await this.#d.store.acknowledge(tx, holdId, user.name, this.#d.clock.now())) {
      throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no unacknowledged notice of legal hold ${holdId} to you`);
    }
  }
}

function windowText(h: Pick<Hold, 'dateFrom' | 'dateTo'>): string {
  const d = (t: number) => new Date(t).toISOString().slice(0, 10);
  if (h.dateFrom === null && h.dateTo === null) return '';
  return `, mail dated ${h.dateFrom !== null ? `from ${d(h.dateFrom)}` : ''}${h.dateFrom !== null && h.dateTo !== null ? ' ' : ''}${h.dateTo !== null ? `before ${d(h.dateTo)}` : ''}`;
}
