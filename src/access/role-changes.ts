import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import type { AccountRecovery } from './account-recovery.ts';
import type { CredentialStore } from './credential-store.ts';
import type { FourEyes } from './four-eyes.ts';
import type { Notifier } from './notifier.ts';
import type { People, User } from './people.ts';
import type { RoleChangeRecord, RoleChangeStore } from './role-change-store.ts';
import { ROLES, type Role } from './roles.ts';

// Roles that read nothing by themselves: an owner reads only the mailboxes the directory gives
// them (itself approved by someone else when it gives mail), a requester only under a grant
// someone else approved. Every other role is a power over other people's mail or records.
export const HARMLESS_ROLES: readonly Role[] = ['owner', 'requester'];
// Roles an admin gives through the API are filed for an approver who is neither that admin nor
// the person nor linked to either, as a provider's groups and the directory's are: the API hands
// an admin the first enrolment code of an account they make, so a role given at once could be a
// power of their own under another name (an auditor's view of the ledger and of covert requests,
// an approver's, an admin's who makes more accounts, break-glass that reads alone). The console
// gives them at once (its operator holds the keys): it names the first approvers and auditors.
export const FILED_ROLES: readonly Role[] = ROLES.filter((r) => !HARMLESS_ROLES.includes(r));

export type RoleChangeState = 'pending' | 'approved' | 'denied' | 'cancelled';

export interface RoleChangeView {
  id: string;
  user: string;
  role: Role;
  why: string;
  filedBy: string;
  filedAt: string;
  state: RoleChangeState;
  decidedBy: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
  // The account recovery an approval started: the role needs a second factor the person lacks.
  recovery?: string;
  // A pending role that needs a second factor the person has not set up: approving it also
  // enrols them again (#reEnrol), the code going to these addresses. Shown before deciding.
  reEnrolment?: { codeTo: string[] };
}

export interface RoleChangeDeps {
  store: RoleChangeStore;
  people: People;
  fourEyes: FourEyes;
  notifier: Notifier;
  credentials: CredentialStore;
  recovery: AccountRecovery;
  clock: Clock;
}

// A role someone would gain without an administrator's say (a group of the identity provider
// gives it: whoever runs the provider can put anyone, themselves too, in a group), or one an
// admin gives through the API (FILED_ROLES), waits for an approver who is neither that person
// nor whoever filed it, nor linked to either (FourEyes); the person is told at each step.
// Approved, it applies, and the person's sessions and tokens end: they sign in again, with the
// second factor the new role needs.
export class RoleChanges {
  readonly #d: RoleChangeDeps;
  readonly #store: RoleChangeStore;

  constructor(d: RoleChangeDeps) {
    this.#d = d;
    this.#store = d.store;
  }

  // Files the role for `user`, or returns null when one waits already or was denied before (a
  // refusal stands: a later sign-in does not ask again).
  async file(tx: Tx, user: User, role: Role, why: string, by: { id: number | null; label: string }): Promise<RoleChangeRecord | null> {
    if (await this.standing(tx, user.id, role)) return null;
    const now = this.#d.clock.now();
    const id = newId('role', now);
    await this.#store.add(tx, { id, userId: user.id, role, why, filedBy: by.id, filedByLabel: by.label, filedAt: now });
    const text = `${user.name} would gain the role ${role}: ${why}.\nIt applies only once an approver who is neither ${user.name} nor linked to them approves it.\nRole change: ${id}`;
    await this.#d.notifier.toPerson(tx, 'user.role-filed', user, `The role ${role} for your Sealbox account waits for approval`, text);
    await this.#d.notifier.toUsers(tx, 'user.role-filed', (await this.#deciders(tx)).filter((u) => u.id !== user.id), `Role change ${id}: ${role} for ${user.name} awaits a decision`, text);
    return (await this.#store.get(tx, id))!;
  }

  // Whether file() would file nothing for this role: one waits already, or was denied before.
  async standing(tx: Tx, userId: number, role: Role): Promise<boolean> {
    return (await this.#store.forUser(tx, userId)).some((c) => c.role === role && (c.decision === null || c.decision === 'deny'));
  }

  // Waiting role changes of one person.
  async pendingFor(tx: Tx, userId: number): Promise<RoleChangeRecord[]> {
    return (await this.#store.forUser(tx, userId)).filter((c) => c.decision === null);
  }

  // The reason it was filed went away (the person left the group): nobody decides it any more.
  async cancel(tx: Tx, c: RoleChangeRecord, reason: string): Promise<void> {
    await this.#store.decide(tx, c.id, { by: null, decision: 'cancel', reason, at: this.#d.clock.now() });
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<RoleChangeView> {
    const c = await this.#store.get(tx, id);
    if (!c) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no role change ${id}`);
    if (c.userId === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one decides on a role for themselves');
    // The state is said below in words of its own (cancelled is no decision FourEyes knows).
    await this.#d.fourEyes.mayDecide(tx, approver, { ...c, decision: null }, { name: 'role change', self: 'no one decides on a role change they filed' }, reason);
    const linked = await this.#d.fourEyes.linked(tx, approver.id, c.userId);
    if (linked) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    const state = stateOf(c);
    if (state !== 'pending') throw new SealboxError('SEALBOX_ERR_CONFLICT', `role change ${id} is ${state}, not pending`);
    const user = (await this.#d.people.byId(tx, c.userId))!;
    if (decision === 'approve' && user.disabled) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${user.name} is disabled`);
    const now = this.#d.clock.now();
    await this.#store.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: now });
    let recovery: string | null = null;
    if (decision === 'approve' && !user.roles.includes(c.role)) {
      const { needsEnrolment } = await this.#d.people.setRoles(tx, user.name, [...user.roles, c.role]);
      // Whatever was signed in so far was signed in without the role and, maybe, the second factor it needs.
      await this.#d.credentials.endAll(tx, user.id, now);
      if (needsEnrolment) recovery = await this.#reEnrol(tx, user, c, approver, reason);
    }
    const next = recovery ? `The role needs a second factor you have not set up: a new enrolment code comes to your mail once account recovery ${recovery} is approved (it may be already).\n` : 'Your sessions and API tokens have ended: sign in again to use it.\n';
    await this.#d.notifier.toPerson(tx, `user.role-${decision === 'approve' ? 'approved' : 'denied'}`, user, `The role ${c.role} for your Sealbox account was ${decision === 'approve' ? 'approved' : 'denied'}`,
      `${approver.name} ${decision === 'approve' ? 'approved' : 'denied'} the role ${c.role} (${c.why}).\nReason: ${reason.trim()}\n${decision === 'approve' ? next : ''}Role change: ${id}`);
    return { ...this.#view((await this.#store.get(tx, id))!, await this.#d.people.names(tx)), ...(recovery ? { recovery } : {}) };
  }

  // An approved role that needs a second factor the person has not set up (an owner who becomes an
  // approver): without a new enrolment they could not sign in at all. As when an admin changes the
  // roles, it is an account recovery, its code mailed to the person alone: asked for by whoever
  // filed the role and approved by this approver (neither is the other nor linked to them:
  // checked above). A role filed by no one (a provider's group, the directory) or a person with no
  // address to mail the code to leaves the recovery waiting for someone else's decision, as one
  // asked for already stays.
  async #reEnrol(tx: Tx, user: User, c: RoleChangeRecord, approver: User, reason: string): Promise<string> {
    const { recovery, people } = this.#d;
    const open = await recovery.pendingFor(tx, user.id);
    if (open) return open;
    const filer = c.filedBy === null ? null : await people.byId(tx, c.filedBy);
    const asked = await recovery.request(tx, filer ?? approver, user.name, `the role ${c.role} was approved (role change ${c.id}) and needs a second factor`);
    if (!filer) return asked.id;
    try {
      return (await recovery.decide(tx, approver, asked.id, 'approve', reason)).id;
    } catch (err) {
      if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_CONFLICT') return asked.id;   // no address: it waits
      throw err;
    }
  }

  async list(tx: Tx): Promise<RoleChangeView[]> {
    const names = await this.#d.people.names(tx);
    const out: RoleChangeView[] = [];
    for (const c of await this.#store.list(tx)) {
      const reEnrolment = c.decision === null ? await this.#reEnrolment(tx, c) : null;
      out.push({ ...this.#view(c, names), ...(reEnrolment ? { reEnrolment } : {}) });
    }
    return out;
  }

  // Whether approving the role would also enrol the person again (it needs a second factor they
  // have not set up, and they sign in with a password), and where that code would go.
  async #reEnrolment(tx: Tx, c: RoleChangeRecord): Promise<{ codeTo: string[] } | null> {
    const { people, recovery } = this.#d;
    const user = await people.byId(tx, c.userId);
    if (!user || user.roles.includes(c.role) || !await people.needsTotp(tx, { roles: [...user.roles, c.role] })) return null;
    if (!await people.hasPassword(tx, user) || await people.hasAuthenticator(tx, user)) return null;
    return { codeTo: await recovery.codeTo(tx, user) };
  }

  #view(c: RoleChangeRecord, names: (id: number) => string): RoleChangeView {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      id: c.id, user: names(c.userId), role: c.role, why: c.why, filedBy: c.filedByLabel, filedAt: iso(c.filedAt)!, state: stateOf(c),
      decidedBy: c.decidedBy === null ? null : names(c.decidedBy), decisionReason: c.decisionReason, decidedAt: iso(c.decidedAt),
    };
  }

  async #deciders(tx: Tx): Promise<User[]> {
    return (await this.#d.people.list(tx)).filter((u) => !u.disabled && u.roles.includes('approver'));
  }
}

function stateOf(c: RoleChangeRecord): RoleChangeState {
  return c.decision === 'approve' ? 'approved' : c.decision === 'deny' ? 'denied' : c.decision === 'cancel' ? 'cancelled' : 'pending';
}
