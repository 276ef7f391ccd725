import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { Audit } from './audit.ts';
import type { ActorContext } from './content-access.ts';
import type { StoredSession } from './credential-store.ts';
import type { Credentials } from './credentials.ts';
import type { OpenIdProviders, ProviderConfig } from './openid-providers.ts';
import type { People, User } from './people.ts';
import type { ProviderIdentity, SsoPeople } from './sso-people.ts';
import type { PendingLogin, SsoStore } from './sso-store.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// How long a browser has from leaving for the provider to finishing the sign-in here (the
// provider's own page, then Sealbox's second factor).
export const LOGIN_MINUTES = 10;

// A state, a nonce and a PKCE code verifier: 32 random bytes in base64url each, as openid-client
// makes them (RFC 7636 §4.1 asks 43–128 characters of a verifier: these are 43).
const random = () => randomBytes(32).toString('base64url');

export type SecondFactorStep = 'none' | 'totp' | 'enrol';

// What a browser's sign-in through a provider has come to, for the sign-in page.
export type PendingView =
  | { state: 'none' }
  | { state: 'failed'; provider: string; message: string }
  | { state: 'authenticated'; provider: string; name: string; secondFactor: SecondFactorStep; totpUri: string | null };

export interface SsoSession {
  user: User;
  session: { cookie: string; csrf: string; expiresAt: number };
  recoveryCodes: string[];        // when an authenticator was set up in this step (shown once)
  recoveryCodesLeft: number | null;
}

export interface SsoSignInDeps {
  providers: OpenIdProviders;
  store: SsoStore;
  ssoPeople: SsoPeople;
  people: People;
  credentials: Credentials;
  audit: Audit;
  db: Transactions;
  clock: Clock;
}

// Sign-in through an OpenID Connect provider, in three steps bound to one browser by a cookie
// (only its hash is kept, with the state, nonce and PKCE verifier sent):
// 1. start: the browser goes to the provider with a fresh state, nonce and code challenge;
// 2. callback: the code is exchanged and the ID token checked (OpenIdProviders), once — a
//    replayed callback, or one from a browser that did not start it, is refused; the person is
//    made or brought up to date (SsoPeople);
// 3. session: Sealbox's own second factor where the roles need one and the provider's amr/acr
//    do not count (break-glass always), set up on the spot by someone who has none yet; then
//    the session, as a password sign-in makes it.
// Every refusal is a denied sign-in (session.create) in the ledger.
export class SsoSignIn {
  readonly #d: SsoSignInDeps;
  readonly #store: SsoStore;

  constructor(d: SsoSignInDeps) {
    this.#d = d;
    this.#store = d.store;
  }

  providers(): { id: string; label: string }[] {
    return this.#d.providers.list().map((p) => ({ id: p.id, label: p.label }));
  }

  provider(id: string): ProviderConfig | null {
    return this.#d.providers.get(id);
  }

  // The cookie that binds the sign-in to this browser, and where to send it: the provider, or
  // back to the sign-in page (`failed`) when the provider cannot be reached.
  // `link`: the round trip links the account of that session instead (src/access/sso-links.ts).
  async start(p: ProviderConfig, redirectUri: string, ctx: ActorContext, link?: { userId: number; sessionId: string }): Promise<{ cookie: string; location: string | null }> {
    const cookie = randomBytes(32).toString('base64url');
    const now = this.#d.clock.now();
    const login = {
      idHash: sha256(cookie), provider: p.id, oauthState: random(), nonce: random(), codeVerifier: random(), redirectUri, createdAt: now, expiresAt: now + LOGIN_MINUTES * 60_000,
      ...(link ? { purpose: 'link' as const, userId: link.userId, sessionId: link.sessionId } : {}),
    };
    await this.#d.db.write(async (tx) => {
      await this.#store.dropExpired(tx, now);
      await this.#store.addLogin(tx, login);
    });
    try {
      const url = await this.#d.providers.authorizationUrl(p, { redirectUri, state: login.oauthState, nonce: login.nonce, codeVerifier: login.codeVerifier });
      return { cookie, location: url.href };
    } catch (err) {
      if (!(err instanceof SealboxError)) throw err;
      if (link) throw err;
      await this.#fail(login.idHash, 'started', p, null, ctx, err.message, `${p.label} cannot be reached just now, so you cannot sign in through it. Try again in a while; if it goes on, tell your administrator.`);
      return { cookie, location: null };
    }
  }

  // The provider's answer at the callback; what came of it is kept for the sign-in page.
  // A link's round trip (purpose link, src/access/sso-links.ts) comes back here too: it is checked
  // the same way, and what the provider said is kept for the session that started it (`linkable`).
  async callback(p: ProviderConfig, cookie: string | undefined, query: string, ctx: ActorContext): Promise<'authenticated' | 'failed' | 'link'> {
    const idHash = cookie ? sha256(cookie) : null;
    const login = idHash ? await this.#d.db.read((tx) => this.#store.login(tx, idHash)) : null;
    // The step is claimed before anything is checked: a second callback finds it taken.
    const claimed = login && login.provider === p.id && login.expiresAt > this.#d.clock.now()
      && await this.#d.db.write((tx) => this.#store.advance(tx, login.idHash, 'started', 'checking'));
    if (!login || !claimed) {
      const why = !login ? 'no sign-in through this provider was started in this browser' : login.expiresAt <= this.#d.clock.now() ? 'the sign-in expired' : 'this sign-in was answered already (a replayed callback)';
      await this.#d.audit.denied({ ...ctx, user: null, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: p.id } }, why);
      return 'failed';
    }
    let answer;
    try {
      answer = await this.#d.providers.exchange(p, new URL(`${login.redirectUri}?${query}`), { state: login.oauthState, nonce: login.nonce, codeVerifier: login.codeVerifier });
    } catch (err) {
      const detail = whatWentWrong(err);
      const words = err instanceof SealboxError ? `${p.label} cannot be reached just now. Try again in a while.`
        : `The answer from ${p.label} failed Sealbox's checks (${detail}), so you are not ${login.purpose === 'link' ? 'linked' : 'signed in'}. Try again; if it happens again, tell your administrator.`;
      if (login.purpose === 'link') {
        await this.#failLink(login, p, ctx, detail, words);
        return 'link';
      }
      await this.#fail(login.idHash, 'checking', p, null, ctx, detail, words);
      return 'failed';
    }
    const who = identityOf(p, answer.claims);
    if (login.purpose === 'link') {
      // Nothing is linked yet: the session that started it finishes it (SsoLinks.finish).
      await this.#d.db.write((tx) => this.#store.advance(tx, login.idHash, 'checking', 'linkable', { subject: who.subject, claimedName: who.name }));
      return 'link';
    }
    const mfa = providerMfa(p, answer.claims);
    try {
      const refusal = await this.#d.audit.recordEach({ ...ctx, user: null, label: `sso:${p.id}`, roles: ['identity-provider'], logonType: 'system' }, async (tx) => {
        const { user, events, refusal } = await this.#d.ssoPeople.admit(tx, p, who);
        if (refusal) {
          await this.#store.advance(tx, login.idHash, 'checking', 'failed', { message: refusal });
          return { result: { user, refusal }, events };
        }
        const step = await this.#step(tx, user, mfa);
        const totpWrapped = step === 'enrol' ? await this.#d.people.newAuthenticatorKey() : null;
        if (!await this.#store.advance(tx, login.idHash, 'checking', 'authenticated', { userId: user.id, providerMfa: mfa, idToken: answer.idToken, ...(totpWrapped ? { totpWrapped } : {}) })) {
          throw new SealboxError('SEALBOX_ERR_CONFLICT', 'this sign-in was answered already');
        }
        return { result: null, events };
      });
      if (!refusal) return 'authenticated';
      await this.#d.audit.denied({ ...ctx, user: refusal.user, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: p.id } }, refusal.refusal);
      return 'failed';
    } catch (err) {
      if (!(err instanceof SealboxError) || err.code === 'SEALBOX_ERR_LEDGER') throw err;
      await this.#fail(login.idHash, 'checking', p, who.name, ctx, err.message, err.message);
      return 'failed';
    }
  }

  async pending(cookie: string | undefined): Promise<PendingView> {
    const found = cookie ? await this.#d.db.read((tx) => this.#store.login(tx, sha256(cookie))) : null;
    const login = found?.purpose === 'sign-in' ? found : null;
    const p = login ? this.#d.providers.get(login.provider) : null;
    if (!login || !p || login.expiresAt <= this.#d.clock.now()) return { state: 'none' };
    if (login.state === 'failed') return { state: 'failed', provider: p.label, message: login.message ?? 'the sign-in did not finish' };
    if (login.state !== 'authenticated') return { state: 'none' };
    const { user, step } = await this.#d.db.read(async (tx) => {
      const user = (await this.#d.people.byId(tx, login.userId!))!;
      return { user, step: await this.#step(tx, user, login.providerMfa) };
    });
    const totpUri = step === 'enrol' && login.totpWrapped ? await this.#d.people.authenticatorUri(user.name, login.totpWrapped) : null;
    return { state: 'authenticated', provider: p.label, name: user.name, secondFactor: step, totpUri };
  }

  // The Sealbox session for a sign-in the provider vouched for, once the second factor is given.
  async session(cookie: string | undefined, code: string | undefined, ctx: ActorContext): Promise<SsoSession> {
    const idHash = cookie ? sha256(cookie) : null;
    const found = idHash ? await this.#d.db.read((tx) => this.#store.login(tx, idHash)) : null;
    // A link's round trip signs no one in, whatever state it reached.
    const login = found?.purpose === 'sign-in' ? found : null;
    const p = login ? this.#d.providers.get(login.provider) : null;
    const user = login?.userId ? await this.#d.db.read((tx) => this.#d.people.byId(tx, login.userId!)) : null;
    const refuse = async (why: string, words = why): Promise<never> => {
      await this.#d.audit.denied({ ...ctx, user, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: login?.provider ?? null } }, why);
      throw new SealboxError('SEALBOX_ERR_AUTH', words);
    };
    if (!login || !p || !user || login.state !== 'authenticated' || login.expiresAt <= this.#d.clock.now()) {
      return refuse('no sign-in through a provider waits in this browser (none started, used already, or expired)', 'No sign-in through your organisation\'s account waits in this browser: start again.');
    }
    if (user.disabled) return refuse(`your Sealbox account ${user.name} is disabled: ask your administrator`);
    const step = await this.#d.db.read((tx) => this.#step(tx, user, login.providerMfa));
    let secondFactor: string | null = login.providerMfa ? `provider:${login.providerMfa}` : null;
    let recoveryCodes: string[] = [];
    let recoveryCodesLeft: number | null = null;
    try {
      if (step === 'totp') {
        const checked = await this.#d.people.secondFactor(user.id, code ?? '');
        secondFactor = checked.secondFactor;
        recoveryCodesLeft = checked.recoveryCodesLeft;
      } else if (step === 'enrol') {
        if (!login.totpWrapped) return refuse('no authenticator key was made for this sign-in', 'Your roles now need a one-time code: start the sign-in again to set up your authenticator.');
        recoveryCodes = (await this.#d.people.enrolTotp(user.id, login.totpWrapped, code ?? '')).recoveryCodes;
        secondFactor = 'totp-enrolled';
      }
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await this.#d.audit.denied({ ...ctx, user, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: p.id } }, err.message);
      throw err;
    }
    const sso: StoredSession['sso'] = { provider: p.id, idToken: login.idToken };
    const parameters = { provider: p.id, secondFactor, ...(recoveryCodesLeft !== null ? { recoveryCodesLeft } : {}) };
    const session = await this.#d.audit.recordOrRefuse({ ...ctx, sessionId: null, user, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: p.id } }, { operation: 'session.create', parameters }, async (tx) => {
      if (!await this.#store.advance(tx, login.idHash, 'authenticated', 'done')) throw new SealboxError('SEALBOX_ERR_AUTH', 'this sign-in was used already: start again');
      return this.#d.credentials.createSession(tx, user, ctx.clientIp, ctx.userAgent, sso);
    });
    return { user, session, recoveryCodes, recoveryCodesLeft };
  }

  // Where to send the browser to end its session at the provider too (RP-initiated logout).
  async logoutUrl(sso: NonNullable<StoredSession['sso']>, postLogoutRedirectUri: string): Promise<string | null> {
    const p = this.#d.providers.get(sso.provider);
    return p ? (await this.#d.providers.endSessionUrl(p, sso.idToken, postLogoutRedirectUri))?.href ?? null : null;
  }

  // Sealbox's own second factor, where the roles need it: unless the provider's amr/acr counts
  // as multi-factor, and always for break-glass.
  async #step(tx: Tx, user: User, providerMfa: string | null): Promise<SecondFactorStep> {
    const needed = user.roles.includes('breakglass') || (providerMfa === null && await this.#d.people.needsTotp(tx, user));
    return !needed ? 'none' : await this.#d.people.hasAuthenticator(tx, user) ? 'totp' : 'enrol';
  }

  // A link whose provider answer failed its checks: recorded against the person who started it.
  async #failLink(login: PendingLogin, p: ProviderConfig, ctx: ActorContext, reason: string, words: string): Promise<void> {
    const user = login.userId === null ? null : await this.#d.db.read((tx) => this.#d.people.byId(tx, login.userId!));
    await this.#d.audit.denied({ ...ctx, sessionId: login.sessionId, user, logonType: 'owner' }, { operation: 'user.sso.link', parameters: { provider: p.id } }, reason);
    await this.#d.db.write((tx) => this.#store.advance(tx, login.idHash, 'checking', 'failed', { message: words }));
  }

  async #fail(idHash: string, from: PendingLogin['state'], p: ProviderConfig, name: string | null, ctx: ActorContext, reason: string, words: string): Promise<void> {
    await this.#d.audit.denied({ ...ctx, user: null, logonType: 'owner' }, { operation: 'session.create', parameters: { provider: p.id, ...(name ? { name } : {}) } }, reason);
    await this.#d.db.write((tx) => this.#store.advance(tx, idHash, from, 'failed', { message: words }));
  }
}

// The person as the provider's claims name them.
export function identityOf(p: ProviderConfig, claims: Record<string, unknown>): ProviderIdentity {
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  const groups = claims[p.groupsClaim];
  // Only an address the provider says it verified names a mailbox (OIDC Core: email_verified).
  const email = text(claims.email);
  return {
    subject: String(claims.sub),
    name: (text(claims[p.usernameClaim]) ?? '').toLowerCase(),
    displayName: text(claims.name),
    verifiedEmails: email && claims.email_verified === true ? [email.toLowerCase()] : [],
    groups: (Array.isArray(groups) ? groups : typeof groups === 'string' ? [groups] : []).filter((g): g is string => typeof g === 'string'),
  };
}

// The amr or acr value that counts as multi-factor by the provider's configuration, or null.
export function providerMfa(p: ProviderConfig, claims: Record<string, unknown>): string | null {
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
  const byAmr = amr.find((v) => p.mfaAmr.includes(v));
  if (byAmr) return `amr:${byAmr}`;
  return typeof claims.acr === 'string' && p.mfaAcr.includes(claims.acr) ? `acr:${claims.acr}` : null;
}

// openid-client's words for a refusal are general ("invalid response encountered"); the cause it
// wraps says which check failed ("JWT signature verification failed").
function whatWentWrong(err: unknown): string {
  const words: string[] = [];
  for (let e: unknown = err; e instanceof Error && words.length < 3; e = e.cause) if (!words.includes(e.message)) words.push(e.message);
  return words.join(': ');
}
