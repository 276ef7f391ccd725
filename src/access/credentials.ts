import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
import type { People, User } from './people.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

import { TOKEN_SCOPES } from './roles.ts';
import type { TokenScope } from './roles.ts';
export { TOKEN_SCOPES };
export type { TokenScope };

export interface Principal {
  user: User;
  via: 'session' | 'token';
  sessionId: string;          // a non-secret id for the ledger (hash prefix or token id)
  csrfHash: string | null;    // sessions only
  scopes: TokenScope[] | null; // tokens only
}

// Sessions (cookie) and API tokens. Only hashes are stored: a database copy signs no one in.
export class Credentials {
  readonly #meta: SqliteMetadataStore;
  readonly #people: People;
  readonly #clock: Clock;
  readonly #sessionHours: () => number;

  constructor(meta: SqliteMetadataStore, people: People, clock: Clock, sessionHours: () => number) {
    this.#meta = meta;
    this.#people = people;
    this.#clock = clock;
    this.#sessionHours = sessionHours;
  }

  createSession(user: User, clientIp: string | null, userAgent: string | null): { cookie: string; csrf: string; expiresAt: number } {
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.#clock.now();
    const sessionMs = this.#sessionHours() * 3600_000;
    this.#meta.prepare('INSERT INTO session (id_hash, user_id, csrf_hash, created_at, expires_at, client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(sha256(cookie), user.id, sha256(csrf), now, now + sessionMs, clientIp, userAgent);
    return { cookie, csrf, expiresAt: now + sessionMs };
  }

  session(cookie: string | undefined): Principal | null {
    if (!cookie) return null;
    const idHash = sha256(cookie);
    const row = this.#meta.prepare('SELECT * FROM session WHERE id_hash = ?').get(idHash) as Record<string, any> | undefined;
    if (!row || Number(row.expires_at) <= this.#clock.now()) return null;
    const user = this.#people.byId(Number(row.user_id));
    if (!user || user.disabled) return null;
    return { user, via: 'session', sessionId: `s-${idHash.slice(0, 16)}`, csrfHash: row.csrf_hash, scopes: null };
  }

  checkCsrf(principal: Principal, token: string | undefined): void {
    if (principal.via !== 'session') return; // tokens are not sent by browsers on their own
    const expected = Buffer.from(principal.csrfHash ?? '', 'hex');
    const actual = Buffer.from(sha256(token ?? ''), 'hex');
    if (!token || expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new SealboxError('SEALBOX_ERR_CSRF', 'this request changes state: send the x-csrf-token header you got at sign-in');
  }

  endSession(cookie: string | undefined): void {
    if (cookie) this.#meta.prepare('DELETE FROM session WHERE id_hash = ?').run(sha256(cookie));
  }

  createToken(user: User, input: { name: string; scopes: TokenScope[]; days: number }): { id: string; token: string; expiresAt: number } {
    for (const s of input.scopes) if (!TOKEN_SCOPES.includes(s)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown token scope "${s}" (scopes: ${TOKEN_SCOPES.join(', ')})`);
    if (input.scopes.includes('ingest') && !user.roles.includes('admin')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins hold tokens with the "ingest" scope');
    const id = newId('tok', this.#clock.now());
    const token = `sbx_${id}_${randomBytes(24).toString('base64url')}`;
    const now = this.#clock.now();
    const expiresAt = now + input.days * 86_400_000;
    this.#meta.prepare('INSERT INTO api_token (id, user_id, token_hash, name, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, user.id, sha256(token), input.name, JSON.stringify(input.scopes), now, expiresAt);
    return { id, token, expiresAt };
  }

  token(value: string | undefined): Principal | null {
    if (!value?.startsWith('sbx_')) return null;
    const row = this.#meta.prepare('SELECT * FROM api_token WHERE token_hash = ?').get(sha256(value)) as Record<string, any> | undefined;
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= this.#clock.now()) return null;
    const user = this.#people.byId(Number(row.user_id));
    if (!user || user.disabled) return null;
    return { user, via: 'token', sessionId: row.id, csrfHash: null, scopes: JSON.parse(row.scopes) };
  }

  // Why a presented token that names a real token is refused: replaying a revoked or expired
  // token, or a forged secret for a real id, is evidence about its holder. Anything else names
  // nobody and gets no answer but 401.
  refusedToken(value: string | undefined): { tokenId: string; user: User | null; why: string } | null {
    const id = /^sbx_(tok_[0-9a-z]+)_/.exec(value ?? '')?.[1];
    const row = id ? this.#meta.prepare('SELECT * FROM api_token WHERE id = ?').get(id) as Record<string, any> | undefined : undefined;
    if (!row) return null;
    const user = this.#people.byId(Number(row.user_id));
    const why = row.token_hash !== sha256(value!) ? 'wrong token secret'
      : row.revoked_at !== null ? 'token revoked'
        : Number(row.expires_at) <= this.#clock.now() ? 'token expired'
          : 'token holder disabled';
    return { tokenId: row.id, user, why };
  }

  revokeToken(id: string, by: User): void {
    const row = this.#meta.prepare('SELECT user_id, revoked_at FROM api_token WHERE id = ?').get(id) as Record<string, any> | undefined;
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no API token ${id}`);
    if (Number(row.user_id) !== by.id && !by.roles.includes('admin')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only the token holder or an admin can revoke it');
    this.#meta.prepare('UPDATE api_token SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(this.#clock.now(), id);
  }
}
