// Time is injected so tests can move it; the default is the system clock.
export interface Clock {
  now(): number; // ms since the epoch
}

export const systemClock: Clock = { now: () => Date.now() };
