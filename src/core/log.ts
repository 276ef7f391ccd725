import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type { Logger };

// pino (with its transport and exit-hook modules) is loaded when a logger is first made, not when
// this file is imported: a console command that never logs starts without it.
const require = createRequire(import.meta.url);

// Structured logs go to stderr so stdout stays for the CLI's contract lines and JSON output.
// Never log message bodies or secrets: only ids, hashes and sizes.
export function createLogger(level: string): Logger {
  const { pino } = require('pino') as typeof import('pino');
  return pino({ level, base: { app: 'sealbox' } }, pino.destination(2));
}
