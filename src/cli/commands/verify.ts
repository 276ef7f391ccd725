// One command's work, loaded only when that command runs (see ../main.ts).
import { readFileSync } from 'node:fs';
import { SealboxError } from '../../core/errors.ts';
import { accessStateProblems } from '../../oversight/access-state-check.ts';
import { BlobCheckPool } from '../../store/blob-check.ts';
import { verifyArchive } from '../../store/verify-archive.ts';
import type { VerifyReport, WitnessedCheckpoint } from '../../store/verify-archive.ts';
import type { Archive } from '../../archive.ts';
import { configOf, withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export async function verify(o: CliOptions): Promise<void> {
  // The checker threads load their code while the archive opens.
  const blobCheck = new BlobCheckPool(configOf(o));
  try {
    await verifyCommand(o, blobCheck);
  } finally {
    await blobCheck.close();
  }
}

function verifyCommand(o: CliOptions, blobCheck: BlobCheckPool): Promise<void> {
  return withArchive(o, async (archive) => {
    const witnessed = (o.against ?? []).map((file: string) => {
      try {
        return { source: file, note: readFileSync(file, 'utf8') };
      } catch (err) {
        throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read witness checkpoint ${file}: ${(err as Error).message}`);
      }
    });
    const report = await verifyWhole(archive, witnessed, blobCheck);
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

// The archive checked whole: the tree, its signatures and every message, and who can read what
// in the tables against the ledger (the tables are not in the tree), as of the archive's clock,
// all in one read transaction. The in-process tests check their archive through it too.
export function verifyWhole(archive: Archive, witnessed: WitnessedCheckpoint[] = [], pool?: BlobCheckPool): Promise<VerifyReport> {
  const { stores, config, services } = archive;
  const blobCheck = pool ?? new BlobCheckPool(config);
  return stores.meta.read(async (tx) => {
    const report = await verifyArchive(tx, stores, { verifierKey: archive.verifierKey, origin: config.ledger.origin, witnessed, blobCheck });
    report.problems.push(...await accessStateProblems(tx, { ...services.oversightStores, grants: services.grants, people: services.people, leavers: services.leavers, clock: services.clock }));
    return report;
  }).finally(() => (pool ? undefined : blobCheck.close()));
}
