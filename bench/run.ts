// npm run bench [name…]: runs the benchmarks (all, or those named), prints a table and writes
// bench/results.json. Benchmarks measure and print; they assert nothing.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ingestBenchmark } from './ingest.ts';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

const benchmarks: Record<string, (options: { smoke: boolean }) => Promise<Figure[]>> = {
  ingest: ingestBenchmark,
};

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const names = args.filter((a) => !a.startsWith('--'));
for (const n of names) if (!benchmarks[n]) {
  process.stderr.write(`bench: unknown benchmark "${n}" (have: ${Object.keys(benchmarks).join(', ')})\n`);
  process.exit(2);
}

const results: Record<string, Figure[]> = {};
for (const name of names.length ? names : Object.keys(benchmarks)) {
  process.stderr.write(`bench: ${name}${smoke ? ' (smoke)' : ''}…\n`);
  results[name] = await benchmarks[name]({ smoke });
  for (const f of results[name]) {
    process.stdout.write(`${name.padEnd(8)} ${f.name.padEnd(34)} ${String(round(f.value)).padStart(12)} ${f.unit.padEnd(8)} ${f.target ? `target ${f.target}` : ''}\n`);
  }
}
const machine = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) };
if (!smoke) writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ machine, results }, null, 2) + '\n');
process.stdout.write(`(${machine.date}, Node ${machine.node}, ${machine.cpus} × ${machine.cpu})\n`);

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
}
