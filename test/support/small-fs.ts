// A small file system of our own that a test can fill up: an ext4 image loop-mounted (needs
// root), else a size-limited tmpfs. Unmounted and removed when the test process exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallFs {
  dir: string;
  kind: 'ext4-loop' | 'tmpfs';
  freeBytes(): number;
}

const mounted: string[] = [];
process.once('exit', () => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch { /* already gone */ }
    rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

/** Mounts a file system of `megabytes`; returns null (with the reasons) where this is not possible. */
export function mountSmallFs(megabytes: number): SmallFs | { unavailable: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sealbox-smallfs-'));
  const dir = path.join(root, 'mnt');
  const image = path.join(root, 'fs.img');
  const reasons: string[] = [];
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    run('mkdir', [dir]);
    run('truncate', ['-s', `${megabytes}M`, image]);
    // -m 0: no blocks reserved for root (the tests run as root and would write into them).
    run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    run('mount', ['-o', 'loop', image, dir]);
    mounted.push(dir);
    return { dir, kind: 'ext4-loop', freeBytes: () => free(dir) };
  } catch (err) {
    reasons.push(`ext4 loop mount: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir]);
    mounted.push(dir);
    return { dir, kind: 'tmpfs', freeBytes: () => free(dir) };
  } catch (err) {
    reasons.push(`tmpfs mount: ${(err as Error).message.split('\n')[0]}`);
  }
  rmSync(root, { recursive: true, force: true });
  return { unavailable: reasons.join('; ') };
}

function free(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
