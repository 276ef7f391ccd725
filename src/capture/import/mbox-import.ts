import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { FileWindow } from './file-window.ts';
import { canonicalPath, sha256, startsWith, walkFiles } from './import-files.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';
import { splitMbox, unquoteMboxrd } from './mbox-splitter.ts';
import type { MboxFormat, MboxMessage } from './mbox-splitter.ts';

const FROM = Buffer.from('From ');

// mbox files (or folders of them): each message keyed by its file, its bytes and how many
// identical messages came before it in that file, so that a file that was compacted or appended
// to between two runs adds only what is new.
export class MboxImport implements ImportSource {
  readonly source = 'import:mbox' as const;
  readonly #paths: string[];
  readonly #format: MboxFormat;
  readonly #inlineBytes: number;
  #files: { path: string; size: number }[] = [];
  #notes: string[] = [];

  constructor(paths: string[], options: { format: MboxFormat; inlineBlobBytes: number }) {
    this.#paths = paths;
    this.#format = options.format;
    this.#inlineBytes = options.inlineBlobBytes;
  }

  async survey(): Promise<{ total: number; unit: 'bytes' }> {
    for (const given of this.#paths) {
      const path = canonicalPath(given);
      if (statSync(path).isDirectory()) {
        // In a folder (a mail client's, say) only the files that begin like an mbox are taken.
        let others = 0;
        for (const file of walkFiles(path)) {
          const size = statSync(file).size;
          if (size > 0 && startsWith(file, FROM)) this.#files.push({ path: file, size });
          else others++;
        }
        if (others > 0) this.#notes.push(`${others} file(s) under ${path} do not begin with "From " and were not read as mbox`);
      } else {
        this.#files.push({ path, size: statSync(path).size });
      }
    }
    return { total: this.#files.reduce((n, f) => n + f.size, 0), unit: 'bytes' };
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    for (const note of this.#notes) ctx.note(note);
    for (const { path, size } of this.#files) {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (err) {
        ctx.failed({ file: path }, err);
        ctx.advance(size);
        continue;
      }
      let advanced = 0;
      let at: number | undefined;
      try {
        const win = new FileWindow(fd, fstatSync(fd).size);
        const seen = new Map<string, number>();
        for (const m of splitMbox(win, this.#format)) {
          if (ctx.signal.aborted) return;
          at = m.offset;
          if (m.note) ctx.note(`${path} at ${m.offset}: ${m.note}`);
          const unquote = m.framing === 'from-line' && (this.#format === 'auto' || this.#format === 'mboxrd');
          const item = this.#item(win, path, m, unquote);
          const n = seen.get(item.sha) ?? 0;
          seen.set(item.sha, n + 1);
          yield { ...item.item, key: `${path}\0${item.sha}\0${n}`, provenance: { ...item.item.provenance, occurrence: n } };
          ctx.advance(m.next - advanced);
          advanced = m.next;
        }
      } catch (err) {
        ctx.failed(at === undefined ? { file: path } : { file: path, offset: at }, err);
      } finally {
        closeSync(fd);
        if (advanced < size) ctx.advance(size - advanced);
      }
    }
  }

  #item(win: FileWindow, path: string, m: MboxMessage, unquote: boolean): { sha: string; item: Omit<ImportItem, 'key'> } {
    const provenance = {
      file: path, offset: m.offset, length: m.next - m.offset, fromLine: m.fromLine,
      format: m.framing === 'content-length' ? 'content-length' : unquote ? 'mboxrd' : 'mboxo',
    };
    const at = { file: path, offset: m.offset };
    if (m.end - m.start <= this.#inlineBytes) {
      let raw = win.read(m.start, m.end);
      if (unquote) raw = unquoteMboxrd(raw);
      return { sha: sha256(raw), item: { at, provenance, raw } };
    }
    // A large message: hashed here, read again while it is sealed, never held whole.
    const chunks = function* () {
      let lineStart = true;
      for (const chunk of win.lineChunks(m.start, m.end)) {
        yield unquote ? unquoteMboxrd(chunk, lineStart) : chunk;
        lineStart = chunk[chunk.length - 1] === 10;
      }
    };
    const hash = createHash('sha256');
    for (const c of chunks()) hash.update(c);
    return { sha: hash.digest('hex'), item: { at, provenance, raw: null, open: async function* () { yield* chunks(); } } };
  }
}
