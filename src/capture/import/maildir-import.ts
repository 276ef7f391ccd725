import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SealboxError } from '../../core/errors.ts';
import { canonicalPath, messageFile } from './import-files.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';

// Maildir's standard flags (the letters after ":2,"); lower-case letters are keywords whose names
// only the mail server knows (Dovecot: dovecot-keywords).
const FLAG_NAMES: Record<string, string> = { D: 'draft', F: 'flagged', P: 'passed', R: 'replied', S: 'seen', T: 'trashed' };
// "unique:2,FLAGS"; some systems write "!" or ";" instead of ":" (a colon is not allowed everywhere).
const INFO = /^(.*?)[:!;]2,([^:!;]*)$/;

interface MaildirFolder {
  dir: string;       // the folder's own directory (holding cur/ and new/)
  folder: string;    // its name: INBOX for the root, "Sent" for Maildir++ ".Sent", "a/b" for a nested Maildir a/b
}

// Maildirs, Maildir++ trees (.Sent, .Archive.2020 …) and folders of Maildirs: every directory with
// a cur/ or new/ is a folder; messages in new/ and cur/ are read, tmp/ (deliveries under way) is not.
export class MaildirImport implements ImportSource {
  readonly source = 'import:maildir' as const;
  readonly #paths: string[];
  readonly #inlineBytes: number;
  #folders: { folder: MaildirFolder; files: { sub: 'new' | 'cur'; name: string }[] }[] = [];

  constructor(paths: string[], options: { inlineBlobBytes: number }) {
    this.#paths = paths;
    this.#inlineBytes = options.inlineBlobBytes;
  }

  async survey(): Promise<{ total: number; unit: 'messages' }> {
    for (const given of this.#paths) {
      const root = canonicalPath(given);
      if (!statSync(root).isDirectory()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${given} is not a directory (a Maildir has cur/ and new/)`);
      const found = [...findFolders(root, root)];
      if (found.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no Maildir under ${given} (no directory with cur/ or new/)`);
      for (const folder of found) {
        const files: { sub: 'new' | 'cur'; name: string }[] = [];
        for (const sub of ['new', 'cur'] as const) {
          const dir = join(folder.dir, sub);
          if (!existsSync(dir)) continue;
          for (const name of readdirSync(dir).sort()) if (!name.startsWith('.')) files.push({ sub, name });
        }
        this.#folders.push({ folder, files });
      }
    }
    return { total: this.#folders.reduce((n, f) => n + f.files.length, 0), unit: 'messages' };
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    for (const { folder, files } of this.#folders) {
      for (const { sub, name } of files) {
        if (ctx.signal.aborted) return;
        const path = join(folder.dir, sub, name);
        const info = INFO.exec(name);
        const unique = info ? info[1] : name;
        const flags = info ? info[2] : '';
        const at = { file: path, folder: folder.folder };
        try {
          const st = statSync(path, { throwIfNoEntry: false });
          if (!st) {
            // Moved from new/ to cur/ (or its flags changed) by a mail client since the listing:
            // the same message under its new name is taken when the listing catches up (next run).
            ctx.failed(at, new Error('file vanished while importing (moved by a mail client?); run the import again'));
            continue;
          }
          if (!st.isFile()) continue;
          const m = await messageFile(path, this.#inlineBytes);
          yield {
            at, key: `${folder.dir}\0${unique}\0${m.sha}`, raw: m.raw, open: m.open,
            provenance: {
              maildir: folder.dir, folder: folder.folder, subdir: sub, file: name, flags,
              flagNames: [...flags].map((f) => FLAG_NAMES[f] ?? `keyword:${f}`), mtime: st.mtime.toISOString(),
            },
          };
        } catch (err) {
          ctx.failed(at, err);
        } finally {
          ctx.advance(1);
        }
      }
    }
  }
}

function isMaildir(dir: string): boolean {
  return existsSync(join(dir, 'cur')) || existsSync(join(dir, 'new'));
}

function* findFolders(root: string, dir: string): Generator<MaildirFolder> {
  if (isMaildir(dir)) {
    const rel = relative(root, dir);
    // Maildir++: ".Sent" below the root is "Sent", ".Archive.2020" is "Archive.2020" (its dots are
    // the hierarchy, as an IMAP server with the "." separator shows it).
    const folder = rel === '' ? 'INBOX' : rel.split(sep).map((p) => (p.startsWith('.') ? p.slice(1) : p)).join('/');
    yield { dir, folder };
  }
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !['cur', 'new', 'tmp'].includes(e.name)).map((e) => e.name).sort();
  for (const name of subdirs) yield* findFolders(root, join(dir, name));
}
