import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SealboxError } from '../core/errors.ts';

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  auth: 'none' | 'user';
  // A body that is not JSON (read by the handler as a stream) and request headers, for the document.
  rawBody?: { contentType: string; description: string };
  headers?: { name: string; description: string }[];
  status?: number;   // the success status, 200 unless given
  handler: (req: FastifyRequest, reply: FastifyReply, input: { body: z.infer<B>; query: z.infer<Q> }) => Promise<unknown>;
}

// Every route is declared once: fastify serves it, zod validates its input, and the same
// declaration is the OpenAPI document, so the two cannot drift apart.
export class RouteTable {
  readonly #app: FastifyInstance;
  readonly #paths: Record<string, Record<string, unknown>> = {};

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q>): void {
    this.#app.route({
      method: spec.method,
      url: spec.url,
      handler: async (req, reply) => {
        const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined;
        const query = spec.query ? parse(spec.query, req.query ?? {}, 'query') : undefined;
        return spec.handler(req, reply, { body: body as z.infer<B>, query: query as z.infer<Q> });
      },
    });
    const path = spec.url.replace(/:(\w+)/g, '{$1}');
    const params = [...spec.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const queryParams = spec.query ? Object.entries((z.toJSONSchema(spec.query) as any).properties ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })) : [];
    const headerParams = (spec.headers ?? []).map((h) => ({ name: h.name, in: 'header', description: h.description, schema: { type: 'string' } }));
    (this.#paths[path] ??= {})[spec.method.toLowerCase()] = {
      summary: spec.summary, tags: [spec.tag],
      ...(spec.auth === 'user' ? { security: [{ session: [] }, { token: [] }] } : {}),
      parameters: [...params, ...queryParams, ...headerParams],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(spec.body) } } } } : {}),
      ...(spec.rawBody ? { requestBody: { required: true, description: spec.rawBody.description, content: { [spec.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } } } : {}),
      responses: { [String(spec.status ?? 200)]: { description: 'OK' }, default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } },
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
          token: { type: 'http', scheme: 'bearer', description: 'API token (sbx_…)' },
        },
        schemas: { Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } } } },
      },
    };
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${where}${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`);
}
