import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import { TOKEN_SCOPES } from '../access/credentials.ts';
import { ADMIN_ONLY_SCOPES } from '../access/roles.ts';
import { verifyPassword } from '../access/passwords.ts';
import { actorContext, cookie, secureAttribute, SESSION_COOKIE } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import { publicBase } from './sso-routes.ts';
import type { Services } from './services.ts';

export function authRoutes(routes: RouteTable, s: Services): void {
  const secure = () => secureAttribute(s);

  routes.add({
    method: 'POST', url: '/api/v1/enrol', tag: 'sign-in', auth: 'none',
    summary: 'set a password with the one-time enrolment code; returns the TOTP set-up URI when the roles need a second factor',
    body: z.strictObject({ name: z.string().min(1), code: z.string().min(1), password: z.string().min(1).max(1024) }),
    handler: async (req, _reply, { body }) => {
      let enrolled;
      try {
        enrolled = await s.people.enrol(body.name, body.code, body.password);
      } catch (err) {
        // A code tried on someone's account is evidence too (a taken-over account starts here).
        if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_BAD_INPUT') await s.audit.denied({ ...actorContext(req, null), user: null, logonType: 'owner' }, { operation: 'user.enrol', parameters: { name: body.name } }, err.message);
        throw err;
      }
      const { user, totpUri, recoveryCodes, recovery } = enrolled;
      await s.audit.record({ ...actorContext(req, null), user, logonType: 'owner' }, { operation: 'user.enrol', parameters: { recoveryCodes: recoveryCodes.length, ...(recovery ? { recovery } : {}) } }, async (tx) => {
        if (recovery) await s.notifier.toPerson(tx, 'account.recovered', user, 'Your Sealbox account was enrolled again', `Your account was enrolled again with the code of account recovery ${recovery}: a new password${totpUri ? ' and authenticator' : ''}. Every earlier session and API token has ended.\n\nIf this was not you, tell your security team at once.`);
        return null;
      });
      return { user: { name: user.name, roles: user.roles }, totpUri, recoveryCodes };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/session', tag: 'sign-in', auth: 'none',
    summary: 'sign in with password (and TOTP); sets the session cookie and returns the CSRF token',
    body: z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024), totp: z.string().max(12).optional() }),
    handler: async (req, reply, { body }) => {
      const ctx = actorContext(req, null);
      // Local passwords may be kept for a few named accounts only (the first administrator,
      // break-glass for when the provider is down): anyone else is refused after as long as a
      // wrong password takes, whether or not the name is an account.
      const local = s.config.sso.localSignIn;
      if (local !== 'everyone' && !local.includes(body.name)) {
        await verifyPassword(body.password, null);
        await s.audit.denied({ ...ctx, user: null, logonType: 'owner' }, { operation: 'session.create', parameters: { name: body.name } }, 'local sign-in is only for the accounts sso.localSignIn names');
        throw new SealboxError('SEALBOX_ERR_AUTH', `sign-in with a password is only for a few named accounts here: sign in with ${s.sso.providers().map((p) => p.label).join(' or ') || "your organisation's account"}`);
      }
      let signIn;
      try {
        signIn = await s.people.signIn(body.name, body.password, body.totp);
      } catch (err) {
        if (err instanceof SealboxError) await s.audit.denied({ ...ctx, user: null, logonType: 'owner' }, { operation: 'session.create', parameters: { name: body.name } }, err.message);
        // A locked account answers like a wrong password, after as long (the ledger keeps the
        // real reason): the answer must not tell which names are accounts.
        if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_LOCKED') {
          await verifyPassword(body.password, null);
          throw new SealboxError('SEALBOX_ERR_AUTH', 'wrong user name or password');
        }
        throw err;
      }
      const { user } = signIn;
      // A recovery code standing in for the authenticator is worth seeing in the ledger.
      const parameters = signIn.secondFactor === 'recovery-code' ? { secondFactor: 'recovery-code', recoveryCodesLeft: signIn.recoveryCodesLeft } : undefined;
      const session = await s.audit.record({ ...ctx, sessionId: null, user, logonType: 'owner' }, { operation: 'session.create', ...(parameters ? { parameters } : {}) },
        (tx) => s.credentials.createSession(tx, user, ctx.clientIp, ctx.userAgent));
      reply.header('set-cookie', `${SESSION_COOKIE}=${session.cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor((session.expiresAt - s.clock.now()) / 1000)}${await secure()}`);
      return { user: { name: user.name, roles: user.roles }, csrfToken: session.csrf, expiresAt: new Date(session.expiresAt).toISOString(), recoveryCodesLeft: signIn.recoveryCodesLeft };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/me/recovery-codes', tag: 'sign-in', auth: { scope: 'admin' },
    summary: 'a new set of recovery codes (each signs in once instead of a TOTP code); the earlier ones stop working; shown once',
    handler: async (req, _reply, { p }) => {
      if (p.via !== 'session') throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'recovery codes are made from a signed-in session');
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'owner' as const };
      if (!await s.db.read((tx) => s.people.needsTotp(tx, p.user))) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'your roles sign in without a second factor, so there is nothing to recover');
      const codes = await s.audit.record(ctx, { operation: 'user.recovery-codes' }, (tx) => s.people.newRecoveryCodes(tx, p.user));
      return { recoveryCodes: codes };
    },
  });

  routes.add({
    method: 'DELETE', url: '/api/v1/session', tag: 'sign-in', auth: { scope: 'content' },
    summary: "sign out; a session made through an identity provider that offers RP-initiated logout also gets `logoutUrl`, where the browser ends its session there too (and comes back to the web app)",
    handler: async (req, reply) => {
      const ended = await s.db.write((tx) => s.credentials.endSession(tx, cookie(req, SESSION_COOKIE)));
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${await secure()}`);
      const logoutUrl = ended?.sso ? await s.sso.logoutUrl(ended.sso, `${publicBase(s, req)}/`) : null;
      return { ok: true, ...(logoutUrl ? { logoutUrl } : {}) };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/me', tag: 'sign-in', auth: { scope: 'content' }, summary: 'who I am, my roles, the mailboxes I own, and whether the archiving notice waits for my acknowledgement (GET /api/v1/notice)',
    handler: async (_req, _reply, { p }) => s.db.read(async (tx) => {
      const owned = await s.people.ownedMailboxes(tx, p.user);
      // The web app's first load asks for the notice itself only when it must be shown.
      const notice = await s.notice.current(tx);
      const mustAcknowledgeNotice = !!notice?.text && await s.notice.acknowledgedAt(tx, p.user, notice.version) === null;
      return { name: p.user.name, displayName: p.user.displayName, roles: p.user.roles, mailboxes: owned.map((m) => m.name), via: p.via, mustAcknowledgeNotice };
    }),
  });

  routes.add({
    method: 'POST', url: '/api/v1/tokens', tag: 'sign-in', auth: { scope: 'admin' },
    summary: 'create an API token for automation (scoped, expiring); the token is shown once',
    body: z.strictObject({ name: z.string().min(1).max(100), scopes: z.array(z.enum(TOKEN_SCOPES)).min(1), days: z.number().int().min(1).max(365) }),
    handler: async (req, _reply, { body, p }) => {
      if (p.via !== 'session') throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'API tokens are created from a signed-in session');
      const adminOnly = body.scopes.find((scope) => ADMIN_ONLY_SCOPES.includes(scope));
      if (adminOnly && !p.user.roles.includes('admin')) {
        await s.audit.denied({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { operation: 'token.create', parameters: { scopes: body.scopes } }, `only admins hold ${adminOnly} tokens`);
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `only admins hold tokens with the "${adminOnly}" scope`);
      }
      const created = await s.audit.record({ ...actorContext(req, p), user: p.user, logonType: 'owner' },
        (r: { id: string; expiresAt: number }) => ({ operation: 'token.create', parameters: { tokenId: r.id, scopes: body.scopes, days: body.days, expiresAt: r.expiresAt } }),
        (tx) => s.credentials.createToken(tx, p.user, body));
      return { id: created.id, token: created.token, expiresAt: new Date(created.expiresAt).toISOString() };
    },
  });

  routes.add({
    method: 'DELETE', url: '/api/v1/tokens/:id', tag: 'sign-in', auth: { scope: 'admin' }, summary: 'revoke an API token at once',
    handler: async (req, _reply, { params, p }) => {
      const id = params.id;
      await s.audit.record({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { operation: 'token.revoke', parameters: { tokenId: id } }, (tx) => s.credentials.revokeToken(tx, id, p.user));
      return { ok: true };
    },
  });
}
