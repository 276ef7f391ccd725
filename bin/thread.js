// The entry of every worker thread (src/core/threads.ts). The compile cache is per thread: a
// thread that does not ask for it strips the types of its modules again and loads the stripper,
// about a third of a thread's start. So each thread enables it, then imports its own module.
import { enableCompileCache } from 'node:module';
import { workerData } from 'node:worker_threads';
import { compileCacheDir } from './compile-cache.js';

enableCompileCache(compileCacheDir());
await import(workerData.entry);
