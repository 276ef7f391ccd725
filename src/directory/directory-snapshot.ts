// What a directory says, read in one go (LDAP, src/directory/ldap-directory.ts) or kept as an
// identity provider pushed it (SCIM, src/directory/scim-directory.ts): the desired state that
// the planner (directory-plan.ts) compares with Sealbox's people and mailboxes.

export type DirectorySource = 'ldap' | 'scim';
export const DIRECTORY_SOURCES: readonly DirectorySource[] = ['ldap', 'scim'];

export interface DirectoryPerson {
  userName: string;             // the Sealbox user name, lowercase
  displayName: string | null;
  addresses: string[];          // lowercased, the primary address first
  manager: string | null;       // the manager's user name
  department: string | null;
  disabled: boolean;
  groups: string[];             // group names, as sso.roleGroups names them
}

// A shared mailbox or distribution list: a mailbox with an owner, no person of its own.
export interface SharedMailbox {
  name: string;
  displayName: string | null;
  addresses: string[];
  owner: string | null;         // user name
}

export interface DirectorySnapshot {
  source: DirectorySource;
  people: DirectoryPerson[];
  shared: SharedMailbox[];
  // Entries left out, with why (no address, a name Sealbox cannot use): shown with the plan.
  skipped: { entry: string; why: string }[];
}

// A directory login as a Sealbox user name: lowercase; a user principal name or address
// (alice@example.org) by its local part. Null when it cannot be one.
export function sealboxUserName(login: string): string | null {
  const name = login.trim().toLowerCase().replace(/@.*$/, '');
  return /^[a-z0-9][a-z0-9._-]{0,63}$/.test(name) ? name : null;
}

export const isAddress = (a: string) => /^[^@\s]+@[^@\s]+$/.test(a);
