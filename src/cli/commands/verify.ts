// One command's work, loaded only when that command runs (see ../main.ts).
import { readFileSync } from 'node:fs';
import { systemClock } from '../../core/clock.ts';
import { SealboxError } from '../../core/errors.ts';
import { Grants } from '../../access/grants.ts';
import { Policy } from '../../access/policy.ts';
import { peopleOf } from '../../api/services.ts';
import { accessStateProblems } from '../../oversight/access-state-check.ts';
import { openStores } from '../../store/open-stores.ts';
import { SqliteGrantStore } from '../../store/sqlite/grant-store.ts';
import { SqliteLedgerHistory } from '../../store/sqlite/ledger-history.ts';
import { SqliteOversightStore } from '../../store/sqlite/oversight-store.ts';
import { openOrCreateSigningKey } from '../../store/signing-key-file.ts';
import { verifyArchive } from '../../store/verify-archive.ts';
import { configOf } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

export async function verify(o: CliOptions): Promise<void> {
  const config = configOf(o);
  const stores = openStores(config, { create: false });
  try {
    const { key } = openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false });
    const witnessed = (o.against ?? []).map((file: string) => {
      try {
        return { source: file, note: readFileSync(file, 'utf8') };
      } catch (err) {
        throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read witness checkpoint ${file}: ${(err as Error).message}`);
      }
    });
    const report = await verifyArchive(stores, { verifierKey: key.verifierKey, origin: config.ledger.origin, witnessed });
    // Who can read what, from the tables against the ledger (the tables are not in the tree).
    const policy = new Policy(stores.meta, config.access);
    const people = peopleOf(stores, systemClock, () => policy.current());
    report.problems.push(...accessStateProblems({
      store: new SqliteOversightStore(stores.meta), history: new SqliteLedgerHistory(stores.meta),
      grants: new Grants(new SqliteGrantStore(stores.meta), systemClock, () => policy.current()), people, clock: systemClock,
    }));
    if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      for (const p of report.problems) process.stdout.write(`FAIL ${p}\n`);
      for (const n of report.notes) process.stdout.write(`note ${n}\n`);
      const mb = report.bytes / 1e6;
      process.stdout.write(`${report.problems.length === 0 ? 'OK' : 'FAILED'}: ${report.entries} ledger entries, ${report.checkpoints} checkpoints, ${report.messages} messages (${mb.toFixed(1)} MB) in ${report.seconds.toFixed(2)} s (${(mb / Math.max(report.seconds, 1e-6)).toFixed(0)} MB/s)\n`);
    }
    process.exitCode = report.problems.length === 0 ? 0 : 1;
  } finally {
    stores.close();
  }
}
