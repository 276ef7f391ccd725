import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { PolicyInForce } from './policy.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { parseQuery } from '../index/search-query.ts';
import type { Tx } from '../core/transactions.ts';
import type { FourEyes } from './four-eyes.ts';
import type { GrantStore } from './grant-store.ts';
import type { User } from './people.ts';

export const PERMISSIONS = ['search', 'read', 'export'] as const;
// The longest fixed query a request may carry, and the longest query a search or an export under a
// grant takes (q): one can always ask for all that a grant covers by repeating its query.
export const MAX_REQUEST_QUERY = 2000;
export type Permission = (typeof PERMISSIONS)[number];
// The purpose of a data subject's access request (subject-access.ts): filed sealed, it needs as
// many approvals as the most sensitive mailbox in the archive would.
export const SUBJECT_ACCESS_PURPOSE = 'subject-access-request';
export type GrantState = 'pending' | 'approved' | 'active' | 'expired' | 'revoked' | 'denied' | 'lapsed';

export interface AccessRequest {
  id: string;
  requesterId: number;
  purpose: string;
  justification: string;
  ticket: string | null;
  mailboxes: RequestMailbox[];
  dateFrom: number | null;
  dateTo: number | null;
  fixedQuery: string | null;
  permissions: Permission[];
  durationSeconds: number;
  approvalsNeeded: number;
  breakglass: boolean;
  createdAt: number;
  lapsesAt: number;
  deniedAt: number | null;
  approvedAt: number | null;
  startsAt: number | null;
  endsAt: number | null;
  revokedAt: number | null;
  extends: string | null;
  approvals: { approverId: number; decision: 'approve' | 'deny'; reason: string; at: number }[];
}

export interface RequestMailbox {
  id: number;
  name: string;
  owner: string | null;
  sensitivity: string | null;
}

// The one place that says what state a request is in. States that depend on time (active,
// expired, lapsed) are derived from the clock, so a grant ends by itself with nothing to run.
export function stateOf(r: AccessRequest, now: number): GrantState {
  if (r.deniedAt !== null) return 'denied';
  if (r.revokedAt !== null) return 'revoked';
  if (r.approvedAt === null) return now >= r.lapsesAt ? 'lapsed' : 'pending';
  if (now < (r.startsAt ?? r.approvedAt)) return 'approved';
  return now < r.endsAt! ? 'active' : 'expired';
}

// The approvals the policy asks of a request whose mailboxes carry these sensitivity tags.
function needed(policy: Config['access'], tags: readonly (string | null)[]): number {
  return Math.max(policy.approvalsNeeded, ...tags.map((t) => (t ? policy.sensitivityApprovals[t] ?? 0 : 0)));
}

// The approvals a request has had so far (any decision but an approval ends it).
export function approvalsGiven(r: AccessRequest): number {
  return r.approvals.filter((a) => a.decision === 'approve').length;
}

export interface NewRequest {
  purpose: string;
  justification: string;
  ticket?: string | null;
  mailboxes: string[];          // mailbox names or addresses
  dateFrom?: string | null;     // YYYY-MM-DD (UTC), inclusive
  dateTo?: string | null;       // YYYY-MM-DD (UTC), inclusive
  query?: string | null;
  permissions: Permission[];
  durationHours: number;
  startsAt?: string | null;     // ISO time for a scheduled start
  extends?: string | null;      // an earlier grant of the same requester this one continues
}

// Access requests and grants: filing, approval by someone else, denial, revocation, break-glass.
export class Grants {
  readonly #store: GrantStore;
  readonly #clock: Clock;
  readonly #policy: PolicyInForce;
  readonly #fourEyes: FourEyes | null;

  constructor(store: GrantStore, clock: Clock, policy: PolicyInForce, fourEyes: FourEyes | null = null) {
    this.#store = store;
    this.#clock = clock;
    this.#policy = policy;
    this.#fourEyes = fourEyes;
  }

  // sealed: a data subject's access request (subject-access.ts), whose mailboxes were found by
  // searching for the person: it may have none (then its grant reads nothing), and it needs as
  // many approvals as the most sensitive mailbox in the archive would, whichever mailboxes it
  // names, so that neither says to its filer whether or where the person has mail.
  async file(tx: Tx, requester: User, input: NewRequest, options: { breakglass?: boolean; sealed?: boolean } = {}): Promise<AccessRequest> {
    const breakglass = options.breakglass ?? false;
    const policy = await this.#policy(tx);
    const { dateFrom, dateTo, startsAt } = this.terms(policy, requester, input, options);
    if (input.mailboxes.length === 0 && !options.sealed) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'name at least one mailbox', { fields: ['mailboxes'] });
    const mailboxes: RequestMailbox[] = [];
    for (const m of input.mailboxes) mailboxes.push(await this.#mailbox(tx, m));
    const now = this.#clock.now();
    if (input.extends) {
      // An extension is a new request like any other (approved again), linked so oversight can
      // see a grant kept alive by repeated extensions.
      const prior = await this.#store.get(tx, input.extends);
      if (!prior || prior.requesterId !== requester.id) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: no grant ${input.extends} of yours`, { fields: ['extends'] });
      if (prior.approvedAt === null) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: request ${input.extends} was never approved`, { fields: ['extends'] });
      const before = new Set(prior.mailboxes.map((m) => m.id));
      if (!mailboxes.some((m) => before.has(m.id))) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: request ${input.extends} covers none of these mailboxes`, { fields: ['extends'] });
    }
    const approvalsNeeded = needed(policy, options.sealed ? await this.#store.sensitivities(tx) : mailboxes.map((m) => m.sensitivity));
    const id = newId(breakglass ? 'bg' : 'req', now);
    const duration = Math.round(input.durationHours * 3600);
    await this.#store.insert(tx, {
      id, requesterId: requester.id, purpose: input.purpose, justification: input.justification.trim(), ticket: input.ticket?.trim() || null, mailboxes,
      dateFrom, dateTo, fixedQuery: input.query?.trim() || null, permissions: input.permissions, durationSeconds: duration, approvalsNeeded, breakglass,
      createdAt: now, lapsesAt: now + policy.pendingLapseHours * 3600_000,
      // Break-glass needs nobody's approval: it starts now and is reviewed afterwards. A
      // scheduled start is kept: approval before it makes the grant wait for it (decide).
      approvedAt: breakglass ? now : null, startsAt: breakglass ? now : startsAt, endsAt: breakglass ? now + duration * 1000 : null, extends: input.extends ?? null,
    });
    if (breakglass) await this.#store.openBreakglassReview(tx, id, requester.id, this.#clock.now());
    return this.get(tx, id);
  }

  // The terms of a request as file() hears them under `policy`, whatever its mailboxes (its dates
  // and start as times), or the refusal thrown: a request whose mailboxes are found by searching
  // for a person (a data subject's, subject-access.ts) is heard before anyone is searched for.
  terms(policy: Config['access'], requester: User, input: Omit<NewRequest, 'mailboxes' | 'extends'>, options: { breakglass?: boolean } = {}): { dateFrom: number | null; dateTo: number | null; startsAt: number | null } {
    const breakglass = options.breakglass ?? false;
    const role = breakglass ? 'breakglass' : 'requester';
    if (!requester.roles.includes(role)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `only users with the ${role} role can ${breakglass ? 'open a break-glass grant' : 'file access requests'}`);
    if (!policy.purposes.includes(input.purpose)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `purpose "${input.purpose}" is not allowed (allowed: ${policy.purposes.join(', ')})`, { fields: ['purpose'] });
    if (!input.justification?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a justification is required', { fields: ['justification'] });
    if (!breakglass && !input.ticket?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a ticket reference is required', { fields: ['ticket'] });
    if (input.permissions.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'at least one permission (search, read, export) is required', { fields: ['permissions'] });
    for (const p of input.permissions) if (!PERMISSIONS.includes(p)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown permission "${p}" (search, read, export)`, { fields: ['permissions'] });
    const maxHours = breakglass ? policy.breakglassMaxMinutes / 60 : policy.maxGrantHours;
    if (!(input.durationHours > 0) || input.durationHours > maxHours) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `duration must be more than 0 and at most ${maxHours} hours`, { fields: ['durationHours'] });
    const dateFrom = day(input.dateFrom, 'dateFrom');
    const dateTo = input.dateTo ? day(input.dateTo, 'dateTo')! + 86_400_000 : null;
    if (dateFrom !== null && dateTo !== null && dateFrom >= dateTo) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'dateFrom must not be after dateTo', { fields: ['dateFrom', 'dateTo'] });
    // A fixed query that does not parse would make the grant useless; refuse it at filing.
    if (input.query?.trim()) parseQuery(input.query.trim());
    const startsAt = input.startsAt ? Date.parse(input.startsAt) : null;
    if (startsAt !== null && (!Number.isFinite(startsAt) || startsAt < this.#clock.now() - 60_000)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'startsAt must be an ISO time in the future', { fields: ['startsAt'] });
    return { dateFrom, dateTo, startsAt };
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<AccessRequest> {
    const r = await this.get(tx, id);
    const notTheirs = await this.#notTheirs(tx, approver, r);
    if (notTheirs) throw notTheirs;
    if (!reason?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required');
    const now = this.#clock.now();
    const notNow = this.#notNow(approver, r, now);
    if (notNow) throw notNow;
    await this.#store.addApproval(tx, id, { approverId: approver.id, decision, reason: reason.trim(), at: now });
    if (decision === 'deny') await this.#store.deny(tx, id, now);
    else if (approvalsGiven(r) + 1 >= r.approvalsNeeded) {
      const start = Math.max(now, r.startsAt ?? 0);
      await this.#store.approve(tx, id, now, { startsAt: start, endsAt: start + r.durationSeconds * 1000 });
    }
    return this.get(tx, id);
  }

  // Why `approver` may not decide on `r` now, or null when decide() would hear them: the same
  // rules as a verdict, so the API offers the buttons only to those it would hear.
  async decisionRefusal(tx: Tx, approver: User, r: AccessRequest): Promise<SealboxError | null> {
    return (await this.#notTheirs(tx, approver, r)) ?? this.#notNow(approver, r, this.#clock.now());
  }

  // How many people could still approve `r` (of `people`, everyone there is): approvers who are
  // not disabled and whom decide() would hear now. Fewer than the approvals it still needs,
  // and a pending request can only lapse.
  async approversLeft(tx: Tx, r: AccessRequest, people: readonly User[]): Promise<number> {
    let left = 0;
    for (const u of people) if (!u.disabled && u.roles.includes('approver') && await this.decisionRefusal(tx, u, r) === null) left++;
    return left;
  }

  // Whoever the request is not for to decide: not an approver, its requester, the owner of a
  // mailbox in scope, or linked to the requester (four eyes).
  async #notTheirs(tx: Tx, approver: User, r: AccessRequest): Promise<SealboxError | null> {
    if (!approver.roles.includes('approver')) return new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only approvers decide on access requests');
    if (r.requesterId === approver.id) return new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one can decide on their own request');
    // Looks like a missing request: the subject of an investigation learns nothing of it here.
    if (r.mailboxes.some((m) => m.owner === approver.name)) return new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${r.id}`);
    const linked = await this.#fourEyes?.linked(tx, approver.id, r.requesterId, { accessRequest: true });
    if (linked) return new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    return null;
  }

  // Nothing to decide any more: no longer pending, or this approver has decided already.
  #notNow(approver: User, r: AccessRequest, now: number): SealboxError | null {
    const state = stateOf(r, now);
    if (state !== 'pending') return new SealboxError('SEALBOX_ERR_CONFLICT', `request ${r.id} is ${state}, not pending`);
    if (r.approvals.some((a) => a.approverId === approver.id)) return new SealboxError('SEALBOX_ERR_CONFLICT', 'you have already decided on this request');
    return null;
  }

  // The requester ("I'm done"), any approver or an admin ends a grant at once.
  async revoke(tx: Tx, actor: User, id: string): Promise<AccessRequest> {
    const r = await this.get(tx, id);
    const refusal = this.revokeRefusal(actor, r);
    if (refusal) throw refusal;
    await this.#store.revoke(tx, id, this.#clock.now(), actor.id);
    return this.get(tx, id);
  }

  // Why `actor` may not revoke `r` now, or null when revoke() would end it.
  revokeRefusal(actor: User, r: AccessRequest): SealboxError | null {
    if (r.requesterId !== actor.id && !actor.roles.includes('approver') && !actor.roles.includes('admin')) {
      return new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only the requester, an approver or an admin can revoke a grant');
    }
    // The subject of an investigation cannot stop it (nor learn of it by trying).
    if (r.requesterId !== actor.id && r.mailboxes.some((m) => m.owner === actor.name)) return new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${r.id}`);
    const state = stateOf(r, this.#clock.now());
    if (!['pending', 'approved', 'active'].includes(state)) return new SealboxError('SEALBOX_ERR_CONFLICT', `request ${r.id} is ${state}; nothing to revoke`);
    return null;
  }

  async get(tx: Tx, id: string): Promise<AccessRequest> {
    const r = await this.#store.get(tx, id);
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${id}`);
    return (await this.#asNow(tx, [r]))[0]!;
  }

  async list(tx: Tx, filter: { requesterId?: number } = {}): Promise<AccessRequest[]> {
    return this.#asNow(tx, await this.#store.list(tx, filter));
  }

  // The approvals a request not yet decided needs are those it needed when filed, or more if the
  // policy or a mailbox's sensitivity has been raised since: a raise applies to what is still
  // pending (a request filed the day before approvals went from one to two needs two). A
  // lowering applies only to requests filed after it, so nobody lowers the bar for one in hand.
  async #asNow(tx: Tx, requests: AccessRequest[]): Promise<AccessRequest[]> {
    const pending = requests.filter((r) => r.approvedAt === null && r.deniedAt === null && r.revokedAt === null);
    if (pending.length === 0) return requests;
    const policy = await this.#policy(tx);
    let everyTag: string[] | null = null;
    for (const r of pending) {
      const tags = r.purpose === SUBJECT_ACCESS_PURPOSE ? (everyTag ??= await this.#store.sensitivities(tx)) : r.mailboxes.map((m) => m.sensitivity);
      r.approvalsNeeded = Math.max(r.approvalsNeeded, needed(policy, tags));
    }
    return requests;
  }

  async #mailbox(tx: Tx, nameOrAddress: string): Promise<RequestMailbox> {
    const m = await this.#store.mailbox(tx, nameOrAddress);
    if (!m) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${nameOrAddress}"`, { fields: ['mailboxes'] });
    return m;
  }
}

function day(value: string | null | undefined, name: string): number | null {
  if (!value) return null;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (!Number.isFinite(t)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${name} "${value}" is not a date (YYYY-MM-DD)`, { fields: [name] });
  return t;
}
