import type { PendingLogin, PendingLoginState, SsoStore } from '../../access/sso-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteSsoStore implements SsoStore {
  async identity(tx: Tx, provider: string, subject: string): Promise<number | null> {
    const row = on(tx).prepare('SELECT user_id FROM sso_identity WHERE provider = ? AND subject = ?').get(provider, subject) as { user_id: number } | undefined;
    return row ? Number(row.user_id) : null;
  }

  async bind(tx: Tx, i: { provider: string; subject: string; userId: number; at: number }): Promise<void> {
    on(tx).prepare('INSERT INTO sso_identity (provider, subject, user_id, created_at, last_sign_in) VALUES (?, ?, ?, ?, ?)').run(i.provider, i.subject, i.userId, i.at, i.at);
  }

  async identitiesOf(tx: Tx, userId: number): Promise<{ provider: string; subject: string; createdAt: number; lastSignIn: number | null }[]> {
    const rows = on(tx).prepare('SELECT provider, subject, created_at, last_sign_in FROM sso_identity WHERE user_id = ? ORDER BY provider').all(userId) as Record<string, any>[];
    return rows.map((r) => ({ provider: r.provider, subject: r.subject, createdAt: Number(r.created_at), lastSignIn: r.last_sign_in === null ? null : Number(r.last_sign_in) }));
  }

  async unbind(tx: Tx, provider: string, userId: number): Promise<boolean> {
    return Number(on(tx).prepare('DELETE FROM sso_identity WHERE provider = ? AND user_id = ?').run(provider, userId).changes) > 0;
  }

  async signedIn(tx: Tx, provider: string, subject: string, at: number): Promise<void> {
    on(tx).prepare('UPDATE sso_identity SET last_sign_in = ? WHERE provider = ? AND subject = ?').run(at, provider, subject);
  }

  async addLogin(tx: Tx, l: Pick<PendingLogin, 'idHash' | 'provider' | 'oauthState' | 'nonce' | 'codeVerifier' | 'redirectUri' | 'createdAt' | 'expiresAt'> & Partial<Pick<PendingLogin, 'purpose' | 'sessionId' | 'userId'>>): Promise<void> {
    on(tx).prepare("INSERT INTO sso_login (id_hash, provider, state, oauth_state, nonce, code_verifier, redirect_uri, created_at, expires_at, purpose, session_id, user_id) VALUES (?, ?, 'started', ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(l.idHash, l.provider, l.oauthState, l.nonce, l.codeVerifier, l.redirectUri, l.createdAt, l.expiresAt, l.purpose ?? 'sign-in', l.sessionId ?? null, l.userId ?? null);
  }

  async login(tx: Tx, idHash: string): Promise<PendingLogin | null> {
    const r = on(tx).prepare('SELECT * FROM sso_login WHERE id_hash = ?').get(idHash) as Record<string, any> | undefined;
    if (!r) return null;
    return {
      idHash: r.id_hash, provider: r.provider, purpose: r.purpose ?? 'sign-in', sessionId: r.session_id ?? null, subject: r.subject ?? null, claimedName: r.claimed_name ?? null, state: r.state, oauthState: r.oauth_state, nonce: r.nonce, codeVerifier: r.code_verifier, redirectUri: r.redirect_uri,
      createdAt: Number(r.created_at), expiresAt: Number(r.expires_at), message: r.message ?? null, userId: r.user_id === null ? null : Number(r.user_id),
      providerMfa: r.provider_mfa ?? null, idToken: r.id_token ?? null, totpWrapped: r.totp_wrapped ? Buffer.from(r.totp_wrapped) : null,
    };
  }

  async advance(tx: Tx, idHash: string, from: PendingLoginState, to: PendingLoginState, f: Partial<Pick<PendingLogin, 'message' | 'userId' | 'providerMfa' | 'idToken' | 'totpWrapped' | 'subject' | 'claimedName'>> = {}): Promise<boolean> {
    return Number(on(tx).prepare(`UPDATE sso_login SET state = ?, message = COALESCE(?, message), user_id = COALESCE(?, user_id), provider_mfa = COALESCE(?, provider_mfa),
      id_token = COALESCE(?, id_token), totp_wrapped = COALESCE(?, totp_wrapped), subject = COALESCE(?, subject), claimed_name = COALESCE(?, claimed_name) WHERE id_hash = ? AND state = ?`)
      .run(to, f.message ?? null, f.userId ?? null, f.providerMfa ?? null, f.idToken ?? null, f.totpWrapped ?? null, f.subject ?? null, f.claimedName ?? null, idHash, from).changes) === 1;
  }

  async dropExpired(tx: Tx, before: number): Promise<void> {
    on(tx).prepare('DELETE FROM sso_login WHERE expires_at < ?').run(before);
  }
}
