import type { FastifyRequest } from 'fastify';
import { SealboxError } from '../core/errors.ts';

// Per-client request budgets in fixed one-minute windows: sign-in and enrolment are tight (on
// top of the per-account lockout), everything else is generous. Kept in memory: a restart only
// resets the windows.
const WINDOW_MS = 60_000;
const SIGNIN_ROUTES = new Set(['/api/v1/session', '/api/v1/enrol', '/api/v1/sso/:provider/start', '/api/v1/sso/:provider/callback', '/api/v1/sso/session']);

export class RateLimiter {
  readonly #counts = new Map<string, { window: number; n: number }>();
  readonly #now: () => number;
  readonly #limits: () => Promise<{ signin: number; api: number }>;

  constructor(now: () => number, limits: () => Promise<{ signin: number; api: number }>) {
    this.#now = now;
    this.#limits = limits;
  }

  async check(req: FastifyRequest): Promise<void> {
    // The route the router matched, not the URL as sent: /api/v1/%73ession reaches sign-in, so
    // it is counted as sign-in. One path decides both.
    const kind = SIGNIN_ROUTES.has(req.routeOptions.url ?? '') ? 'signin' : 'api';
    const key = `${kind}:${req.ip}`;
    const window = Math.floor(this.#now() / WINDOW_MS);
    const entry = this.#counts.get(key);
    if (!entry || entry.window !== window) {
      if (this.#counts.size > 100_000) this.#counts.clear(); // bounded memory under a flood
      this.#counts.set(key, { window, n: 1 });
      return;
    }
    const n = ++entry.n;
    const limit = (await this.#limits())[kind];
    if (n > limit) throw new SealboxError('SEALBOX_ERR_RATE_LIMITED', `more than ${limit} ${kind === 'signin' ? 'sign-in attempts' : 'requests'} a minute from ${req.ip}; slow down`);
  }
}
