import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { corpusFiles } from '../test/support/corpus.ts';
import { toCrlf } from '../test/support/smtp-client.ts';

export const SMOKE_MESSAGES = 300;

export interface BenchCorpus {
  files: string[];
  raw: Buffer[];      // the files as they are (LF line ends): what goes into a Maildir
  wire: Buffer[];     // CRLF, as an MTA sends them: what Sealbox archives
  rawBytes: number;   // sum of wire sizes
  shas: string[];     // sha256 of the archived (wire) bytes
  shaIndex: Map<string, number>; // sha256 → index
}

let cached: { smoke: boolean; corpus: BenchCorpus } | null = null;

// The real corpus (6,046 messages), or its first SMOKE_MESSAGES for a smoke run.
export function benchCorpus(smoke: boolean): BenchCorpus {
  if (cached?.smoke === smoke) return cached.corpus;
  const files = corpusFiles().slice(0, smoke ? SMOKE_MESSAGES : undefined);
  const raw = files.map((f) => readFileSync(f));
  const wire = raw.map(toCrlf);
  const shas = wire.map((m) => createHash('sha256').update(m).digest('hex'));
  const corpus = { files, raw, wire, rawBytes: wire.reduce((n, m) => n + m.length, 0), shas, shaIndex: new Map(shas.map((s, i) => [s, i])) };
  cached = { smoke, corpus };
  return corpus;
}

// The envelope every benchmark uses for message i: one sender of 50, one recipient of 7.
export function benchEnvelope(i: number): { from: string; to: string[] } {
  return { from: `sender${i % 50}@corpus.test`, to: [`rcpt${i % 7}@example.test`] };
}
