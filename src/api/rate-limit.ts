import type { FastifyRequest } from 'fastify';
import { SealboxError } from '../core/errors.ts';

// Per-client request budgets in fixed one-minute windows: sign-in and enrolment are tight (on
// top of the per-account lockout), everything else is generous. Counted in memory, and on an
// archive several nodes share also in the store (shared), so that N nodes do not give a client N
// budgets; a client already over its budget on this node is refused without asking the store.
// A restart only resets the windows.
const WINDOW_MS = 60_000;
const SIGNIN_ROUTES = new Set(['/api/v1/session', '/api/v1/enrol', '/api/v1/sso/:provider/start', '/api/v1/sso/:provider/callback', '/api/v1/sso/session']);

export class RateLimiter {
  readonly #counts = new Map<string, { window: number; n: number }>();
  readonly #now: () => number;
  readonly #limits: () => Promise<{ signin: number; api: number }>;

  readonly #shared: ((key: string, window: number) => Promise<number>) | null;

  constructor(now: () => number, limits: () => Promise<{ signin: number; api: number }>, shared: ((key: string, window: number) => Promise<number>) | null = null) {
    this.#now = now;
    this.#limits = limits;
    this.#shared = shared;
  }

  async check(req: FastifyRequest): Promise<void> {
    // The route the router matched, not the URL as sent: /api/v1/%73ession reaches sign-in, so
    // it is counted as sign-in. One path decides both.
    const kind = SIGNIN_ROUTES.has(req.routeOptions.url ?? '') ? 'signin' : 'api';
    const key = `${kind}:${req.ip}`;
    const window = Math.floor(this.#now() / WINDOW_MS);
    let entry = this.#counts.get(key);
    if (!entry || entry.window !== window) {
      if (this.#counts.size > 100_000) this.#counts.clear(); // bounded memory under a flood
      entry = { window, n: 0 };
      this.#counts.set(key, entry);
    }
    const here = ++entry.n;
    const limit = (await this.#limits())[kind];
    const n = here > limit || !this.#shared ? here : await this.#shared(key, window);
    if (n > limit) throw new SealboxError('SEALBOX_ERR_RATE_LIMITED', `more than ${limit} ${kind === 'signin' ? 'sign-in attempts' : 'requests'} a minute from ${req.ip}; slow down`);
  }
}
