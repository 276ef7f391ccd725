import { spawn } from 'node:child_process';
import type { ExtractionRun } from './extraction-run.ts';

// A Debian tool that turns a file into text (pdftotext, catdoc, xls2csv), run as a child process
// that gets the file on its standard input and is bounded in every way it could run away: its
// address space and CPU time by the kernel (prlimit, from util-linux, which every Debian has), its
// wall-clock time by a kill, its output by a kill once enough has come. The tools are C code
// that reads hostile files; a crash or a limit ends that process only.

export interface ToolLimits {
  seconds: number;           // wall clock; the CPU limit is the same
  memoryBytes: number;       // address space
  outputBytes: number;       // standard output kept; past this the tool is stopped
}

export interface ToolRun {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  // Why it was stopped, if it was: 'output' (enough text came), 'time', or a signal it died of.
  stopped: 'output' | 'time' | NodeJS.Signals | null;
}

// The Debian package each tool comes from, for the message when it is missing.
const PACKAGES: Record<string, string> = { pdftotext: 'poppler-utils', pdftoppm: 'poppler-utils', catdoc: 'catdoc', xls2csv: 'catdoc', '7zz': '7zip', tesseract: 'tesseract-ocr' };
const STDERR_KEPT = 4096;

export class ToolMissing extends Error {}

// `named`: the tool opens its input by name only (xls2csv); it gets /dev/stdin, a pipe from cat
// (Node's own standard input for a child is a socket, which such a tool cannot open).
export function runTool(command: string, args: readonly string[], input: Uint8Array, limits: ToolLimits, named = false): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const argv = named ? ['sh', '-c', 'cat | "$0" "$@"', command, ...args, '/dev/stdin'] : [command, ...args];
    const child = spawn('prlimit', [`--as=${limits.memoryBytes}`, `--cpu=${limits.seconds}`, '--', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // One thread for tesseract (OpenMP would take every core for one picture).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', OMP_THREAD_LIMIT: '1' },
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let stopped: ToolRun['stopped'] = null;
    const stop = (why: 'output' | 'time') => {
      stopped ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('time'), limits.seconds * 1000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stopped) return;
      const room = limits.outputBytes - outBytes;
      out.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      outBytes += Math.min(chunk.length, room);
      if (outBytes >= limits.outputBytes) stop('output');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8').slice(0, STDERR_KEPT - stderr.length);
    });
    // A tool may stop reading before the end (it found what it needed, or gave up).
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (/failed to execute/.test(stderr) || (named && code === 127)) {
        reject(new ToolMissing(`${command} is not installed (Debian package ${PACKAGES[command] ?? command})`));
        return;
      }
      resolve({ stdout: Buffer.concat(out), stderr: stderr.trim(), code, stopped: stopped ?? signal });
    });
  });
}

// A tool's text within the run's limits: a tool stopped for its output or its time leaves what it
// wrote, recorded as cut short; one that crashed or failed fails the attachment, with its reason.
// `judge` reads the run first (a tool's own way of saying "encrypted").
export async function toolText(run: ExtractionRun, command: string, args: readonly string[], input: Uint8Array, o: { named?: boolean; judge?(r: ToolRun): void } = {}): Promise<string> {
  const seconds = run.secondsLeft;
  const r = await runTool(command, args, input, { seconds, memoryBytes: run.limits.toolMemoryBytes, outputBytes: run.limits.maxChars * 4 }, o.named);
  const judge = o.judge;
  judge?.(r);
  if (r.stopped === 'output') run.missing(`more than ${run.limits.maxChars} characters of text`);
  else if (r.stopped === 'time' || r.stopped === 'SIGXCPU') run.missing(`${command} did not finish within ${seconds} s`);
  else if (r.stopped) throw new Error(`${command} crashed (${r.stopped})`);
  else if (r.code !== 0) throw new Error(`${command}: ${r.stderr.split('\n')[0] || `exit code ${r.code}`}`);
  return r.stdout.toString('utf8');
}
