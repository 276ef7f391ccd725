import { createRequire } from 'node:module';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

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

// A logger made at its first use. A console command builds the access services, which take a
// logger (and a child of it), yet prints and never logs: loading pino took ~30 ms of its start.
export function lazyLogger(make: () => Logger): Logger {
  let real: Logger | null = null;
  const logger = () => (real ??= make());
  return new Proxy({} as Logger, {
    get(_target, key) {
      if (key === 'child') return (bindings: Bindings, options?: ChildLoggerOptions<never>) => lazyLogger(() => logger().child(bindings, options));
      const value = Reflect.get(logger(), key);
      return typeof value === 'function' ? value.bind(logger()) : value;
    },
  });
}
