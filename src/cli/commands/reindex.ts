// One command's work, loaded only when that command runs (see ../main.ts).
import { ImportProgress } from '../../capture/import/import-progress.ts';
import { SealboxError } from '../../core/errors.ts';
import { extractorVersion } from '../../index/attachment-extractor.ts';
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

// Documents queued for extraction per transaction while the command queues what is unread.
const QUEUE_BATCH = 1000;

// `sealbox reindex --attachments`: the text inside the attachments of mail already archived
// (while extraction was off, before it existed, or by an extractor that read fewer kinds) is read
// and indexed. Such documents are queued first (extraction_pending, the queue the server's
// extractor works from), then read here in two extractor processes with progress on stderr; an
// interrupted run leaves the rest queued, and the next run (or the server's next start) goes on
// from there.
export function reindexAttachments(o: CliOptions): Promise<void> {
  return withArchive(o, async (archive) => {
    if (!archive.config.index.attachmentText) throw new SealboxError('SEALBOX_ERR_CONFIG', 'index.attachmentText is false: attachments are not read (set it to true first)');
    const { indexer, store, db } = openIndexer(archive, archive.log, { extractorProcesses: 2 });
    const extraction = indexer.extraction!;
    const progress = new ImportProgress('reading attachments');
    try {
      let queued = 0;
      for (let after = 0; ;) {
        const r = await store.write((tx) => store.queueUnread(tx, after, QUEUE_BATCH, extractorVersion(archive.config.index.ocr)));
        queued += r.queued;
        if (r.scanned < QUEUE_BATCH) break;
        after = r.last;
      }
      const pending = () => store.read((tx) => store.pendingExtractionCount(tx));
      const total = await pending();
      process.stderr.write(`reading the attachments of ${total} messages\n`);
      progress.start(total, 'messages');
      let read = 0;
      while (extraction.busy) {
        read += await extraction.step();
        progress.update({ messages: read, done: read });
      }
      progress.stop();
      const left = await pending();
      process.stdout.write(o.json ? JSON.stringify({ queued, read, pending: left }) + '\n'
        : `read the attachments of ${read} messages (${queued} newly queued, ${left} still queued)\n`);
    } finally {
      progress.stop();
      extraction.close();
      db.close();
    }
  });
}
