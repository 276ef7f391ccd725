import { statSync } from 'node:fs';
import { join } from 'node:path';
import { benchCorpus } from './bench-corpus.ts';
import { median } from './figures.ts';
import type { Figure } from './figures.ts';
import { MailGenerator } from './mail-generator.ts';
import type { BenchOptions } from './run.ts';
import { ingestIntoSealbox } from './sealbox-ingest.ts';
import { scratch } from './scratch.ts';

const SEED = 19;
const MESSAGES = 3000;

// Attachment text (issue 19) side by side: the same generated mail (bench/mail-generator.ts: the
// corpus's sizes and words, PDF/JPEG/PNG/DOCX/ZIP attachments) received over SMTP by a Sealbox
// with index.attachmentText off and one with it on, rounds alternating which goes first. Figures:
// when the mail is searchable by its own text (the extractor works behind the index: this should
// not move), when every attachment has been read, and the index database's size.
export async function attachmentsBenchmark(o: BenchOptions): Promise<Figure[]> {
  const total = o.smoke ? 300 : MESSAGES;
  const gen = new MailGenerator({ seed: SEED, total, corpus: benchCorpus(o.smoke).raw });
  const mail = Array.from({ length: total }, () => gen.next());
  const wire = mail.map((m) => m.raw);
  const envelope = (i: number) => mail[i]!.envelope;
  const rounds: { off: { searchable: number; indexMb: number }; on: { searchable: number; read: number; indexMb: number } }[] = [];
  const run = async (attachmentText: boolean) => {
    o.progress(`  attachment text ${attachmentText ? 'on' : 'off'}: ${total} generated messages over SMTP`);
    const r = await ingestIntoSealbox(wire, { lmtp: false, connections: 8, envelope, keep: true, config: { index: { attachmentText } } });
    const indexMb = ['index.db', 'index.db-wal'].reduce((n, f) => { try { return n + statSync(join(r.data, f)).size; } catch { return n; } }, 0) / 1e6;
    scratch.remove(r.dir);
    return { searchable: r.searchableSeconds, read: r.attachmentsSeconds, indexMb };
  };
  for (let k = 0; k < o.rounds; k++) {
    o.progress(`attachments round ${k + 1}/${o.rounds}`);
    let off: Awaited<ReturnType<typeof run>>;
    let on: Awaited<ReturnType<typeof run>>;
    if (k % 2 === 0) {
      off = await run(false);
      on = await run(true);
    } else {
      on = await run(true);
      off = await run(false);
    }
    rounds.push({ off, on });
    o.progress(`  off: searchable after ${off.searchable.toFixed(1)} s, index ${off.indexMb.toFixed(1)} MB; on: searchable after ${on.searchable.toFixed(1)} s, attachments read after ${on.read.toFixed(1)} s, index ${on.indexMb.toFixed(1)} MB`);
  }
  o.record('rounds', rounds);
  const med = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
  const attachments = mail.filter((m) => /Content-Disposition: attachment/i.test(m.raw.toString('latin1'))).length;
  return [
    { name: 'searchable after, attachment text on', value: med((x) => x.on.searchable), unit: 's', anchor: { name: 'attachment text off', value: med((x) => x.off.searchable) }, ratio: med((x) => x.on.searchable / x.off.searchable), note: `${total} generated messages, ${attachments} with attachments` },
    { name: 'every attachment read after', value: med((x) => x.on.read), unit: 's', anchor: { name: 'searchable (text on)', value: med((x) => x.on.searchable) }, ratio: med((x) => x.on.read / x.on.searchable) },
    { name: 'indexing rate with attachments read', value: med((x) => total / x.on.read), unit: 'msg/s', anchor: { name: 'attachment text off', value: med((x) => total / x.off.searchable) }, ratio: med((x) => x.off.searchable / x.on.read) },
    { name: 'index size, attachment text on', value: med((x) => x.on.indexMb), unit: 'MB', anchor: { name: 'attachment text off', value: med((x) => x.off.indexMb) }, ratio: med((x) => x.on.indexMb / x.off.indexMb) },
  ];
}
