import type { CredentialStore, StoredSession, StoredToken } from '../../access/credential-store.ts';
import type { TokenScope } from '../../access/roles.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteCredentialStore implements CredentialStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async addSession(tx: Tx, s: { idHash: string; userId: number; csrfHash: string; createdAt: number; expiresAt: number; clientIp: string | null; userAgent: string | null; sso?: StoredSession['sso'] }): Promise<void> {
    on(tx).prepare('INSERT INTO session (id_hash, user_id, csrf_hash, created_at, expires_at, client_ip, user_agent, sso_provider, id_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(s.idHash, s.userId, s.csrfHash, s.createdAt, s.expiresAt, s.clientIp, s.userAgent, s.sso?.provider ?? null, s.sso?.idToken ?? null);
  }

  async session(tx: Tx, idHash: string): Promise<StoredSession | null> {
    const row = on(tx).prepare('SELECT * FROM session WHERE id_hash = ?').get(idHash) as Record<string, any> | undefined;
    return row ? { userId: Number(row.user_id), csrfHash: row.csrf_hash, expiresAt: Number(row.expires_at), sso: row.sso_provider ? { provider: row.sso_provider, idToken: row.id_token ?? null } : null } : null;
  }

  async endSession(tx: Tx, idHash: string): Promise<void> {
    on(tx).prepare('DELETE FROM session WHERE id_hash = ?').run(idHash);
  }

  async addToken(tx: Tx, t: { id: string; userId: number; tokenHash: string; name: string; scopes: TokenScope[]; createdAt: number; expiresAt: number }): Promise<void> {
    on(tx).prepare('INSERT INTO api_token (id, user_id, token_hash, name, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.userId, t.tokenHash, t.name, JSON.stringify(t.scopes), t.createdAt, t.expiresAt);
  }

  async tokenByHash(tx: Tx, tokenHash: string): Promise<StoredToken | null> {
    const row = on(tx).prepare('SELECT * FROM api_token WHERE token_hash = ?').get(tokenHash) as Record<string, any> | undefined;
    return row ? toToken(row) : null;
  }

  async token(tx: Tx, id: string): Promise<StoredToken | null> {
    const row = on(tx).prepare('SELECT * FROM api_token WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toToken(row) : null;
  }

  async revokeToken(tx: Tx, id: string, at: number): Promise<void> {
    on(tx).prepare('UPDATE api_token SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id);
  }

  async endAll(tx: Tx, userId: number, at: number): Promise<void> {
    on(tx).prepare('DELETE FROM session WHERE user_id = ?').run(userId);
    on(tx).prepare('UPDATE api_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(at, userId);
  }
}

function toToken(row: Record<string, any>): StoredToken {
  return {
    id: row.id, userId: Number(row.user_id), tokenHash: row.token_hash, scopes: JSON.parse(row.scopes), expiresAt: Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
