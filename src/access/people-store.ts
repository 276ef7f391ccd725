import type { Role, User } from './people.ts';

// A person as stored, with what signs them in (hashes, the wrapped TOTP seed) kept apart from
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
  byName(name: string): Account | null;
  byId(id: number): Account | null;
  list(): User[];             // by name
  add(person: { name: string; displayName: string | null; email: string | null; roles: Role[]; enrolmentHash: string; enrolmentExpires: number; createdAt: number }): void;
  // A new enrolment code (and roles) for someone not yet enrolled.
  reissueEnrolment(id: number, roles: Role[], enrolmentHash: string, enrolmentExpires: number): void;
  setRoles(id: number, roles: Role[]): void;
  // False when there is no such person.
  setDisabled(name: string, disabled: boolean): boolean;
  dropEnrolmentCode(id: number): void;
  // Password and TOTP seed set; the code is used up and the failure count starts again.
  saveEnrolment(id: number, secrets: { passwordHash: string; totpWrapped: Buffer | null }): void;
  signInFailed(id: number, failedLogins: number, lockedUntil: number): void;
  // Failures forgotten; no TOTP step up to totpStep is accepted again.
  signedIn(id: number, totpStep: number): void;
  // The earlier codes stop working.
  replaceRecoveryCodes(userId: number, codeHashes: string[], at: number): void;
  recoveryCodesLeft(userId: number): number;
  // True when the code was valid and unused; it is used up.
  useRecoveryCode(userId: number, codeHash: string, at: number): boolean;
}
