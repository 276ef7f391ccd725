import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { htmlToText, parseMessage } from '../parse-message.ts';
import { calendarText, vcardText } from './content-lines.ts';
import { Encrypted, ExtractionRun } from './extraction-run.ts';
import type { Extraction } from './extraction-run.ts';
import { formatOf, readable, sniff } from './formats.ts';
import type { Format } from './formats.ts';
import { officeText } from './office-text.ts';
import { oleText } from './ole-text.ts';
import { rtfText } from './rtf-text.ts';
import { toolText } from './text-tool.ts';
import { SevenZip } from './seven-zip.ts';
import { gunzip, isTar, readTar } from './tar-archive.ts';
import { readTnef } from './tnef-reader.ts';
import { ZipArchive } from './zip-archive.ts';

// The text of one attachment, and what became of reading it (ExtractionRun's limits). Runs in
// the extractor's worker (extract-worker.ts); never throws: a fault is the attachment's
// outcome, `failed: reason`, with whatever text came before it.

export interface AttachmentFile {
  content: Uint8Array;
  contentType: string | null;
  filename: string | null;
}

export async function extractText(file: AttachmentFile, options: { ocr?: string | null } = {}): Promise<{ text: string; extraction: Extraction }> {
  const run = new ExtractionRun(options);
  try {
    const format = formatOf(file.contentType, file.filename, file.content);
    if (!readable(format, run.ocr !== null)) return run.result('not a kind of file whose text is read');
    await read(run, file.content, format, 0);
    return run.result();
  } catch (err) {
    if (err instanceof Encrypted) {
      run.encrypted = true;
      return run.result();
    }
    return run.result((err as Error).message || String(err));
  }
}

// What the bytes are wins over what they were called: a ZIP, PDF, RTF or OLE2 file is read as
// one whatever its type or name said.
async function read(run: ExtractionRun, bytes: Uint8Array, declared: Format, depth: number): Promise<void> {
  const format = sniff(bytes) ?? declared;
  switch (format) {
    case 'pdf': {
      // One page more than is read, each ended by a form feed: a PDF longer than the limit is told
      // from one exactly as long, and its text is cut there and said to be truncated.
      const pages = (await toolText(run, 'pdftotext', ['-enc', 'UTF-8', '-l', String(run.limits.pdfPages + 1), 'fd://0', '-'], bytes, {
        // Exit code 3: copying text is not permitted; or the password is not the empty one.
        judge: (r) => { if (r.code === 3 || /password/i.test(r.stderr)) throw new Encrypted(); },
      })).split('\f');
      if (pages.length > run.limits.pdfPages + 1) run.missing(`more than ${run.limits.pdfPages} pages`);
      const text = pages.slice(0, run.limits.pdfPages).join('\n');
      // No text layer (a scan): its pages are read as pictures, when OCR is on.
      if (text.trim() === '' && run.ocr) return ocrPdf(run, bytes);
      run.add(text);
      return;
    }
    case 'image':
      if (run.ocr) run.add(await toolText(run, 'tesseract', ['stdin', 'stdout', '-l', run.ocr], bytes));
      return;
    case 'docx': case 'xlsx': case 'pptx': case 'odt': case 'ods': case 'odp': case 'zip': {
      const zip = new ZipArchive(bytes, run.limits.maxMembers);
      if (!officeText(zip, run)) {
        await container(run, zip.members.map((m) => ({ name: m.name, directory: m.name.endsWith('/'), encrypted: m.encrypted, read: async () => run.unzip(zip, m) })), zip.more, depth);
      }
      return;
    }
    case 'tnef': {
      const tnef = readTnef(bytes, run.limits.maxFiles);
      run.add(tnef.text);
      return container(run, tnef.files.map((f) => ({ name: f.name, directory: false, encrypted: false, read: async () => run.member(f.bytes, f.name) })), tnef.more, depth);
    }
    case 'tar':
      return tar(run, bytes, depth);
    case 'gzip':
      return gzip(run, bytes, depth);
    case '7z': case 'rar':
      return sevenZip(run, bytes, format, depth);
    case 'doc': case 'xls': case 'ppt':
      return oleText(bytes, run);
    case 'rtf':
      run.add(rtfText(bytes, run.limits.maxChars));
      return;
    case 'html':
      run.add(htmlToText(decode(head(run, bytes, 8), htmlCharset(bytes))));
      return;
    case 'text':
      run.add(decode(head(run, bytes, 4), null));
      return;
    case 'calendar':
      run.add(calendarText(decode(head(run, bytes, 4), null)));
      return;
    case 'vcard':
      run.add(vcardText(decode(head(run, bytes, 4), null)));
      return;
    case 'message':
      return message(run, bytes, depth);
  }
}

// A file inside a container, read only when its turn comes.
interface Member {
  name: string;
  directory: boolean;
  encrypted: boolean;
  read(): Promise<Uint8Array | null>;
}

// A PDF without a text layer, read by OCR: pdftoppm renders its first pages (ocrPages, at most
// ocrPixels on their longer side) into a folder of its own, and tesseract reads each while the
// run's time lasts; both under prlimit like every tool.
async function ocrPdf(run: ExtractionRun, bytes: Uint8Array): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-ocr-'));
  try {
    await toolText(run, 'pdftoppm', ['-l', String(run.limits.ocrPages), '-scale-to', String(run.limits.ocrPixels), '-png', 'fd://0', join(dir, 'page')], bytes);
    const pages = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    for (const page of pages) {
      if (run.expired || run.full) {
        run.missing(`pages past ${pages.indexOf(page)} were not read by OCR within ${run.limits.seconds} s`);
        break;
      }
      run.add(await toolText(run, 'tesseract', [join(dir, page), 'stdout', '-l', run.ocr!], new Uint8Array(0)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A container (an archive, a winmail.dat): its members' names, and the text of those whose kind is
// read, one level further in.
async function container(run: ExtractionRun, members: readonly Member[], more: boolean, depth: number): Promise<void> {
  run.add(members.map((m) => m.name).join('\n'));
  if (more) run.missing(`more than ${run.limits.maxMembers} files in the archive`);
  for (const m of members) {
    if (m.directory) continue;
    const format = formatOf(null, m.name);
    if (!readable(format, run.ocr !== null)) continue;
    if (m.encrypted) {
      run.encrypted = true;
      continue;
    }
    if (!within(run, depth, m.name) || !run.nextFile()) break;
    try {
      const bytes = await m.read();
      if (bytes !== null) await read(run, bytes, format, depth + 1);
    } catch (err) {
      nested(run, m.name, err);
    }
  }
}

function tar(run: ExtractionRun, bytes: Uint8Array, depth: number): Promise<void> {
  const { members, more } = readTar(bytes, run.limits.maxMembers);
  return container(run, members.map((m) => ({ name: m.name, directory: m.directory, encrypted: false, read: async () => run.member(m.bytes, m.name) })), more, depth);
}

// A gzipped TAR is one container (.tar.gz, .tgz); a gzipped file of its own is read as what its
// bytes show, or as text.
async function gzip(run: ExtractionRun, bytes: Uint8Array, depth: number): Promise<void> {
  const budget = run.inflateBudget(bytes.length);
  if (budget === 0) {
    run.missing(`more than ${run.limits.maxInflatedBytes} bytes to inflate`);
    return;
  }
  const out = await gunzip(bytes, budget);
  run.inflated(out.bytes.length);
  if (!out.complete) {
    const byRatio = budget < run.inflateRoom + out.bytes.length;
    run.missing(byRatio ? `it expands more than ${run.limits.maxRatio} times (a gzip bomb?)` : `it inflates to more than ${budget} bytes`);
  }
  if (isTar(out.bytes)) return tar(run, out.bytes, depth);
  // Text has no NUL bytes (a binary file of another kind often has many).
  const start = out.bytes.subarray(0, 64 * 1024);
  const inner = sniff(out.bytes) ?? (isUtf8(start) && !start.includes(0) ? 'text' : null);
  if (inner === null) {
    run.missing('the gzipped file is of a kind whose text is not read');
    return;
  }
  if (!within(run, depth, 'the gzipped file')) return;
  return read(run, out.bytes, inner, depth + 1);
}

// 7z (and RAR, where 7-Zip reads it) through Debian's 7-Zip.
async function sevenZip(run: ExtractionRun, bytes: Uint8Array, format: '7z' | 'rar', depth: number): Promise<void> {
  const archive = new SevenZip(run, bytes, format);
  try {
    let listed: Awaited<ReturnType<SevenZip['list']>>;
    try {
      listed = await archive.list(run.limits.maxMembers);
    } catch (err) {
      if (format === 'rar' && /cannot read it/.test((err as Error).message)) throw new Error('RAR is not read: Debian\'s 7-Zip is built without it (the non-free 7zip-rar adds it)');
      throw err;
    }
    await container(run, listed.members.map((m) => ({
      name: m.name, directory: m.directory, encrypted: m.encrypted,
      read: async () => {
        const cap = Math.min(run.limits.maxMemberBytes, run.inflateRoom);
        if (cap === 0) {
          run.missing(`more than ${run.limits.maxInflatedBytes} bytes to inflate`);
          return null;
        }
        const r = await archive.read(m, cap);
        run.inflated(r.bytes.length);
        if (!r.complete) run.missing(`"${m.name}" inflates to more than ${cap} bytes`);
        return r.bytes;
      },
    })), listed.more, depth);
  } finally {
    archive.close();
  }
}

// An attached message: its headers and text, then its attachments as the message's own are.
async function message(run: ExtractionRun, bytes: Uint8Array, depth: number): Promise<void> {
  const parsed = await parseMessage(bytes, { keep: (a, content) => readable(formatOf(a.contentType, a.filename, content), run.ocr !== null) });
  const people = (list: { address: string; name: string }[]) => list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
  run.add([parsed.subject ?? '', people(parsed.from), people(parsed.to), people(parsed.cc), parsed.text].filter(Boolean).join('\n'));
  for (const a of parsed.attachments) {
    if (a.filename) run.add(a.filename);
    if (!a.content) continue;
    if (!within(run, depth, a.filename ?? 'an attachment') || !run.nextFile()) break;
    try {
      await read(run, a.content, formatOf(a.contentType, a.filename, a.content)!, depth + 1);
    } catch (err) {
      nested(run, a.filename ?? a.contentType, err);
    }
  }
}

// The first bytes of a text file that can hold the text kept (`perChar` bytes a character:
// markup outweighs an HTML page's text several times over); more would only be cut after decoding.
function head(run: ExtractionRun, bytes: Uint8Array, perChar: number): Uint8Array {
  const max = run.limits.maxChars * perChar;
  if (bytes.length <= max) return bytes;
  run.missing(`more than ${max} bytes of text`);
  return bytes.subarray(0, max);
}

// Whether a file inside a container at `depth` is read: not past the nesting limit.
function within(run: ExtractionRun, depth: number, name: string): boolean {
  if (depth + 1 <= run.limits.maxDepth) return true;
  run.missing(`"${name}" is nested deeper than ${run.limits.maxDepth} levels`);
  return false;
}

// A file inside a container that could not be read leaves the container's other text.
function nested(run: ExtractionRun, name: string, err: unknown): void {
  if (err instanceof Encrypted) run.missing(`"${name}" is encrypted`);
  else run.missing(`"${name}": ${(err as Error).message}`);
}

// Text in the charset its bytes show: a byte order mark, else UTF-8 if they are UTF-8, else
// the charset the file declares (HTML), else windows-1252, which every byte decodes in. The
// charset a MIME part declares is not at hand: postal-mime does not hand it over.
function decode(bytes: Uint8Array, declared: string | null): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (declared) {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // not a charset this runtime knows
    }
  }
  return new TextDecoder('windows-1252').decode(bytes);
}

// <meta charset="…"> or <meta http-equiv="Content-Type" content="…; charset=…"> near the top.
function htmlCharset(bytes: Uint8Array): string | null {
  const top = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096)).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(top)?.[1] ?? null;
}
