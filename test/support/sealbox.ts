// Runs the Sealbox CLI as a child process, the way an operator would: the Node
// that runs the tests (Node 24) with the published entry point, bin/sealbox.js.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(repoRoot, 'bin', 'sealbox.js');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 60_000;
const OUTPUT_KEPT = 256 * 1024;
/** `sealbox: smtp listening on 127.0.0.1:PORT` (the host may be a bracketed IPv6). */
const LISTENING = /^sealbox: (\w+) listening on (\[[^\]]+\]|[^\s:]+):(\d+)\s*$/;

export interface Endpoint {
  host: string;
  port: number;
}

export interface SealboxServer {
  data: string;
  smtp: Endpoint;
  lmtp: Endpoint;
  /** Present when serve was started with --http (in opts.args). */
  http?: Endpoint & { url: string };
  /** Present when serve was started with --milter (in opts.args). */
  milter?: Endpoint;
  proc: ChildProcess;
  /** What the server wrote to stderr so far (the last 256 KiB). */
  stderr(): string;
  /** Sends the signal (default SIGTERM) and resolves with the exit code, or null if it died of a signal. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL: a crash, for recovery tests; the data dir is left as it is. */
  kill(): Promise<void>;
}

export interface StartSealboxOptions {
  /** Data directory; a fresh temp dir (removed when the test process exits) by default. */
  data?: string;
  /** More arguments after `serve --data D --smtp 127.0.0.1:0 --lmtp 127.0.0.1:0`, e.g. ['--http', '127.0.0.1:0']. */
  args?: string[];
  env?: Record<string, string>;
}

const tempDirs: string[] = [];
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) try { child.kill('SIGKILL'); } catch { /* already gone */ }
  if (!process.env.SEALBOX_KEEP_TEST_DATA) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp data directory, removed when the test process exits. */
export function tempDataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealbox-data-'));
  tempDirs.push(dir);
  return dir;
}

export async function startSealbox(opts: StartSealboxOptions = {}): Promise<SealboxServer> {
  const data = opts.data ?? tempDataDir();
  const extra = opts.args ?? [];
  // HTTP is on by default (port 8025); a test server has it only when the test asks for it.
  const args = [CLI, 'serve', '--data', data, '--smtp', '127.0.0.1:0', '--lmtp', '127.0.0.1:0', ...(extra.includes('--http') ? [] : ['--http', 'off']), ...extra];
  const wanted = ['smtp', 'lmtp', ...(['http', 'milter'].filter((name) => extra.includes(`--${name}`) && extra[extra.indexOf(`--${name}`) + 1] !== 'off'))];

  const proc = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-OUTPUT_KEPT); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    });
  });

  const endpoints = new Map<string, Endpoint>();
  let ready: () => void;
  const allListening = new Promise<void>((resolve) => { ready = resolve; });
  let pending = '';
  // Keep reading stdout for the whole life of the process so its pipe never fills.
  proc.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const match = LISTENING.exec(line);
      if (!match) continue;
      endpoints.set(match[1]!, { host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) });
      if (wanted.every((name) => endpoints.has(name))) ready();
    }
    if (pending.length > OUTPUT_KEPT) pending = pending.slice(-OUTPUT_KEPT);
  });

  const outcome = await Promise.race([
    allListening.then(() => 'ready' as const),
    exited.then(({ code, signal }) => `exited (${signal ?? code}) before listening` as const),
    new Promise<string>((resolve) => setTimeout(resolve, START_TIMEOUT_MS, `no listening line after ${START_TIMEOUT_MS} ms`).unref()),
  ]);
  if (outcome !== 'ready') {
    proc.kill('SIGKILL');
    await exited;
    const missing = wanted.filter((name) => !endpoints.has(name)).join(', ');
    throw new Error(`sealbox serve ${outcome} (missing: ${missing})\n--- stderr ---\n${stderr}`);
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exited,
      new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (!result) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`sealbox serve did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}\n--- stderr ---\n${stderr}`);
    }
    return result.code;
  };

  const http = endpoints.get('http');
  const milter = endpoints.get('milter');
  return {
    data,
    smtp: endpoints.get('smtp')!,
    lmtp: endpoints.get('lmtp')!,
    ...(http ? { http: { ...http, url: `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}` } } : {}),
    ...(milter ? { milter } : {}),
    proc,
    stderr: () => stderr,
    stop,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface SealboxResult {
  /** Exit code; 128 + signal number if the CLI died of a signal. */
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs one CLI command to completion: `node bin/sealbox.js ...args`. */
export function sealbox(args: string[], opts: { input?: Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<SealboxResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(child);
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timeoutMs = opts.timeoutMs ?? COMMAND_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sealbox ${args.join(' ')} did not finish within ${timeoutMs} ms\n--- stderr ---\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({
        code: code ?? 128 + (signal ? os.constants.signals[signal] : 0),
        stdout: Buffer.concat(stdout),
        stderr,
      });
    });
    // A command that does not read its input must not fail the run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}

/** `sealbox stats --json` of the archive the config names, parsed (the command must succeed). */
export async function statsOf(config: string): Promise<any> {
  const r = await sealbox(['stats', '--config', config, '--json']);
  if (r.code !== 0) throw new Error(`sealbox stats failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString());
}

/** The latest signed checkpoint a running server serves (GET /api/v1/ledger/checkpoint). */
export async function latestCheckpoint(node: SealboxServer): Promise<string> {
  const res = await fetch(`${node.http!.url}/api/v1/ledger/checkpoint`);
  if (res.status !== 200) throw new Error(`GET /api/v1/ledger/checkpoint: ${res.status}`);
  return res.text();
}
