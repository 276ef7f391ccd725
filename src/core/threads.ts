import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

const ENTRY = new URL('../../bin/thread.js', import.meta.url);

// A worker thread running `module`, started through bin/thread.js so that it keeps Node's compile
// cache as the command does. `data` is its workerData (plus `entry`, the module's URL).
export function startThread(module: URL, data: Record<string, unknown>, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(ENTRY, { ...options, workerData: { ...data, entry: module.href } });
}
