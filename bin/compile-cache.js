// Where Node's compile cache lives (see sealbox.js): this user's cache folder, not the shared
// default under /tmp, since cached code is run as it is found.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const compileCacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sealbox', 'node-compile-cache');
