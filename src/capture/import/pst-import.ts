import { statSync } from 'node:fs';
import { PSTFile } from 'pst-extractor';
import type { PSTFolder, PSTMessage } from 'pst-extractor';
import { SealboxError } from '../../core/errors.ts';
import { canonicalPath, sha256 } from './import-files.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';
import { RECONSTRUCTION, rebuildMessage } from './pst-message.ts';

const NID_TYPE_SEARCH_FOLDER = 0x03;
// Items that are not mail: kept by Outlook in the same file, not imported.
const NOT_MAIL = /^IPM\.(Contact|DistList|Appointment|Task|StickyNote|Activity)(\.|$)/i;

interface Folder {
  folder: PSTFolder;
  path: string;
  count: number;
}

// pst-extractor reports what it cannot read on console.error before throwing: the error is in
// our report already, and stray lines would break the progress bar.
function quietly<T>(fn: () => T): T {
  const error = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = error;
  }
}

// Outlook PST and OST files. A PST item has no MIME source: each message is rebuilt from its
// properties (pst-message.ts) and recorded as reconstructed in its provenance.
export class PstImport implements ImportSource {
  readonly source = 'import:pst' as const;
  readonly #paths: string[];
  #files: { path: string; pst: PSTFile; folders: Folder[]; notes: string[]; failures: { folder: string; err: unknown }[] }[] = [];

  constructor(paths: string[]) {
    this.#paths = paths;
  }

  async survey(): Promise<{ total: number; unit: 'messages' }> {
    for (const given of this.#paths) {
      const path = canonicalPath(given);
      if (!statSync(path).isFile()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${given} is not a file`);
      let pst: PSTFile;
      try {
        pst = quietly(() => new PSTFile(path));
      } catch (err) {
        throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${given} is not a readable PST/OST file: ${(err as Error).message}`);
      }
      const entry = { path, pst, folders: [] as Folder[], notes: [] as string[], failures: [] as { folder: string; err: unknown }[] };
      const walk = (folder: PSTFolder, name: string) => {
        if (folder.getNodeType() === NID_TYPE_SEARCH_FOLDER) {
          entry.notes.push(`${path}: search folder "${name}" skipped (it only points at messages kept in other folders)`);
          return;
        }
        let subfolders: PSTFolder[] = [];
        try {
          const count = quietly(() => folder.contentCount);
          if (count > 0) entry.folders.push({ folder, path: name, count });
          if (quietly(() => folder.hasSubfolders)) subfolders = quietly(() => folder.getSubFolders());
        } catch (err) {
          entry.failures.push({ folder: name, err });
        }
        for (const sub of subfolders) walk(sub, name ? `${name}/${sub.displayName}` : sub.displayName);
      };
      walk(quietly(() => pst.getRootFolder()), '');
      this.#files.push(entry);
    }
    return { total: this.#files.reduce((n, f) => n + f.folders.reduce((m, d) => m + d.count, 0), 0), unit: 'messages' };
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    for (const { path, pst, folders, notes, failures } of this.#files) {
      try {
        for (const note of notes) ctx.note(note);
        for (const f of failures) ctx.failed({ file: path, folder: f.folder }, f.err);
        const notMail = new Map<string, number>();
        for (const { folder, path: folderPath, count } of folders) {
          let seen = 0;
          try {
            for (;;) {
              if (ctx.signal.aborted) return;
              const child = quietly(() => folder.getNextChild()) as PSTMessage | null;
              if (!child) break;
              seen++;
              ctx.advance(1);
              const node = child.descriptorNodeId.toNumber();
              const messageClass = child.messageClass || 'IPM.Note';
              if (NOT_MAIL.test(messageClass)) {
                notMail.set(messageClass, (notMail.get(messageClass) ?? 0) + 1);
                continue;
              }
              const at = { file: path, folder: folderPath, node };
              let item: ImportItem;
              try {
                const rebuilt = quietly(() => rebuildMessage(child, { file: path, node }));
                item = {
                  at, key: `${path}\0${node}\0${sha256(rebuilt.raw)}`, raw: rebuilt.raw,
                  provenance: {
                    file: path, folder: folderPath, node, messageClass, reconstructed: RECONSTRUCTION,
                    headers: rebuilt.fromTransportHeaders ? 'transport headers' : 'rebuilt from properties',
                    attachments: rebuilt.attachments, attachmentsNotInFile: rebuilt.skippedAttachments,
                    deliveryTime: child.messageDeliveryTime?.toISOString() ?? null, submitTime: child.clientSubmitTime?.toISOString() ?? null,
                  },
                };
              } catch (err) {
                ctx.failed(at, err);
                continue;
              }
              yield item;
            }
          } catch (err) {
            ctx.failed({ file: path, folder: folderPath }, err);
          } finally {
            if (seen < count) ctx.advance(count - seen);
          }
        }
        for (const [cls, n] of notMail) ctx.note(`${path}: ${n} item(s) of class ${cls} are not mail and were not imported`);
      } finally {
        pst.close();
      }
    }
  }
}
