import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { AuditEvent } from './audit.ts';
import type { MailboxOwnership } from './mailbox-ownership.ts';
import type { MailboxStore } from './mailbox-store.ts';
import type { Notifier } from './notifier.ts';
import type { ProviderConfig } from './openid-providers.ts';
import type { People, User } from './people.ts';
import { HARMLESS_ROLES } from './role-changes.ts';
import type { RoleChanges } from './role-changes.ts';
import { ROLES } from './roles.ts';
import type { Role } from './roles.ts';
import type { SsoStore } from './sso-store.ts';

// Who a provider says someone is, from an ID token that passed its checks.
export interface ProviderIdentity {
  subject: string;
  name: string;                 // the user-name claim, lowercased
  displayName: string | null;
  verifiedEmails: string[];     // e-mail claims the provider marks verified, lowercased
  groups: string[];
}

export interface SsoPeopleDeps {
  store: SsoStore;
  people: People;
  roleChanges: RoleChanges;
  ownership: MailboxOwnership;
  mailboxes: MailboxStore;
  notifier: Notifier;
  clock: Clock;
  roleGroups: Config['sso']['roleGroups'];
}

// The roles groups give (sso.roleGroups): owner to everyone unless a group is named for it. The
// directory sync (src/directory/) reads its groups through the same mapping.
export function rolesForGroups(roleGroups: Config['sso']['roleGroups'], groups: readonly string[]): Role[] {
  const has = (r: Role) => (roleGroups[r] ?? []).some((g) => groups.includes(g));
  return ROLES.filter((r) => (r === 'owner' && !roleGroups.owner) || has(r));
}

// Just-in-time people, and never a backdoor. Whoever runs the identity provider (often the
// administrator) can put anyone, themselves too, in any group and set anyone's e-mail claim; so
// what a sign-in takes from the provider is only what gives no one another person's mail:
// - the identity: a provider's subject is bound to one person at their first sign-in, which
//   creates them; a token that merely bears the name of someone already here is refused;
// - roles: owner and requester (which read nothing by themselves) at once; every other role a
//   group gives is filed for an approver (RoleChanges). Leaving a group removes its role at once
//   (removal never widens). A role no group is mapped to is left as Sealbox has it;
// - mailboxes: a verified address links the person only to a mailbox the directory already
//   gives them; any other is filed as an ownership change for someone else (MailboxOwnership);
// - the e-mail address Sealbox writes to (notices, account recovery) is taken once, at creation;
// - a person disabled in Sealbox stays disabled, whatever the provider says.
// Every change is a ledger entry (the caller writes `events`), and the person is told.
export class SsoPeople {
  readonly #d: SsoPeopleDeps;

  constructor(d: SsoPeopleDeps) {
    this.#d = d;
  }

  // The person this sign-in is, made or brought up to date. A sign-in refused before anything
  // changes throws a SealboxError (the caller's transaction rolls back); one refused after its
  // changes (the groups left give no role at all) returns them with the refusal, to commit.
  async admit(tx: Tx, provider: ProviderConfig, who: ProviderIdentity): Promise<{ user: User; created: boolean; events: AuditEvent[]; refusal: string | null }> {
    const { people, store, clock } = this.#d;
    const events: AuditEvent[] = [];
    const wanted = this.#wantedRoles(who.groups);
    const managed = ROLES.filter((r) => r === 'owner' || this.#d.roleGroups[r]);
    const by = { id: null, label: `sso:${provider.id}` };
    const boundId = await store.identity(tx, provider.id, who.subject);
    let user: User;
    let created = false;
    if (boundId === null) {
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(who.name)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `your user name at ${provider.label} ("${who.name}", the ${provider.usernameClaim} claim) cannot be a Sealbox user name (1–64 of a-z 0-9 . _ -): ask your administrator`);
      if (await people.byName(tx, who.name)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `a Sealbox account named ${who.name} exists already and is not linked to your account at ${provider.label}: ask your administrator`);
      const roles = wanted.filter((r) => HARMLESS_ROLES.includes(r));
      if (roles.length === 0) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `your account at ${provider.label} is in no group that gives a Sealbox role: ask your administrator`);
      user = await people.addSignedIn(tx, { name: who.name, roles, displayName: who.displayName, email: who.verifiedEmails[0] ?? null });
      await store.bind(tx, { provider: provider.id, subject: who.subject, userId: user.id, at: clock.now() });
      created = true;
      events.push({ operation: 'user.add', parameters: { name: user.name, roles, provider: provider.id, groups: who.groups } });
      await this.#d.notifier.toPerson(tx, 'account.created', user, 'Your Sealbox account was created',
        `Your first sign-in through ${provider.label} created your Sealbox account ${user.name} with the roles ${roles.join(', ')}. Any other role your groups there give waits for an approver, and so does any mailbox the directory does not give you already; you are told of each.`);
    } else {
      user = (await people.byId(tx, boundId))!;
      if (user.disabled) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `your Sealbox account ${user.name} is disabled: ask your administrator`);
      await store.signedIn(tx, provider.id, who.subject, clock.now());
      const removed = user.roles.filter((r) => managed.includes(r) && !wanted.includes(r));
      const added = wanted.filter((r) => HARMLESS_ROLES.includes(r) && !user.roles.includes(r));
      if (removed.length + added.length > 0) {
        const before = user.roles;
        const next = [...before.filter((r) => !removed.includes(r)), ...added];
        user = (await people.setRoles(tx, user.name, next, { none: true })).user;
        events.push({ operation: 'user.roles', parameters: { name: user.name, from: before, to: next, provider: provider.id, groups: who.groups } });
        await this.#d.notifier.toPerson(tx, 'account.roles', user, 'Your Sealbox roles changed',
          `Your groups at ${provider.label} changed your Sealbox roles from ${before.join(', ') || 'none'} to ${next.join(', ') || 'none'}.`);
      }
    }
    // Filed roles the groups no longer give are not decided any more; new ones are filed.
    for (const c of await this.#d.roleChanges.pendingFor(tx, user.id)) {
      if (wanted.includes(c.role) || c.filedBy !== null) continue;
      await this.#d.roleChanges.cancel(tx, c, `no longer in a group at ${provider.label} that gives ${c.role}`);
      events.push({ operation: 'user.role.cancel', parameters: { name: user.name, role: c.role, change: c.id, provider: provider.id } });
    }
    for (const role of wanted.filter((r) => !HARMLESS_ROLES.includes(r) && !user.roles.includes(r))) {
      const groups = this.#d.roleGroups[role]!.filter((g) => who.groups.includes(g));
      const why = `member of ${groups.join(', ')} at ${provider.label}`;
      const filed = await this.#d.roleChanges.file(tx, user, role, why, by);
      if (filed) events.push({ operation: 'user.role.file', parameters: { name: user.name, role, change: filed.id, why, provider: provider.id } });
    }
    // No role left: the removals stand (they are committed with their entries), the sign-in does not.
    if (user.roles.length === 0) return { user, created, events, refusal: `your account at ${provider.label} is in no group that gives a Sealbox role any more: ask your administrator` };
    events.push(...await this.#mailboxes(tx, provider, user, who.verifiedEmails, by.label));
    return { user, created, events, refusal: null };
  }

  #wantedRoles(groups: string[]): Role[] {
    return rolesForGroups(this.#d.roleGroups, groups);
  }

  async #mailboxes(tx: Tx, provider: ProviderConfig, user: User, emails: string[], label: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    const seen = new Set<string>();
    for (const address of emails) {
      const holder = await this.#d.mailboxes.holderOf(tx, address);
      if (!holder || holder.owner === user.name || seen.has(holder.name)) continue;
      seen.add(holder.name);
      if (await this.#d.ownership.filedFor(tx, holder.name, user.name)) continue;
      const why = `${provider.label} says ${user.name} has the verified address ${address}; the directory does not give ${user.name} this mailbox`;
      const row = { name: holder.name, addresses: [], displayName: null, owner: user.name, sensitivity: null, manager: null };
      const c = await this.#d.ownership.stage(tx, { user: null, label }, row, why);
      const id = await this.#d.ownership.mailboxId(tx, holder.name);
      events.push({ operation: 'ownership.file', mailboxes: id === null ? [] : [{ id, name: holder.name }], parameters: { change: c.id, mailbox: c.mailbox, from: c.ownerBefore, to: c.ownerAfter, why, provider: provider.id } });
      await this.#d.notifier.toPerson(tx, 'mailbox.ownership', user, `Your ownership of mailbox ${holder.name} waits for approval`,
        `${why}.\nOwning it would let you read its archived mail, so someone other than you approves it first.\nChange: ${c.id}`);
    }
    return events;
  }
}
