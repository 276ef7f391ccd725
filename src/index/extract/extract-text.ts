import { isUtf8 } from 'node:buffer';
import { htmlToText, parseMessage } from '../parse-message.ts';
import { calendarText, vcardText } from './content-lines.ts';
import { Encrypted, ExtractionRun } from './extraction-run.ts';
import type { Extraction } from './extraction-run.ts';
import { formatOf, sniff } from './formats.ts';
import type { Format } from './formats.ts';
import { officeText } from './office-text.ts';
import { oleText } from './ole-text.ts';
import { rtfText } from './rtf-text.ts';
import { toolText } from './text-tool.ts';
import { ZipArchive } from './zip-archive.ts';

// The text of one attachment, and what became of reading it (ExtractionRun's limits). Runs in
// the extractor's worker (extract-worker.ts); never throws: a fault is the attachment's
// outcome, `failed: reason`, with whatever text came before it.

export interface AttachmentFile {
  content: Uint8Array;
  contentType: string | null;
  filename: string | null;
}

export async function extractText(file: AttachmentFile): Promise<{ text: string; extraction: Extraction }> {
  const run = new ExtractionRun();
  try {
    const format = formatOf(file.contentType, file.filename, file.content);
    if (format === null) return run.result('not a kind of file whose text is read');
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
    case 'pdf':
      run.add(await toolText(run, 'pdftotext', ['-enc', 'UTF-8', '-nopgbrk', '-l', String(run.limits.pdfPages), 'fd://0', '-'], bytes, {
        // Exit code 3: copying text is not permitted; or the password is not the empty one.
        judge: (r) => { if (r.code === 3 || /password/i.test(r.stderr)) throw new Encrypted(); },
      }));
      return;
    case 'docx': case 'xlsx': case 'pptx': case 'odt': case 'ods': case 'odp': case 'zip': {
      const zip = new ZipArchive(bytes, run.limits.maxMembers);
      if (!officeText(zip, run)) await archive(run, zip, depth);
      return;
    }
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

// An archive: its members' names, and the text of those whose kind is read, one level further in.
async function archive(run: ExtractionRun, zip: ZipArchive, depth: number): Promise<void> {
  run.add(zip.members.map((m) => m.name).join('\n'));
  if (zip.more) run.missing(`more than ${run.limits.maxMembers} files in the archive`);
  for (const m of zip.members) {
    if (m.name.endsWith('/')) continue;
    const format = formatOf(null, m.name);
    if (format === null) continue;
    if (m.encrypted) {
      run.encrypted = true;
      continue;
    }
    if (!within(run, depth, m.name) || !run.nextFile()) break;
    try {
      const bytes = run.unzip(zip, m);
      if (bytes !== null) await read(run, bytes, format, depth + 1);
    } catch (err) {
      nested(run, m.name, err);
    }
  }
}

// An attached message: its headers and text, then its attachments as the message's own are.
async function message(run: ExtractionRun, bytes: Uint8Array, depth: number): Promise<void> {
  const parsed = await parseMessage(bytes, { keep: (a, content) => formatOf(a.contentType, a.filename, content) !== null });
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
