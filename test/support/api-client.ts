import { totpCode, currentStep } from '../../src/access/totp.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { Clock } from '../../src/core/clock.ts';

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  payload: Buffer;
}

// How a call reaches the server: over HTTP to a server in another process, or into the fastify
// app of this one (app.inject(): test/support/in-process.ts).
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export function httpTransport(base: string): Transport {
  return async ({ method, path, headers, body }) => {
    const res = await fetch(base + path, { method, headers, body });
    return { status: res.status, headers: res.headers, payload: Buffer.from(await res.arrayBuffer()) };
  };
}

// A signed-in HTTP client for tests: keeps the session cookie and CSRF token like a browser.
export class ApiClient {
  readonly #send: Transport;
  readonly #clock: Clock;
  cookie: string | null = null;
  csrf: string | null = null;
  token: string | null = null;
  recoveryCodes: string[] = [];   // from enrolment: each signs in once in place of a TOTP code

  // A base URL, or a transport; the clock gives the TOTP codes (the server's, when it is moved).
  constructor(server: string | Transport, options: { clock?: Clock } = {}) {
    this.#send = typeof server === 'string' ? httpTransport(server) : server;
    this.#clock = options.clock ?? systemClock;
  }

  async call(method: string, path: string, body?: unknown, options: { csrf?: boolean } = {}): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && options.csrf !== false && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await this.#send({ method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = res.headers.get('content-type') ?? '';
    const parsed = type.includes('json') ? JSON.parse(res.payload.toString('utf8')) : res.payload;
    const setCookie = res.headers.get('set-cookie');
    // Only the session's cookie: another (a link's round trip to a provider) leaves it as it is.
    if (setCookie?.startsWith('sealbox_session=')) this.cookie = setCookie.split(';')[0];
    return { status: res.status, body: parsed, headers: res.headers };
  }

  async enrolAndSignIn(name: string, code: string, password: string): Promise<void> {
    const enrol = await this.call('POST', '/api/v1/enrol', { name, code, password });
    if (enrol.status !== 200) throw new Error(`enrol ${name}: ${JSON.stringify(enrol.body)}`);
    this.recoveryCodes = [...(enrol.body.recoveryCodes ?? [])];
    const secret = enrol.body.totpUri ? base32Decode(/secret=([A-Z2-7]+)/.exec(enrol.body.totpUri)![1]) : null;
    const totp = secret ? totpCode(secret, currentStep(this.#clock.now())) : undefined;
    const session = await this.call('POST', '/api/v1/session', { name, password, totp });
    if (session.status !== 200) throw new Error(`sign in ${name}: ${JSON.stringify(session.body)}`);
    this.csrf = session.body.csrfToken;
  }

  // Signs in again (a new session) with the password and one of the enrolment's recovery codes
  // (a TOTP code would be refused if this 30-second step's code was used already).
  async signIn(name: string, password: string): Promise<{ status: number; body: any }> {
    const session = await this.call('POST', '/api/v1/session', { name, password, totp: this.recoveryCodes.shift() });
    if (session.status === 200) this.csrf = session.body.csrfToken;
    return session;
  }
}

export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// Adds a user through the CLI as an admin at the console would, then enrols and signs them in.
export async function addApiUser(server: { data: string; http?: { url: string } }, config: string, name: string, roles: string[], options: { email?: boolean; owns?: string[] } = {}): Promise<ApiClient> {
  const { sealbox } = await import('./sealbox.ts');
  const args = ['users', 'add', '--data', server.data, '--config', config, '--name', name, '--role', ...roles];
  if (options.email !== false) args.push('--email', `${name}@corp.test`);
  if (options.owns?.length) args.push('--owns', ...options.owns);
  const r = await sealbox(args);
  if (r.code !== 0) throw new Error(`users add ${name}: ${r.stderr}`);
  const client = new ApiClient(server.http!.url);
  await client.enrolAndSignIn(name, /enrolment code (\S+)/.exec(r.stdout.toString())![1], `${name}-long-enough-password`);
  return client;
}
