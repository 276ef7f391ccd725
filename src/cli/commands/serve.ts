// One command's work, loaded only when that command runs (see ../main.ts).
import { configOf } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';
import { serve } from '../serve.ts';

// `sealbox serve`.
export async function serveCommand(o: CliOptions): Promise<void> {
  // Handlers before the listeners announce themselves: a supervisor may signal as soon as it
  // reads those lines, and an unhandled SIGTERM kills the process without its final checkpoint.
  const starting = serve(configOf(o));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sealbox: ${signal}: finishing open transactions and signing a checkpoint\n`);
    starting.then((running) => running.stop()).then(() => process.exit(0), (err) => { process.stderr.write(`sealbox: error while stopping: ${err.message}\n`); process.exit(1); });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await starting;
}
