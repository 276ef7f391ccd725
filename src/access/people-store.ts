import type { Tx } from '../core/transactions.ts';
import type { Role, User } from './people.ts';

// A person as stored (enrolled: they have a credential of their own, a password or an identity
// at a provider), with what signs them in (hashes, the wrapped TOTP seed) kept apart from
// the User every caller sees.
export interface Account {
  user: User;
  passwordHash: string | null;
  totpWrapped: Buffer | null;
  totpLastStep: number;
  enrolmentHash: string | null;
  enrolmentExpires: number | null;
  failedLogins: number;
  lockedUntil: number;
}

// People and their recovery codes (src/access/people.ts holds the rules).
export interface PeopleStore {
  byName(tx: Tx, name: string): Promise<Account | null>;
  byId(tx: Tx, id: number): Promise<Account | null>;
  list(tx: Tx): Promise<User[]>;             // by name
  // Without an enrolment code: a person made by a sign-in through an identity provider.
  add(tx: Tx, person: { name: string; displayName: string | null; email: string | null; roles: Role[]; enrolmentHash: string | null; enrolmentExpires: number | null; createdAt: number }): Promise<void>;
  // A new enrolment code (and roles) for someone not yet enrolled.
  reissueEnrolment(tx: Tx, id: number, roles: Role[], enrolmentHash: string, enrolmentExpires: number): Promise<void>;
  setRoles(tx: Tx, id: number, roles: Role[]): Promise<void>;
  // False when there is no such person.
  setDisabled(tx: Tx, name: string, disabled: boolean): Promise<boolean>;
  dropEnrolmentCode(tx: Tx, id: number): Promise<void>;
  // Password and TOTP seed set; the code is used up and the failure count starts again.
  saveEnrolment(tx: Tx, id: number, secrets: { passwordHash: string; totpWrapped: Buffer | null }): Promise<void>;
  // An authenticator set up after a sign-in through an identity provider; no step up to
  // totpStep is accepted again.
  saveTotp(tx: Tx, id: number, totpWrapped: Buffer, totpStep: number): Promise<void>;
  signInFailed(tx: Tx, id: number, failedLogins: number, lockedUntil: number): Promise<void>;
  // Failures forgotten; no TOTP step up to totpStep is accepted again.
  signedIn(tx: Tx, id: number, totpStep: number): Promise<void>;
  // The earlier codes stop working.
  replaceRecoveryCodes(tx: Tx, userId: number, codeHashes: string[], at: number): Promise<void>;
  recoveryCodesLeft(tx: Tx, userId: number): Promise<number>;
  // True when the code was valid and unused; it is used up.
  useRecoveryCode(tx: Tx, userId: number, codeHash: string, at: number): Promise<boolean>;
}
