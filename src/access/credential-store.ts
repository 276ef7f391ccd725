import type { TokenScope } from './roles.ts';

export interface StoredSession {
  userId: number;
  csrfHash: string;
  expiresAt: number;
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
  addSession(s: { idHash: string; userId: number; csrfHash: string; createdAt: number; expiresAt: number; clientIp: string | null; userAgent: string | null }): void;
  session(idHash: string): StoredSession | null;
  endSession(idHash: string): void;
  addToken(t: { id: string; userId: number; tokenHash: string; name: string; scopes: TokenScope[]; createdAt: number; expiresAt: number }): void;
  tokenByHash(tokenHash: string): StoredToken | null;
  token(id: string): StoredToken | null;
  // A token revoked earlier keeps its first revocation time.
  revokeToken(id: string, at: number): void;
  // Every session of the person ends, every token of theirs is revoked.
  endAll(userId: number, at: number): void;
}
