import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import type { CredentialStore, StoredSession } from './credential-store.ts';
import type { People, User } from './people.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

import { ADMIN_ONLY_SCOPES, TOKEN_SCOPES } from './roles.ts';
import type { TokenScope } from './roles.ts';
export { TOKEN_SCOPES };
export type { TokenScope };

export interface Principal {
  user: User;
  via: 'session' | 'token';
  sessionId: string;          // a non-secret id for the ledger (hash prefix or token id)
  csrfHash: string | null;    // sessions only
  scopes: TokenScope[] | null; // tokens only
  ssoProvider?: string | null;  // sessions made through an identity provider: which one
}

// Sessions (cookie) and API tokens. Only hashes are stored: a database copy signs no one in.
export class Credentials {
  readonly #store: CredentialStore;
  readonly #people: People;
  readonly #clock: Clock;
  readonly #sessionHours: (tx: Tx) => Promise<number>;

  constructor(store: CredentialStore, people: People, clock: Clock, sessionHours: (tx: Tx) => Promise<number>) {
    this.#store = store;
    this.#people = people;
    this.#clock = clock;
    this.#sessionHours = sessionHours;
  }

  // sso: made through an identity provider (which one, and its ID token, for the logout there).
  async createSession(tx: Tx, user: User, clientIp: string | null, userAgent: string | null, sso: StoredSession['sso'] = null): Promise<{ cookie: string; csrf: string; expiresAt: number }> {
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.#clock.now();
    const sessionMs = (await this.#sessionHours(tx)) * 3600_000;
    await this.#store.addSession(tx, { idHash: sha256(cookie), userId: user.id, csrfHash: sha256(csrf), createdAt: now, expiresAt: now + sessionMs, clientIp, userAgent, sso });
    return { cookie, csrf, expiresAt: now + sessionMs };
  }

  async session(tx: Tx, cookie: string | undefined): Promise<Principal | null> {
    if (!cookie) return null;
    const idHash = sha256(cookie);
    const session = await this.#store.session(tx, idHash);
    if (!session || session.expiresAt <= this.#clock.now()) return null;
    const user = await this.#people.byId(tx, session.userId);
    if (!user || user.disabled) return null;
    return { user, via: 'session', sessionId: `s-${idHash.slice(0, 16)}`, csrfHash: session.csrfHash, scopes: null, ssoProvider: session.sso?.provider ?? null };
  }

  checkCsrf(principal: Principal, token: string | undefined): void {
    if (principal.via !== 'session') return; // tokens are not sent by browsers on their own
    const expected = Buffer.from(principal.csrfHash ?? '', 'hex');
    const actual = Buffer.from(sha256(token ?? ''), 'hex');
    if (!token || expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new SealboxError('SEALBOX_ERR_CSRF', 'this request changes state: send the x-csrf-token header you got at sign-in');
  }

  // The session ended, and where it came from when that was an identity provider (for the
  // logout there), or null when there was none.
  async endSession(tx: Tx, cookie: string | undefined): Promise<{ sso: StoredSession['sso'] } | null> {
    if (!cookie) return null;
    const ended = await this.#store.session(tx, sha256(cookie));
    await this.#store.endSession(tx, sha256(cookie));
    return ended ? { sso: ended.sso } : null;
  }

  async createToken(tx: Tx, user: User, input: { name: string; scopes: TokenScope[]; days: number }): Promise<{ id: string; token: string; expiresAt: number }> {
    for (const s of input.scopes) if (!TOKEN_SCOPES.includes(s)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown token scope "${s}" (scopes: ${TOKEN_SCOPES.join(', ')})`);
    const adminOnly = input.scopes.find((s) => ADMIN_ONLY_SCOPES.includes(s));
    if (adminOnly && !user.roles.includes('admin')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `only admins hold tokens with the "${adminOnly}" scope`);
    const id = newId('tok', this.#clock.now());
    const token = `sbx_${id}_${randomBytes(24).toString('base64url')}`;
    const now = this.#clock.now();
    const expiresAt = now + input.days * 86_400_000;
    await this.#store.addToken(tx, { id, userId: user.id, tokenHash: sha256(token), name: input.name, scopes: input.scopes, createdAt: now, expiresAt });
    return { id, token, expiresAt };
  }

  async token(tx: Tx, value: string | undefined): Promise<Principal | null> {
    if (!value?.startsWith('sbx_')) return null;
    const stored = await this.#store.tokenByHash(tx, sha256(value));
    if (!stored || stored.revokedAt !== null || stored.expiresAt <= this.#clock.now()) return null;
    const user = await this.#people.byId(tx, stored.userId);
    if (!user || user.disabled) return null;
    return { user, via: 'token', sessionId: stored.id, csrfHash: null, scopes: stored.scopes };
  }

  // Why a presented token that names a real token is refused: replaying a revoked or expired
  // token, or a forged secret for a real id, is evidence about its holder. Anything else names
  // nobody and gets no answer but 401.
  async refusedToken(tx: Tx, value: string | undefined): Promise<{ tokenId: string; user: User | null; why: string } | null> {
    const id = /^sbx_(tok_[0-9a-z]+)_/.exec(value ?? '')?.[1];
    const stored = id ? await this.#store.token(tx, id) : null;
    if (!stored) return null;
    const user = await this.#people.byId(tx, stored.userId);
    const why = stored.tokenHash !== sha256(value!) ? 'wrong token secret'
      : stored.revokedAt !== null ? 'token revoked'
        : stored.expiresAt <= this.#clock.now() ? 'token expired'
          : 'token holder disabled';
    return { tokenId: stored.id, user, why };
  }

  async revokeToken(tx: Tx, id: string, by: User): Promise<void> {
    const stored = await this.#store.token(tx, id);
    if (!stored) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no API token ${id}`);
    if (stored.userId !== by.id && !by.roles.includes('admin')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only the token holder or an admin can revoke it');
    await this.#store.revokeToken(tx, id, this.#clock.now());
  }
}
