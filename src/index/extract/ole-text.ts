import CFB from 'cfb';
import { Encrypted } from './extraction-run.ts';
import type { ExtractionRun } from './extraction-run.ts';
import { toolText } from './text-tool.ts';

// Legacy Office files (DOC, XLS, PPT) are OLE2 compound files: a small file system of streams.
// Which streams it holds says what it is, whatever its name or type claims: a password-protected
// DOCX, XLSX or PPTX is one too (an EncryptedPackage). DOC goes to catdoc and XLS to xls2csv, the
// Debian tools made for them; PPT is read here, as catdoc's catppt finds no text in slides that
// LibreOffice writes (their text sits in the slides' drawings, not in the outline it reads).

const TEXT_CHARS_ATOM = 0x0fa0;    // UTF-16LE
const TEXT_BYTES_ATOM = 0x0fa8;    // one byte per character (the low byte of UTF-16)
const MAIN_MASTER = 0x03f8;        // the master slides' placeholder text ("Click to edit…") is not the document's
const MAX_RECORD_DEPTH = 64;

export async function oleText(bytes: Uint8Array, run: ExtractionRun): Promise<void> {
  let container: CFB.CFB$Container;
  try {
    container = CFB.parse(bytes, { type: 'buffer' });
  } catch (err) {
    throw new Error(`not a readable OLE2 file (${(err as Error).message})`);
  }
  const stream = (name: string) => {
    const entry = container.FileIndex.find((e) => e.name === name && e.type === 2);
    return entry ? Uint8Array.from(entry.content as ArrayLike<number>) : null;
  };
  if (stream('EncryptedPackage') || stream('EncryptionInfo') || stream('EncryptedSummary')) throw new Encrypted();
  const word = stream('WordDocument');
  if (word) {
    // The FIB's fEncrypted flag (bit 8 of the flags at offset 10).
    if (word.length > 11 && (word[11]! & 1) !== 0) throw new Encrypted();
    run.add(await toolText(run, 'catdoc', ['-d', 'utf-8', '-w'], bytes));
    return;
  }
  const book = stream('Workbook') ?? stream('Book');
  if (book) {
    if (hasFilePass(book)) throw new Encrypted();
    run.add(await toolText(run, 'xls2csv', ['-d', 'utf-8', '-q0'], bytes, { named: true }));
    return;
  }
  const slides = stream('PowerPoint Document');
  if (slides) {
    pptRecords(new DataView(slides.buffer, slides.byteOffset, slides.byteLength), 0, slides.length, 0, run);
    return;
  }
  throw new Error('an OLE2 file that is neither DOC, XLS nor PPT');
}

// A workbook whose globals carry a FILEPASS record (0x2F) is encrypted.
function hasFilePass(book: Uint8Array): boolean {
  const v = new DataView(book.buffer, book.byteOffset, book.byteLength);
  for (let p = 0, n = 0; p + 4 <= book.length && n < 256; n++) {
    const type = v.getUint16(p, true);
    if (type === 0x2f) return true;
    if (type === 0x0a) return false;
    p += 4 + v.getUint16(p + 2, true);
  }
  return false;
}

// PowerPoint records: containers (version 0xF) hold records; the text is in its text atoms.
function pptRecords(v: DataView, start: number, end: number, depth: number, run: ExtractionRun): void {
  for (let p = start; p + 8 <= end && !run.full; ) {
    const version = v.getUint16(p, true) & 0xf;
    const type = v.getUint16(p + 2, true);
    const body = p + 8;
    const next = body + v.getUint32(p + 4, true);
    if (next > end) return;
    if (version === 0xf) {
      if (type !== MAIN_MASTER && depth < MAX_RECORD_DEPTH) pptRecords(v, body, next, depth + 1, run);
    } else if (type === TEXT_CHARS_ATOM) {
      run.add(Buffer.from(v.buffer, v.byteOffset + body, next - body).toString('utf16le') + '\n');
    } else if (type === TEXT_BYTES_ATOM) {
      run.add(Buffer.from(v.buffer, v.byteOffset + body, next - body).toString('latin1') + '\n');
    }
    p = next;
  }
}
