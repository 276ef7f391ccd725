// `sealbox serve` runs with the V8 settings of bin/serve-flags.js however it is started: it
// starts itself again with them in the same process (same PID, so a supervisor's view and the
// signals it sends are unchanged), and leaves a value the operator set as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CLI, startSealbox } from './support/sealbox.ts';

const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const environment = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

test('serve restarts itself in its own process with its V8 settings, once, and stops cleanly', { timeout: 60_000 }, async () => {
  const server = await startSealbox();
  const args = commandLine(server.proc.pid!);
  const script = args.indexOf(CLI);
  assert.equal(args.filter((a) => a === '--max-semi-space-size=4').length, 1, args.join(' '));
  assert.ok(args.indexOf('--max-semi-space-size=4') < script, 'a flag of node, before the script');
  assert.deepEqual(args.slice(script + 1, script + 3), ['serve', '--data'], 'the arguments as given');
  assert.deepEqual(environment(server.proc.pid!).filter((v) => v.startsWith('MALLOC_ARENA_MAX=')), ['MALLOC_ARENA_MAX=1'], 'one malloc arena');
  assert.equal(await server.stop(), 0, server.stderr());
});

test('a semi-space size the operator set in NODE_OPTIONS is kept, and so are malloc\'s arenas', { timeout: 60_000 }, async () => {
  const server = await startSealbox({ env: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '4' } });
  const args = commandLine(server.proc.pid!);
  assert.ok(!args.some((a) => a.startsWith('--max-semi-space-size')), args.join(' '));
  assert.deepEqual(environment(server.proc.pid!).filter((v) => v.startsWith('MALLOC_ARENA_MAX=')), ['MALLOC_ARENA_MAX=4']);
  assert.equal(await server.stop(), 0, server.stderr());
});
