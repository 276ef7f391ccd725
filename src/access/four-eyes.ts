import type { Clock } from '../core/clock.ts';
import type { Tx } from '../core/transactions.ts';
import type { PersonLink, PersonLinkStore } from './person-link-store.ts';
import type { PolicyInForce } from './policy.ts';
import type { People, User } from './people.ts';
import { SealboxError } from '../core/errors.ts';

const DAY = 86_400_000;
// How far up a chain of accounts making accounts is followed.
const MAX_MAKERS = 64;
const VERB = { created: 'created', mailed: 'created', roles: 'changed the roles of', recovery: 'approved the account recovery of' } as const;

// Four eyes means two people. An account someone created, enrolled (handed the enrolment code
// to) or changed the roles of is, for a while, possibly that someone's second pair of hands:
// such a pair may not approve each other's requests, nor may two accounts the same person
// created in that period (whoever creates an account receives its first code). A role change
// hands no credential, so it links only the two people concerned. An account whose first code
// its maker was handed (not mailed to the person: a `created` link, not `mailed`) may be the
// maker's hands for good, and a period only delays a puppet: while linked people are on, whoever
// made it (or made the account that made it) is never approved by it, nor is another account
// whose code the same person was handed. An admin who made an approver and a requester of their
// own would otherwise have one approve the other once `linkedPeopleDays` had passed.
export class FourEyes {
  readonly #links: PersonLinkStore;
  readonly #people: People;
  readonly #clock: Clock;
  readonly #policy: PolicyInForce;

  constructor(links: PersonLinkStore, people: People, clock: Clock, policy: PolicyInForce) {
    this.#links = links;
    this.#people = people;
    this.#clock = clock;
    this.#policy = policy;
  }

  // The rule every change filed for someone else's decision is held to (retention changes, hold
  // releases, erasure requests): the decider holds the approver role, did not file it and is not
  // linked to whoever did, gives a reason, and decides it once. `self` is what a filer who tries
  // is told.
  async mayDecide(tx: Tx, approver: User, filed: FiledDecision, what: { name: string; self: string }, reason: string): Promise<void> {
    if (!approver.roles.includes('approver')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `only approvers decide on ${what.name}s`);
    if (filed.filedBy === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', what.self);
    const linked = filed.filedBy === null ? null : await this.linked(tx, approver.id, filed.filedBy);
    if (linked) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    if (!reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required', { fields: ['reason'] });
    if (filed.decision !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${what.name} ${filed.id} was already ${filed.decision === 'approve' ? 'approved' : 'denied'}`);
  }

  // Who made this account through the API, and so was handed its first enrolment code (the
  // console's operator and an identity provider leave no such link).
  async makers(tx: Tx, userId: number): Promise<number[]> {
    return [...new Set((await this.#links.touching(tx, [userId])).filter((l) => l.subjectId === userId && l.kind === 'created').map((l) => l.actorId))];
  }

  // Its makers, theirs, and so on up (nearest first).
  async makerChain(tx: Tx, userId: number): Promise<number[]> {
    return makerChain(this.#links, tx, userId);
  }

  // Why `approverId` may not approve what `otherId` asked for, or null when they are two people.
  // With the period set to 0 (the config file turns linked people off), only the approver's
  // makers are refused, and only for access requests.
  async linked(tx: Tx, approverId: number, otherId: number, options: { accessRequest?: boolean } = {}): Promise<string | null> {
    // The period as this transaction sees the policy: a change made on any node applies at once.
    const days = (await this.#policy(tx)).linkedPeopleDays;
    const links = await this.#links.touching(tx, [approverId, otherId]);
    // Names are only needed to word a link: most pairs have none.
    const names = links.length > 0 ? await this.#people.names(tx) : (id: number) => `#${id}`;
    const creatorRule = days > 0 || options.accessRequest === true;
    const direct = linkBetween(links, approverId, otherId, this.#clock.now() - days * DAY, `within the last ${days} days`, names, creatorRule);
    if (direct !== null || !creatorRule || links.length === 0) return direct;
    // Through accounts in between (an admin who made an admin who made the approver); and, while
    // linked people are on, two accounts whose first codes went to the same person, at any time.
    return chainLink(this.#links, tx, approverId, otherId, names, days > 0);
  }
}

// An account's makers, theirs, and so on up (nearest first): an admin who made an account that
// made this one held its first code through that account. Only `created` links: the codes that
// came back to their maker.
export async function makerChain(links: Pick<PersonLinkStore, 'touching'>, tx: Tx, userId: number): Promise<number[]> {
  const chain: number[] = [];
  for (let level = [userId]; level.length > 0 && chain.length < MAX_MAKERS;) {
    const touching = await links.touching(tx, level);
    level = [...new Set(touching.filter((l) => l.kind === 'created' && level.includes(l.subjectId)).map((l) => l.actorId))].filter((id) => id !== userId && !chain.includes(id));
    chain.push(...level);
  }
  return chain;
}

// The link between two people through accounts in between, at any time: `otherId` made the
// account that made the approver's (and so on up), or (`shared`) one person up both chains was
// handed both first codes. Null when there is none.
export async function chainLink(links: Pick<PersonLinkStore, 'touching'>, tx: Tx, approverId: number, otherId: number, name: (id: number) => string, shared = true): Promise<string | null> {
  const mine = await makerChain(links, tx, approverId);
  if (mine.includes(otherId)) return `${name(otherId)} created the account that created yours`;
  if (!shared || mine.length === 0) return null;
  const theirs = await makerChain(links, tx, otherId);
  const both = mine.find((id) => theirs.includes(id));
  return both === undefined ? null : `${name(both)} created both your account and ${name(otherId)}'s, and was handed their first enrolment codes`;
}

// The first link that makes `approverId` and `otherId` one pair of hands, among links since
// `since` (creating an approver counts at any time when creatorEver); `when` words the period.
export function linkBetween(links: PersonLink[], approverId: number, otherId: number, since: number, when: string, name: (id: number) => string, creatorEver = true): string | null {
  if (approverId === otherId) return 'no one approves what they asked for themselves';
  for (const l of links) {
    if (creatorEver && l.actorId === otherId && l.subjectId === approverId && l.kind === 'created') return `${name(otherId)} created your account`;
    if (l.at < since) continue;
    if (l.actorId === approverId && l.subjectId === otherId) return `you ${VERB[l.kind]} ${name(otherId)} ${when}`;
    if (l.actorId === otherId && l.subjectId === approverId) return `${name(otherId)} ${VERB[l.kind]} you ${when}`;
  }
  // Two accounts created by the same hands in the period: both first codes went to that person.
  const makers = (id: number) => new Set(links.filter((l) => l.subjectId === id && l.at >= since && (l.kind === 'created' || l.kind === 'mailed')).map((l) => l.actorId));
  const mine = makers(approverId);
  for (const m of makers(otherId)) if (mine.has(m)) return `${name(m)} created both your account and ${name(otherId)}'s ${when}`;
  return null;
}

// A change one person files and another decides: who filed it, and the decision once made.
export interface FiledDecision {
  id: string;
  filedBy: number | null;         // null: filed at the console (the operating-system account)
  filedByLabel: string;           // user:NAME or os:NAME
  filedAt: number;
  decidedBy: number | null;
  decision: 'approve' | 'deny' | null;
  decisionReason: string | null;
  decidedAt: number | null;
}
