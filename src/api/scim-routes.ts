import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../access/audit.ts';
import { asSealboxError, SealboxError } from '../core/errors.ts';
import { SCIM_ENTERPRISE, SCIM_GROUP, SCIM_USER } from '../directory/scim-directory.ts';
import { actorContext, principal } from './principal.ts';
import type { Services } from './services.ts';

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = 'application/scim+json';

// SCIM 2.0 (RFC 7644) at /scim/v2 for identity providers that push users and groups (Entra ID,
// Okta): an API token with the "scim" scope, held by an admin (created at the console or on the
// web app; only its hash is kept); never a session. Answers and errors in SCIM's own shapes. Every
// change goes through the directory sync (src/directory/scim-directory.ts), with its entries.
export function scimRoutes(app: FastifyInstance, s: Services): void {
  void app.register(async (scim) => {
    scim.addContentTypeParser(SCIM_JSON, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(new SealboxError('SEALBOX_ERR_BAD_INPUT', 'invalidSyntax: the body is not JSON'), undefined);
      }
    });
    scim.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const e = err.statusCode && err.statusCode < 500 && !(err instanceof SealboxError) ? new SealboxError('SEALBOX_ERR_BAD_INPUT', err.message) : asSealboxError(err);
      if (e.statusCode >= 500) reply.log.error({ err }, 'scim request failed');
      const typed = /^(invalid\w+|noTarget|uniqueness|mutability): (.*)$/s.exec(e.message);
      const scimType = typed?.[1] ?? (e.statusCode === 409 ? 'uniqueness' : undefined);
      reply.status(e.statusCode).type(SCIM_JSON).send({
        schemas: [SCIM_ERROR], status: String(e.statusCode), ...(scimType ? { scimType } : {}),
        detail: e.statusCode >= 500 ? 'internal error' : typed?.[2] ?? e.message,
      });
    });
    scim.setNotFoundHandler((req, reply) => {
      reply.status(404).type(SCIM_JSON).send({ schemas: [SCIM_ERROR], status: '404', detail: `no SCIM resource ${req.method} ${req.url}` });
    });

    // The caller: a token with the scim scope (principal() records a refused one), held by an admin.
    const admit = async (req: FastifyRequest): Promise<Actor> => {
      const p = await principal(s, req, 'scim');
      const actor: Actor = { ...actorContext(req, p), user: p.user, logonType: 'admin' };
      const refuse = async (why: string) => {
        await s.audit.denied(actor, { operation: 'directory.scim', parameters: { route: `${req.method} ${req.routeOptions.url}` } }, why);
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', why);
      };
      if (p.via !== 'token') await refuse('SCIM is called with an API token that has the "scim" scope, not from a session');
      if (!p.user.roles.includes('admin')) await refuse('SCIM tokens work only while their holder is an admin');
      return actor;
    };
    const send = (reply: FastifyReply, status: number, body?: unknown) => {
      reply.status(status);
      return body === undefined ? reply.send() : reply.type(SCIM_JSON).send(body);
    };
    const paging = (q: Record<string, string | undefined>) => {
      const startIndex = q.startIndex === undefined ? 1 : Number(q.startIndex);
      const count = q.count === undefined ? 100 : Number(q.count);
      if (!Number.isInteger(startIndex) || !Number.isInteger(count) || count < 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'invalidValue: startIndex and count are whole numbers');
      return { startIndex, count: Math.min(count, 1000) };
    };
    const withMembers = (q: Record<string, string | undefined>) => !/(^|,)\s*members\s*(,|$)/i.test(q.excludedAttributes ?? '');
    type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

    scim.get('/ServiceProviderConfig', async (req, reply) => {
      await admit(req);
      return send(reply, 200, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true }, bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 }, filter: { supported: true, maxResults: 1000 },
        changePassword: { supported: false }, sort: { supported: false }, etag: { supported: false },
        authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Sealbox API token', description: 'an API token with the "scim" scope, held by an admin' }],
      });
    });
    scim.get('/Users', async (req: Req, reply) => {
      await admit(req);
      const { startIndex, count } = paging(req.query);
      return send(reply, 200, await s.scim.users(req.query.filter, startIndex, count));
    });
    scim.get('/Users/:id', async (req: Req, reply) => {
      await admit(req);
      return send(reply, 200, await s.scim.user(req.params.id));
    });
    scim.post('/Users', async (req, reply) => send(reply, 201, await s.scim.createUser(await admit(req), req.body)));
    scim.put('/Users/:id', async (req: Req, reply) => send(reply, 200, await s.scim.replaceUser(await admit(req), req.params.id, req.body)));
    scim.patch('/Users/:id', async (req: Req, reply) => send(reply, 200, await s.scim.patchUser(await admit(req), req.params.id, req.body)));
    scim.delete('/Users/:id', async (req: Req, reply) => {
      await s.scim.deleteUser(await admit(req), req.params.id);
      return send(reply, 204);
    });
    scim.get('/Groups', async (req: Req, reply) => {
      await admit(req);
      const { startIndex, count } = paging(req.query);
      return send(reply, 200, await s.scim.groups(req.query.filter, startIndex, count, withMembers(req.query)));
    });
    scim.get('/Groups/:id', async (req: Req, reply) => {
      await admit(req);
      return send(reply, 200, await s.scim.group(req.params.id, withMembers(req.query)));
    });
    scim.post('/Groups', async (req, reply) => send(reply, 201, await s.scim.createGroup(await admit(req), req.body)));
    scim.put('/Groups/:id', async (req: Req, reply) => send(reply, 200, await s.scim.replaceGroup(await admit(req), req.params.id, req.body)));
    scim.patch('/Groups/:id', async (req: Req, reply) => {
      await s.scim.patchGroup(await admit(req), req.params.id, req.body);
      return send(reply, 204);
    });
    scim.delete('/Groups/:id', async (req: Req, reply) => {
      await s.scim.deleteGroup(await admit(req), req.params.id);
      return send(reply, 204);
    });
    scim.get('/Schemas', async (req, reply) => {
      await admit(req);
      return send(reply, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 3, Resources: [SCIM_USER, SCIM_GROUP, SCIM_ENTERPRISE].map((id) => ({ id })) });
    });
  }, { prefix: '/scim/v2' });
}
