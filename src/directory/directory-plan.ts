import type { DirectoryRow } from '../access/directory-csv.ts';
import type { MailboxOwnership } from '../access/mailbox-ownership.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import type { People, User } from '../access/people.ts';
import { HARMLESS_ROLES } from '../access/role-changes.ts';
import type { RoleChanges } from '../access/role-changes.ts';
import { ROLES } from '../access/roles.ts';
import type { Role } from '../access/roles.ts';
import { rolesForGroups } from '../access/sso-people.ts';
import type { Config } from '../core/config.ts';
import type { Tx } from '../core/transactions.ts';
import type { DirectorySnapshot } from './directory-snapshot.ts';
import type { DirectoryLink, DirectoryStore } from './directory-store.ts';

// One change a sync makes (or, in a dry run, would make). Each is applied by the rule that
// governs it elsewhere: a mailbox row through the directory import's ownership rules, a leaving
// date filed for an approver, a role a group gives filed for an approver unless it reads nothing.
export type DirectoryChange =
  | { kind: 'mailbox'; mailbox: string; what: string[]; row: DirectoryRow }
  | { kind: 'leave'; user: string; mailbox: string; left: string; why: string }
  | { kind: 'return'; user: string; mailbox: string }
  | { kind: 'disable'; user: string; why: string }
  | { kind: 'roles'; user: string; from: Role[]; to: Role[]; groups: string[] }
  | { kind: 'role.file'; user: string; role: Role; why: string }
  | { kind: 'role.cancel'; user: string; role: Role; change: string };

export interface DirectoryPlan {
  changes: DirectoryChange[];
  links: DirectoryLink[];       // the people as the directory names them after this sync
  removals: number;             // people newly disabled or gone
  known: number;                // people the directory named before (or names now, the larger)
  skipped: DirectorySnapshot['skipped'];
}

export interface PlanDeps {
  store: DirectoryStore;
  mailboxes: MailboxStore;
  people: People;
  ownership: MailboxOwnership;
  roleChanges: RoleChanges;
  roleGroups: Config['sso']['roleGroups'];
}

// The difference between what the directory says and what Sealbox has, as a list of changes.
// Only what differs is listed, so a second sync of an unchanged directory lists nothing. What
// waits for approval already (an owner staged, a role filed, a leaving date filed) is not listed
// again, nor is what was refused: a refusal stands until the directory changes.
// `only`: plan just these people (by user name), as the directory names them or named them before:
// a SCIM request that changed them (the rest of the directory is as the last request left it).
// Shared mailboxes are planned only in a whole sync.
export async function planDirectory(tx: Tx, d: PlanDeps, snapshot: DirectorySnapshot, today: string, now: number, only?: ReadonlySet<string>): Promise<DirectoryPlan> {
  const source = snapshot.source;
  const before = new Map((await d.store.links(tx, source)).map((l) => [l.userName, l]));
  const changes: DirectoryChange[] = [];
  const links: DirectoryLink[] = [];
  let removals = 0;
  const label = `directory:${source}`;
  const managed = ROLES.filter((r) => r === 'owner' || d.roleGroups[r]);
  const skipped = [...snapshot.skipped];
  // An account that only reads its own mail (or under a grant) is disabled at once. One holding a
  // power over others (approver, auditor, admin, records, break-glass) is not: whoever runs the
  // directory could otherwise switch off the people who oversee them; an admin disables it.
  const disable = (user: User, why: string) => {
    const powers = user.roles.filter((r) => !HARMLESS_ROLES.includes(r));
    if (powers.length === 0) changes.push({ kind: 'disable', user: user.name, why });
    else skipped.push({ entry: user.name, why: `${why}, but holds the role${powers.length > 1 ? 's' : ''} ${powers.join(', ')}: not disabled by the directory; an admin disables the account` });
  };

  for (const p of snapshot.people) {
    if (only && !only.has(p.userName)) continue;
    const link = before.get(p.userName);
    const mailbox = link?.mailbox ?? (await d.mailboxes.holderOf(tx, p.addresses[0]))?.name ?? p.addresses[0];
    const row: DirectoryRow = { name: mailbox, addresses: p.addresses, displayName: p.displayName, owner: p.userName, sensitivity: null, manager: p.manager, department: p.department };
    const mailboxChange = await rowChange(tx, d, row);
    if (mailboxChange) changes.push(mailboxChange);
    let leftOn = link?.leftOn ?? null;
    if (p.disabled && leftOn === null) {
      leftOn = today;
      changes.push({ kind: 'leave', user: p.userName, mailbox, left: today, why: 'disabled in the directory' });
      if (link && link.state !== 'disabled') removals++;
    } else if (!p.disabled && leftOn !== null) {
      leftOn = null;
      changes.push({ kind: 'return', user: p.userName, mailbox });
    }
    links.push({ source, userName: p.userName, mailbox, state: p.disabled ? 'disabled' : 'active', leftOn, seenAt: now });

    const user = await d.people.byName(tx, p.userName);
    if (!user) continue;       // made at their first sign-in through a provider, which finds the directory's mailbox theirs
    if (p.disabled) {
      if (!user.disabled) disable(user, 'disabled in the directory');
      continue;
    }
    if (user.disabled) continue;   // a person disabled in Sealbox stays disabled, whatever the directory says
    const wanted = rolesForGroups(d.roleGroups, p.groups);
    const removed = user.roles.filter((r) => managed.includes(r) && !wanted.includes(r));
    const added = wanted.filter((r) => HARMLESS_ROLES.includes(r) && !user.roles.includes(r));
    if (removed.length + added.length > 0) changes.push({ kind: 'roles', user: user.name, from: user.roles, to: [...user.roles.filter((r) => !removed.includes(r)), ...added], groups: p.groups });
    for (const c of await d.roleChanges.pendingFor(tx, user.id)) {
      if (c.filedByLabel === label && !wanted.includes(c.role)) changes.push({ kind: 'role.cancel', user: user.name, role: c.role, change: c.id });
    }
    for (const role of wanted.filter((r) => !HARMLESS_ROLES.includes(r) && !user.roles.includes(r))) {
      if (await d.roleChanges.standing(tx, user.id, role)) continue;
      const groups = d.roleGroups[role]!.filter((g) => p.groups.includes(g));
      changes.push({ kind: 'role.file', user: user.name, role, why: `member of ${groups.join(', ')} in the directory (${source})` });
    }
  }

  // People the directory named before and names no more: gone.
  const named = new Set(snapshot.people.map((p) => p.userName));
  for (const link of before.values()) {
    if (named.has(link.userName) || (only && !only.has(link.userName))) continue;
    if (link.state !== 'removed') {
      if (link.leftOn === null) changes.push({ kind: 'leave', user: link.userName, mailbox: link.mailbox, left: today, why: 'no longer in the directory' });
      if (link.state === 'active') removals++;
      const user = await d.people.byName(tx, link.userName);
      if (user && !user.disabled) disable(user, 'no longer in the directory');
    }
    links.push({ ...link, state: 'removed', leftOn: link.leftOn ?? today, seenAt: link.state === 'removed' ? link.seenAt : now });
  }

  for (const m of only ? [] : snapshot.shared) {
    const name = (await d.mailboxes.holderOf(tx, m.addresses[0]))?.name ?? m.name;
    const change = await rowChange(tx, d, { name, addresses: m.addresses, displayName: m.displayName, owner: m.owner, sensitivity: null, manager: null, department: null });
    if (change) changes.push(change);
  }
  const activeBefore = [...before.values()].filter((l) => l.state === 'active').length;
  return { changes, links, removals, known: Math.max(activeBefore, snapshot.people.filter((p) => !p.disabled).length), skipped };
}

// The row as a change when it differs from the mailbox: a new mailbox, an address it lacks, or
// another display name, owner, manager or department. An owner that waits for approval already,
// or was refused, is not asked for again (the row keeps the owner there).
async function rowChange(tx: Tx, d: PlanDeps, row: DirectoryRow): Promise<DirectoryChange | null> {
  const current = await d.mailboxes.byName(tx, row.name);
  const what: string[] = [];
  // An address another owner holds, for a mailbox whose change to this owner waits already or was
  // refused, is not asked for again (it would be staged anew at every sync).
  const after = row.owner ?? current?.owner ?? null;
  if (current && after && await d.ownership.filedFor(tx, row.name, after)) {
    const kept: string[] = [];
    for (const a of row.addresses) {
      const holder = current.addresses.includes(a) ? null : await d.mailboxes.holderOf(tx, a);
      if (!holder?.owner || holder.owner === after) kept.push(a);
    }
    row = { ...row, addresses: kept };
  }
  if (!current) what.push('new');
  else {
    if (row.addresses.some((a) => !current.addresses.includes(a))) what.push('addresses');
    if (row.displayName && row.displayName !== current.displayName) what.push('display name');
    if (row.manager && row.manager !== (current.manager ?? null)) what.push('manager');
    if (row.department && row.department !== current.department) what.push('department');
  }
  let owner = row.owner;
  if (owner && owner !== (current?.owner ?? null)) {
    if (await d.ownership.filedFor(tx, row.name, owner)) {
      // The staged change makes the mailbox when it is approved.
      if (!current) return null;
      owner = null;
    } else if (current) what.push('owner');
  }
  if (what.length === 0) return null;
  // A row staged already (a department that would keep mail less long, say) is not staged anew
  // at every sync while it waits, nor after it was refused.
  if (await d.ownership.filedRow(tx, { ...row, owner })) return null;
  return { kind: 'mailbox', mailbox: row.name, what, row: { ...row, owner } };
}
