import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Everything a benchmark run leaves behind while it works: temp folders and the PIDs of the
// peers it started. Each is removed or stopped by its owner as soon as it is done; whatever is
// left (an error, Ctrl-C) is removed here, by PID, when the run ends. SEALBOX_KEEP_BENCH_DATA=1
// keeps the folders, to look into them afterwards.
export class Scratch {
  readonly #dirs = new Set<string>();
  readonly #pids = new Set<number>();

  constructor() {
    process.once('exit', () => this.cleanSync());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.cleanSync();
        process.exit(130);
      });
    }
  }

  dir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sealbox-bench-${prefix}-`));
    this.#dirs.add(dir);
    return dir;
  }

  remove(dir: string): void {
    if (!process.env.SEALBOX_KEEP_BENCH_DATA) rmSync(dir, { recursive: true, force: true });
    this.#dirs.delete(dir);
  }

  watch(pid: number): void {
    this.#pids.add(pid);
  }

  unwatch(pid: number): void {
    this.#pids.delete(pid);
  }

  cleanSync(): void {
    for (const pid of this.#pids) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    this.#pids.clear();
    if (!process.env.SEALBOX_KEEP_BENCH_DATA) for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }
}

export const scratch = new Scratch();
