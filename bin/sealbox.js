#!/usr/bin/env node
// The published entry point: Node 24 runs the TypeScript sources directly (type stripping).
// Stripping the types of a command's ~250 modules, and loading the stripper, took more than half
// of a `sealbox search`; Node's compile cache keeps the stripped code and V8's code cache between
// runs (keyed by each file's contents, so an edited file is compiled afresh). It lives in this
// user's cache folder, not the shared default under /tmp: cached code is run as it is found.
// This file stays JavaScript so that a run whose code is all cached never loads the stripper.
import { enableCompileCache } from 'node:module';
import { compileCacheDir } from './compile-cache.js';
import { restartWithServeFlags } from './serve-flags.js';
import { skipZodLocales } from './zod-locales.js';

// serve runs with V8 settings of its own (serve-flags.js); serve has no options before its name.
if (process.argv[2] === 'serve') restartWithServeFlags();
enableCompileCache(compileCacheDir());
skipZodLocales();
await import('../src/cli/main.ts');
