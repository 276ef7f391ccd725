// node bench/profile-summary.ts FILE.cpuprofile… [--top N]
// Where the time went in V8 CPU profiles (node --cpu-prof, or `npm run bench -- --cpu-prof DIR`):
// self time by function and by file, over all the files given (e.g. a server's main thread and
// its indexer thread, each a file of its own).
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, k) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[k] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = short(url);
    const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(where, (byFile.get(where) ?? 0) + us);
  }
  const idle = [...byFunction].filter(([k]) => k.startsWith('(idle)')).reduce((n, [, v]) => n + v, 0);
  process.stdout.write(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((total - idle) / 1e6).toFixed(1)} s busy\n`);
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`  ${title}\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`  ${(v / 1e6).toFixed(2).padStart(8)} s ${((100 * v) / Math.max(1, total - idle)).toFixed(1).padStart(5)} %  ${k}\n`);
    }
  };
  print('by file (self time; % of busy)', byFile);
  print('by function', byFunction);
}

function short(url: string): string {
  if (!url) return '(native)';
  const m = /\/(src|bench|test|node_modules)\/(.*)$/.exec(url);
  if (!m) return url.replace(/^node:/, 'node:');
  if (m[1] === 'node_modules') return m[2]!.split('/').slice(0, m[2]!.startsWith('@') ? 2 : 1).join('/');
  return `${m[1]}/${m[2]}`;
}
