import type { Clock } from '../../src/core/clock.ts';

// A clock for tests that runs with the wall clock, so events keep their order and no two share an
// instant by accident (a link made "now" is inside a zero-day period), and jumps forward when the
// test moves it: an expiry is reached by advance(), never by waiting. It starts on a minute
// boundary, so the per-minute rate limits count a short test's calls in one window. A command run
// in a process of its own reads the wall clock, which is behind this one.
export class TestClock implements Clock {
  #offset: number;

  constructor() {
    const now = Date.now();
    this.#offset = Math.ceil(now / 60_000) * 60_000 - now;
  }

  now(): number {
    return Date.now() + this.#offset;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`time only moves forward (advance by ${ms} ms)`);
    this.#offset += ms;
  }
}
