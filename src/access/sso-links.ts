import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Transactions } from '../core/transactions.ts';
import type { Audit } from './audit.ts';
import type { ActorContext } from './content-access.ts';
import type { Principal } from './credentials.ts';
import type { Notifier } from './notifier.ts';
import type { OpenIdProviders, ProviderConfig } from './openid-providers.ts';
import type { People } from './people.ts';
import type { SsoSignIn } from './sso-sign-in.ts';
import type { SsoStore } from './sso-store.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface SsoLink {
  provider: string;
  label: string;
  linked: { since: string; lastSignIn: string | null } | null;
}

export interface SsoLinksDeps {
  providers: OpenIdProviders;
  signIn: SsoSignIn;
  store: SsoStore;
  people: People;
  audit: Audit;
  notifier: Notifier;
  db: Transactions;
  clock: Clock;
  roleGroups: Config['sso']['roleGroups'];
}

// A person who has a Sealbox account already (made at the console, with a password) links it to
// their account at an identity provider, so that they sign in through it from then on. Only ever
// their own account, and only as themselves:
// - it is started from a session signed in here with the Sealbox password (and the second factor
//   the roles need), never a token and never a session made through a provider, and it takes no
//   name: the account linked is the session's, so nobody, an administrator with every role
//   included, links anyone else's (there is no route that names a person);
// - the round trip to the provider is a sign-in's (SsoSignIn: state, nonce and PKCE bound to the
//   browser by the cookie, every ID token check, taken once), also bound to the session that
//   started it: only that session finishes it;
// - the provider's user-name claim must name this very account. Whoever the provider account
//   belongs to can sign in here as the linked person from then on; a round trip that came back
//   as someone else (a browser still signed in there as another person, a login forced on it)
//   would hand them this account, so it is refused, as is a provider account linked already;
// - each link and unlink is a ledger entry, and the person is told (in the app and by mail).
// Nothing else changes at the link: roles follow the groups at each sign-in through the
// provider afterwards, as for anyone made through it (SsoPeople.admit), each change recorded.
export class SsoLinks {
  readonly #d: SsoLinksDeps;

  constructor(d: SsoLinksDeps) {
    this.#d = d;
  }

  // The configured providers, and the person's link at each.
  async list(p: Principal): Promise<SsoLink[]> {
    const bound = await this.#d.db.read((tx) => this.#d.store.identitiesOf(tx, p.user.id));
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const configured = this.#d.providers.list().map((c) => ({ id: c.id, label: c.label }));
    // A link to a provider no longer configured is still shown, so it can be undone.
    for (const b of bound) if (!configured.some((c) => c.id === b.provider)) configured.push({ id: b.provider, label: b.provider });
    return configured.map((c) => {
      const b = bound.find((x) => x.provider === c.id);
      return { provider: c.id, label: c.label, linked: b ? { since: iso(b.createdAt)!, lastSignIn: iso(b.lastSignIn) } : null };
    });
  }

  // The round trip to the provider, for the session's own account: the cookie that binds it to
  // this browser, and the provider's address to send the browser to.
  async start(provider: ProviderConfig, p: Principal, redirectUri: string, ctx: ActorContext): Promise<{ cookie: string; location: string }> {
    const actor = { ...ctx, user: p.user, logonType: 'owner' as const };
    const refuse = async (why: string, code: 'SEALBOX_ERR_FORBIDDEN' | 'SEALBOX_ERR_CONFLICT' = 'SEALBOX_ERR_FORBIDDEN'): Promise<never> => {
      await this.#d.audit.denied(actor, { operation: 'user.sso.link', parameters: { provider: provider.id } }, why);
      throw new SealboxError(code, why);
    };
    if (p.via !== 'session') return refuse('an account is linked from a signed-in session, not with an API token');
    if (p.ssoProvider) return refuse(`link your account from a session signed in with your Sealbox password, not one made through ${this.#label(p.ssoProvider)}`);
    const bound = await this.#d.db.read((tx) => this.#d.store.identitiesOf(tx, p.user.id));
    if (bound.some((b) => b.provider === provider.id)) return refuse(`your account is linked to ${provider.label} already: unlink it first to link another account there`, 'SEALBOX_ERR_CONFLICT');
    const started = await this.#d.signIn.start(provider, redirectUri, ctx, { userId: p.user.id, sessionId: p.sessionId });
    return { cookie: started.cookie, location: started.location! };
  }

  // Links the provider account the round trip came back with to the session's own account.
  async finish(cookie: string | undefined, p: Principal, ctx: ActorContext): Promise<{ provider: string; label: string }> {
    const { db, store, people, clock } = this.#d;
    const login = cookie ? await db.read((tx) => store.login(tx, sha256(cookie))) : null;
    const provider = login ? this.#d.providers.get(login.provider) : null;
    const actor = { ...ctx, user: p.user, logonType: 'owner' as const };
    const refused = { operation: 'user.sso.link' as const, parameters: { provider: login?.provider ?? null } };
    const refuse = async (why: string): Promise<never> => {
      await this.#d.audit.denied(actor, refused, why);
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', why);
    };
    if (p.via !== 'session') return refuse('an account is linked from a signed-in session, not with an API token');
    if (!login || !provider || login.purpose !== 'link' || login.expiresAt <= clock.now()) return refuse('no link to an identity provider waits in this browser (none started, used already, or expired): start again');
    // Bound to the session that started it: another session (another person's, or a stolen cookie's) finishes nothing.
    if (login.userId !== p.user.id || login.sessionId !== p.sessionId) return refuse('this link was started by another session: start it again from this one');
    // Its failure was recorded at the callback; it is said again here, in words.
    if (login.state === 'failed') throw new SealboxError('SEALBOX_ERR_FORBIDDEN', login.message ?? `the round trip to ${provider.label} failed: start again`);
    if (login.state !== 'linkable' || !login.subject) return refuse(`the answer from ${provider.label} has not come back, or was used already: start again`);
    const subject = login.subject;
    const claimed = login.claimedName ?? '';
    const linked = await this.#d.audit.recordOrRefuse(actor, refused, { operation: 'user.sso.link', parameters: { name: p.user.name, provider: provider.id, subject } }, async (tx) => {
      if (!await store.advance(tx, login.idHash, 'linkable', 'done')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'this link was used already: start again');
      const user = await people.byId(tx, p.user.id);
      if (!user || user.disabled) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'your account is disabled');
      if (claimed !== user.name) {
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `${provider.label} signed you in as "${claimed}" (its ${provider.usernameClaim} claim), not as ${user.name}: only your own account there, under your own user name, can be linked to yours. Sign out at ${provider.label}, then link again and sign in there as yourself; if your name there differs, ask your administrator`);
      }
      const holder = await store.identity(tx, provider.id, subject);
      if (holder === user.id) throw new SealboxError('SEALBOX_ERR_CONFLICT', `your account is linked to this account at ${provider.label} already`);
      if (holder !== null) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `this account at ${provider.label} is linked to another Sealbox account already`);
      if ((await store.identitiesOf(tx, user.id)).some((b) => b.provider === provider.id)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `your account is linked to another account at ${provider.label} already: unlink it first`);
      await store.bind(tx, { provider: provider.id, subject, userId: user.id, at: clock.now() });
      await this.#d.notifier.toPerson(tx, 'account.sso', user, `Your Sealbox account was linked to ${provider.label}`,
        `Your Sealbox account ${user.name} was linked to your account at ${provider.label}, from a session signed in with your password. From now on you can sign in through ${provider.label}.${this.#rolesNote(provider)}\nIf you did not do this, unlink it on your Account page at once and tell your security team.`);
      return { provider: provider.id, label: provider.label };
    });
    return linked;
  }

  // Ends the person's own link to a provider. A person made through a provider has no Sealbox
  // password; unlinking their only link would leave them no way to sign in, so it is refused.
  async unlink(providerId: string, p: Principal, ctx: ActorContext): Promise<{ provider: string }> {
    const actor = { ...ctx, user: p.user, logonType: 'owner' as const };
    const label = this.#label(providerId);
    if (p.via !== 'session') {
      await this.#d.audit.denied(actor, { operation: 'user.sso.unlink', parameters: { provider: providerId } }, 'an account is unlinked from a signed-in session, not with an API token');
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'an account is unlinked from a signed-in session, not with an API token');
    }
    return this.#d.audit.recordOrRefuse(actor, { operation: 'user.sso.unlink', parameters: { provider: providerId } }, { operation: 'user.sso.unlink', parameters: { name: p.user.name, provider: providerId } }, async (tx) => {
      const bound = await this.#d.store.identitiesOf(tx, p.user.id);
      if (!bound.some((b) => b.provider === providerId)) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `your account is not linked to ${label}`);
      if (bound.length === 1 && !await this.#d.people.hasPassword(tx, p.user)) {
        throw new SealboxError('SEALBOX_ERR_CONFLICT', `your account has no Sealbox password, so ${label} is your only way to sign in: it stays linked`);
      }
      await this.#d.store.unbind(tx, providerId, p.user.id);
      await this.#d.notifier.toPerson(tx, 'account.sso', p.user, `Your Sealbox account was unlinked from ${label}`,
        `Your Sealbox account ${p.user.name} is no longer linked to your account at ${label}: signing in through ${label} no longer signs you in here. Sign in with your Sealbox password.\nIf you did not do this, tell your security team.`);
      return { provider: providerId };
    });
  }

  #label(providerId: string): string {
    return this.#d.providers.get(providerId)?.label ?? providerId;
  }

  // What a sign-in through the provider will do to the roles (SsoPeople.admit), in words.
  #rolesNote(provider: ProviderConfig): string {
    const named = Object.keys(this.#d.roleGroups);
    const managed = ['owner', ...named.filter((r) => r !== 'owner')];
    return ` At each sign-in through it, your roles ${managed.join(', ')} follow your groups at ${provider.label} as they do for everyone who signs in through it: a role none of your groups gives is removed, owner and requester are given at once, and any other role waits for an approver; each change is recorded and you are told. Your other roles stay as they are.`;
  }
}
