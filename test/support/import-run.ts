// Helpers for the import tests: run `sealbox import …` (to completion, or killed mid-way), read
// its JSON report, and count what it committed without disturbing it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CLI, repoRoot, sealbox } from './sealbox.ts';
import type { SealboxResult } from './sealbox.ts';
import type { ImportReport } from '../../src/capture/import/import-runner.ts';

export async function runImport(args: string[], report: string, options: { env?: Record<string, string>; input?: Buffer; timeoutMs?: number } = {}): Promise<SealboxResult & { report: ImportReport }> {
  const r = await sealbox(['import', ...args, '--report', report], { env: options.env, input: options.input, timeoutMs: options.timeoutMs ?? 120_000 });
  if (!existsSync(report)) throw new Error(`sealbox import ${args.join(' ')} wrote no report (exit ${r.code}):\n${r.stderr}`);
  return { ...r, report: JSON.parse(readFileSync(report, 'utf8')) as ImportReport };
}

// Captures in the archive, read through a connection of our own (the importer holds its own).
export function captureCount(data: string): number {
  const path = join(data, 'sealbox.db');
  if (!existsSync(path)) return 0;
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return Number((db.prepare('SELECT COUNT(*) AS n FROM capture').get() as { n: number }).n);
  } catch {
    return 0; // the schema is not there yet
  } finally {
    db.close();
  }
}

// Starts `sealbox import …` and sends it a signal once it has committed at least `atLeast`
// captures: SIGKILL is a crash in the middle of an import, SIGTERM/SIGINT an operator stopping
// it. Resolves with how it ended and the number of captures it left.
export async function killImportMidway(args: string[], data: string, atLeast: number, options: { env?: Record<string, string>; signal?: NodeJS.Signals } = {}): Promise<{ left: number; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'import', ...args], { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void exited.then((r) => { done = r; });
  const deadline = Date.now() + 120_000;
  while (!done && captureCount(data) < atLeast) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`import never reached ${atLeast} captures:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (done) throw new Error(`import finished before it could be interrupted (exit ${(done as { code: number | null }).code}); make the source larger:\n${stderr}`);
  child.kill(options.signal ?? 'SIGKILL');
  const { code, signal } = await exited;
  return { left: captureCount(data), code, signal, stderr };
}
