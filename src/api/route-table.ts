import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { User } from '../access/people.ts';
import { ROLES, TOKEN_SCOPES } from '../access/roles.ts';
import type { Role, TokenScope } from '../access/roles.ts';
import { SealboxError } from '../core/errors.ts';
import { LEDGER_OPERATIONS } from '../core/ledger-operations.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { LogonType } from '../core/types.ts';
import { actorContext, principal } from './principal.ts';
import type { Services } from './services.ts';

// A route's validated input: its body, query and path parameters.
export interface RouteInput<B extends z.ZodType, Q extends z.ZodType> {
  body: z.infer<B>;
  query: z.infer<Q>;
  params: Record<string, string>;
}

// How a caller without any of the declared roles is refused: the ledger entry (the operation the
// route would have done, the parameters it names, the reason) and the answer's message.
export interface Refusal<B extends z.ZodType, Q extends z.ZodType> {
  operation: LedgerOperation | ((input: RouteInput<B, Q>) => LedgerOperation);
  message: string;
  reason?: string;                                       // the ledger's, if not the message
  logonType?: LogonType | ((user: User) => LogonType);  // 'admin' unless given
  parameters?: (input: RouteInput<B, Q>) => Record<string, unknown>;
}

// Who may call a route: a session, or an API token with `scope`; and when roles are given, only
// someone holding one of them, a refusal being recorded as `refusal` says.
// tokenOnly: a session is refused too (its words, recorded as the refusal's operation): routes
// for machines, such as an identity provider's SCIM pushes.
export type Guard<B extends z.ZodType, Q extends z.ZodType> =
  | { scope: TokenScope; roles?: undefined; refusal?: undefined; tokenOnly?: undefined }
  | { scope: TokenScope; roles: readonly Role[]; refusal: Refusal<B, Q>; tokenOnly?: string };

interface RouteCommon<B extends z.ZodType, Q extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  body?: B;
  // The media type of the JSON body and the answer, for the document: application/json unless
  // given (SCIM's is application/scim+json).
  contentType?: string;
  // The error answer's schema, when it is not Sealbox's own {error: {code, message}} (SCIM's).
  errorSchema?: z.ZodType;
  query?: Q;
  // Query fields written in the search language, whose parser refuses control characters itself
  // and records the refusal as the search's (every other string is refused U+0000 here).
  queryLanguage?: readonly string[];
  // A body that is not JSON (read by the handler as a stream) and request headers, for the document.
  rawBody?: { contentType: string; description: string };
  headers?: { name: string; description: string }[];
  status?: number;   // the success status, 200 unless given
}

export interface OpenRoute<B extends z.ZodType, Q extends z.ZodType> extends RouteCommon<B, Q> {
  auth: 'none';
  handler: (req: FastifyRequest, reply: FastifyReply, input: RouteInput<B, Q>) => Promise<unknown>;
}

export interface GuardedRoute<B extends z.ZodType, Q extends z.ZodType> extends RouteCommon<B, Q> {
  auth: Guard<B, Q>;
  // p: the caller, admitted by the guard.
  handler: (req: FastifyRequest, reply: FastifyReply, input: RouteInput<B, Q> & { p: Principal }) => Promise<unknown>;
}

export type RouteSpec<B extends z.ZodType, Q extends z.ZodType> = OpenRoute<B, Q> | GuardedRoute<B, Q>;

// Every route is declared once: fastify serves it, zod validates its input, the table admits its
// caller as declared (token scope, roles, the refusal recorded) before the handler runs, and the
// same declaration is the OpenAPI document, so none of them can drift apart.
export class RouteTable {
  readonly #app: FastifyInstance;
  readonly #s: Services;
  readonly #paths: Record<string, Record<string, unknown>>;
  readonly #prefix: string;

  constructor(app: FastifyInstance, services: Services, shared: { paths: Record<string, Record<string, unknown>>; prefix: string } = { paths: {}, prefix: '' }) {
    this.#app = app;
    this.#s = services;
    this.#paths = shared.paths;
    this.#prefix = shared.prefix;
  }

  // The same table for routes registered in a fastify scope of their own under `prefix` (its own
  // body parsers and error shapes, as SCIM has): served there, documented here at prefix + url.
  scoped(app: FastifyInstance, prefix: string): RouteTable {
    return new RouteTable(app, this.#s, { paths: this.#paths, prefix: this.#prefix + prefix });
  }

  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: OpenRoute<B, Q>): void;
  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: GuardedRoute<B, Q>): void;
  add(spec: RouteSpec<z.ZodType, z.ZodType>): void {
    checkDeclaration(spec);
    this.#app.route({
      method: spec.method,
      url: spec.url,
      handler: async (req, reply) => {
        refuseNul('params', req.params);
        refuseNul('query', req.query, spec.queryLanguage);
        if (!spec.rawBody) refuseNul('body', req.body);
        const input = {
          body: spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined,
          query: spec.query ? parse(spec.query, req.query ?? {}, 'query') : undefined,
          params: (req.params ?? {}) as Record<string, string>,
        };
        if (spec.auth === 'none') return spec.handler(req, reply, input);
        return spec.handler(req, reply, { ...input, p: await this.#admit(req, spec.auth, input) });
      },
    });
    this.#document(spec);
  }

  // The caller with the declared scope (principal() records refused credentials), holding one of
  // the declared roles; a caller without is refused, and the refusal recorded, before anything else.
  async #admit(req: FastifyRequest, guard: Guard<z.ZodType, z.ZodType>, input: RouteInput<z.ZodType, z.ZodType>): Promise<Principal> {
    const p = await principal(this.#s, req, guard.scope);
    const tokenRefused = guard.tokenOnly !== undefined && p.via !== 'token';
    if (!guard.roles || (!tokenRefused && p.user.roles.some((r) => guard.roles.includes(r)))) return p;
    const { refusal } = guard;
    const operation = typeof refusal.operation === 'function' ? refusal.operation(input) : refusal.operation;
    const logonType = typeof refusal.logonType === 'function' ? refusal.logonType(p.user) : refusal.logonType ?? 'admin';
    const message = tokenRefused ? guard.tokenOnly! : refusal.message;
    await this.#s.audit.denied({ ...actorContext(req, p), user: p.user, logonType }, { operation, parameters: refusal.parameters?.(input) }, tokenRefused ? message : refusal.reason ?? refusal.message);
    throw new SealboxError('SEALBOX_ERR_FORBIDDEN', message);
  }

  #document(spec: RouteSpec<z.ZodType, z.ZodType>): void {
    const path = (this.#prefix + spec.url).replace(/:(\w+)/g, '{$1}');
    const media = spec.contentType ?? 'application/json';
    const params = [...spec.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = spec.query ? Object.entries((z.toJSONSchema(spec.query) as any).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })) : [];
    const headerParams = (spec.headers ?? []).map((h) => ({ name: h.name, in: 'header', description: h.description, schema: { type: 'string' } }));
    (this.#paths[path] ??= {})[spec.method.toLowerCase()] = {
      summary: spec.summary, tags: [spec.tag],
      ...documentedAuth(spec.auth),
      parameters: [...params, ...queryParams, ...headerParams],
      ...(spec.body ? { requestBody: { required: true, content: { [media]: { schema: z.toJSONSchema(spec.body) } } } } : {}),
      ...(spec.rawBody ? { requestBody: { required: true, description: spec.rawBody.description, content: { [spec.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } } } : {}),
      responses: { [String(spec.status ?? 200)]: { description: 'OK' }, default: { description: 'Error', content: { [media]: { schema: spec.errorSchema ? z.toJSONSchema(spec.errorSchema) : { $ref: '#/components/schemas/Error' } } } } },
    };
  }

  openApi(): Record<string, unknown> {
    return {
      openapi: '3.1.0',
      info: { title: 'Sealbox API', version: '1' },
      paths: this.#paths,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sealbox_session', description: 'plus the x-csrf-token header on every POST/DELETE' },
          token: { type: 'http', scheme: 'bearer', description: 'API token (sbx_…); each operation names the scope it needs' },
        },
        schemas: { Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } } },
      },
    };
  }
}

// Who may call the route, as the document shows it: no security for an open route; otherwise a
// session or a token with the scope, and the roles that admit a caller (x-sealbox-scope,
// x-sealbox-roles, and in words in the description).
function documentedAuth(auth: RouteSpec<z.ZodType, z.ZodType>['auth']): Record<string, unknown> {
  if (auth === 'none') return { security: [], description: 'Open: no sign-in.' };
  const roles = auth.roles ? ` Only for callers holding one of the roles ${auth.roles.join(', ')}; anyone else is refused (403), the refusal recorded in the ledger.` : '';
  if (auth.tokenOnly !== undefined) {
    return {
      description: `An API token with the "${auth.scope}" scope, never a session (refused, 403, recorded).${roles}`,
      security: [{ token: [auth.scope] }],
      'x-sealbox-scope': auth.scope,
      ...(auth.roles ? { 'x-sealbox-roles': [...auth.roles] } : {}),
    };
  }
  return {
    description: `A signed-in session, or an API token with the "${auth.scope}" scope.${roles}`,
    security: [{ session: [] }, { token: [auth.scope] }],
    'x-sealbox-scope': auth.scope,
    ...(auth.roles ? { 'x-sealbox-roles': [...auth.roles] } : {}),
  };
}

// The types say the same; this holds for code the compiler did not see, and stops start-up.
function checkDeclaration(spec: RouteSpec<z.ZodType, z.ZodType>): void {
  const where = `${spec.method} ${spec.url}`;
  if (spec.auth === 'none') return;
  const guard = spec.auth as Guard<z.ZodType, z.ZodType> | undefined;
  if (!guard || !TOKEN_SCOPES.includes(guard.scope)) throw new Error(`route ${where} declares neither auth 'none' nor a token scope`);
  if (guard.roles === undefined) return;
  if (guard.roles.length === 0 || !guard.roles.every((r) => ROLES.includes(r))) throw new Error(`route ${where} declares no roles, or unknown ones: [${guard.roles.join(', ')}]`);
  const refusal = guard.refusal as Refusal<z.ZodType, z.ZodType> | undefined;
  const named = typeof refusal?.operation === 'function' || Object.hasOwn(LEDGER_OPERATIONS, refusal?.operation ?? '');
  if (!refusal?.message || !named) throw new Error(`route ${where} declares roles without the refusal to record (operation, message)`);
}

// Text holding U+0000, anywhere in a route's input: no name, id, reason or address needs it, and
// PostgreSQL's text cannot hold it (a store that could would keep what the other refuses), so it
// is bad input on every backend, refused before anything is decided. `leave`: top-level fields
// whose own parser answers for it. A raw body (a stream of bytes) is not looked at.
function refuseNul(where: string, value: unknown, leave: readonly string[] = [], path: string[] = []): void {
  const at = () => [where, ...path].join('.');
  if (typeof value === 'string') {
    if (value.includes('\0')) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${at()}: holds the character U+0000`, where === 'body' && path.length ? { fields: [path[0]] } : undefined);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => refuseNul(where, v, [], [...path, String(i)]));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    if (path.length === 0 && leave.includes(key)) continue;
    if (key.includes('\0')) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${at()}: a field name holds the character U+0000`);
    refuseNul(where, v, [], [...path, key]);
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  // The body's field at fault, for a form to say it by that field (as the services' own refusals do).
  const named = issue.code === 'unrecognized_keys' ? issue.keys : issue.path.length ? [String(issue.path[0])] : [];
  throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${where}${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`, where === 'body' && named.length ? { fields: named } : undefined);
}
