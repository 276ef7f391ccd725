import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import { AccountRecoveries } from '../store/account-recoveries.ts';
import type { KeyProvider } from '../store/key-provider.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
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

// People and their sign-in: no default password exists; an account starts with a one-time
// enrolment code, and every role but plain owner needs a second factor.
export class People {
  readonly #meta: SqliteMetadataStore;
  readonly #keys: KeyProvider;
  readonly #clock: Clock;
  readonly #policy: () => Config['access'];
  readonly #recoveries: AccountRecoveries;

  constructor(meta: SqliteMetadataStore, keys: KeyProvider, clock: Clock, policy: () => Config['access']) {
    this.#meta = meta;
    this.#recoveries = new AccountRecoveries(meta);
    this.#keys = keys;
    this.#clock = clock;
    this.#policy = policy;
  }

  // Creates a user (or re-issues the enrolment code of one not yet enrolled).
  add(input: { name: string; roles: Role[]; displayName?: string | null; email?: string | null }): { user: User; enrolmentCode: string } {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(input.name)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `user name "${input.name}" must be 1–64 of a-z 0-9 . _ - (lowercase, starting with a letter or digit)`);
    for (const r of input.roles) if (!ROLES.includes(r)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown role "${r}" (roles: ${ROLES.join(', ')})`);
    if (input.roles.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a user needs at least one role');
    const existing = this.byName(input.name);
    if (existing?.enrolled) throw new SealboxError('SEALBOX_ERR_CONFLICT', `user ${input.name} exists and is enrolled`);
    const code = randomBytes(15).toString('base64url');
    const now = this.#clock.now();
    const expires = now + this.#policy().enrolmentHours * 3600_000;
    if (existing) {
      this.#meta.prepare('UPDATE user SET roles = ?, enrolment_hash = ?, enrolment_expires = ? WHERE id = ?').run(JSON.stringify(input.roles), sha256(code), expires, existing.id);
    } else {
      this.#meta.prepare('INSERT INTO user (name, display_name, email, roles, enrolment_hash, enrolment_expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(input.name, input.displayName ?? null, input.email ?? null, JSON.stringify(input.roles), sha256(code), expires, now);
    }
    return { user: this.byName(input.name)!, enrolmentCode: code };
  }

  // Changes an enrolled or waiting user's roles. When the new roles need a second factor the
  // user has not set up, no code is handed to anyone: their sessions and tokens end (credentials
  // obtained with the password alone do not carry the new roles), signing in is refused until
  // they enrol again, and the caller files an account recovery that someone else approves.
  setRoles(name: string, roles: Role[]): { user: User; needsEnrolment: boolean } {
    const row = this.#meta.prepare('SELECT * FROM user WHERE name = ?').get(name) as Record<string, any> | undefined;
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    for (const r of roles) if (!ROLES.includes(r)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown role "${r}" (roles: ${ROLES.join(', ')})`);
    if (roles.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a user needs at least one role');
    this.#meta.prepare('UPDATE user SET roles = ? WHERE id = ?').run(JSON.stringify([...new Set(roles)]), row.id);
    const user = this.byId(Number(row.id))!;
    if (!this.needsTotp(user) || row.totp_wrapped || row.password_hash === null) return { user, needsEnrolment: false };
    this.#endCredentials(Number(row.id));
    return { user, needsEnrolment: true };
  }

  // A disabled user's sessions and tokens end for good: enabling them again gives nothing back
  // (they sign in anew). A waiting enrolment code and any open account recovery end too.
  setDisabled(name: string, disabled: boolean): User {
    const r = this.#meta.prepare('UPDATE user SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name);
    if (Number(r.changes) !== 1) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no user ${name}`);
    const user = this.byName(name)!;
    if (disabled) {
      this.#endCredentials(user.id);
      this.#meta.prepare('UPDATE user SET enrolment_hash = NULL, enrolment_expires = NULL WHERE id = ?').run(user.id);
      this.#recoveries.cancelOpen(user.id, this.#clock.now(), 'account disabled');
    }
    return user;
  }

  #endCredentials(userId: number): void {
    this.#meta.prepare('DELETE FROM session WHERE user_id = ?').run(userId);
    this.#meta.prepare('UPDATE api_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(this.#clock.now(), userId);
  }

  byName(name: string): User | null {
    const row = this.#meta.prepare('SELECT * FROM user WHERE name = ?').get(name) as Record<string, any> | undefined;
    return row ? toUser(row) : null;
  }

  byId(id: number): User | null {
    const row = this.#meta.prepare('SELECT * FROM user WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toUser(row) : null;
  }

  list(): User[] {
    return (this.#meta.prepare('SELECT * FROM user ORDER BY name').all() as Record<string, any>[]).map(toUser);
  }

  needsTotp(user: Pick<User, 'roles'>): boolean {
    return this.#policy().totpRequired && user.roles.some((r) => r !== 'owner');
  }

  // Sets the password (and TOTP seed and recovery codes when the roles need a second factor)
  // with the one-time code. A person who is already enrolled enrols again only with the code of
  // an approved account recovery (mailed to them); it ends every session and token they had.
  async enrol(name: string, code: string, password: string): Promise<{ user: User; totpUri: string | null; recoveryCodes: string[]; recovery: string | null }> {
    const row = this.#meta.prepare('SELECT * FROM user WHERE name = ?').get(name) as Record<string, any> | undefined;
    const now = this.#clock.now();
    if (password.length < MIN_PASSWORD_LENGTH) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    const wrong = () => new SealboxError('SEALBOX_ERR_AUTH', 'enrolment code is wrong, used or expired');
    if (!row || row.disabled) throw wrong();
    const enrolled = row.password_hash !== null;
    const firstOk = !enrolled && row.enrolment_hash && sha256(code) === row.enrolment_hash && Number(row.enrolment_expires) >= now;
    if (!firstOk && !enrolled) throw wrong();
    const recovery = enrolled ? this.#recoveries.use(Number(row.id), sha256(code), now) : null;
    // Said like any wrong code, so that trying does not tell who is enrolled.
    if (enrolled && !recovery) throw wrong();
    const user = toUser(row);
    const secret = this.needsTotp(user) ? newTotpSecret() : null;
    const hash = await hashPassword(password);
    if (recovery) this.#endCredentials(user.id);
    this.#meta.prepare('UPDATE user SET password_hash = ?, totp_wrapped = ?, totp_last_step = 0, enrolment_hash = NULL, enrolment_expires = NULL, failed_logins = 0, locked_until = 0 WHERE id = ?')
      .run(hash, secret ? await this.#keys.wrap(secret) : null, user.id);
    const recoveryCodes = secret ? this.newRecoveryCodes(user) : [];
    return { user: this.byId(user.id)!, totpUri: secret ? otpauthUri('Sealbox', name, secret) : null, recoveryCodes, recovery };
  }

  // A fresh set of recovery codes; the earlier ones stop working. Shown once, kept as hashes.
  newRecoveryCodes(user: User): string[] {
    const codes: string[] = [];
    for (let i = 0; i < RECOVERY_CODES; i++) {
      const bytes = randomBytes(10);
      let code = '';
      for (const b of bytes) code += RECOVERY_ALPHABET[b & 31];
      codes.push(`${code.slice(0, 5)}-${code.slice(5)}`);
    }
    this.#meta.prepare('DELETE FROM recovery_code WHERE user_id = ?').run(user.id);
    const insert = this.#meta.prepare('INSERT INTO recovery_code (user_id, code_hash, created_at) VALUES (?, ?, ?)');
    for (const c of codes) insert.run(user.id, sha256(normalRecovery(c)), this.#clock.now());
    return codes;
  }

  recoveryCodesLeft(user: User): number {
    return Number((this.#meta.prepare('SELECT COUNT(*) AS n FROM recovery_code WHERE user_id = ? AND used_at IS NULL').get(user.id) as { n: number }).n);
  }

  // Uses up one recovery code; true when it was valid and unused.
  #useRecoveryCode(userId: number, code: string): boolean {
    if (!RECOVERY_FORMAT.test(code.trim().toLowerCase())) return false;
    const r = this.#meta.prepare('UPDATE recovery_code SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL').run(this.#clock.now(), userId, sha256(normalRecovery(code)));
    return Number(r.changes) === 1;
  }

  async authenticate(name: string, password: string, totp: string | undefined): Promise<User> {
    return (await this.signIn(name, password, totp)).user;
  }

  // Checks password and second factor (a TOTP code, or one of the recovery codes, used up);
  // counts failures and locks the account after too many.
  async signIn(name: string, password: string, totp: string | undefined): Promise<SignIn> {
    const row = this.#meta.prepare('SELECT * FROM user WHERE name = ?').get(name) as Record<string, any> | undefined;
    const now = this.#clock.now();
    if (row && Number(row.locked_until) > now) {
      throw new SealboxError('SEALBOX_ERR_LOCKED', `account locked until ${new Date(Number(row.locked_until)).toISOString()} after failed sign-ins`);
    }
    const passwordOk = await verifyPassword(password, row?.password_hash ?? null);
    let step: number | null = null;
    let totpOk = true;
    let secondFactor: SignIn['secondFactor'] = null;
    if (row && passwordOk && row.totp_wrapped) {
      step = checkTotp(await this.#keys.unwrap(Buffer.from(row.totp_wrapped), this.#keys.keyId), totp ?? '', now, Number(row.totp_last_step));
      // A recovery code is spent only when the password is right and the account not disabled.
      if (step === null && !row.disabled && this.#useRecoveryCode(Number(row.id), totp ?? '')) secondFactor = 'recovery-code';
      else if (step !== null) secondFactor = 'totp';
      totpOk = secondFactor !== null;
    } else if (row && passwordOk && this.needsTotp(toUser(row))) totpOk = false;
    if (!row || !passwordOk || !totpOk || row.disabled) {
      if (row) {
        const failures = Number(row.failed_logins) + 1;
        const lock = failures >= this.#policy().lockoutAttempts ? now + this.#policy().lockoutMinutes * 60_000 : 0;
        this.#meta.prepare('UPDATE user SET failed_logins = ?, locked_until = ? WHERE id = ?').run(lock ? 0 : failures, lock, row.id);
      }
      throw new SealboxError('SEALBOX_ERR_AUTH', passwordOk && !totpOk ? 'a valid one-time code (TOTP) or an unused recovery code is required' : 'wrong user name or password');
    }
    this.#meta.prepare('UPDATE user SET failed_logins = 0, totp_last_step = MAX(totp_last_step, ?) WHERE id = ?').run(step ?? 0, row.id);
    const user = toUser(row);
    return { user, secondFactor, recoveryCodesLeft: secondFactor === 'recovery-code' ? this.recoveryCodesLeft(user) : null };
  }

  ownedMailboxes(user: User): { id: number; name: string }[] {
    return this.#meta.prepare('SELECT id, name FROM mailbox WHERE owner = ? ORDER BY id').all(user.name) as { id: number; name: string }[];
  }
}

function toUser(row: Record<string, any>): User {
  return {
    id: Number(row.id), name: row.name, displayName: row.display_name, email: row.email, roles: JSON.parse(row.roles),
    enrolled: row.password_hash !== null, disabled: Boolean(row.disabled),
  };
}
