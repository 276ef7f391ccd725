import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';
import { LOGIN_MINUTES } from '../access/sso-sign-in.ts';
import { actorContext, cookie, secureAttribute, SESSION_COOKIE } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// The cookie that binds a sign-in through a provider to the browser that started it. SameSite=Lax:
// the provider sends the browser back with a top-level GET from its own site, which a Strict cookie
// would miss; a cross-site POST never carries it. Scoped to the sign-in's own paths.
export const SSO_COOKIE = 'sealbox_sso';
const SSO_PATH = '/api/v1/sso';

// The web app's address as browsers reach it: sso.publicUrl, or what this request was sent to.
export function publicBase(s: Services, req: FastifyRequest): string {
  return s.config.sso.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
}

// Sign-in through OpenID Connect providers (src/access/sso-sign-in.ts): the provider buttons,
// the round trip to the provider, and the Sealbox session at the end, after Sealbox's own
// second factor where the roles need it. The sign-in page (src/web/pages/sign-in-page.tsx) reads
// /?sso=continue or /?sso=failed and asks GET /api/v1/sso/pending what came of it.
export function ssoRoutes(routes: RouteTable, s: Services): void {
  const secure = () => secureAttribute(s);
  // Returns nothing: a reply is a thenable, which an async function would wait on until it is sent.
  const setLoginCookie = async (reply: FastifyReply, value: string, maxAge: number): Promise<void> => {
    reply.header('set-cookie', `${SSO_COOKIE}=${value}; Path=${SSO_PATH}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${await secure()}`);
  };
  const provider = (id: string) => {
    const p = s.sso.provider(id);
    if (!p) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no identity provider "${id}"`);
    return p;
  };

  routes.add({
    method: 'GET', url: '/api/v1/sso/providers', tag: 'sign-in', auth: 'none',
    summary: 'the identity providers to sign in through (id, label), and whether local passwords are for everyone or only named accounts',
    handler: async () => ({ providers: s.sso.providers(), localSignIn: s.config.sso.localSignIn === 'everyone' ? 'everyone' : 'named' }),
  });

  routes.add({
    method: 'GET', url: '/api/v1/sso/:provider/start', tag: 'sign-in', auth: 'none',
    summary: 'start a sign-in through the provider: sets a short-lived cookie binding it to this browser and redirects (302) to the provider with a fresh state, nonce and PKCE challenge',
    status: 302,
    handler: async (req, reply, { params }) => {
      const p = provider(params.provider);
      const { cookie: value, location } = await s.sso.start(p, `${publicBase(s, req)}${SSO_PATH}/${p.id}/callback`, actorContext(req, null));
      await setLoginCookie(reply, value, LOGIN_MINUTES * 60);
      return reply.redirect(location ?? '/?sso=failed', 302);
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/sso/:provider/callback', tag: 'sign-in', auth: 'none',
    summary: "where the provider sends the browser back (register <publicUrl>/api/v1/sso/<id>/callback there): the code is exchanged once, the ID token checked (signature, issuer, audience, nonce, expiry), the person made or brought up to date; redirects (302) to the sign-in page, which asks GET /api/v1/sso/pending what came of it (a link's round trip: to /account?sso=link, which finishes it with POST /api/v1/sso/link); every refusal is a denied sign-in in the ledger",
    status: 302,
    handler: async (req, reply, { params }) => {
      const p = provider(params.provider);
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
      const outcome = await s.sso.callback(p, cookie(req, SSO_COOKIE), query, actorContext(req, null));
      // A link goes back to the Account page, which finishes it from the session that started it.
      if (outcome === 'link') return reply.redirect('/account?sso=link', 302);
      return reply.redirect(`/?sso=${outcome === 'authenticated' ? 'continue' : 'failed'}`, 302);
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/sso/pending', tag: 'sign-in', auth: 'none',
    summary: "what this browser's sign-in through a provider came to: none, failed (with why, in words), or authenticated with the second factor still to give (none, totp, or enrol with the new authenticator's otpauth URI)",
    handler: async (req) => s.sso.pending(cookie(req, SSO_COOKIE)),
  });

  routes.add({
    method: 'POST', url: '/api/v1/sso/session', tag: 'sign-in', auth: 'none',
    summary: "finish a sign-in the provider vouched for: with a TOTP or recovery code when the roles need Sealbox's second factor (or the first code of the new authenticator, which returns its recovery codes, shown once); sets the session cookie and returns the CSRF token, as POST /api/v1/session does",
    body: z.strictObject({ totp: z.string().max(20).optional() }),
    handler: async (req, reply, { body }) => {
      // The person is known here (the provider vouched for them): a lock is said as it is.
      const done = await s.sso.session(cookie(req, SSO_COOKIE), body.totp, actorContext(req, null));
      const { user, session } = done;
      reply.header('set-cookie', [
        `${SESSION_COOKIE}=${session.cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor((session.expiresAt - s.clock.now()) / 1000)}${await secure()}`,
        `${SSO_COOKIE}=; Path=${SSO_PATH}; HttpOnly; SameSite=Lax; Max-Age=0${await secure()}`,
      ]);
      return { user: { name: user.name, roles: user.roles }, csrfToken: session.csrf, expiresAt: new Date(session.expiresAt).toISOString(), recoveryCodes: done.recoveryCodes, recoveryCodesLeft: done.recoveryCodesLeft };
    },
  });
}

// A person's own links to providers (src/access/sso-links.ts): from a session signed in with the
// Sealbox password, for the session's own account only; no route names another person.
export function ssoLinkRoutes(routes: RouteTable, s: Services): void {
  const secure = () => secureAttribute(s);
  const provider = (id: string) => {
    const p = s.sso.provider(id);
    if (!p) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no identity provider "${id}"`);
    return p;
  };

  routes.add({
    method: 'GET', url: '/api/v1/sso/links', tag: 'sign-in', auth: { scope: 'admin' },
    summary: "the identity providers, and whether my own account is linked to my account at each (since when, last sign-in through it)",
    handler: async (_req, _reply, { p }) => ({ links: await s.ssoLinks.list(p) }),
  });

  routes.add({
    method: 'POST', url: '/api/v1/sso/:provider/link', tag: 'sign-in', auth: { scope: 'admin' },
    summary: "start linking my own account (this session's; from a session signed in with the Sealbox password, never a token) to my account at the provider: sets the short-lived cookie that binds the round trip to this browser and this session, and returns `location`, the provider's page to send the browser to; it comes back to /account?sso=link. Refused (403, recorded) for a token or a session made through a provider; 409 when linked there already",
    handler: async (req, reply, { params, p }) => {
      const idp = provider(params.provider);
      const started = await s.ssoLinks.start(idp, p, `${publicBase(s, req)}${SSO_PATH}/${idp.id}/callback`, actorContext(req, p));
      reply.header('set-cookie', `${SSO_COOKIE}=${started.cookie}; Path=${SSO_PATH}; HttpOnly; SameSite=Lax; Max-Age=${LOGIN_MINUTES * 60}${await secure()}`);
      return { location: started.location };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/sso/link', tag: 'sign-in', auth: { scope: 'admin' },
    summary: "finish linking: the provider account the round trip came back with is linked to this session's own account, only from the session that started it and only when the provider's user-name claim names this very account (403 otherwise, recorded); a ledger entry (user.sso.link), and the person is told",
    body: z.strictObject({}),
    handler: async (req, reply, { p }) => {
      const done = await s.ssoLinks.finish(cookie(req, SSO_COOKIE), p, actorContext(req, p));
      reply.header('set-cookie', `${SSO_COOKIE}=; Path=${SSO_PATH}; HttpOnly; SameSite=Lax; Max-Age=0${await secure()}`);
      return { linked: done };
    },
  });

  routes.add({
    method: 'DELETE', url: '/api/v1/sso/links/:provider', tag: 'sign-in', auth: { scope: 'admin' },
    summary: "unlink my own account from the provider (a session, never a token; refused, 409, for someone whose only way to sign in it is); a ledger entry (user.sso.unlink), and the person is told",
    handler: async (req, _reply, { params, p }) => ({ unlinked: await s.ssoLinks.unlink(params.provider, p, actorContext(req, p)) }),
  });
}

// Roles filed for an approver (a provider's groups, the directory, an admin through the API:
// src/access/role-changes.ts): seen by admins, approvers and
// auditors, decided by an approver who is neither the person nor linked to them.
export function roleChangeRoutes(routes: RouteTable, s: Services): void {
  routes.add({
    method: 'GET', url: '/api/v1/role-changes', tag: 'admin', summary: "roles filed for an approver (an identity provider's or directory's group would give them, or an admin gave them through the API), and their decisions",
    auth: { scope: 'admin', roles: ['admin', 'approver', 'auditor'], refusal: { operation: 'user.role.list', reason: 'not an admin, approver or auditor', message: 'only admins, approvers and auditors see filed roles' } },
    handler: async () => ({ changes: await s.db.read((tx) => s.roleChanges.list(tx)) }),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/role-changes/:id/${decision}`, tag: 'admin',
      auth: { scope: 'admin', roles: ['approver'], refusal: { operation: `user.role.${decision}`, message: 'only approvers decide on filed roles', parameters: ({ params }) => ({ change: params.id }) } },
      summary: `${decision} a filed role, with a reason (approvers; never one's own, nor one for someone linked to them); approved, it applies and the person's sessions and tokens end, so they sign in again with the second factor it needs; a person who has none yet gets a new enrolment by account recovery (\`recovery\`), asked for by whoever filed the role and approved by this decision, its code mailed to them alone`,
      body: z.strictObject({ reason: z.string().min(1).max(2000) }),
      handler: async (req, _reply, { body, params, p }) => {
        const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
        return s.audit.recordOrRefuse(ctx, { operation: `user.role.${decision}`, parameters: { change: params.id } },
          (r: { user: string; role: string; recovery?: string }) => ({ operation: `user.role.${decision}`, parameters: { change: params.id, name: r.user, role: r.role, reason: body.reason, ...(r.recovery ? { recovery: r.recovery } : {}) } }),
          (tx) => s.roleChanges.decide(tx, p.user, params.id, decision, body.reason));
      },
    });
  }
}
