// npm run bench [name…] [--smoke] [--rounds N] [--messages N] [--json FILE] [--cpu-prof DIR] [--pg-dir DIR]
//
// Runs the benchmarks (all, or those named) side by side with their anchors (Dovecot LMTP,
// notmuch) in one run, prints one Markdown table (each figure, the anchor's figure from the
// same run, their ratio, the DESIGN.md target and whether it is met) and writes
// bench/results.json (or FILE). Benchmarks measure and print; they assert nothing.
// --smoke runs each on a few hundred messages, to keep the harness working (CI). --cpu-prof DIR
// profiles every Sealbox process the run starts (servers, CLI commands; each thread its own
// .cpuprofile); `node bench/profile-summary.ts DIR/*.cpuprofile` says where the time went.
// --pg-dir DIR keeps pg-search's loaded cluster in DIR and starts it from there the next time
// with the same number of documents (10 M take about 1.7 hours to load on this machine).
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { round, targetMet, targetText } from './figures.ts';
import type { Figure } from './figures.ts';
import { exportBenchmark } from './export.ts';
import { attachmentsBenchmark } from './attachments.ts';
import { indexingBenchmark } from './indexing.ts';
import { pgSearchBenchmark } from './pg-search.ts';
import { ingestBenchmark } from './ingest.ts';
import { ledgerBenchmark } from './ledger.ts';
import { pgScaleBenchmark, scaleBenchmark } from './scale.ts';
import { scimBenchmark } from './scim.ts';
import { searchBenchmark } from './search.ts';
import { storageBenchmark } from './storage.ts';
import { webBenchmark } from './web.ts';
import { releaseCorpusArchive } from './corpus-archive.ts';

export interface BenchOptions {
  smoke: boolean;
  rounds: number;                 // repetitions of side-by-side measurements
  messages: number | null;        // --messages: size of the generated corpus (scale, pg-scale) or of the loaded index (pg-search)
  pgDir: string | null;           // --pg-dir: where pg-search keeps its loaded cluster between runs
  progress(line: string): void;   // to stderr
  record(key: string, details: unknown): void; // kept in results.json beside the figures
}

const benchmarks: Record<string, (o: BenchOptions) => Promise<Figure[]>> = {
  ingest: ingestBenchmark,
  index: indexingBenchmark,
  search: searchBenchmark,
  scale: scaleBenchmark,
  'pg-scale': pgScaleBenchmark,
  'pg-search': pgSearchBenchmark,
  storage: storageBenchmark,
  ledger: ledgerBenchmark,
  export: exportBenchmark,
  web: webBenchmark,
  attachments: attachmentsBenchmark,
  scim: scimBenchmark,
};

// Run only when named (npm run bench attachments): attachment text on and off, side by side; SCIM
// provisioning.
const ON_REQUEST = new Set(['attachments', 'scim']);

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value`);
  args.splice(i, 2);
  return v;
};
const count = (flag: string): number | null => {
  const v = value(flag);
  if (v === undefined) return null;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) fail(`${flag} must be a positive integer, got "${v}"`);
  return n;
};
const jsonFile = value('--json');
const profileDir = value('--cpu-prof');
const pgDir = value('--pg-dir');
if (profileDir) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${resolve(profileDir)}`.trim();
const rounds = count('--rounds');
const messages = count('--messages');
const smoke = args.includes('--smoke');
for (const a of args) if (a.startsWith('--') && a !== '--smoke') fail(`unknown option ${a}`);
const names = args.filter((a) => !a.startsWith('--'));
for (const n of names) if (!benchmarks[n]) fail(`unknown benchmark "${n}" (have: ${Object.keys(benchmarks).join(', ')})`);

const options: BenchOptions = {
  smoke,
  rounds: rounds ?? (smoke ? 1 : 3),
  messages,
  pgDir: pgDir === undefined ? null : resolve(pgDir),
  progress: (line) => process.stderr.write(`bench: ${line}\n`),
  record: (key, value) => { details[key] = value; },
};

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim(),
  dovecot: tryVersion('/usr/sbin/dovecot', ['--version']),
  notmuch: tryVersion('/usr/bin/notmuch', ['--version']),
};
const results: Record<string, { seconds: number; figures: Figure[]; details: Record<string, unknown> }> = {};
let details: Record<string, unknown> = {};
const started = performance.now();
process.stdout.write('| benchmark | figure | Sealbox | unit | anchor | anchor figure | ratio | target | met |\n|---|---|--:|---|---|--:|--:|---|---|\n');
try {
  for (const name of names.length ? names : Object.keys(benchmarks).filter((n) => !ON_REQUEST.has(n))) {
    options.progress(`${name}${smoke ? ' (smoke)' : ''}…`);
    const t0 = performance.now();
    details = {};
    const figures = await benchmarks[name]!(options);
    results[name] = { seconds: (performance.now() - t0) / 1000, figures, details };
    for (const f of figures) process.stdout.write(row(name, f));
    options.progress(`${name} done in ${results[name].seconds.toFixed(0)} s`);
  }
} finally {
  releaseCorpusArchive();
}
const out = { machine, smoke, rounds: options.rounds, seconds: (performance.now() - started) / 1000, results };
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(out, null, 2) + '\n');
else if (!smoke) writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
process.stdout.write(`\n${machine.date.slice(0, 10)}, ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, ${machine.dovecot}, ${machine.notmuch}; ${out.seconds.toFixed(0)} s\n`);

function row(bench: string, f: Figure): string {
  const met = targetMet(f);
  const cells = [
    bench, f.name + (f.note ? ` (${f.note})` : ''), fmt(f.value), f.unit,
    f.anchor?.name ?? '', f.anchor ? fmt(f.anchor.value) : '', f.ratio === undefined ? '' : `${fmt(f.ratio)}×`,
    f.target ? targetText(f.target) : '', met === undefined ? '' : met ? 'yes' : 'no',
  ];
  return `| ${cells.join(' | ')} |\n`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(round(v)) : String(v);
}

function tryVersion(cmd: string, a: string[]): string {
  try {
    const name = cmd.split('/').at(-1)!;
    const line = execFileSync(cmd, a, { encoding: 'utf8' }).trim().split('\n')[0]!;
    return line.startsWith(name) ? line : `${name} ${line}`;
  } catch {
    return `${cmd} missing`;
  }
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
