// One command's work, loaded only when that command runs (see ../main.ts).
import { checkIndex, repairIndex } from '../../index/index-completeness.ts';
import type { IndexCompleteness } from '../../index/index-completeness.ts';
import { openIndexer } from '../../index/open-indexer.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

function text(c: IndexCompleteness): string {
  return `${c.messages} messages, ${c.documents} documents: ${c.missing.length} missing, ${c.failing} failing (retried by the indexer), ${c.pending} not indexed yet, ${c.stray.length} stray (checked in ${c.seconds.toFixed(2)} s)\n`
    + c.missing.slice(0, 20).map((m) => `missing ${m.sha256} (message ${m.id}, capture ${m.firstCapture})\n`).join('')
    + c.stray.slice(0, 20).map((id) => `stray document ${id}\n`).join('');
}

// `sealbox verify --index`: exit 0 only if every message the index should hold is in it, once,
// and nothing else is.
export function verifyIndex(o: CliOptions): Promise<void> {
  return withArchive(o, async (archive) => {
    const { store, captures, db } = openIndexer(archive);
    try {
      const c = await checkIndex(captures, store);
      process.stdout.write(o.json ? JSON.stringify(c) + '\n' : `${c.missing.length + c.stray.length === 0 ? 'OK' : 'FAILED'}: ${text(c)}`);
      process.exitCode = c.missing.length + c.stray.length === 0 ? 0 : 1;
    } finally {
      db.close();
    }
  });
}

// `sealbox reindex`: what verify --index finds missing is indexed again, what is stray removed.
export function reindex(o: CliOptions): Promise<void> {
  return withArchive(o, async (archive) => {
    const { indexer, store, captures, db } = openIndexer(archive);
    try {
      const found = await checkIndex(captures, store);
      const r = await repairIndex(found, store, indexer, archive.clock.now());
      process.stdout.write(o.json ? JSON.stringify(r) + '\n' : `reindexed ${r.reindexed} missing messages (${r.stillFailing} captures still failing, retried by the indexer), removed ${r.removed} stray documents\n`);
    } finally {
      db.close();
    }
  });
}
