// One command's work, loaded only when that command runs (see ../main.ts).
import { openArchive } from '../../archive.ts';
import type { Archive } from '../../archive.ts';
import { ImportProgress } from '../../capture/import/import-progress.ts';
import { loadConfig } from '../../core/config.ts';
import type { Config } from '../../core/config.ts';
import { checkIndex } from '../../index/index-completeness.ts';
import { openIndexer } from '../../index/open-indexer.ts';
import { migrateArchive } from '../../store/migrate-archive.ts';
import type { MigrationProgress } from '../../store/migrate-archive.ts';
import { BlobCheckPool } from '../../store/blob-check.ts';
import { configOf } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';
import { verifyWhole } from './verify.ts';

// A progress line (or bar, on a terminal) per stage on stderr.
function progressOn(json: boolean): MigrationProgress & { stop(): void } {
  let bar: ImportProgress | null = null;
  let done = 0;
  return {
    stage(name, total) {
      bar?.stop();
      done = 0;
      bar = new ImportProgress(`migrate: ${name}`);
      if (!json) process.stderr.write(`migrate: ${name}: ${total}\n`);
      bar.start(total, 'messages');
    },
    advance(n) {
      done += n;
      bar?.update({ messages: done, done });
    },
    stop() {
      bar?.stop();
    },
  };
}

// `sealbox migrate --to CONFIG`: the archive copied (store/migrate-archive.ts), its search index
// built on the target, then the copy proved against the source: the same ledger size and root and
// newest checkpoint, `verify` green on the target (every message read back through the target's
// store and its sha256 checked, the tree rebuilt, every capture matched to its entry), and the
// target's index holding one document per message. Exit 0 only if all of it holds.
export async function migrate(o: CliOptions): Promise<void> {
  const from = configOf(o);
  const to = loadConfig(o.to, {}, {});
  const progress = progressOn(Boolean(o.json));
  const copied = await migrateArchive(from, to, progress);

  // The index, built on the target from its messages, without asking DNS again: the verdicts at
  // receipt were copied.
  const target = await openArchive({ ...to, auth: { ...to.auth, enabled: false } } as Config, 'console');
  const problems: string[] = [];
  let report: Record<string, unknown>;
  try {
    const { indexer, captures, db } = openIndexer(target);
    try {
      const total = await target.stores.meta.read((tx) => target.stores.meta.lastCaptureRowId(tx));
      progress.stage('captures indexed', total);
      for (let n = await indexer.runOnce(); n > 0; n = await indexer.runOnce()) progress.advance(n);
      progress.stop();
      indexer.extraction?.close();
      const index = await checkIndex(captures, db.store);
      if (index.missing.length + index.stray.length > 0) problems.push(`the target's index: ${index.missing.length} messages missing, ${index.stray.length} stray documents`);

      const source = await openArchive(from, 'console');
      let ledger: { size: number; root: string; checkpoint: number | null };
      try {
        ledger = await compareLedgers(source, target, problems);
      } finally {
        source.close();
      }
      const pool = new BlobCheckPool(to);
      const verified = await verifyWhole(target, [], pool).finally(() => pool.close());
      problems.push(...verified.problems.map((p) => `verify on the target: ${p}`));
      report = { ...copied, ledger, verified: { messages: verified.messages, bytes: verified.bytes, entries: verified.entries, checkpoints: verified.checkpoints }, index: { documents: index.documents, missing: index.missing.length, stray: index.stray.length }, problems };
    } finally {
      db.close();
    }
  } finally {
    target.close();
  }
  if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    for (const p of problems) process.stdout.write(`FAIL ${p}\n`);
    const l = report.ledger as { size: number; root: string };
    const v = report.verified as { messages: number; bytes: number };
    process.stdout.write(`${problems.length === 0 ? 'OK' : 'FAILED'}: ${copied.tables.reduce((n, t) => n + t.rows, 0)} rows in ${copied.tables.length} tables, ${copied.blobs.files} blob files (${(copied.blobs.bytes / 1e6).toFixed(1)} MB, ${copied.blobs.target}), ${copied.verdicts} verdict rows; ledger ${l.size} entries, root ${l.root}; ${v.messages} messages verified on the target (${(v.bytes / 1e6).toFixed(1)} MB)\n`);
  }
  process.exitCode = problems.length === 0 ? 0 : 1;
}

// The same tree on both sides: size, root, and the newest signed checkpoint, byte for byte.
async function compareLedgers(source: Archive, target: Archive, problems: string[]): Promise<{ size: number; root: string; checkpoint: number | null }> {
  const [a, b] = [source, target].map((x) => ({ size: x.ledger.size, root: x.ledger.root().toString('hex') }));
  if (a!.size !== b!.size || a!.root !== b!.root) problems.push(`ledger: source ${a!.size} entries, root ${a!.root}; target ${b!.size} entries, root ${b!.root}`);
  const [ca, cb] = await Promise.all([source, target].map((x) => x.stores.meta.read((tx) => x.stores.meta.latestCheckpoint(tx))));
  if ((ca?.note ?? null) !== (cb?.note ?? null)) problems.push(`newest checkpoint: source ${ca?.size ?? 'none'}, target ${cb?.size ?? 'none'} (or their notes differ)`);
  return { size: b!.size, root: b!.root, checkpoint: cb?.size ?? null };
}
