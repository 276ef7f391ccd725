// A real OpenID Provider for tests: oidc-provider (a certified OpenID Connect implementation) on a
// loopback port, with accounts whose groups and `amr` each test sets, its own login page (a form
// any client can post to: Chromium, or the small cookie-keeping HTTP client below), RP-initiated
// logout, and two doors a real attacker has: the next token response can be rewritten on its
// way out, and tokens can be signed with the provider's own key (forged with a wrong audience or
// long expired). Sealbox learns of it only by its issuer URL, as of any provider.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Provider } from 'oidc-provider';

export interface TestAccount {
  password: string;
  claims: { preferred_username: string; name?: string; email?: string; email_verified?: boolean; groups?: string[] };
  amr: string[];            // what the login says it used: ['pwd'], or ['pwd', 'otp', 'mfa']
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface TestProvider {
  issuer: string;
  accounts: Record<string, TestAccount>;
  // The client (Sealbox) becomes known once its address is: the provider listens before it does.
  register(client: TestClient): void;
  // The next response of the token endpoint is rewritten by `edit` (its parsed JSON) before it leaves.
  editNextToken(edit: (body: Record<string, any>) => Record<string, any>): void;
  // A JWT signed with the provider's own key (RS256, its kid): a token it never issued.
  sign(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTestProvider(accounts: Record<string, TestAccount>): Promise<TestProvider> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const edits: ((body: Record<string, any>) => Record<string, any>)[] = [];
  const server = createServer((req, res) => {
    if (!handler) {
      res.statusCode = 503;
      res.end('the test provider has no client yet');
      return;
    }
    if (req.method === 'POST' && req.url === '/token' && edits.length > 0) rewrite(res, edits.shift()!);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const register = (client: TestClient) => {
    const provider = new Provider(issuer, {
      clients: [{
        client_id: client.clientId, client_secret: client.clientSecret, redirect_uris: client.redirectUris, post_logout_redirect_uris: client.postLogoutRedirectUris,
        grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
      }],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      // amr in the ID token always, as Entra ID and Okta send it.
      claims: { openid: ['sub', 'amr'], profile: ['preferred_username', 'name'], email: ['email', 'email_verified'], groups: ['groups'] },
      scopes: ['openid', 'profile', 'email', 'groups'],
      features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource: async (ctx: any) => { ctx.body = '<!DOCTYPE html><title>Signed out</title><h1>Signed out</h1>'; } } },
      interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      pkce: { required: () => true },
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
      renderError: async (ctx: any, out: Record<string, string>) => { ctx.type = 'html'; ctx.body = `<!DOCTYPE html><title>Error</title><h1>Error</h1><pre>${escape(JSON.stringify(out))}</pre>`; },
      findAccount: async (_ctx: unknown, id: string) => {
        const account = accounts[id];
        return account ? { accountId: id, claims: async () => ({ sub: id, ...account.claims }) } : undefined;
      },
    });
    const app = provider.callback();
    handler = (req, res) => {
      const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url ?? '');
      if (!m) return app(req, res);
      void interaction(provider, accounts, req, res, m[2] !== undefined).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    };
  };

  return {
    issuer, accounts, register,
    editNextToken: (edit) => edits.push(edit),
    sign: (claims) => {
      const data = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'test-key' }))}.${b64url(JSON.stringify(claims))}`;
      return `${data}.${b64url(sign('sha256', Buffer.from(data), privateKey))}`;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

// The provider's sign-in page, and the login it finishes: the account's amr, and consent to
// every scope asked for (a company's own provider does not ask its employees).
async function interaction(provider: Provider, accounts: Record<string, TestAccount>, req: IncomingMessage, res: ServerResponse, posted: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (!posted) {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html><html lang="en"><head><title>Test IdP sign-in</title></head><body><main><h1>Test IdP</h1>
      <form method="post" action="/interaction/${details.uid}/login"><label>Username <input name="login" autocomplete="username"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password"></label><button type="submit">Sign in at the Test IdP</button></form></main></body></html>`);
    return;
  }
  const form = new URLSearchParams(await new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => resolve(body));
  }));
  const login = form.get('login') ?? '';
  const account = accounts[login];
  if (!account || account.password !== form.get('password')) {
    res.statusCode = 401;
    res.end('wrong username or password');
    return;
  }
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: login, amr: account.amr, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

// RP-initiated logout: the provider asks before it ends its session (its form is given).
async function logoutSource(ctx: any, form: string): Promise<void> {
  ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Test IdP sign-out</title></head><body><main><h1>Sign out of the Test IdP?</h1>${form}
    <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></main></body></html>`;
}

// The token endpoint's answer, rewritten before it is sent (its length with it).
function rewrite(res: ServerResponse, edit: (body: Record<string, any>) => Record<string, any>): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (chunk === undefined || chunk === null || res.statusCode !== 200) return end(chunk);
    const out = JSON.stringify(edit(JSON.parse(Buffer.from(chunk as Buffer | string).toString('utf8'))));
    if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(out));
    return end(out);
  }) as ServerResponse['end'];
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A browser without a browser: cookies kept per host and port, redirects followed by hand so the
// test can stop at any one (the callback to Sealbox, to replay or tamper with it).
export class CookieClient {
  readonly #jar = new Map<string, Map<string, string>>();

  async fetch(url: string, init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.#jar.get(u.host) ?? new Map<string, string>();
    const headers: Record<string, string> = { ...init.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await fetch(u, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
      if (/max-age=0\b/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.#jar.set(u.host, jar);
    return res;
  }

  // Follows redirects from `url` until one leads to a URL that `stop` accepts (returned, not
  // fetched) or a page that is not a redirect (its response).
  async follow(url: string, stop: (next: URL) => boolean = () => false): Promise<{ stoppedAt: URL | null; res: Response | null }> {
    let next = new URL(url);
    for (let hops = 0; hops < 20; hops++) {
      if (stop(next)) return { stoppedAt: next, res: null };
      const res = await this.fetch(next.href);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { stoppedAt: null, res };
      next = new URL(location, next);
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }

  cookie(host: string, name: string): string | undefined {
    return this.#jar.get(host)?.get(name);
  }

  // Puts a cookie in the jar, as if the host had set it (a session signed in elsewhere).
  setCookie(host: string, name: string, value: string): void {
    const jar = this.#jar.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.#jar.set(host, jar);
  }
}
