// V8 settings of `sealbox serve`, a long-running server whose resident memory is a target (see
// README, Performance). Under load V8 lets the receiving thread's young generation grow several
// times larger; with 4 MB semi-spaces the corpus ingest peaks about 50 MB lower at no rate cost we
// could measure. V8 sizes its heap only when the process starts, so serve starts itself again, once, in
// the same process (execve: the same PID, arguments, environment and open files), before loading
// anything else. A value the operator gives (node --max-semi-space-size=N, or in NODE_OPTIONS)
// is kept as given. Where Node has no execve (Windows), serve runs as started.
export const SERVE_V8_FLAGS = ['--max-semi-space-size=4'];

const flagName = (flag) => flag.replace(/^--/, '').split('=')[0].replaceAll('_', '-');

export function restartWithServeFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((a) => a.startsWith('--')).map(flagName);
  const missing = SERVE_V8_FLAGS.filter((f) => !given.includes(flagName(f)));
  if (missing.length === 0 || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch (err) {
    process.stderr.write(`sealbox: could not restart with ${missing.join(' ')} (${err.message}); running without\n`);
  }
}
