// `sealbox import …`: the work, loaded only when an import runs (the definitions are in
// ../import-command.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { openArchive } from '../../archive.ts';
import { systemClock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { SealboxError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { CaptureWriter } from '../../capture/capture-writer.ts';
import { ArchiveWriter } from '../../store/archive-writer.ts';
import { ImportProgress } from '../../capture/import/import-progress.ts';
import { ImportRunner } from '../../capture/import/import-runner.ts';
import type { ImportError, ImportReport, ImportSource } from '../../capture/import/import-runner.ts';
import { EmlImport } from '../../capture/import/eml-import.ts';
import { EvidenceImport } from '../../capture/import/evidence-import.ts';
import { ImapImport } from '../../capture/import/imap-import.ts';
import { MaildirImport } from '../../capture/import/maildir-import.ts';
import { MboxImport } from '../../capture/import/mbox-import.ts';
import { PstImport } from '../../capture/import/pst-import.ts';
import type { MboxFormat } from '../../capture/import/mbox-splitter.ts';
import { configOf } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

const ERRORS_SHOWN = 50;

export function mbox(paths: string[], o: CliOptions): Promise<void> {
  return runImport('mbox', o, (config) => new MboxImport(paths, { format: o.format as MboxFormat, inlineBlobBytes: config.commit.inlineBlobBytes }));
}

export function maildir(dirs: string[], o: CliOptions): Promise<void> {
  return runImport('maildir', o, (config) => new MaildirImport(dirs, { inlineBlobBytes: config.commit.inlineBlobBytes }));
}

export function eml(paths: string[], o: CliOptions): Promise<void> {
  return runImport('eml', o, (config) => new EmlImport(paths, { inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes }));
}

export async function imap(o: CliOptions): Promise<void> {
  const password = process.env.SEALBOX_IMAP_PASSWORD ?? await readPassword();
  await runImport('imap', o, () => new ImapImport({
    host: o.host, port: o.port ?? (o.tls ? 993 : 143), user: o.user, password, tls: o.tls, folders: o.folder ?? null,
  }));
}

export function pst(files: string[], o: CliOptions): Promise<void> {
  return runImport('pst', o, () => new PstImport(files));
}

export function evidence(paths: string[], o: CliOptions): Promise<void> {
  const verifierKey = verifierKeyOf(o.verifierKey);
  return runImport('evidence', o, (config) => new EvidenceImport(paths, {
    verifierKey, maxMessageBytes: config.receiver.maxMessageBytes,
    report: (line) => process.stderr.write(`sealbox: import evidence: ${line}\n`),
  }));
}

// The key itself (`<name>+<key id>+<base64>`), or a file whose first line is it. Only the
// operator says which key to trust: a package's own verifier-key.txt proves only that the
// package agrees with itself.
function verifierKeyOf(given: unknown): string {
  if (typeof given !== 'string' || given.trim() === '') throw new SealboxError('SEALBOX_ERR_BAD_INPUT', '--verifier-key is required: the origin archive\'s ledger verifier key, or a file holding it');
  if (/^[^\s+]+\+[0-9a-fA-F]{8}\+\S+$/.test(given.trim())) return given.trim();
  try {
    return readFileSync(given, 'utf8').split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
  } catch (err) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `--verifier-key: cannot read ${given}: ${(err as Error).message}`, { cause: err });
  }
}

// The first line of standard input (a terminal is asked, without echo).
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write('IMAP password: ');
    stdin.setRawMode(true);
    const password = await new Promise<string>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            stdin.setRawMode(false);
            stdin.pause();
            process.stderr.write('\n');
            resolve(text);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          text = ch === '\u007f' ? text.slice(0, -1) : text + ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
    if (!password) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'no IMAP password given');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0];
  if (!password) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'no IMAP password: set SEALBOX_IMAP_PASSWORD or pass it on standard input');
  return password;
}

async function runImport(kind: string, o: CliOptions, make: (config: Config) => ImportSource): Promise<void> {
  const config = configOf(o);
  const source = make(config);
  const label = `sealbox: import ${kind}`;
  // Bad paths and unreachable servers fail before the archive is opened.
  let plan: { total: number; unit: 'messages' | 'bytes' };
  try {
    plan = await source.survey();
  } catch (err) {
    if (err instanceof SealboxError) throw err;
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read what is to be imported: ${(err as Error).message}`, { cause: err });
  }
  // Blobs go to segment files of this run's own: the server may be appending to its own meanwhile.
  const archive = await openArchive(config, 'importer', {
    segmentPrefix: `import-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-`,
    log: createLogger(config.log.level).child({ component: 'import', source: source.source }),
    announce: (line) => process.stderr.write(`${label}: ${line}\n`),
  });
  const { stores, ledger, log } = archive;
  const checkpointer = archive.checkpointer!;
  let signals = 0;
  let runner: ImportRunner | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`\n${label}: ${signal}: finishing the messages under way; run the same command again to resume\n`);
    runner?.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger, log, maxBatch: config.commit.maxBatch, retention: archive.retention });
    writer.onCommit(() => {
      if (checkpointer.due()) void checkpointer.trySign(); // logs its own failure; the final sign below queues behind it
    });
    runner = new ImportRunner({
      meta: stores.meta, clock: systemClock,
      capture: new CaptureWriter({ writer, blobs: stores.blobs, keys: stores.keys, inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes }),
      progress: new ImportProgress(label), concurrency: o.concurrency,
    });
    if (signals > 0) runner.interrupt();
    const report = await runner.run(source, plan);
    await writer.drain();
    await checkpointer.sign();
    printReport(label, report);
    if (o.report) writeFileSync(o.report, JSON.stringify(report, null, 2) + '\n');
    process.exitCode = report.failed > 0 || report.interrupted ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    archive.close();
  }
}

function where(e: ImportError): string {
  const parts: string[] = [];
  if (e.file) parts.push(e.file);
  if (e.entry) parts.push(`entry ${e.entry}`);
  if (e.offset !== undefined) parts.push(`offset ${e.offset}`);
  if (e.folder !== undefined) parts.push(`folder ${e.folder}`);
  if (e.uid !== undefined) parts.push(`UID ${e.uid}${e.uidValidity ? ` (UIDVALIDITY ${e.uidValidity})` : ''}`);
  if (e.node !== undefined) parts.push(`node ${e.node}`);
  return parts.join(' ') || '(source)';
}

function printReport(label: string, r: ImportReport): void {
  const out = process.stderr;
  const rate = r.seconds > 0 ? Math.round((r.imported + r.skipped) / r.seconds) : 0;
  out.write(`${label}: ${r.messages} message(s) in ${r.seconds.toFixed(1)} s (${rate}/s): ${r.imported} imported`
    + `${r.alreadyArchived ? ` (${r.alreadyArchived} of them already archived as identical bytes: one more capture each)` : ''}, `
    + `${r.skipped} already imported before, ${r.failed} failed${r.interrupted ? ', INTERRUPTED (run the same command again to resume)' : ''}\n`);
  for (const note of r.notes.slice(0, ERRORS_SHOWN)) out.write(`${label}: note: ${note}\n`);
  if (r.notes.length > ERRORS_SHOWN) out.write(`${label}: … and ${r.notes.length - ERRORS_SHOWN} more note(s) (--report FILE has them all)\n`);
  for (const e of r.errors.slice(0, ERRORS_SHOWN)) out.write(`${label}: FAILED ${where(e)}: ${e.error} [${e.code}]\n`);
  if (r.errors.length > ERRORS_SHOWN) out.write(`${label}: … and ${r.errors.length - ERRORS_SHOWN} more failure(s) (--report FILE has them all)\n`);
}
