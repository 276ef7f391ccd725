import type { Role, User } from '../../access/people.ts';
import type { Account, PeopleStore } from '../../access/people-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

// A person bound to an identity at a provider has a credential of their own, as one with a password does.
const SELECT = 'SELECT user.*, EXISTS (SELECT 1 FROM sso_identity i WHERE i.user_id = user.id) AS sso FROM user';

export class SqlitePeopleStore implements PeopleStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async byName(tx: Tx, name: string): Promise<Account | null> {
    const row = on(tx).prepare(`${SELECT} WHERE name = ?`).get(name) as Record<string, any> | undefined;
    return row ? toAccount(row) : null;
  }

  async byId(tx: Tx, id: number): Promise<Account | null> {
    const row = on(tx).prepare(`${SELECT} WHERE id = ?`).get(id) as Record<string, any> | undefined;
    return row ? toAccount(row) : null;
  }

  async list(tx: Tx): Promise<User[]> {
    return (on(tx).prepare(`${SELECT} ORDER BY name`).all() as Record<string, any>[]).map(toUser);
  }

  async add(tx: Tx, p: { name: string; displayName: string | null; email: string | null; roles: Role[]; enrolmentHash: string | null; enrolmentExpires: number | null; createdAt: number }): Promise<void> {
    on(tx).prepare('INSERT INTO user (name, display_name, email, roles, enrolment_hash, enrolment_expires, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(p.name, p.displayName, p.email, JSON.stringify(p.roles), p.enrolmentHash, p.enrolmentExpires, p.createdAt);
  }

  async reissueEnrolment(tx: Tx, id: number, roles: Role[], enrolmentHash: string, enrolmentExpires: number): Promise<void> {
    on(tx).prepare('UPDATE user SET roles = ?, enrolment_hash = ?, enrolment_expires = ? WHERE id = ?').run(JSON.stringify(roles), enrolmentHash, enrolmentExpires, id);
  }

  async setRoles(tx: Tx, id: number, roles: Role[]): Promise<void> {
    on(tx).prepare('UPDATE user SET roles = ? WHERE id = ?').run(JSON.stringify(roles), id);
  }

  async setDisabled(tx: Tx, name: string, disabled: boolean): Promise<boolean> {
    return Number(on(tx).prepare('UPDATE user SET disabled = ? WHERE name = ?').run(disabled ? 1 : 0, name).changes) === 1;
  }

  async dropEnrolmentCode(tx: Tx, id: number): Promise<void> {
    on(tx).prepare('UPDATE user SET enrolment_hash = NULL, enrolment_expires = NULL WHERE id = ?').run(id);
  }

  async saveEnrolment(tx: Tx, id: number, secrets: { passwordHash: string; totpWrapped: Buffer | null }): Promise<void> {
    on(tx).prepare('UPDATE user SET password_hash = ?, totp_wrapped = ?, totp_last_step = 0, enrolment_hash = NULL, enrolment_expires = NULL, failed_logins = 0, locked_until = 0 WHERE id = ?')
      .run(secrets.passwordHash, secrets.totpWrapped, id);
  }

  async saveTotp(tx: Tx, id: number, totpWrapped: Buffer, totpStep: number): Promise<void> {
    on(tx).prepare('UPDATE user SET totp_wrapped = ?, totp_last_step = MAX(totp_last_step, ?), failed_logins = 0 WHERE id = ?').run(totpWrapped, totpStep, id);
  }

  async signInFailed(tx: Tx, id: number, failedLogins: number, lockedUntil: number): Promise<void> {
    on(tx).prepare('UPDATE user SET failed_logins = ?, locked_until = ? WHERE id = ?').run(failedLogins, lockedUntil, id);
  }

  async signedIn(tx: Tx, id: number, totpStep: number): Promise<void> {
    on(tx).prepare('UPDATE user SET failed_logins = 0, totp_last_step = MAX(totp_last_step, ?) WHERE id = ?').run(totpStep, id);
  }

  async replaceRecoveryCodes(tx: Tx, userId: number, codeHashes: string[], at: number): Promise<void> {
    on(tx).prepare('DELETE FROM recovery_code WHERE user_id = ?').run(userId);
    const insert = on(tx).prepare('INSERT INTO recovery_code (user_id, code_hash, created_at) VALUES (?, ?, ?)');
    for (const hash of codeHashes) insert.run(userId, hash, at);
  }

  async recoveryCodesLeft(tx: Tx, userId: number): Promise<number> {
    return Number((on(tx).prepare('SELECT COUNT(*) AS n FROM recovery_code WHERE user_id = ? AND used_at IS NULL').get(userId) as { n: number }).n);
  }

  async useRecoveryCode(tx: Tx, userId: number, codeHash: string, at: number): Promise<boolean> {
    return Number(on(tx).prepare('UPDATE recovery_code SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL').run(at, userId, codeHash).changes) === 1;
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
    enrolled: row.password_hash !== null || Boolean(row.sso), disabled: Boolean(row.disabled),
  };
}
