// The notmuch anchor: a Maildir and a notmuch database in a temp folder, driven through Debian's
// `notmuch` command with its own config file (NOTMUCH_CONFIG), never the user's. Dates are
// interpreted in UTC, as Sealbox's before:/after: are.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratch } from './scratch.ts';

const NOTMUCH = '/usr/bin/notmuch';

export function notmuchUnavailable(): string | undefined {
  return existsSync(NOTMUCH) ? undefined : `${NOTMUCH} not installed (scripts/install-peers.sh installs notmuch)`;
}

export class NotmuchDb {
  readonly root: string;
  readonly maildir: string;
  readonly #env: NodeJS.ProcessEnv;

  // A Maildir holding `messages` (file name = index, so results map back to the input),
  // not yet indexed: run newMail() for that.
  constructor(messages: Buffer[]) {
    const why = notmuchUnavailable();
    if (why) throw new Error(`cannot run notmuch: ${why}`);
    this.root = scratch.dir('notmuch');
    this.maildir = join(this.root, 'mail');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(this.maildir, sub), { recursive: true });
    messages.forEach((m, i) => writeFileSync(join(this.maildir, 'cur', `${i}.bench:2,S`), m));
    const config = join(this.root, 'notmuch-config');
    writeFileSync(config, [
      '[database]', `path=${this.maildir}`,
      '[user]', 'name=Bench', 'primary_email=bench@bench.invalid',
      '[new]', 'tags=inbox;', 'ignore=',
      '[search]', 'exclude_tags=',
      '[maildir]', 'synchronize_flags=false', '',
    ].join('\n'));
    this.#env = { ...process.env, NOTMUCH_CONFIG: config, HOME: this.root, TZ: 'UTC' };
  }

  // `notmuch new`: indexes the Maildir; returns the wall-clock seconds it took.
  newMail(): number {
    const t0 = performance.now();
    this.#run(['new', '--quiet']);
    return (performance.now() - t0) / 1000;
  }

  count(query: string): number {
    return Number(this.#run(['count', '--output=files', '--', query]).trim());
  }

  // The corpus indexes of the messages matching `query`.
  files(query: string): number[] {
    return this.#run(['search', '--output=files', '--', query]).split('\n').filter(Boolean)
      .map((path) => Number(/\/(\d+)\.bench:2,/.exec(path)?.[1] ?? NaN));
  }

  // What a user waits for: the first page of results, as `notmuch search` prints them.
  // Returns milliseconds, process start-up included.
  timeSearch(query: string, limit: number): number {
    const t0 = performance.now();
    this.#run(['search', `--limit=${limit}`, '--', query]);
    return performance.now() - t0;
  }

  // Start-up and shutdown of the notmuch process with the database open and nothing found.
  timeStartup(): number {
    const t0 = performance.now();
    this.#run(['count', '--', 'id:nothing-has-this-id@bench.invalid']);
    return performance.now() - t0;
  }

  remove(): void {
    scratch.remove(this.root);
  }

  #run(args: string[]): string {
    const r = spawnSync(NOTMUCH, args, { env: this.#env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`notmuch ${args.join(' ')} failed (${r.signal ?? r.status}): ${r.stderr}`);
    return r.stdout;
  }
}
