import type { Role, User } from '../../access/people.ts';
import type { Account, PeopleStore } from '../../access/people-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

// A person bound to an identity at a provider has a credential of their own, as one with a password does.
const SELECT = 'SELECT "user".*, EXISTS (SELECT 1 FROM sso_identity i WHERE i.user_id = "user".id) AS sso FROM "user"';

export class PostgresPeopleStore implements PeopleStore {
  async byName(tx: Tx, name: string): Promise<Account | null> {
    const row = await on(tx).one(`${SELECT} WHERE name = $1`, [name]);
    return row ? toAccount(row) : null;
  }

  async byId(tx: Tx, id: number): Promise<Account | null> {
    const row = await on(tx).one(`${SELECT} WHERE id = $1`, [id]);
    return row ? toAccount(row) : null;
  }

  async list(tx: Tx): Promise<User[]> {
    return (await on(tx).query(`${SELECT} ORDER BY name`)).map(toUser);
  }

  async add(tx: Tx, p: { name: string; displayName: string | null; email: string | null; roles: Role[]; enrolmentHash: string | null; enrolmentExpires: number | null; createdAt: number }): Promise<void> {
    await on(tx).query('INSERT INTO "user" (name, display_name, email, roles, enrolment_hash, enrolment_expires, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [p.name, p.displayName, p.email, JSON.stringify(p.roles), p.enrolmentHash, p.enrolmentExpires, p.createdAt]);
  }

  async reissueEnrolment(tx: Tx, id: number, roles: Role[], enrolmentHash: string, enrolmentExpires: number): Promise<void> {
    await on(tx).query('UPDATE "user" SET roles = $1, enrolment_hash = $2, enrolment_expires = $3 WHERE id = $4', [JSON.stringify(roles), enrolmentHash, enrolmentExpires, id]);
  }

  async setRoles(tx: Tx, id: number, roles: Role[]): Promise<void> {
    await on(tx).query('UPDATE "user" SET roles = $1 WHERE id = $2', [JSON.stringify(roles), id]);
  }

  async setDisabled(tx: Tx, name: string, disabled: boolean): Promise<boolean> {
    return (await on(tx).run('UPDATE "user" SET disabled = $1 WHERE name = $2', [disabled ? 1 : 0, name])) === 1;
  }

  async dropEnrolmentCode(tx: Tx, id: number): Promise<void> {
    await on(tx).query('UPDATE "user" SET enrolment_hash = NULL, enrolment_expires = NULL WHERE id = $1', [id]);
  }

  async saveEnrolment(tx: Tx, id: number, secrets: { passwordHash: string; totpWrapped: Buffer | null }): Promise<void> {
    await on(tx).query('UPDATE "user" SET password_hash = $1, totp_wrapped = $2, totp_last_step = 0, enrolment_hash = NULL, enrolment_expires = NULL, failed_logins = 0, locked_until = 0 WHERE id = $3',
      [secrets.passwordHash, secrets.totpWrapped, id]);
  }

  async saveTotp(tx: Tx, id: number, totpWrapped: Buffer, totpStep: number): Promise<void> {
    await on(tx).query('UPDATE "user" SET totp_wrapped = $1, totp_last_step = GREATEST(totp_last_step, $2), failed_logins = 0 WHERE id = $3', [totpWrapped, totpStep, id]);
  }

  async signInFailed(tx: Tx, id: number, failedLogins: number, lockedUntil: number): Promise<void> {
    await on(tx).query('UPDATE "user" SET failed_logins = $1, locked_until = $2 WHERE id = $3', [failedLogins, lockedUntil, id]);
  }

  async signedIn(tx: Tx, id: number, totpStep: number): Promise<void> {
    await on(tx).query('UPDATE "user" SET failed_logins = 0, totp_last_step = GREATEST(totp_last_step, $1) WHERE id = $2', [totpStep, id]);
  }

  async replaceRecoveryCodes(tx: Tx, userId: number, codeHashes: string[], at: number): Promise<void> {
    await on(tx).query('DELETE FROM recovery_code WHERE user_id = $1', [userId]);
    if (codeHashes.length > 0) {
      await on(tx).query('INSERT INTO recovery_code (user_id, code_hash, created_at) SELECT $1, h, $3 FROM unnest($2::text[]) h', [userId, codeHashes, at]);
    }
  }

  async recoveryCodesLeft(tx: Tx, userId: number): Promise<number> {
    return (await on(tx).one<{ n: number }>('SELECT COUNT(*) AS n FROM recovery_code WHERE user_id = $1 AND used_at IS NULL', [userId]))!.n;
  }

  async useRecoveryCode(tx: Tx, userId: number, codeHash: string, at: number): Promise<boolean> {
    return (await on(tx).run('UPDATE recovery_code SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL', [at, userId, codeHash])) === 1;
  }
}

function toAccount(row: Record<string, any>): Account {
  return {
    user: toUser(row), passwordHash: row.password_hash, totpWrapped: row.totp_wrapped ?? null, totpLastStep: row.totp_last_step,
    enrolmentHash: row.enrolment_hash, enrolmentExpires: row.enrolment_expires, failedLogins: row.failed_logins, lockedUntil: row.locked_until,
  };
}

function toUser(row: Record<string, any>): User {
  return {
    id: row.id, name: row.name, displayName: row.display_name, email: row.email, roles: JSON.parse(row.roles),
    enrolled: row.password_hash !== null || Boolean(row.sso), disabled: Boolean(row.disabled),
  };
}
