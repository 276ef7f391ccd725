// The route table admits callers as each route declares, before its handler runs: the token
// scope, then the roles, a refusal recorded in the ledger with the route's declared operation.
// And every route the server serves declares either 'none' or a scope, as its OpenAPI entry
// shows, so a new route cannot leave the question open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { z } from 'zod';
import { TOKEN_SCOPES } from '../src/access/roles.ts';
import type { Role, TokenScope } from '../src/access/roles.ts';
import { RouteTable } from '../src/api/route-table.ts';
import { openArchive } from '../src/archive.ts';
import { serverParts } from '../src/cli/serve.ts';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { tempDataDir } from './support/sealbox.ts';

// The routes that are open to anyone: sign-in (with a password, or through a provider: its
// steps are bound to the browser by their own cookie) and enrolment, and the ledger's public
// parts. Opening another one is a decision, to be made here too.
const OPEN = [
  'POST /api/v1/enrol', 'POST /api/v1/session', 'GET /api/v1/health', 'GET /api/v1/ledger/checkpoint', 'GET /api/v1/ledger/public-key',
  'GET /api/v1/ledger/proof/{index}', 'GET /api/v1/ledger/consistency',
  'GET /api/v1/sso/providers', 'GET /api/v1/sso/{provider}/start', 'GET /api/v1/sso/{provider}/callback', 'GET /api/v1/sso/pending', 'POST /api/v1/sso/session',
];

// A fresh archive opened as the server opens it (src/archive.ts).
const archive = () => openArchive(loadConfig(testConfig(), { data: tempDataDir() }, {}), 'server');

test('a route declared for a role refuses anyone without it before the handler runs, and records the refusal', async (t) => {
  const opened = await archive();
  const s = opened.services;
  const app = Fastify();
  t.after(async () => { await app.close(); opened.close(); });
  const token = async (name: string, roles: Role[], scopes: TokenScope[]) => `Bearer ${(await s.db.write(async (tx) => s.credentials.createToken(tx, (await s.people.add(tx, { name, roles })).user, { name, scopes, days: 1 }))).token}`;
  const auditor = await token('aud', ['auditor'], ['ledger']);
  const admin = await token('adm', ['admin'], ['ledger']);
  const approver = await token('appr', ['approver'], ['ledger']);
  const auditorWithoutScope = await token('aud2', ['auditor'], ['content']);

  const runs: string[] = [];
  const routes = new RouteTable(app, s);
  routes.add({
    method: 'POST', url: '/probe/:name', tag: 'test', summary: 'a route for auditors and admins',
    body: z.strictObject({ n: z.number() }),
    auth: {
      scope: 'ledger', roles: ['auditor', 'admin'],
      refusal: { operation: 'ledger.read', reason: 'not an auditor or admin', message: 'only auditors and admins probe', parameters: ({ params, body }) => ({ name: params.name, n: body.n }) },
    },
    handler: async (_req, _reply, { params, body, p }) => {
      runs.push(p.user.name);
      return { name: params.name, n: body.n, by: p.user.name };
    },
  });
  routes.add({
    method: 'GET', url: '/anyone', tag: 'test', summary: 'any signed-in person', auth: { scope: 'ledger' },
    handler: async (_req, _reply, { p }) => {
      runs.push(p.user.name);
      return { by: p.user.name };
    },
  });
  const call = (authorization: string, payload: object = { n: 7 }) => app.inject({ method: 'POST', url: '/probe/box', headers: { authorization }, payload });
  const entriesSince = async (from: number) => (await s.db.read((tx) => s.stores.meta.entries(tx, { from, order: 'asc' }))).map((r) => r.entry);

  await t.test('a role that is declared: the handler runs with the caller', async () => {
    for (const [authorization, name] of [[auditor, 'aud'], [admin, 'adm']]) {
      const r = await call(authorization);
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { name: 'box', n: 7, by: name });
    }
    assert.deepEqual(runs.splice(0), ['aud', 'adm']);
  });

  await t.test('no declared role: 403, the handler never runs, the refusal is one denied entry', async () => {
    const before = s.ledger.size;
    const r = await call(approver);
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'SEALBOX_ERR_FORBIDDEN');
    assert.equal(r.json().message, 'only auditors and admins probe');
    assert.deepEqual(runs, [], 'the handler did not run');
    const entries = await entriesSince(before);
    assert.equal(entries.length, 1);
    const [e] = entries;
    assert.deepEqual({ type: e.type, actor: e.actor, operation: e.operation, result: e.result, logonType: e.logonType },
      { type: 'admin', actor: 'user:appr', operation: 'ledger.read', result: 'denied', logonType: 'admin' });
    assert.equal(e.parameters.reason, 'not an auditor or admin');
    assert.equal(e.parameters.name, 'box');
    assert.equal(e.parameters.n, 7);
    assert.match(e.sessionId ?? '', /^tok_/);
  });

  await t.test('the scope comes first: a token without it is refused (token.use) before roles or handler', async () => {
    const before = s.ledger.size;
    const r = await call(auditorWithoutScope);
    assert.equal(r.statusCode, 403);
    assert.match(r.json().message, /lacks the "ledger" scope/);
    assert.deepEqual(runs, []);
    assert.deepEqual((await entriesSince(before)).map((e) => [e.operation, e.result]), [['token.use', 'denied']]);
  });

  await t.test('input is validated before anyone is admitted; no credential: 401, nothing run', async () => {
    const before = s.ledger.size;
    assert.equal((await call(approver, { n: 'seven' })).statusCode, 400);
    assert.equal((await call('')).statusCode, 401);
    assert.deepEqual(runs, []);
    assert.equal(s.ledger.size, before);
  });

  await t.test('a route without roles admits any signed-in person, with the caller in its input', async () => {
    const r = await app.inject({ method: 'GET', url: '/anyone', headers: { authorization: approver } });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { by: 'appr' });
    assert.deepEqual(runs.splice(0), ['appr']);
  });

  await t.test('a declaration that leaves the question open stops start-up', () => {
    const handler = async () => null;
    const base = { method: 'GET', tag: 'test', summary: 'x', handler } as const;
    assert.throws(() => routes.add({ ...base, url: '/a' } as any), /declares neither auth 'none' nor a token scope/);
    assert.throws(() => routes.add({ ...base, url: '/b', auth: 'user' } as any), /declares neither/);
    assert.throws(() => routes.add({ ...base, url: '/c', auth: { scope: 'everything' } } as any), /declares neither/);
    assert.throws(() => routes.add({ ...base, url: '/d', auth: { scope: 'ledger', roles: ['auditor'] } } as any), /without the refusal to record/);
    assert.throws(() => routes.add({ ...base, url: '/e', auth: { scope: 'ledger', roles: ['auditor'], refusal: { operation: 'made.up', message: 'no' } } } as any), /without the refusal/);
    assert.throws(() => routes.add({ ...base, url: '/f', auth: { scope: 'ledger', roles: [], refusal: { operation: 'ledger.read', message: 'no' } } } as any), /no roles/);
    assert.throws(() => routes.add({ ...base, url: '/g', auth: { scope: 'ledger', roles: ['root'], refusal: { operation: 'ledger.read', message: 'no' } } } as any), /unknown/);
  });
});

test('every route the server serves declares auth: open, or a token scope (and its roles), in its OpenAPI entry', async (t) => {
  const opened = await archive();
  // The HTTP server as serve wires it, ingest included.
  const app = serverParts(opened).http!;
  t.after(async () => { await app.close(); opened.close(); });
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  const open: string[] = [];
  let guarded = 0;
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(operations)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(Array.isArray(op.security), `${where}: no security declared`);
      if (op.security.length === 0) {
        assert.equal(op['x-sealbox-scope'], undefined, where);
        open.push(where);
        continue;
      }
      guarded++;
      const scope = op['x-sealbox-scope'];
      assert.ok(TOKEN_SCOPES.includes(scope), `${where}: scope ${scope}`);
      // Routes for machines (SCIM) take a token only; every other guarded route a session or a token.
      assert.deepEqual(op.security, path.startsWith('/scim/') ? [{ token: [scope] }] : [{ session: [] }, { token: [scope] }], where);
      assert.match(op.description, new RegExp(`"${scope}" scope`), where);
      if (op['x-sealbox-roles'] !== undefined) {
        assert.ok(op['x-sealbox-roles'].length > 0, where);
        assert.match(op.description, new RegExp(op['x-sealbox-roles'].join(', ')), where);
      }
    }
  }
  assert.deepEqual(open.sort(), [...OPEN].sort(), 'the open routes');
  assert.ok(guarded > 45, `${guarded} guarded operations`);
  // What the server enforces, as the document shows it: a few that the handlers used to check by hand.
  const roles = (method: string, path: string) => doc.paths[path][method]['x-sealbox-roles'];
  assert.deepEqual(roles('get', '/api/v1/ledger/entries'), ['auditor']);
  assert.deepEqual(roles('get', '/api/v1/ledger/checkpoints'), ['auditor', 'admin']);
  assert.deepEqual(roles('post', '/api/v1/users'), ['admin']);
  // SCIM is declared in the table like every other route: PUT and PATCH too, with its schemas and media type.
  for (const [method, path] of [['get', '/scim/v2/Users'], ['post', '/scim/v2/Users'], ['put', '/scim/v2/Users/{id}'], ['patch', '/scim/v2/Users/{id}'], ['delete', '/scim/v2/Users/{id}'],
    ['put', '/scim/v2/Groups/{id}'], ['patch', '/scim/v2/Groups/{id}'], ['get', '/scim/v2/ServiceProviderConfig']]) {
    assert.deepEqual([roles(method, path), doc.paths[path][method]['x-sealbox-scope']], [['admin'], 'scim'], `${method} ${path}`);
  }
  const put = doc.paths['/scim/v2/Users/{id}'].put;
  assert.ok(put.requestBody.content['application/scim+json'].schema.properties.userName, 'the user body is described');
  assert.ok(doc.paths['/scim/v2/Groups/{id}'].patch.requestBody.content['application/scim+json'].schema.properties.Operations, 'the PatchOp body is described');
  assert.ok(put.responses.default.content['application/scim+json'].schema.properties.scimType, "SCIM's error shape");
  assert.deepEqual(put.parameters.map((x: any) => [x.name, x.in]), [['id', 'path']]);
  assert.deepEqual(roles('get', '/api/v1/reviews'), ['approver', 'auditor']);
  assert.equal(roles('get', '/api/v1/search'), undefined, 'content reads are decided per message, not by role');
  assert.equal(doc.paths['/api/v1/ingest'].post['x-sealbox-scope'], 'ingest');
});
