// Where enrolment and recovery codes go. A code is a credential: whoever holds it enrols as the
// person. An admin is handed the first code only of an account that reads no one's mail; for
// someone the directory gives mailboxes, codes and the notices that warn them go to those
// mailboxes' addresses (CodeAddresses), never to an address an admin typed.
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import { domainOf } from '../retention/retention-policy.ts';
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
// the answer (as a recovery code does), and the person's e-mail address is one of them. At the
// console the code is printed as before: the operator holds the keys anyway.
export async function addThroughApi(tx: Tx, d: CodeDeps, by: User,
  input: { name: string; roles: Role[]; displayName?: string; email?: string }): Promise<FirstCode> {
  const to = await d.addresses.owned(tx, input.name);
  if (to === null) {
    const added = await d.people.add(tx, input);
    return { ...added, codeMailedTo: [] };
  }
  if (to.length === 0) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${input.name} owns mailboxes, but none has an address in internalDomains to mail the enrolment code to: add them at the console (sealbox users add)`);
  const email = input.email?.trim().toLowerCase();
  if (email && !to.includes(email)) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${input.name} owns mailboxes, so their e-mail address is one of theirs (${to.join(', ')}), not ${input.email}`, { fields: ['email'] });
  }
  const added = await d.people.add(tx, { ...input, email: email ?? to[0] });
  await mailCode(tx, d, added.user, added.enrolmentCode, to, `${by.name} made a Sealbox account for you (${added.user.name})`);
  return { user: added.user, enrolmentCode: null, codeMailedTo: to };
}

// When mail is given to an account not enrolled yet whose first code an admin was handed (made
// through the API before the directory named it an owner), that code ends and a new one is mailed
// to the account's mailboxes (with none to mail to, the console's operator issues the next one):
// the admin's could otherwise enrol as the owner.
export async function codeToOwner(tx: Tx, d: CodeDeps & { makers: (tx: Tx, userId: number) => Promise<number[]> }, name: string): Promise<void> {
  const user = await d.people.byName(tx, name);
  if (!user || user.enrolled || user.disabled || (await d.makers(tx, user.id)).length === 0) return;
  const to = await d.addresses.owned(tx, name);
  if (to === null) return;
  const again = await d.people.add(tx, { name, roles: user.roles });
  if (to.length > 0) await mailCode(tx, d, again.user, again.enrolmentCode, to, `Your Sealbox account (${name}) now holds the archived mail of ${to.join(', ')}, so its enrolment code was made anew for you alone; any code given out before no longer works`);
}

interface CodeDeps {
  people: People;
  addresses: CodeAddresses;
  notifier: Notifier;
  policy: PolicyInForce;
}

// The addresses a person's codes, and the notices that warn them, go to. For someone the
// directory gives mailboxes: one address of each (its name, or its first), and only in the
// organisation's own domains (internalDomains, in the config file): an admin may add an outside
// address of their own to someone's mailbox, but cannot make a domain internal. For someone who
// owns none: the e-mail address their account was made with.
export class CodeAddresses {
  readonly #mailboxes: MailboxStore;
  readonly #internal: ReadonlySet<string> | null;

  constructor(mailboxes: MailboxStore, internalDomains: readonly string[]) {
    this.#mailboxes = mailboxes;
    this.#internal = internalDomains.length > 0 ? new Set(internalDomains.map((d) => d.toLowerCase())) : null;
  }

  // Null: the person owns no mailbox.
  async owned(tx: Tx, owner: string): Promise<string[] | null> {
    const owns = await this.#mailboxes.ownedBy(tx, owner);
    if (owns.length === 0) return null;
    const out: string[] = [];
    for (const { name } of owns) {
      const ours = ((await this.#mailboxes.byName(tx, name))?.addresses ?? []).filter((a) => this.#internal === null || this.#internal.has(domainOf(a)));
      const address = ours.includes(name.toLowerCase()) ? name.toLowerCase() : ours[0];
      if (address && !out.includes(address)) out.push(address);
    }
    return out;
  }

  async secret(tx: Tx, user: User): Promise<string[]> {
    return (await this.owned(tx, user.name)) ?? (user.email ? [user.email] : []);
  }
}

async function mailCode(tx: Tx, d: CodeDeps, user: User, code: string, addresses: string[], lead: string): Promise<void> {
  await d.notifier.toPerson(tx, 'account.enrolment-code', user, 'Your Sealbox enrolment code',
    `${lead}.\n\nYour one-time enrolment code (valid ${(await d.policy(tx)).enrolmentHours} h): ${code}\n`
    + `Enrol with it: POST /api/v1/enrol {"name": "${user.name}", "code": "…", "password": "…"} or the web app's /enrol page.\n\n`
    + 'Nobody else was given this code. If you did not expect it, do not use it and tell your security team.', { mailOnly: true, to: addresses });
}
