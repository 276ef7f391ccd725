import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../access/audit.ts';
import type { Principal } from '../access/credentials.ts';
import { asSealboxError, SealboxError } from '../core/errors.ts';
import { SCIM_ENTERPRISE, SCIM_GROUP, SCIM_USER } from '../directory/scim-directory.ts';
import { actorContext } from './principal.ts';
import type { GuardedRoute, RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = 'application/scim+json';

// The request bodies as providers send them (RFC 7643 §4, RFC 7644 §3.5.2), for the document and a
// first check of their shape: what each value means is checked by the directory (scim-directory.ts),
// which answers in SCIM's own error types. Unknown attributes are let through, as SCIM ignores them.
const SCIM_EMAIL = z.looseObject({ value: z.string().optional(), type: z.string().optional(), primary: z.boolean().optional() });
const SCIM_USER_BODY = z.looseObject({
  schemas: z.array(z.string()).optional(),
  userName: z.string().optional().describe('the Sealbox user name: a user principal name or address by its part before the @'),
  externalId: z.string().optional(),
  active: z.unknown().optional().describe('false: a leaver'),
  displayName: z.string().optional(),
  name: z.looseObject({ givenName: z.string().optional(), familyName: z.string().optional(), formatted: z.string().optional() }).optional(),
  emails: z.array(SCIM_EMAIL).optional().describe("the mailbox's addresses, the primary one first"),
  [SCIM_ENTERPRISE]: z.looseObject({ department: z.string().optional(), manager: z.unknown().optional().describe("the manager's user id, or {value}") }).optional(),
});
const SCIM_GROUP_BODY = z.looseObject({
  schemas: z.array(z.string()).optional(),
  displayName: z.string().optional().describe('the group name sso.roleGroups maps to roles'),
  externalId: z.string().optional(),
  members: z.array(z.looseObject({ value: z.string().optional(), display: z.string().optional() })).optional(),
});
const SCIM_PATCH_BODY = z.looseObject({
  schemas: z.array(z.string()).optional(),
  Operations: z.array(z.looseObject({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() })),
});
const LIST_QUERY = z.looseObject({ filter: z.string().optional(), startIndex: z.string().optional(), count: z.string().optional(), excludedAttributes: z.string().optional() });
const GROUP_QUERY = z.looseObject({ excludedAttributes: z.string().optional() });
const SCIM_ERROR_SCHEMA = z.object({ schemas: z.array(z.string()), status: z.string(), scimType: z.string().optional(), detail: z.string() });

// SCIM 2.0 (RFC 7644) at /scim/v2 for identity providers that push users and groups (Entra ID,
// Okta): an API token with the "scim" scope, held by an admin (created at the console or on the
// web app; only its hash is kept); never a session. Answers and errors in SCIM's own shapes. Every
// change goes through the directory sync (src/directory/scim-directory.ts), with its entries.
export function scimRoutes(app: FastifyInstance, routes: RouteTable, s: Services): void {
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
      // A body or query of the wrong shape (the route table's first check) is an invalid value.
      const scimType = typed?.[1] ?? (e.statusCode === 409 ? 'uniqueness' : e.code === 'SEALBOX_ERR_BAD_INPUT' ? 'invalidValue' : undefined);
      reply.status(e.statusCode).type(SCIM_JSON).send({
        schemas: [SCIM_ERROR], status: String(e.statusCode), ...(scimType ? { scimType } : {}),
        detail: e.statusCode >= 500 ? 'internal error' : typed?.[2] ?? e.message,
      });
    });
    scim.setNotFoundHandler((req, reply) => {
      reply.status(404).type(SCIM_JSON).send({ schemas: [SCIM_ERROR], status: '404', detail: `no SCIM resource ${req.method} ${req.url}` });
    });

    // The caller, admitted by the route table: a token with the scim scope (never a session),
    // held by an admin; a refusal recorded (directory.scim).
    const admit = async (req: FastifyRequest, p: Principal): Promise<Actor> => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' });
    const send = (reply: FastifyReply, status: number, body?: unknown) => {
      reply.status(status);
      return body === undefined ? reply.send() : reply.type(SCIM_JSON).send(body);
    };
    const paging = (q: { startIndex?: string; count?: string }) => {
      const startIndex = q.startIndex === undefined ? 1 : Number(q.startIndex);
      const count = q.count === undefined ? 100 : Number(q.count);
      if (!Number.isInteger(startIndex) || !Number.isInteger(count) || count < 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'invalidValue: startIndex and count are whole numbers');
      return { startIndex, count: Math.min(count, 1000) };
    };
    const withMembers = (q: { excludedAttributes?: string }) => !/(^|,)\s*members\s*(,|$)/i.test(q.excludedAttributes ?? '');
    const table = routes.scoped(scim, '/scim/v2');
    // Every SCIM route: an admin's token with the scim scope; SCIM's media type and error shape.
    const route = <B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: Omit<GuardedRoute<B, Q>, 'auth' | 'tag' | 'contentType' | 'errorSchema'>) => table.add<B, Q>({
      ...spec, tag: 'scim', contentType: SCIM_JSON, errorSchema: SCIM_ERROR_SCHEMA,
      auth: {
        scope: 'scim', roles: ['admin'], tokenOnly: 'SCIM is called with an API token that has the "scim" scope, not from a session',
        refusal: { operation: 'directory.scim', message: 'SCIM tokens work only while their holder is an admin', parameters: () => ({ route: `${spec.method} /scim/v2${spec.url}` }) },
      },
    });

    route({
      method: 'GET', url: '/ServiceProviderConfig', summary: 'what this SCIM service provider supports (PATCH and filters; no bulk, sort, ETags or password change)',
      handler: async (req, reply, { p }) => {
        await admit(req, p);
        return send(reply, 200, {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
          patch: { supported: true }, bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 }, filter: { supported: true, maxResults: 1000 },
          changePassword: { supported: false }, sort: { supported: false }, etag: { supported: false },
          authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Sealbox API token', description: 'an API token with the "scim" scope, held by an admin' }],
        });
      },
    });
    route({
      method: 'GET', url: '/Users', query: LIST_QUERY, summary: 'users as the provider wrote them, with the filters providers send (userName, externalId, displayName, id eq), paged by startIndex and count',
      handler: async (req, reply, { p, query }) => {
        await admit(req, p);
        const { startIndex, count } = paging(query);
        return send(reply, 200, await s.scim.users(query.filter, startIndex, count));
      },
    });
    route({
      method: 'GET', url: '/Users/:id', summary: 'one user',
      handler: async (req, reply, { p, params }) => {
        await admit(req, p);
        return send(reply, 200, await s.scim.user(params.id));
      },
    });
    route({
      method: 'POST', url: '/Users', body: SCIM_USER_BODY, status: 201, summary: 'create a user; the directory sync (source scim) plans and applies what it changes, with its ledger entries (409 uniqueness for a userName or externalId taken)',
      handler: async (req, reply, { p, body }) => send(reply, 201, await s.scim.createUser(await admit(req, p), body)),
    });
    route({
      method: 'PUT', url: '/Users/:id', body: SCIM_USER_BODY, summary: 'replace a user (through the directory sync, as a create)',
      handler: async (req, reply, { p, params, body }) => send(reply, 200, await s.scim.replaceUser(await admit(req, p), params.id, body)),
    });
    route({
      method: 'PATCH', url: '/Users/:id', body: SCIM_PATCH_BODY, summary: 'change a user by PatchOp (add, replace, remove, with or without a path; active: false makes a leaver), through the directory sync',
      handler: async (req, reply, { p, params, body }) => send(reply, 200, await s.scim.patchUser(await admit(req, p), params.id, body)),
    });
    route({
      method: 'DELETE', url: '/Users/:id', status: 204, summary: 'delete a user: a leaver, through the directory sync',
      handler: async (req, reply, { p, params }) => {
        await s.scim.deleteUser(await admit(req, p), params.id);
        return send(reply, 204);
      },
    });
    route({
      method: 'GET', url: '/Groups', query: LIST_QUERY, summary: 'groups as the provider wrote them (displayName, externalId, id eq filters; excludedAttributes=members)',
      handler: async (req, reply, { p, query }) => {
        await admit(req, p);
        const { startIndex, count } = paging(query);
        return send(reply, 200, await s.scim.groups(query.filter, startIndex, count, withMembers(query)));
      },
    });
    route({
      method: 'GET', url: '/Groups/:id', query: GROUP_QUERY, summary: 'one group (excludedAttributes=members leaves its members out)',
      handler: async (req, reply, { p, params, query }) => {
        await admit(req, p);
        return send(reply, 200, await s.scim.group(params.id, withMembers(query)));
      },
    });
    route({
      method: 'POST', url: '/Groups', body: SCIM_GROUP_BODY, status: 201, summary: 'create a group; the members of a group sso.roleGroups names get its role as at a sign-in, through the directory sync',
      handler: async (req, reply, { p, body }) => send(reply, 201, await s.scim.createGroup(await admit(req, p), body)),
    });
    route({
      method: 'PUT', url: '/Groups/:id', body: SCIM_GROUP_BODY, summary: 'replace a group and its members, through the directory sync',
      handler: async (req, reply, { p, params, body }) => send(reply, 200, await s.scim.replaceGroup(await admit(req, p), params.id, body)),
    });
    route({
      method: 'PATCH', url: '/Groups/:id', body: SCIM_PATCH_BODY, status: 204, summary: 'add or remove members (as [{"value": ID}] or members[value eq "ID"]) or rename, through the directory sync',
      handler: async (req, reply, { p, params, body }) => {
        await s.scim.patchGroup(await admit(req, p), params.id, body);
        return send(reply, 204);
      },
    });
    route({
      method: 'DELETE', url: '/Groups/:id', status: 204, summary: 'delete a group (its members lose the role it gave), through the directory sync',
      handler: async (req, reply, { p, params }) => {
        await s.scim.deleteGroup(await admit(req, p), params.id);
        return send(reply, 204);
      },
    });
    route({
      method: 'GET', url: '/Schemas', summary: 'the schemas this service provider uses (User, Group, the enterprise User extension)',
      handler: async (req, reply, { p }) => {
        await admit(req, p);
        return send(reply, 200, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 3, Resources: [SCIM_USER, SCIM_GROUP, SCIM_ENTERPRISE].map((id) => ({ id })) });
      },
    });
  }, { prefix: '/scim/v2' });
}
