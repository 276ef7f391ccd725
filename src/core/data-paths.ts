import { isAbsolute, resolve } from 'node:path';
import type { Config } from './config.ts';

// Where the archive's files are, from a parsed config. Apart from config.ts, whose schema (zod,
// ~4.5 MB of heap) only the thread that reads the config file needs: the index thread and the
// checker threads open the stores with these and the config they were handed.

export function dataPath(config: Config, ...parts: string[]): string {
  return resolve(config.data, ...parts);
}

export function resolveFrom(config: Config, file: string): string {
  return isAbsolute(file) ? file : resolve(config.data, file);
}
