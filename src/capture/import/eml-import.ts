import { statSync } from 'node:fs';
import { SealboxError } from '../../core/errors.ts';
import { canonicalPath, messageFile, sha256, walkFiles } from './import-files.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';
import { ZipReader } from './zip-reader.ts';

const EML = /\.eml$/i;
const ZIP = /\.zip$/i;

type Input = { kind: 'file'; path: string } | { kind: 'zip'; path: string; entries: number };

// .eml files (one message each, as is), named one by one, found in folders, or inside .zip
// archives (such as a mail client's or a web mail's export).
export class EmlImport implements ImportSource {
  readonly source = 'import:eml' as const;
  readonly #paths: string[];
  readonly #inlineBytes: number;
  readonly #maxBytes: number;
  readonly #inputs: Input[] = [];
  #skipped = 0;

  constructor(paths: string[], options: { inlineBlobBytes: number; maxMessageBytes: number }) {
    this.#paths = paths;
    this.#inlineBytes = options.inlineBlobBytes;
    this.#maxBytes = options.maxMessageBytes;
  }

  async survey(): Promise<{ total: number; unit: 'messages' }> {
    for (const given of this.#paths) {
      const path = canonicalPath(given);
      if (statSync(path).isDirectory()) {
        for (const file of walkFiles(path)) {
          if (EML.test(file)) this.#inputs.push({ kind: 'file', path: file });
          else if (ZIP.test(file)) this.#inputs.push(this.#zip(file));
          else this.#skipped++;
        }
      } else if (ZIP.test(path)) {
        this.#inputs.push(this.#zip(path));
      } else {
        this.#inputs.push({ kind: 'file', path });
      }
    }
    return { total: this.#inputs.reduce((n, i) => n + (i.kind === 'zip' ? i.entries : 1), 0), unit: 'messages' };
  }

  #zip(path: string): Input {
    let zip: ZipReader;
    try {
      zip = new ZipReader(path);
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${path}: ${(err as Error).message}`);
    }
    const entries = zip.entries.filter((e) => !e.directory && EML.test(e.name)).length;
    zip.close();
    return { kind: 'zip', path, entries };
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    if (this.#skipped > 0) ctx.note(`${this.#skipped} file(s) in the folders named are neither .eml nor .zip and were not read`);
    for (const input of this.#inputs) {
      if (ctx.signal.aborted) return;
      if (input.kind === 'zip') {
        yield* this.#zipItems(ctx, input.path);
        continue;
      }
      try {
        const m = await messageFile(input.path, this.#inlineBytes);
        yield { at: { file: input.path }, key: `${input.path}\0${m.sha}`, raw: m.raw, open: m.open, provenance: { file: input.path, size: m.size } };
      } catch (err) {
        ctx.failed({ file: input.path }, err);
      } finally {
        ctx.advance(1);
      }
    }
  }

  async *#zipItems(ctx: ImportContext, path: string): AsyncGenerator<ImportItem> {
    const zip = new ZipReader(path);
    try {
      const others = zip.entries.filter((e) => !e.directory && !EML.test(e.name)).length;
      if (others > 0) ctx.note(`${path}: ${others} entr${others === 1 ? 'y is' : 'ies are'} not .eml and were not read`);
      for (const entry of zip.entries) {
        if (entry.directory || !EML.test(entry.name)) continue;
        if (ctx.signal.aborted) return;
        const at = { file: path, entry: entry.name };
        try {
          if (entry.size > this.#maxBytes) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE', `entry of ${entry.size} bytes exceeds receiver.maxMessageBytes`);
          const raw = zip.read(entry);
          yield {
            at, key: `${path}\0${entry.name}\0${sha256(raw)}`, raw,
            provenance: { zip: path, entry: entry.name, size: raw.length, crc32: entry.crc32, modified: entry.modified },
          };
        } catch (err) {
          ctx.failed(at, err);
        } finally {
          ctx.advance(1);
        }
      }
    } finally {
      zip.close();
    }
  }
}
