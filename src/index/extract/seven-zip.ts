import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encrypted } from './extraction-run.ts';
import type { ExtractionRun } from './extraction-run.ts';
import { runTool } from './text-tool.ts';

// 7z (and whatever else Debian's 7-Zip reads: RAR only where it is built with it, which Debian's
// own `7zip` package is not) through the `7zz` tool under prlimit like the other tools. It needs
// a file it can seek in, so the attachment is written to a folder of its own (mode 0700) that is
// removed when reading ends. It lists the archive (`l -slt`), and each member to read is
// extracted to its standard output (`x -so`), never to the disk, and cut at the run's limits.

export interface SevenZipMember {
  name: string;
  size: number;
  encrypted: boolean;
  directory: boolean;
}

// Passed as the password, so that 7-Zip never waits for one: an encrypted archive then fails.
const NO_PASSWORD = '-psealbox-has-no-password';

export class SevenZip {
  readonly #dir: string;
  readonly #file: string;
  readonly #run: ExtractionRun;

  constructor(run: ExtractionRun, bytes: Uint8Array, extension: string) {
    this.#run = run;
    this.#dir = mkdtempSync(join(tmpdir(), 'sealbox-extract-'));
    this.#file = join(this.#dir, `archive.${extension}`);
    writeFileSync(this.#file, bytes, { mode: 0o600 });
  }

  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async list(maxMembers: number): Promise<{ members: SevenZipMember[]; more: boolean }> {
    const r = await this.#tool(['l', '-slt', '-ba', '-sccUTF-8', NO_PASSWORD, '--', this.#file], 4 * 1024 * 1024);
    if (/Wrong password|Can not open encrypted archive/i.test(r.stderr + r.stdout.toString())) throw new Encrypted();
    if (r.code !== 0) throw new Error(`7-Zip cannot read it: ${firstError(r.stderr + '\n' + r.stdout.toString())}`);
    const members: SevenZipMember[] = [];
    let more = false;
    for (const block of r.stdout.toString('utf8').split(/\r?\n\r?\n/)) {
      const fields = new Map(block.split(/\r?\n/).flatMap((l) => { const i = l.indexOf(' = '); return i < 0 ? [] : [[l.slice(0, i), l.slice(i + 3)] as const]; }));
      const name = fields.get('Path');
      if (name === undefined) continue;
      if (members.length >= maxMembers) {
        more = true;
        break;
      }
      members.push({ name, size: Number(fields.get('Size') ?? 0) || 0, encrypted: fields.get('Encrypted') === '+', directory: (fields.get('Attributes') ?? '').startsWith('D') || fields.get('Folder') === '+' });
    }
    return { members, more };
  }

  // One member's bytes, at most `cap`; complete false when there were more.
  async read(member: SevenZipMember, cap: number): Promise<{ bytes: Buffer; complete: boolean }> {
    const r = await this.#tool(['x', '-so', '-spd', '-bd', NO_PASSWORD, '--', this.#file, member.name], cap);
    if (r.stopped === 'output') return { bytes: r.stdout, complete: false };
    if (/Wrong password/i.test(r.stderr)) throw new Encrypted();
    if (r.stopped === 'time' || r.stopped === 'SIGXCPU') throw new Error(`7-Zip did not finish within ${this.#run.secondsLeft} s`);
    if (r.stopped) throw new Error(`7-Zip crashed (${r.stopped})`);
    if (r.code !== 0) throw new Error(`7-Zip: ${firstError(r.stderr)}`);
    return { bytes: r.stdout, complete: true };
  }

  #tool(args: string[], outputBytes: number) {
    return runTool('7zz', args, new Uint8Array(0), { seconds: this.#run.secondsLeft, memoryBytes: this.#run.limits.toolMemoryBytes, outputBytes });
  }
}

function firstError(out: string): string {
  return out.split('\n').map((l) => l.trim()).find((l) => /^(ERROR|Error|Can ?not|Unsupported|Is not archive)/i.test(l)) ?? 'exit code not 0';
}
