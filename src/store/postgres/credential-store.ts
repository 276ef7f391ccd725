import type { CredentialStore, StoredSession, StoredToken } from '../../access/credential-store.ts';
import type { TokenScope } from '../../access/roles.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresCredentialStore implements CredentialStore {
  async addSession(tx: Tx, s: { idHash: string; userId: number; csrfHash: string; createdAt: number; expiresAt: number; clientIp: string | null; userAgent: string | null; sso?: StoredSession['sso'] }): Promise<void> {
    await on(tx).query('INSERT INTO session (id_hash, user_id, csrf_hash, created_at, expires_at, client_ip, user_agent, sso_provider, id_token) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [s.idHash, s.userId, s.csrfHash, s.createdAt, s.expiresAt, s.clientIp, s.userAgent, s.sso?.provider ?? null, s.sso?.idToken ?? null]);
  }

  async session(tx: Tx, idHash: string): Promise<StoredSession | null> {
    const row = await on(tx).one('SELECT * FROM session WHERE id_hash = $1', [idHash]);
    return row ? { userId: row.user_id, csrfHash: row.csrf_hash, expiresAt: row.expires_at, sso: row.sso_provider ? { provider: row.sso_provider, idToken: row.id_token ?? null } : null } : null;
  }

  async endSession(tx: Tx, idHash: string): Promise<void> {
    await on(tx).query('DELETE FROM session WHERE id_hash = $1', [idHash]);
  }

  async addToken(tx: Tx, t: { id: string; userId: number; tokenHash: string; name: string; scopes: TokenScope[]; createdAt: number; expiresAt: number }): Promise<void> {
    await on(tx).query('INSERT INTO api_token (id, user_id, token_hash, name, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [t.id, t.userId, t.tokenHash, t.name, JSON.stringify(t.scopes), t.createdAt, t.expiresAt]);
  }

  async tokenByHash(tx: Tx, tokenHash: string): Promise<StoredToken | null> {
    const row = await on(tx).one('SELECT * FROM api_token WHERE token_hash = $1', [tokenHash]);
    return row ? toToken(row) : null;
  }

  async token(tx: Tx, id: string): Promise<StoredToken | null> {
    const row = await on(tx).one('SELECT * FROM api_token WHERE id = $1', [id]);
    return row ? toToken(row) : null;
  }

  async revokeToken(tx: Tx, id: string, at: number): Promise<void> {
    await on(tx).query('UPDATE api_token SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2', [at, id]);
  }

  async endAll(tx: Tx, userId: number, at: number): Promise<void> {
    await on(tx).query('DELETE FROM session WHERE user_id = $1', [userId]);
    await on(tx).query('UPDATE api_token SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL', [at, userId]);
  }
}

function toToken(row: Record<string, any>): StoredToken {
  return { id: row.id, userId: row.user_id, tokenHash: row.token_hash, scopes: JSON.parse(row.scopes), expiresAt: row.expires_at, revokedAt: row.revoked_at };
}
