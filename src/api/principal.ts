import type { FastifyRequest } from 'fastify';
import type { ActorContext } from '../access/content-access.ts';
import type { Principal, TokenScope } from '../access/credentials.ts';
import { SealboxError } from '../core/errors.ts';
import type { Services } from './services.ts';

export const SESSION_COOKIE = 'sealbox_session';

export function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      // A value that is not valid percent-encoding is no session of ours: as if absent.
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

// The Secure attribute of the cookies set here, as the access policy says (an admin may change
// it through the API, on any node): read per response, at most RECENT_POLICY_MS old.
export async function secureAttribute(s: Services): Promise<string> {
  return (await s.policy.recent()).secureCookies ? '; Secure' : '';
}

// Who is calling: a session cookie (state changes also need the CSRF header) or a bearer API
// token limited to its scopes. A refused credential that names someone (a replayed or forged
// token of a real id, a token used outside its scopes, a session without its CSRF token) is
// recorded before the refusal is answered.
export async function principal(s: Services, req: FastifyRequest, scope: TokenScope): Promise<Principal> {
  const auth = req.headers.authorization;
  let p: Principal | null = null;
  const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
  if (auth?.startsWith('Bearer ')) {
    const value = auth.slice(7).trim();
    p = await s.db.read((tx) => s.credentials.token(tx, value));
    if (!p) {
      const refused = await s.db.read((tx) => s.credentials.refusedToken(tx, value));
      if (refused) await s.audit.denied({ ...actorContext(req, null), sessionId: refused.tokenId, user: refused.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route, tokenId: refused.tokenId } }, refused.why);
      throw new SealboxError('SEALBOX_ERR_AUTH', 'API token is unknown, expired or revoked');
    }
    if (!p.scopes!.includes(scope)) {
      await s.audit.denied({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route, tokenId: p.sessionId, scopes: p.scopes } }, `token lacks the "${scope}" scope`);
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `this API token lacks the "${scope}" scope`);
    }
  } else {
    const sessionCookie = cookie(req, SESSION_COOKIE);
    p = await s.db.read((tx) => s.credentials.session(tx, sessionCookie));
    if (!p) throw new SealboxError('SEALBOX_ERR_AUTH', 'sign in first (POST /api/v1/session) or send an API token');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        s.credentials.checkCsrf(p, req.headers['x-csrf-token'] as string | undefined);
      } catch (err) {
        await s.audit.denied({ ...actorContext(req, p), user: p.user, logonType: 'owner' }, { operation: 'session.csrf', parameters: { route } }, (err as Error).message);
        throw err;
      }
    }
  }
  return p;
}

export function actorContext(req: FastifyRequest, p: Principal | null): ActorContext {
  return { sessionId: p?.sessionId ?? null, clientIp: req.ip, userAgent: (req.headers['user-agent'] as string | undefined)?.slice(0, 200) ?? null };
}
