import type { Role, User } from '../../access/people.ts';
import type { Account, PeopleStore } from '../../access/people-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

export class SqlitePeopleStore implements PeopleStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  byName(name: string): Account | null {
    const row = this.#meta.prepare('SELECT * FROM user WHERE name = ?').get(name) as Record<string, any> | undefined;
    return row ? toAccount(row) : null;
  }

  byId(id: number): Account | null {
    const row = this.#meta.prepare('SELECT * FROM user WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toAccount(row) : null;
  }

  list(): User[] {
    return (this.#meta.prepare('SELECT * FROM user ORDER BY name').all() as Record<string, any>[]).map(toUser);
  }

  add(p: { name: string; displayName: string | null; email: string | null; roles: Role[]; enrolmentHash: string; enrolmentExpires: number; createdAt: number }): void {
    this.#meta.prepare('INSERT INTO user (name, display_name, email, roles, enrolment_hash, enrolment_expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(p.name, p.displayName, p.email, JSON.stringify(p.roles), p.enrolmentHash, p.enrolmentExpires, p.createdAt);
  }

  reissueEnrolment(id: number, roles: Role[], enrolmentHash: string, enrolmentExpires: number): void {
    this.#meta.prepare('UPDATE user SET roles = ?, enrolment_hash = ?, enrolment_expires = ? WHERE id = ?').run(JSON.stringify(roles), enrolmentHash, enrolmentExpires, id);
  }

  setRoles(id: number, roles: Role[]): void {
    this.#meta.prepare('UPDATE user SET roles = ? WHERE id = ?').run(JSON.stringify(roles), id);
  }

  setDisabled(name: string, disabled: boolean): boolean {
    return Number(this.#meta.prepare('UPDATE user SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name).changes) === 1;
  }

  dropEnrolmentCode(id: number): void {
    this.#meta.prepare('UPDATE user SET enrolment_hash = NULL, enrolment_expires = NULL WHERE id = ?').run(id);
  }

  saveEnrolment(id: number, secrets: { passwordHash: string; totpWrapped: Buffer | null }): void {
    this.#meta.prepare('UPDATE user SET password_hash = ?, totp_wrapped = ?, totp_last_step = 0, enrolment_hash = NULL, enrolment_expires = NULL, failed_logins = 0, locked_until = 0 WHERE id = ?')
      .run(secrets.passwordHash, secrets.totpWrapped, id);
  }

  signInFailed(id: number, failedLogins: number, lockedUntil: number): void {
    this.#meta.prepare('UPDATE user SET failed_logins = ?, locked_until = ? WHERE id = ?').run(failedLogins, lockedUntil, id);
  }

  signedIn(id: number, totpStep: number): void {
    this.#meta.prepare('UPDATE user SET failed_logins = 0, totp_last_step = MAX(totp_last_step, ?) WHERE id = ?').run(totpStep, id);
  }

  replaceRecoveryCodes(userId: number, codeHashes: string[], at: number): void {
    this.#meta.prepare('DELETE FROM recovery_code WHERE user_id = ?').run(userId);
    const insert = this.#meta.prepare('INSERT INTO recovery_code (user_id, code_hash, created_at) VALUES (?, ?, ?)');
    for (const hash of codeHashes) insert.run(userId, hash, at);
  }

  recoveryCodesLeft(userId: number): number {
    return Number((this.#meta.prepare('SELECT COUNT(*) AS n FROM recovery_code WHERE user_id = ? AND used_at IS NULL').get(userId) as { n: number }).n);
  }

  useRecoveryCode(userId: number, codeHash: string, at: number): boolean {
    return Number(this.#meta.prepare('UPDATE recovery_code SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL').run(at, userId, codeHash).changes) === 1;
  }
}

function toAccount(row: Record<string, any>): Account {
  return {
    user: toUser(row), passwordHash: row.password_hash, totpWrapped: row.totp_wrapped ? Buffer.from(row.totp_wrapped) : null, totpLastStep: Number(row.totp_last_step),
    enrolmentHash: row.enrolment_hash, enrolmentExpires: row.enrolment_expires === null ? null : Number(row.enrolment_expires),
    failedLogins: Number(row.failed_logins), lockedUntil: Number(row.locked_until),
  };
}

function toUser(row: Record<string, any>): User {
  return {
    id: Number(row.id), name: row.name, displayName: row.display_name, email: row.email, roles: JSON.parse(row.roles),
    enrolled: row.password_hash !== null, disabled: Boolean(row.disabled),
  };
}
