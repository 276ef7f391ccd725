import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SealboxError } from '../../core/errors.ts';
import { openPackage, verifyPackage } from '../../export/package-verifier.ts';
import type { PackageCheck, PackageFinding } from '../../export/package-verifier.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';

// Failures named in the refusal itself; the rest are counted (every one is printed).
const NAMED = 20;

// Another archive's evidence package (export/evidence-package.ts), a folder or its zip volumes.
// The whole package is checked first, as its verify.py checks it, with the verifier key the
// operator gives: one failure refuses all of it before the archive is even opened, so nothing
// changes. Then each message is a capture like any import's: no envelope (the origin's envelopes
// are stated in its provenance, never used to link mailboxes: those come from the headers, as
// for every import), provenance naming the package, its checkpoint and the origin's receipts.
export class EvidenceImport implements ImportSource {
  readonly source = 'import:evidence' as const;
  readonly #paths: string[];
  readonly #keyText: string;
  readonly #maxBytes: number;
  readonly #report: (line: string) => void;
  #check: PackageCheck | null = null;
  #dir = '';
  #close: () => Promise<void> = async () => {};

  constructor(paths: string[], options: { verifierKey: string; maxMessageBytes: number; report?: (line: string) => void }) {
    this.#paths = paths;
    this.#keyText = options.verifierKey;
    this.#maxBytes = options.maxMessageBytes;
    this.#report = options.report ?? (() => {});
  }

  async survey(): Promise<{ total: number; unit: 'messages' }> {
    const opened = await openPackage(this.#paths);
    this.#dir = opened.dir;
    this.#close = opened.close;
    let check: PackageCheck;
    try {
      check = await verifyPackage(opened.dir, this.#keyText, '--verifier-key');
    } catch (err) {
      await opened.close();
      throw err;
    }
    const failures = [...opened.failures, ...check.failures];
    if (failures.length > 0 || check.checkpoint === null || check.origin === null) {
      await opened.close();
      for (const f of failures) this.#report(`FAIL ${line(f)}`);
      const named = failures.slice(0, NAMED).map(line).join('; ');
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the evidence package does not verify, nothing was imported: ${named}${failures.length > NAMED ? `; and ${failures.length - NAMED} more` : ''}`);
    }
    for (const w of check.warnings) this.#report(`WARN ${line(w)}`);
    this.#check = check;
    return { total: check.messages.length, unit: 'messages' };
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    const check = this.#check!;
    const checkpoint = check.checkpoint!;
    try {
      if (check.warnings.length > 0) ctx.note(`${check.warnings.length} receipt(s) in the package are stated but not proven (recorded after its checkpoint, or their ledger payload erased): their provenance says proven: false`);
      for (const m of check.messages) {
        if (ctx.signal.aborted) return;
        const at = { file: join(this.#paths.length === 1 ? this.#paths[0] : this.#dir, m.file) };
        try {
          if (m.size > this.#maxBytes) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE', `message of ${m.size} bytes exceeds receiver.maxMessageBytes`);
          const raw = await readFile(join(this.#dir, m.file));
          // Checked already; read again, so a file changed since must still be the proven bytes.
          const sha = createHash('sha256').update(raw).digest('hex');
          if (sha !== m.sha256) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${m.file} changed after the package was verified (its bytes hash to ${sha})`);
          const indexes = m.receipts.map((r) => r.ledgerIndex).sort((a, b) => a - b);
          yield {
            at, raw,
            // The same message, from the same log, recorded by the same entries: one capture, however
            // often (and from however many packages) it is imported.
            key: `${check.origin}\0${m.sha256}\0${indexes.join(',')}`,
            provenance: {
              package: { origin: check.origin, manifestSha256: check.manifestSha256, verifierKey: `${check.key!.name}+${check.key!.keyId}`, checkpoint: { size: checkpoint.size, rootHash: checkpoint.rootHash } },
              file: m.file,
              // As the package states them; ledgerIndex is the origin's, proven: its inclusion proof
              // led to the checkpoint above.
              receipts: m.receipts.map((r) => ({
                ledgerIndex: r.ledgerIndex, captureId: r.captureId, source: r.source, receivedAt: r.receivedAt,
                envelope: r.envelope, provenance: r.provenance, proven: r.proven,
              })),
            },
          };
        } catch (err) {
          ctx.failed(at, err);
        } finally {
          ctx.advance(1);
        }
      }
    } finally {
      await this.#close();
    }
  }
}

function line(f: PackageFinding): string {
  return `${f.path}: ${f.why}`;
}
