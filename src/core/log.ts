import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

// Structured logs go to stderr so stdout stays for the CLI's contract lines and JSON output.
// Never log message bodies or secrets: only ids, hashes and sizes.
export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'sealbox' } }, pino.destination(2));
}
