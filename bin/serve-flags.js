// V8 and glibc settings of `sealbox serve`, a long-running server whose resident memory is a
// target (see README, Performance). Under load V8 lets the receiving thread's young generation
// grow several times larger; with 4 MB semi-spaces the corpus ingest peaks about 50 MB lower at no
// rate cost we could measure. glibc's malloc gives each thread that allocates (the receiving
// thread, the indexer's, libuv's pool, V8's helpers) an arena of its own, each keeping what it
// freed; with one arena for all, a 100 MB message received and indexed peaks about 30 MB lower,
// again at no rate cost we could measure. V8 sizes its heap and glibc reads its settings only
// when the process starts, so serve starts itself again, once, in the same process (execve: the
// same PID, arguments and open files, the environment with these added), before loading anything
// else. A value the operator gives (node --max-semi-space-size=N or in NODE_OPTIONS;
// MALLOC_ARENA_MAX or GLIBC_TUNABLES in the environment) is kept as given. Where Node has no
// execve (Windows), serve runs as started.
export const SERVE_V8_FLAGS = ['--max-semi-space-size=4'];
export const SERVE_ENV = { MALLOC_ARENA_MAX: '1' };

const flagName = (flag) => flag.replace(/^--/, '').split('=')[0].replaceAll('_', '-');

export function restartWithServeFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName);
  const missing = SERVE_V8_FLAGS.filter((f) => !given.includes(flagName(f)));
  const env = process.env.GLIBC_TUNABLES?.includes('arena_max') ? {} : Object.fromEntries(Object.entries(SERVE_ENV).filter(([k]) => process.env[k] === undefined));
  if ((missing.length === 0 && Object.keys(env).length === 0) || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...env });
  } catch (err) {
    process.stderr.write(`sealbox: could not restart with ${[...missing, ...Object.keys(env)].join(' ')} (${err.message}); running without\n`);
  }
}
