// Where enrolment and recovery codes go. A code is a credential: whoever holds it enrols as the
// person. An admin is handed the first code only of an account that reads no one's mail; for
// someone the directory gives mailboxes, codes and the notices that warn them go to those
// mailboxes' addresses (secretAddresses), never to an address an admin typed.
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { MailboxStore } from './mailbox-store.ts';
import type { Notifier } from './notifier.ts';
import type { People, Role, User } from './people.ts';
import type { PolicyInForce } from './policy.ts';

export interface FirstCode {
  user: User;
  enrolmentCode: string | null;     // null: mailed to the person (codeMailedTo)
  codeMailedTo: string[];
}

// Who receives the enrolment code of an account an admin adds (or whose code an admin issues
// again) through the API. The admin hands it on, as with anyone who has no credential yet; but
// whoever holds the code of someone the directory already gives mailboxes could enrol as them and
// read their mail, alone. So that code goes by mail to those mailboxes' addresses only, never in
// the answer (as a recovery code does), and the person's e-mail address, where later recovery
// codes go, is one of them. At the console the code is printed as before: the operator holds the
// keys anyway.
export async function addThroughApi(tx: Tx, d: CodeDeps, by: User,
  input: { name: string; roles: Role[]; displayName?: string; email?: string }): Promise<FirstCode> {
  const addresses = await ownedAddresses(tx, d.mailboxes, input.name);
  if (addresses.length === 0) {
    const added = await d.people.add(tx, input);
    return { ...added, codeMailedTo: [] };
  }
  const email = input.email?.trim().toLowerCase();
  if (email && !addresses.includes(email)) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${input.name} owns mailboxes, so their e-mail address is one of theirs (${addresses.join(', ')}), not ${input.email}`, { fields: ['email'] });
  }
  const added = await d.people.add(tx, { ...input, email: email ?? addresses[0] });
  await mailCode(tx, d, added.user, added.enrolmentCode, addresses, `${by.name} made a Sealbox account for you (${added.user.name})`);
  return { user: added.user, enrolmentCode: null, codeMailedTo: addresses };
}

// When mail is given to an account not enrolled yet whose first code an admin was handed (made
// through the API before the directory named it an owner), that code ends and a new one is mailed
// to the account's mailboxes: the admin's could otherwise enrol as the owner. The addresses it
// went to; none when there was nothing to do.
export async function codeToOwner(tx: Tx, d: CodeDeps & { makers: (tx: Tx, userId: number) => Promise<number[]> }, name: string): Promise<string[]> {
  const user = await d.people.byName(tx, name);
  if (!user || user.enrolled || user.disabled || (await d.makers(tx, user.id)).length === 0) return [];
  const addresses = await ownedAddresses(tx, d.mailboxes, name);
  if (addresses.length === 0) return [];
  const again = await d.people.add(tx, { name, roles: user.roles });
  await mailCode(tx, d, again.user, again.enrolmentCode, addresses, `Your Sealbox account (${name}) now holds the archived mail of ${addresses.join(', ')}, so its enrolment code was made anew for you alone; any code given out before no longer works`);
  return addresses;
}

interface CodeDeps {
  people: People;
  mailboxes: MailboxStore;
  notifier: Notifier;
  policy: PolicyInForce;
}

// For each mailbox the person owns, its own address (its name) or else its first.
export async function ownedAddresses(tx: Tx, mailboxes: MailboxStore, owner: string): Promise<string[]> {
  const addresses: string[] = [];
  for (const { name } of await mailboxes.ownedBy(tx, owner)) {
    const m = await mailboxes.byName(tx, name);
    const address = m?.addresses.includes(name.toLowerCase()) ? name.toLowerCase() : m?.addresses[0];
    if (address && !addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}

async function mailCode(tx: Tx, d: CodeDeps, user: User, code: string, addresses: string[], lead: string): Promise<void> {
  await d.notifier.secretTo(tx, 'account.enrolment-code', addresses, 'Your Sealbox enrolment code',
    `${lead}.\n\nYour one-time enrolment code (valid ${(await d.policy(tx)).enrolmentHours} h): ${code}\n`
    + `Enrol with it: POST /api/v1/enrol {"name": "${user.name}", "code": "…", "password": "…"} or the web app's /enrol page.\n\n`
    + 'Nobody else was given this code. If you did not expect it, do not use it and tell your security team.');
}

// Where a person's secrets (a recovery code) and the notices about them go: the addresses of the
// mailboxes the directory gives them, or, owning none, the e-mail address their account was made
// with. The directory's word outranks an address an admin typed when making the account.
export async function secretAddresses(tx: Tx, mailboxes: MailboxStore, user: User): Promise<string[]> {
  const owned = await ownedAddresses(tx, mailboxes, user.name);
  return owned.length > 0 ? owned : user.email ? [user.email] : [];
}
