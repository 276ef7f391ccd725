import type { Tx } from '../core/transactions.ts';
import type { TokenScope } from './roles.ts';

export interface StoredSession {
  userId: number;
  csrfHash: string;
  expiresAt: number;
  // Made through an identity provider: which, and the ID token to name at its logout.
  sso: { provider: string; idToken: string | null } | null;
}

export interface StoredToken {
  id: string;
  userId: number;
  tokenHash: string;
  scopes: TokenScope[];
  expiresAt: number;
  revokedAt: number | null;
}

// Sessions and API tokens, by the hashes of their secrets (src/access/credentials.ts).
export interface CredentialStore {
  addSession(tx: Tx, s: { idHash: string; userId: number; csrfHash: string; createdAt: number; expiresAt: number; clientIp: string | null; userAgent: string | null; sso?: StoredSession['sso'] }): Promise<void>;
  session(tx: Tx, idHash: string): Promise<StoredSession | null>;
  endSession(tx: Tx, idHash: string): Promise<void>;
  addToken(tx: Tx, t: { id: string; userId: number; tokenHash: string; name: string; scopes: TokenScope[]; createdAt: number; expiresAt: number }): Promise<void>;
  tokenByHash(tx: Tx, tokenHash: string): Promise<StoredToken | null>;
  token(tx: Tx, id: string): Promise<StoredToken | null>;
  // A token revoked earlier keeps its first revocation time.
  revokeToken(tx: Tx, id: string, at: number): Promise<void>;
  // Every session of the person ends, every token of theirs is revoked.
  endAll(tx: Tx, userId: number, at: number): Promise<void>;
}
