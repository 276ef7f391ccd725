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
export async function addThroughApi(tx: Tx, d: { people: People; mailboxes: MailboxStore; notifier: Notifier; policy: PolicyInForce }, by: User,
  input: { name: string; roles: Role[]; displayName?: string; email?: string }): Promise<FirstCode> {
  const addresses: string[] = [];
  for (const { name } of await d.mailboxes.ownedBy(tx, input.name)) {
    const m = await d.mailboxes.byName(tx, name);
    const address = m?.addresses.includes(name.toLowerCase()) ? name.toLowerCase() : m?.addresses[0];
    if (address && !addresses.includes(address)) addresses.push(address);
  }
  if (addresses.length === 0) {
    const added = await d.people.add(tx, input);
    return { ...added, codeMailedTo: [] };
  }
  const email = input.email?.trim().toLowerCase();
  if (email && !addresses.includes(email)) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${input.name} owns mailboxes, so their e-mail address is one of theirs (${addresses.join(', ')}), not ${input.email}`, { fields: ['email'] });
  }
  const added = await d.people.add(tx, { ...input, email: email ?? addresses[0] });
  await d.notifier.secretTo(tx, 'account.enrolment-code', addresses, 'Your Sealbox enrolment code',
    `${by.name} made a Sealbox account for you (${added.user.name}), the owner of the archived mail of ${addresses.join(', ')}.\n\n`
    + `Your one-time enrolment code (valid ${(await d.policy(tx)).enrolmentHours} h): ${added.enrolmentCode}\n`
    + `Enrol with it: POST /api/v1/enrol {"name": "${added.user.name}", "code": "…", "password": "…"} or the web app's /enrol page.\n\n`
    + 'Nobody else was given this code. If you did not expect it, do not use it and tell your security team.');
  return { user: added.user, enrolmentCode: null, codeMailedTo: addresses };
}
