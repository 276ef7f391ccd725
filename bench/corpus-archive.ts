import { benchCorpus, benchEnvelope } from './bench-corpus.ts';
import { NotmuchDb } from './notmuch.ts';
import type { BenchOptions } from './run.ts';
import { ingestIntoSealbox } from './sealbox-ingest.ts';
import type { SealboxIngest } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';

export interface CorpusArchive {
  sealbox: SealboxIngest;   // the corpus delivered over SMTP into a Sealbox archive (stopped)
  notmuch: NotmuchDb;       // the same messages in a Maildir indexed by notmuch
}

let shared: { smoke: boolean; archive: CorpusArchive } | null = null;

// The corpus in both archives, for the benchmarks that read what was ingested (search,
// storage): the one the indexing benchmark built in this run, or a new one.
export async function corpusArchive(o: BenchOptions): Promise<CorpusArchive> {
  if (shared?.smoke === o.smoke) return shared.archive;
  const corpus = benchCorpus(o.smoke);
  o.progress('building the corpus archives (Sealbox over SMTP, notmuch new)');
  const sealbox = await ingestIntoSealbox(corpus.wire, { lmtp: false, connections: 8, envelope: benchEnvelope, keep: true });
  const notmuch = new NotmuchDb(corpus.raw);
  notmuch.newMail();
  keepCorpusArchive(o.smoke, { sealbox, notmuch });
  return { sealbox, notmuch };
}

export function keepCorpusArchive(smoke: boolean, archive: CorpusArchive): void {
  releaseCorpusArchive();
  shared = { smoke, archive };
}

export function releaseCorpusArchive(): void {
  if (!shared) return;
  scratch.remove(shared.archive.sealbox.dir);
  shared.archive.notmuch.remove();
  shared = null;
}
