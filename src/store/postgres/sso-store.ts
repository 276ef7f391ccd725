import type { PendingLogin, PendingLoginState, SsoStore } from '../../access/sso-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresSsoStore implements SsoStore {
  async identity(tx: Tx, provider: string, subject: string): Promise<number | null> {
    return (await on(tx).one<{ user_id: number }>('SELECT user_id FROM sso_identity WHERE provider = $1 AND subject = $2', [provider, subject]))?.user_id ?? null;
  }

  async bind(tx: Tx, i: { provider: string; subject: string; userId: number; at: number }): Promise<void> {
    await on(tx).query('INSERT INTO sso_identity (provider, subject, user_id, created_at, last_sign_in) VALUES ($1, $2, $3, $4, $4)', [i.provider, i.subject, i.userId, i.at]);
  }

  async identitiesOf(tx: Tx, userId: number): Promise<{ provider: string; subject: string; createdAt: number; lastSignIn: number | null }[]> {
    return (await on(tx).query('SELECT provider, subject, created_at, last_sign_in FROM sso_identity WHERE user_id = $1 ORDER BY provider', [userId]))
      .map((r) => ({ provider: r.provider, subject: r.subject, createdAt: r.created_at, lastSignIn: r.last_sign_in ?? null }));
  }

  async unbind(tx: Tx, provider: string, userId: number): Promise<boolean> {
    return (await on(tx).run('DELETE FROM sso_identity WHERE provider = $1 AND user_id = $2', [provider, userId])) > 0;
  }

  async signedIn(tx: Tx, provider: string, subject: string, at: number): Promise<void> {
    await on(tx).query('UPDATE sso_identity SET last_sign_in = $1 WHERE provider = $2 AND subject = $3', [at, provider, subject]);
  }

  async addLogin(tx: Tx, l: Pick<PendingLogin, 'idHash' | 'provider' | 'oauthState' | 'nonce' | 'codeVerifier' | 'redirectUri' | 'createdAt' | 'expiresAt'> & Partial<Pick<PendingLogin, 'purpose' | 'sessionId' | 'userId'>>): Promise<void> {
    await on(tx).query("INSERT INTO sso_login (id_hash, provider, state, oauth_state, nonce, code_verifier, redirect_uri, created_at, expires_at, purpose, session_id, user_id) VALUES ($1, $2, 'started', $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      [l.idHash, l.provider, l.oauthState, l.nonce, l.codeVerifier, l.redirectUri, l.createdAt, l.expiresAt, l.purpose ?? 'sign-in', l.sessionId ?? null, l.userId ?? null]);
  }

  async login(tx: Tx, idHash: string): Promise<PendingLogin | null> {
    const r = await on(tx).one('SELECT * FROM sso_login WHERE id_hash = $1', [idHash]);
    if (!r) return null;
    return {
      idHash: r.id_hash, provider: r.provider, purpose: r.purpose ?? 'sign-in', sessionId: r.session_id ?? null, subject: r.subject ?? null, claimedName: r.claimed_name ?? null, state: r.state, oauthState: r.oauth_state, nonce: r.nonce, codeVerifier: r.code_verifier, redirectUri: r.redirect_uri,
      createdAt: r.created_at, expiresAt: r.expires_at, message: r.message ?? null, userId: r.user_id ?? null,
      providerMfa: r.provider_mfa ?? null, idToken: r.id_token ?? null, totpWrapped: r.totp_wrapped ?? null,
    };
  }

  async advance(tx: Tx, idHash: string, from: PendingLoginState, to: PendingLoginState, f: Partial<Pick<PendingLogin, 'message' | 'userId' | 'providerMfa' | 'idToken' | 'totpWrapped' | 'subject' | 'claimedName'>> = {}): Promise<boolean> {
    return (await on(tx).run(`UPDATE sso_login SET state = $1, message = COALESCE($2, message), user_id = COALESCE($3, user_id), provider_mfa = COALESCE($4, provider_mfa),
      id_token = COALESCE($5, id_token), totp_wrapped = COALESCE($6, totp_wrapped), subject = COALESCE($7, subject), claimed_name = COALESCE($8, claimed_name) WHERE id_hash = $9 AND state = $10`,
    [to, f.message ?? null, f.userId ?? null, f.providerMfa ?? null, f.idToken ?? null, f.totpWrapped ?? null, f.subject ?? null, f.claimedName ?? null, idHash, from])) === 1;
  }

  async dropExpired(tx: Tx, before: number): Promise<void> {
    await on(tx).query('DELETE FROM sso_login WHERE expires_at < $1', [before]);
  }
}
