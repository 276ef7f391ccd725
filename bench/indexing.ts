import { benchCorpus, benchEnvelope } from './bench-corpus.ts';
import { keepCorpusArchive } from './corpus-archive.ts';
import { median } from './figures.ts';
import type { Figure } from './figures.ts';
import { NotmuchDb } from './notmuch.ts';
import type { BenchOptions } from './run.ts';
import { ingestIntoSealbox } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';

// Time until the corpus is searchable: `notmuch new` over a Maildir holding it (the Maildir is
// written before the clock starts: that is the anchor's best case), against Sealbox receiving
// it over SMTP with 8 connections, fsync per batch, until its index covers the last message.
// Rounds alternate the two; the archives of the last round are kept for the search and
// storage benchmarks.
export async function indexingBenchmark(o: BenchOptions): Promise<Figure[]> {
  const corpus = benchCorpus(o.smoke);
  const n = corpus.wire.length;
  const rounds: { notmuch: number; sealbox: number; ingest: number; timed: number }[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const last = r === o.rounds - 1;
    const runNotmuch = () => {
      o.progress(`index round ${r + 1}/${o.rounds}: notmuch new`);
      const db = new NotmuchDb(corpus.raw);
      const seconds = db.newMail();
      const indexed = db.count('*');
      if (indexed !== n) throw new Error(`notmuch indexed ${indexed} of ${n} messages`);
      return { seconds, db };
    };
    const runSealbox = () => {
      o.progress(`index round ${r + 1}/${o.rounds}: Sealbox over SMTP until searchable`);
      return ingestIntoSealbox(corpus.wire, { lmtp: false, connections: 8, envelope: benchEnvelope, keep: last });
    };
    // Alternate which goes first, so that neither always runs on a warmer (or busier) machine.
    let nm: ReturnType<typeof runNotmuch>;
    let sb: Awaited<ReturnType<typeof runSealbox>>;
    if (r % 2 === 0) {
      nm = runNotmuch();
      sb = await runSealbox();
    } else {
      sb = await runSealbox();
      nm = runNotmuch();
    }
    rounds.push({ notmuch: nm.seconds, sealbox: sb.searchableSeconds, ingest: sb.delivery.seconds, timed: sb.delivery.acks.length });
    o.progress(`  notmuch new ${nm.seconds.toFixed(1)} s, Sealbox searchable after ${sb.searchableSeconds.toFixed(1)} s (acknowledged after ${sb.delivery.seconds.toFixed(1)} s)`);
    if (last) keepCorpusArchive(o.smoke, { sealbox: sb, notmuch: nm.db });
    else {
      nm.db.remove();
      scratch.remove(sb.dir);
    }
  }
  const med = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
  return [
    { name: 'corpus searchable after', value: med((x) => x.sealbox), unit: 's', anchor: { name: 'notmuch new', value: med((x) => x.notmuch) }, ratio: med((x) => x.sealbox / x.notmuch), note: 'Sealbox: first MAIL FROM → index covers the last message' },
    { name: 'indexing rate (ingest → searchable)', value: med((x) => x.timed / x.sealbox), unit: 'msg/s', anchor: { name: 'notmuch new', value: med((x) => n / x.notmuch) }, ratio: med((x) => x.notmuch / x.sealbox), target: { op: '>=', bound: 4, of: 'ratio' } },
  ];
}
