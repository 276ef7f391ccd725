// One command's work, loaded only when that command runs (see ../main.ts).
import { existsSync, readdirSync, renameSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SealboxError } from '../../core/errors.ts';
import { writeEvidencePackage } from '../../export/evidence-package.ts';
import { openReader } from '../archive-access.ts';
import { ImportProgress } from '../../capture/import/import-progress.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox export`: an evidence package of what a search finds under a grant, as a person, through
// the access decision. It is written beside --out and moved there only once the export is in the
// ledger: what is not recorded is not handed out (a refusal or a fault removes it).
export async function exportPackage(words: string[], o: CliOptions): Promise<void> {
  const out = resolve(o.out);
  const emptyFolder = existsSync(out) && statSync(out).isDirectory() && readdirSync(out).length === 0;
  if (existsSync(out) && !emptyFolder) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `--out ${o.out} exists and is not an empty folder`);
  if (!existsSync(dirname(out))) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `--out ${o.out}: its folder ${dirname(out)} does not exist`);
  const staging = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  const r = await openReader(o);
  try {
    const { archive } = r;
    const started = performance.now();
    const cpu = process.cpuUsage();
    // A bar on a terminal, a line every few seconds otherwise (ImportProgress).
    const progress = new ImportProgress('export');
    let total = -1;
    const made = await r.services.content.exportEvidence(r.ctx, r.user, { query: words.join(' '), grantId: o.grant, limit: o.limit, note: o.reason },
      (source) => writeEvidencePackage(source, {
        dir: staging, origin: archive.config.ledger.origin, verifierKey: archive.verifierKey,
        sign: (statement) => archive.signStatement(statement), now: archive.clock.now(), exporter: { name: r.user.name, displayName: r.user.displayName },
        limit: o.limit, note: o.reason, mboxPerCustodian: o.mbox === true,
        progress: (done, of) => {
          if (total < 0) progress.start(total = of, 'messages');
          progress.update({ messages: done, done });
        },
      })).finally(() => progress.stop());
    const seconds = (performance.now() - started) / 1000;
    if (emptyFolder) rmdirSync(out);
    renameSync(staging, out);
    const p = made.value;
    process.stdout.write(`wrote ${out}: ${p.messages} message(s) of ${made.total} found, ${p.files} files, ${p.bytes} bytes; manifest sha256 ${p.manifestSha256}\n`
      + `recorded as ledger entry ${made.ledgerIndex}; proofs lead to the signed checkpoint of size ${p.checkpointSize}; check with: python3 ${join(out, 'verify.py')}\n`);
    if (made.total > p.messages) process.stderr.write(`warning: the search found ${made.total} messages, the package holds the newest ${p.messages} (--limit)\n`);
    if (p.notCovered > 0) process.stderr.write(`warning: ${p.notCovered} receipt(s) were recorded after the latest signed checkpoint and are not proven yet; the server signs one every ledger.checkpointEverySeconds: export again after it\n`);
    // CPU time too: on a busy machine it says what the export itself costs.
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    process.stderr.write(`${seconds.toFixed(2)} s: ${(p.messages / seconds).toFixed(0)} messages/s, ${(p.messageBytes / seconds / 1e6).toFixed(1)} MB/s of messages (${cpuSeconds.toFixed(2)} s of CPU)\n`);
  } finally {
    r.close();
  }
}
