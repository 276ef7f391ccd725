import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import type { AccountRecoveryStore, RecoveryRecord } from './account-recovery-store.ts';
import type { CodeAddresses } from './enrolment-codes.ts';
import type { FourEyes } from './four-eyes.ts';
import type { Notifier } from './notifier.ts';
import type { People, User } from './people.ts';
import type { PersonLinkStore } from './person-link-store.ts';
import type { PolicyInForce } from './policy.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export type RecoveryState = 'pending' | 'approved' | 'used' | 'denied' | 'cancelled' | 'lapsed' | 'expired';

export interface RecoveryView {
  id: string;
  user: string;
  requestedBy: string;
  reason: string;
  state: RecoveryState;
  createdAt: string;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  codeTo: string[];             // where the code goes once approved (CodeAddresses)
}

export interface RecoveryDeps {
  recoveries: AccountRecoveryStore;
  people: People;
  addresses: CodeAddresses;
  fourEyes: FourEyes;
  links: PersonLinkStore;
  notifier: Notifier;
  clock: Clock;
  policy: PolicyInForce;
}

// Identity is not the admin's to take. Someone who already has a credential (a lost password, a
// lost authenticator, new roles that need a second factor) enrols again only through a recovery
// one person asks for and another approves; the code goes by mail to the person alone, never
// to either of them, and the person is told at each step.
export class AccountRecovery {
  readonly #d: RecoveryDeps;
  readonly #recoveries: AccountRecoveryStore;

  constructor(d: RecoveryDeps) {
    this.#d = d;
    this.#recoveries = d.recoveries;
  }

  async request(tx: Tx, actor: User, name: string, reason: string): Promise<RecoveryView> {
    const { people, clock } = this.#d;
    const user = await people.byName(tx, name);
    if (!user) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    if (user.id === actor.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one asks for their own account recovery from a signed-in session; another admin does');
    if (!user.enrolled) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${name} has not enrolled yet: issue a new enrolment code (users add) instead`);
    if (user.disabled) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${name} is disabled`);
    if (!reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required');
    if (await this.pendingFor(tx, user.id) !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `an account recovery for ${name} is already waiting`);
    const now = clock.now();
    const id = newId('rec', now);
    await this.#recoveries.add(tx, { id, userId: user.id, requestedBy: actor.id, reason: reason.trim(), createdAt: now, lapsesAt: now + (await this.#d.policy(tx)).pendingLapseHours * 3600_000 });
    const text = `${actor.name} asked for an account recovery of ${user.name}: a new enrolment (password and second factor) that replaces the current one.\n\nReason: ${reason.trim()}\nRecovery: ${id}`;
    const to = await this.#d.addresses.secret(tx, user);
    await this.#d.notifier.toPerson(tx, 'account.recovery-requested', user, 'An account recovery was asked for your Sealbox account',
      `${text}\n\nIf you did not ask for this, tell your security team: the recovery needs someone else's approval, and the code would come to you only (${to.join(', ') || 'no address: it cannot be approved'}).`, { to });
    await this.#d.notifier.toUsers(tx, 'account.recovery-requested', (await this.#deciders(tx)).filter((u) => u.id !== actor.id && u.id !== user.id), `Account recovery ${id} for ${user.name} awaits a decision`, text);
    return this.#one(tx, id);
  }

  // Approving mails the code to the person; nobody else ever sees it.
  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<RecoveryView> {
    const { people, clock } = this.#d;
    const r = await this.#recoveries.get(tx, id);
    if (!r) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no account recovery ${id}`);
    if (!approver.roles.some((x) => x === 'admin' || x === 'approver')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins and approvers decide on account recoveries');
    if (r.userId === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one decides on their own account recovery');
    if (r.requestedBy === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one decides on an account recovery they asked for');
    const linked = await this.#d.fourEyes.linked(tx, approver.id, r.requestedBy);
    if (linked) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    if (!reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required');
    const state = this.#state(r);
    if (state !== 'pending') throw new SealboxError('SEALBOX_ERR_CONFLICT', `account recovery ${id} is ${state}, not pending`);
    const user = (await people.byId(tx, r.userId))!;
    const now = clock.now();
    if (decision === 'deny') {
      await this.#recoveries.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: now });
      await this.#d.notifier.toPerson(tx, 'account.recovery-denied', user, 'The account recovery asked for your Sealbox account was denied', `Denied by ${approver.name}: ${reason.trim()}\nRecovery: ${id}`);
      return this.#one(tx, id);
    }
    const to = await this.#d.addresses.secret(tx, user);
    if (to.length === 0) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${user.name} has no e-mail address to send the recovery code to`);
    const code = randomBytes(15).toString('base64url');
    const hours = (await this.#d.policy(tx)).enrolmentHours;
    await this.#recoveries.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: now, codeHash: sha256(code), codeExpires: now + hours * 3600_000 });
    for (const actorId of [r.requestedBy, approver.id]) await this.#d.links.record(tx, { actorId, subjectId: user.id, kind: 'recovery', at: now });
    const requestedBy = (await people.byId(tx, r.requestedBy))?.name ?? 'someone';
    await this.#d.notifier.toPerson(tx, 'account.recovery-code', user, 'Your Sealbox account recovery code',
      `${requestedBy} asked for, and ${approver.name} approved, a new enrolment of your account.\n\n`
      + `Your one-time code (valid ${hours} h): ${code}\nEnrol with it: POST /api/v1/enrol {"name": "${user.name}", "code": "…", "password": "…"} or the web app's /enrol page.\n`
      + 'Enrolling ends every session and API token of your account.\n\nIf you did not ask for this, do not use the code and tell your security team.', { mailOnly: true, to });
    return this.#one(tx, id);
  }

  // Where a recovery code for this person would go (CodeAddresses), shown before anyone decides.
  codeTo(tx: Tx, user: User): Promise<string[]> {
    return this.#d.addresses.secret(tx, user);
  }

  // The id of the person's recovery that waits for a decision, if one does.
  async pendingFor(tx: Tx, userId: number): Promise<string | null> {
    return (await this.#recoveries.list(tx)).find((r) => r.userId === userId && this.#state(r) === 'pending')?.id ?? null;
  }

  async list(tx: Tx): Promise<RecoveryView[]> {
    const names = await this.#d.people.names(tx);
    const views: RecoveryView[] = [];
    for (const r of await this.#recoveries.list(tx)) views.push(await this.#view(tx, r, names));
    return views;
  }

  async #one(tx: Tx, id: string): Promise<RecoveryView> {
    return this.#view(tx, (await this.#recoveries.get(tx, id))!, await this.#d.people.names(tx));
  }

  // Where the code goes is shown to whoever decides, so that an address that is not the person's
  // stands out before it is approved.
  async #view(tx: Tx, r: RecoveryRecord, names: (id: number) => string): Promise<RecoveryView> {
    const name = (id: number | null) => (id === null ? null : names(id));
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const user = await this.#d.people.byId(tx, r.userId);
    return {
      id: r.id, user: name(r.userId)!, requestedBy: name(r.requestedBy)!, reason: r.reason, state: this.#state(r), createdAt: iso(r.createdAt)!,
      decidedBy: name(r.decidedBy), decisionReason: r.decisionReason, decidedAt: iso(r.decidedAt),
      codeTo: user ? await this.codeTo(tx, user) : [],
    };
  }

  #state(r: RecoveryRecord): RecoveryState {
    const now = this.#d.clock.now();
    if (r.decision === 'deny') return 'denied';
    if (r.decision === 'cancel') return 'cancelled';
    if (r.decision === 'approve') return r.usedAt !== null ? 'used' : r.codeHash === null ? 'cancelled' : Number(r.codeExpires) <= now ? 'expired' : 'approved';
    return now >= r.lapsesAt ? 'lapsed' : 'pending';
  }

  async #deciders(tx: Tx): Promise<User[]> {
    return (await this.#d.people.list(tx)).filter((u) => !u.disabled && u.roles.some((x) => x === 'admin' || x === 'approver'));
  }
}
