// The benchmark harness on a few hundred messages, so that it cannot rot: `bench/run.ts --smoke`
// must run every benchmark (with its real anchors, Dovecot and notmuch), exit 0 and print every
// figure as a finite number. Nothing here is about speed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dovecotUnavailable } from '../bench/dovecot.ts';
import { notmuchUnavailable } from '../bench/notmuch.ts';
import { repoRoot } from './support/sealbox.ts';

const BENCHMARKS = ['ingest', 'index', 'search', 'scale', 'pg-scale', 'pg-search', 'storage', 'ledger', 'export', 'web'];
// Ten benchmarks on a few hundred messages (or a few thousand index rows) each, on a machine that may be running other work.
const TIMEOUT_MS = 600_000;

test('bench/run.ts --smoke runs every benchmark and prints every figure', { timeout: TIMEOUT_MS + 10_000 }, async (t) => {
  const missing = dovecotUnavailable() ?? notmuchUnavailable();
  if (missing) {
    if (process.env.CI) throw new Error(`the benchmark anchors are required in CI: ${missing}`);
    t.skip(missing);
    return;
  }
  // The run's own TMPDIR, so that what it leaves behind can be seen; Dovecot's unprivileged
  // processes must be able to pass through it.
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-bench-smoke-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'results.json');

  const child = spawn(process.execPath, [join(repoRoot, 'bench', 'run.ts'), '--smoke', '--json', json], { cwd: repoRoot, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-20_000); });
  const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `bench exited ${code}\n--- stderr ---\n${stderr}`);

  const out = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, { figures: { name: string; value: number; anchor?: { value: number }; ratio?: number }[] }> };
  assert.deepEqual(Object.keys(out.results), BENCHMARKS);
  const rows = stdout.split('\n').filter((l) => l.startsWith('| '));
  for (const name of BENCHMARKS) {
    const figures = out.results[name]!.figures;
    assert.ok(figures.length > 0, `${name}: no figures`);
    for (const f of figures) {
      assert.ok(Number.isFinite(f.value), `${name}: ${f.name} = ${f.value}`);
      if (f.anchor) assert.ok(Number.isFinite(f.anchor.value), `${name}: ${f.name}: anchor = ${f.anchor.value}`);
      if (f.ratio !== undefined) assert.ok(Number.isFinite(f.ratio), `${name}: ${f.name}: ratio = ${f.ratio}`);
      assert.ok(rows.some((r) => r.startsWith(`| ${name} | ${f.name}`)), `${name}: "${f.name}" not printed`);
    }
  }
  // The side-by-side figures the README's table is made of.
  const names = Object.values(out.results).flatMap((r) => r.figures.map((f) => f.name));
  for (const key of ['SMTP ingest rate', 'LMTP ingest rate', 'indexing rate (ingest → searchable)', 'search p95 (in-process)', 'result counts that agree',
    'archive blobs ÷ raw bytes (corpus)', 'peak RSS of the server, large message', 'verify throughput (corpus archive)']) {
    assert.ok(names.includes(key), `figure "${key}" missing`);
  }
  assert.ok(names.some((n) => /: search p95, mailbox filter/.test(n)), 'scale: no search figure with a mailbox filter');
  assert.ok(out.results['pg-scale']!.figures.some((f) => /: PG search p95, mailbox filter/.test(f.name)), 'pg-scale: no search figure with a mailbox filter');
  // Nothing left behind: no temp folder, no process started from one.
  assert.deepEqual(readdirSync(dir), ['results.json']);
  const stragglers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(dir);
    } catch {
      return false;
    }
  });
  assert.deepEqual(stragglers, [], 'processes left running');
});
