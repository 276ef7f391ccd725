import type { Archive } from '../archive.ts';
import type { Logger } from '../core/log.ts';
import type { CaptureQueue } from './capture-queue.ts';
import { resolverFor } from './dns-resolver.ts';
import { Indexer } from './indexer.ts';
import type { IndexStore } from './index-store.ts';
import { openIndex } from './open-index.ts';
import type { OpenIndex } from './open-index.ts';

// The indexer as the index thread runs it, on an index connection of its own (the thread's, a
// repair command's, the in-process tests'): one wiring for all of them. Close the connection
// when done.
export function openIndexer(archive: Archive, log: Logger = archive.log, o: { extractorProcesses?: number } = {}): { indexer: Indexer; store: IndexStore; captures: CaptureQueue; db: OpenIndex } {
  const { stores, config } = archive;
  const db = openIndex(stores);
  const store = db.store;
  const captures = stores.repos.captures;
  const indexer = new Indexer({
    captures, index: store, reader: stores.reader, meta: stores.meta, log, batch: config.index.batch, internalDomains: config.internalDomains,
    auth: config.auth.enabled ? { resolver: resolverFor(config.auth), mta: config.receiver.hostname } : null,
    attachmentText: config.index.attachmentText, extractorProcesses: o.extractorProcesses,
    ocr: config.index.ocr ? config.index.ocrLanguages : null,
  });
  return { indexer, store, captures, db };
}
