import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { KeyProvider } from '../store/key-provider.ts';
import type { AccountRecoveryStore } from './account-recovery-store.ts';
import type { CredentialStore } from './credential-store.ts';
import type { MailboxStore } from './mailbox-store.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import type { PolicyInForce } from './policy.ts';
import type { Account, PeopleStore } from './people-store.ts';
import { checkTotp, newTotpSecret, otpauthUri } from './totp.ts';

import { ROLES } from './roles.ts';
import type { Role } from './roles.ts';
export { ROLES };
export type { Role };

export interface User {
  id: number;
  name: string;
  displayName: string | null;
  email: string | null;
  roles: Role[];
  enrolled: boolean;
  disabled: boolean;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// Recovery codes stand in for a lost authenticator: each signs in once. Ten codes of 50 random
// bits each, written xxxxx-xxxxx so they can be read out and typed; only their hashes are kept.
export const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // 32 signs: no l, o, 0 or 1
const RECOVERY_FORMAT = /^[a-z0-9]{5}-?[a-z0-9]{5}$/;
const normalRecovery = (code: string) => code.trim().toLowerCase().replace(/[\s-]/g, '');

export interface SignIn {
  user: User;
  secondFactor: 'totp' | 'recovery-code' | null;
  recoveryCodesLeft: number | null;   // after a recovery code was used
}

export interface PeopleDeps {
  store: PeopleStore;
  credentials: CredentialStore;     // ended when roles outgrow them, on disabling, on recovery
  recoveries: AccountRecoveryStore;
  mailboxes: MailboxStore;
  keys: KeyProvider;
  clock: Clock;
  policy: PolicyInForce;            // read in the transaction that decides (src/access/policy.ts)
  db: Transactions;                 // sign-in and enrolment check passwords between transactions
}

// People and their sign-in: no default password exists; an account starts with a one-time
// enrolment code, and every role but plain owner needs a second factor.
export class People {
  readonly #store: PeopleStore;
  readonly #credentials: CredentialStore;
  readonly #recoveries: AccountRecoveryStore;
  readonly #mailboxes: MailboxStore;
  readonly #keys: KeyProvider;
  readonly #clock: Clock;
  readonly #policy: PolicyInForce;
  readonly #db: Transactions;

  constructor(d: PeopleDeps) {
    this.#store = d.store;
    this.#credentials = d.credentials;
    this.#recoveries = d.recoveries;
    this.#mailboxes = d.mailboxes;
    this.#keys = d.keys;
    this.#clock = d.clock;
    this.#policy = d.policy;
    this.#db = d.db;
  }

  // Creates a user (or re-issues the enrolment code of one not yet enrolled).
  async add(tx: Tx, input: { name: string; roles: Role[]; displayName?: string | null; email?: string | null }): Promise<{ user: User; enrolmentCode: string }> {
    checkNameAndRoles(input.name, input.roles);
    const existing = await this.byName(tx, input.name);
    if (existing?.enrolled) throw new SealboxError('SEALBOX_ERR_CONFLICT', `user ${input.name} exists and is enrolled`);
    const code = randomBytes(15).toString('base64url');
    const now = this.#clock.now();
    const expires = now + (await this.#policy(tx)).enrolmentHours * 3600_000;
    if (existing) await this.#store.reissueEnrolment(tx, existing.id, input.roles, sha256(code), expires);
    else await this.#store.add(tx, { name: input.name, displayName: input.displayName ?? null, email: input.email ?? null, roles: input.roles, enrolmentHash: sha256(code), enrolmentExpires: expires, createdAt: now });
    return { user: (await this.byName(tx, input.name))!, enrolmentCode: code };
  }

  // A person made by their first sign-in through an identity provider (src/access/sso-people.ts):
  // no enrolment code exists, as nobody hands them one; the provider's identity is their credential.
  async addSignedIn(tx: Tx, input: { name: string; roles: Role[]; displayName: string | null; email: string | null }): Promise<User> {
    checkNameAndRoles(input.name, input.roles);
    await this.#store.add(tx, { ...input, enrolmentHash: null, enrolmentExpires: null, createdAt: this.#clock.now() });
    return (await this.byName(tx, input.name))!;
  }

  // Changes an enrolled or waiting user's roles. When the new roles need a second factor the
  // user has not set up, no code is handed to anyone: their sessions and tokens end (credentials
  // obtained with the password alone do not carry the new roles), signing in is refused until
  // they enrol again, and the caller files an account recovery that someone else approves.
  // `none`: the roles may all go (a provider's groups give someone none any more; they then sign
  // in to nothing).
  async setRoles(tx: Tx, name: string, roles: Role[], options: { none?: boolean } = {}): Promise<{ user: User; needsEnrolment: boolean }> {
    const account = await this.#store.byName(tx, name);
    if (!account) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    for (const r of roles) if (!ROLES.includes(r)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown role "${r}" (roles: ${ROLES.join(', ')})`);
    if (roles.length === 0 && !options.none) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a user needs at least one role');
    await this.#store.setRoles(tx, account.user.id, [...new Set(roles)]);
    const user = (await this.byId(tx, account.user.id))!;
    if (!await this.needsTotp(tx, user) || account.totpWrapped || account.passwordHash === null) return { user, needsEnrolment: false };
    await this.#credentials.endAll(tx, user.id, this.#clock.now());
    return { user, needsEnrolment: true };
  }

  // A disabled user's sessions and tokens end for good: enabling them again gives nothing back
  // (they sign in anew). A waiting enrolment code and any open account recovery end too.
  async setDisabled(tx: Tx, name: string, disabled: boolean): Promise<User> {
    if (!await this.#store.setDisabled(tx, name, disabled)) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    const user = (await this.byName(tx, name))!;
    if (disabled) {
      await this.#credentials.endAll(tx, user.id, this.#clock.now());
      await this.#store.dropEnrolmentCode(tx, user.id);
      await this.#recoveries.cancelOpen(tx, user.id, this.#clock.now(), 'account disabled');
    }
    return user;
  }

  // Opens an account locked after failed sign-ins before its lock runs out (the failures are
  // forgotten). It hands no credential to anyone: the person still signs in with their own.
  async unlock(tx: Tx, name: string): Promise<{ user: User; lockedUntil: number }> {
    const account = await this.#store.byName(tx, name);
    if (!account) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    if (account.lockedUntil <= this.#clock.now()) throw new SealboxError('SEALBOX_ERR_CONFLICT', `${name} is not locked`);
    await this.#store.signInFailed(tx, account.user.id, 0, 0);
    return { user: account.user, lockedUntil: account.lockedUntil };
  }

  // When the account opens again by itself, or null when it is not locked.
  async lockedUntil(tx: Tx, user: User): Promise<number | null> {
    const until = (await this.#store.byId(tx, user.id))?.lockedUntil ?? 0;
    return until > this.#clock.now() ? until : null;
  }

  async byName(tx: Tx, name: string): Promise<User | null> {
    return (await this.#store.byName(tx, name))?.user ?? null;
  }

  async byId(tx: Tx, id: number): Promise<User | null> {
    return (await this.#store.byId(tx, id))?.user ?? null;
  }

  list(tx: Tx): Promise<User[]> {
    return this.#store.list(tx);
  }

  // Names by id, for words about people: one read of everyone; an id no one has shows as #id.
  async names(tx: Tx): Promise<(id: number) => string> {
    const names = new Map((await this.#store.list(tx)).map((u) => [u.id, u.name]));
    return (id) => names.get(id) ?? `#${id}`;
  }

  // Whether the person has set up an authenticator (TOTP) of their own.
  async hasAuthenticator(tx: Tx, user: User): Promise<boolean> {
    return Boolean((await this.#store.byId(tx, user.id))?.totpWrapped);
  }

  // Whether the person has a Sealbox password (people made through a provider have none).
  async hasPassword(tx: Tx, user: User): Promise<boolean> {
    return Boolean((await this.#store.byId(tx, user.id))?.passwordHash);
  }

  async needsTotp(tx: Tx, user: Pick<User, 'roles'>): Promise<boolean> {
    return needsTotp(await this.#policy(tx), user);
  }

  // Sets the password (and TOTP seed and recovery codes when the roles need a second factor)
  // with the one-time code. A person who is already enrolled enrols again only with the code of
  // an approved account recovery (mailed to them); it ends every session and token they had.
  // Its own transactions: the password is hashed between reading the account and writing it.
  async enrol(name: string, code: string, password: string): Promise<{ user: User; totpUri: string | null; recoveryCodes: string[]; recovery: string | null }> {
    const { account, needs } = await this.#db.read(async (tx) => {
      const account = await this.#store.byName(tx, name);
      return { account, needs: account ? await this.needsTotp(tx, account.user) : false };
    });
    const now = this.#clock.now();
    if (password.length < MIN_PASSWORD_LENGTH) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    const wrong = () => new SealboxError('SEALBOX_ERR_AUTH', 'enrolment code is wrong, used or expired');
    if (!account || account.user.disabled) throw wrong();
    const enrolled = account.user.enrolled;
    const firstOk = !enrolled && account.enrolmentHash && sha256(code) === account.enrolmentHash && Number(account.enrolmentExpires) >= now;
    if (!firstOk && !enrolled) throw wrong();
    const user = account.user;
    const secret = needs ? newTotpSecret() : null;
    const hash = await hashPassword(password);
    const totpWrapped = secret ? await this.#keys.wrap(secret) : null;
    return this.#db.write(async (tx) => {
      // The recovery code is used up in the transaction that enrols with it.
      const recovery = enrolled ? await this.#recoveries.use(tx, account.user.id, sha256(code), now) : null;
      // Said like any wrong code, so that trying does not tell who is enrolled.
      if (enrolled && !recovery) throw wrong();
      if (recovery) await this.#credentials.endAll(tx, user.id, this.#clock.now());
      // A policy that came to ask for a second factor while the password was hashed is followed.
      if (!secret && await this.needsTotp(tx, user)) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'the access policy changed meanwhile and now asks for a second factor: enrol again');
      await this.#store.saveEnrolment(tx, user.id, { passwordHash: hash, totpWrapped });
      const recoveryCodes = secret ? await this.newRecoveryCodes(tx, user) : [];
      return { user: (await this.byId(tx, user.id))!, totpUri: secret ? otpauthUri('Sealbox', name, secret) : null, recoveryCodes, recovery };
    });
  }

  // A fresh set of recovery codes; the earlier ones stop working. Shown once, kept as hashes.
  async newRecoveryCodes(tx: Tx, user: User): Promise<string[]> {
    const codes: string[] = [];
    for (let i = 0; i < RECOVERY_CODES; i++) {
      const bytes = randomBytes(10);
      let code = '';
      for (const b of bytes) code += RECOVERY_ALPHABET[b & 31];
      codes.push(`${code.slice(0, 5)}-${code.slice(5)}`);
    }
    await this.#store.replaceRecoveryCodes(tx, user.id, codes.map((c) => sha256(normalRecovery(c))), this.#clock.now());
    return codes;
  }

  recoveryCodesLeft(tx: Tx, user: User): Promise<number> {
    return this.#store.recoveryCodesLeft(tx, user.id);
  }

  // Uses up one recovery code; true when it was valid and unused.
  async #useRecoveryCode(tx: Tx, userId: number, code: string): Promise<boolean> {
    if (!RECOVERY_FORMAT.test(code.trim().toLowerCase())) return false;
    return this.#store.useRecoveryCode(tx, userId, sha256(normalRecovery(code)), this.#clock.now());
  }

  async authenticate(name: string, password: string, totp: string | undefined): Promise<User> {
    return (await this.signIn(name, password, totp)).user;
  }

  // Checks password and second factor (a TOTP code, or one of the recovery codes, used up);
  // counts failures and locks the account after too many. Its own transactions: the password is
  // checked between reading the account and writing the outcome.
  async signIn(name: string, password: string, totp: string | undefined): Promise<SignIn> {
    const { account, policy } = await this.#db.read(async (tx) => ({ account: await this.#store.byName(tx, name), policy: await this.#policy(tx) }));
    this.#refuseLocked(account, policy);
    return this.#secondStep(account, await verifyPassword(password, account?.passwordHash ?? null), totp);
  }

  // The second factor after a sign-in through an identity provider (the provider stood in for the
  // password): a TOTP code or a recovery code, failures counted towards the lock as above.
  async secondFactor(userId: number, code: string): Promise<SignIn> {
    const { account, policy } = await this.#db.read(async (tx) => ({ account: await this.#store.byId(tx, userId), policy: await this.#policy(tx) }));
    this.#refuseLocked(account, policy);
    return this.#secondStep(account, true, code);
  }

  // A new authenticator key for someone signing in through a provider who needs one and has none
  // yet, wrapped by the master key until its first code proves the app has it (enrolTotp).
  async newAuthenticatorKey(): Promise<Buffer> {
    return this.#keys.wrap(newTotpSecret());
  }

  async authenticatorUri(name: string, wrapped: Buffer): Promise<string> {
    return otpauthUri('Sealbox', name, await this.#keys.unwrap(wrapped, this.#keys.keyId));
  }

  // Keeps the key once a code from it checks (a failure counts like a wrong code); fresh recovery
  // codes come back, shown once. Refused when an authenticator was set up meanwhile.
  async enrolTotp(userId: number, wrapped: Buffer, code: string): Promise<{ user: User; recoveryCodes: string[] }> {
    const { account, policy } = await this.#db.read(async (tx) => ({ account: await this.#store.byId(tx, userId), policy: await this.#policy(tx) }));
    this.#refuseLocked(account, policy);
    if (!account) throw new SealboxError('SEALBOX_ERR_AUTH', 'no such account');
    const step = checkTotp(await this.#keys.unwrap(wrapped, this.#keys.keyId), code.trim(), this.#clock.now(), 0);
    const outcome = await this.#db.write(async (tx) => {
      if (step === null) return this.#failed(tx, account, 'the code does not match the new key: type the 6-digit code the app shows now');
      if ((await this.#store.byId(tx, userId))?.totpWrapped) return new SealboxError('SEALBOX_ERR_CONFLICT', 'an authenticator was set up for this account meanwhile: sign in again');
      await this.#store.saveTotp(tx, userId, wrapped, step);
      return { user: (await this.byId(tx, userId))!, recoveryCodes: await this.newRecoveryCodes(tx, account.user) };
    });
    if (outcome instanceof SealboxError) throw outcome;
    return outcome;
  }

  #refuseLocked(account: Account | null, policy: Config['access']): void {
    const now = this.#clock.now();
    if (account && account.lockedUntil > now) {
      // In words, not a time stamp: the reason lands in the ledger and on pages read in any zone.
      const minutes = Math.ceil((account.lockedUntil - now) / 60_000);
      throw new SealboxError('SEALBOX_ERR_LOCKED', `account locked after ${policy.lockoutAttempts} failed sign-ins; it opens again by itself in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}`);
    }
  }

  // A failure counted from the row as it is now (failures tried at the same time all count), and
  // the account locked after too many; the error to throw once this has committed.
  async #failed(tx: Tx, account: Account, message: string): Promise<SealboxError> {
    const now = this.#clock.now();
    const failures = ((await this.#store.byId(tx, account.user.id))?.failedLogins ?? account.failedLogins) + 1;
    const policy = await this.#policy(tx);
    const lock = failures >= policy.lockoutAttempts ? now + policy.lockoutMinutes * 60_000 : 0;
    await this.#store.signInFailed(tx, account.user.id, lock ? 0 : failures, lock);
    return new SealboxError('SEALBOX_ERR_AUTH', message);
  }

  async #secondStep(account: Account | null, passwordOk: boolean, totp: string | undefined): Promise<SignIn> {
    const now = this.#clock.now();
    const step = account && passwordOk && account.totpWrapped
      ? checkTotp(await this.#keys.unwrap(account.totpWrapped, this.#keys.keyId), totp ?? '', now, account.totpLastStep)
      : null;
    const outcome = await this.#db.write(async (tx): Promise<SignIn | SealboxError> => {
      let totpOk = true;
      let secondFactor: SignIn['secondFactor'] = null;
      if (account && passwordOk && account.totpWrapped) {
        // A recovery code is spent only when the password is right and the account not disabled.
        if (step === null && !account.user.disabled && await this.#useRecoveryCode(tx, account.user.id, totp ?? '')) secondFactor = 'recovery-code';
        else if (step !== null) secondFactor = 'totp';
        totpOk = secondFactor !== null;
      } else if (account && passwordOk && await this.needsTotp(tx, account.user)) totpOk = false;
      if (!account || !passwordOk || !totpOk || account.user.disabled) {
        const message = passwordOk && !totpOk ? 'a valid one-time code (TOTP) or an unused recovery code is required' : 'wrong user name or password';
        return account ? this.#failed(tx, account, message) : new SealboxError('SEALBOX_ERR_AUTH', message);
      }
      await this.#store.signedIn(tx, account.user.id, step ?? 0);
      const user = account.user;
      return { user, secondFactor, recoveryCodesLeft: secondFactor === 'recovery-code' ? await this.recoveryCodesLeft(tx, user) : null };
    });
    // Thrown once the failure is counted (committed).
    if (outcome instanceof SealboxError) throw outcome;
    return outcome;
  }

  ownedMailboxes(tx: Tx, user: User): Promise<{ id: number; name: string }[]> {
    return this.#mailboxes.ownedBy(tx, user.name);
  }
}

// Every role but plain owner signs in with a second factor, unless the policy says otherwise.
function needsTotp(policy: Config['access'], user: Pick<User, 'roles'>): boolean {
  return policy.totpRequired && user.roles.some((r) => r !== 'owner');
}

function checkNameAndRoles(name: string, roles: Role[]): void {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `user name "${name}" must be 1–64 of a-z 0-9 . _ - (lowercase, starting with a letter or digit)`);
  for (const r of roles) if (!ROLES.includes(r)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown role "${r}" (roles: ${ROLES.join(', ')})`);
  if (roles.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a user needs at least one role');
}
