// One command's work, loaded only when that command runs (see ../main.ts).
import { readFileSync } from 'node:fs';
import { SealboxError } from '../../core/errors.ts';
import { accessStateProblems } from '../../oversight/access-state-check.ts';
import { verifyArchive } from '../../store/verify-archive.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export function verify(o: CliOptions): Promise<void> {
  return withArchive(o, async (archive) => {
    const { stores, config, services } = archive;
    const witnessed = (o.against ?? []).map((file: string) => {
      try {
        return { source: file, note: readFileSync(file, 'utf8') };
      } catch (err) {
        throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read witness checkpoint ${file}: ${(err as Error).message}`);
      }
    });
    const report = await verifyArchive(stores, { verifierKey: archive.verifierKey, origin: config.ledger.origin, witnessed });
    // Who can read what, from the tables against the ledger (the tables are not in the tree).
    report.problems.push(...accessStateProblems({ ...services.oversightStores, grants: services.grants, people: services.people, clock: services.clock }));
    if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      for (const p of report.problems) process.stdout.write(`FAIL ${p}\n`);
      for (const n of report.notes) process.stdout.write(`note ${n}\n`);
      const mb = report.bytes / 1e6;
      process.stdout.write(`${report.problems.length === 0 ? 'OK' : 'FAILED'}: ${report.entries} ledger entries, ${report.checkpoints} checkpoints, ${report.messages} messages (${mb.toFixed(1)} MB) in ${report.seconds.toFixed(2)} s (${(mb / Math.max(report.seconds, 1e-6)).toFixed(0)} MB/s)\n`);
    }
    process.exitCode = report.problems.length === 0 ? 0 : 1;
  });
}
