import type { ZipArchive, ZipMember } from './zip-archive.ts';

// What reading one attachment may cost, and what became of it. The limits hold for the
// attachment and everything inside it together (an archive's members, an attached message's
// attachments), so nesting cannot multiply them.

export type Extraction = 'ok' | 'encrypted' | `truncated: ${string}` | `failed: ${string}`;

function limit(name: string, value: number): number {
  // A limit that is 0, NaN or Infinity would quietly switch the guard off.
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export const EXTRACT_LIMITS = Object.freeze({
  // Text kept per attachment (as much as a message body, parse-message.ts).
  maxChars: limit('maxChars', 1024 * 1024),
  // Containers (archives, attached messages) opened one inside another; what lies deeper is
  // listed by name at most.
  maxDepth: limit('maxDepth', 3),
  // Bytes inflated from ZIP members in all, and from any one member.
  maxInflatedBytes: limit('maxInflatedBytes', 64 * 1024 * 1024),
  maxMemberBytes: limit('maxMemberBytes', 32 * 1024 * 1024),
  // A member that declares more than this many bytes per compressed byte (and more than a
  // megabyte) is a bomb, not a document: real Office XML compresses about 10 to 1.
  maxRatio: limit('maxRatio', 100),
  // Archive members listed, and files inside containers read.
  maxMembers: limit('maxMembers', 10_000),
  maxFiles: limit('maxFiles', 200),
  // Seconds for the whole attachment; a Debian tool gets at most this too, and this much memory.
  seconds: limit('seconds', 30),
  toolMemoryBytes: limit('toolMemoryBytes', 1024 * 1024 * 1024),
  // PDF pages read.
  pdfPages: limit('pdfPages', 2000),
  // With OCR: pages of a PDF without a text layer rendered and read (the run's time bounds them
  // too), and the longest side of a rendered page in pixels (about 200 dpi on A4).
  ocrPages: limit('ocrPages', 10),
  ocrPixels: limit('ocrPixels', 2400),
});

const TIDY_SLICE = 64 * 1024;

// A reader found the content encrypted: recorded as such, with whatever could be read (names).
export class Encrypted extends Error {}

export class ExtractionRun {
  readonly limits = EXTRACT_LIMITS;
  // OCR's languages (tesseract's names, "eng+nor"), or null: pictures and scans are not read.
  readonly ocr: string | null;
  readonly #parts: string[] = [];
  #room = EXTRACT_LIMITS.maxChars;
  #inflateRoom = EXTRACT_LIMITS.maxInflatedBytes;
  #files = 0;
  readonly #deadline = performance.now() + EXTRACT_LIMITS.seconds * 1000;
  #missing: string | null = null;
  encrypted = false;

  constructor(options: { ocr?: string | null } = {}) {
    this.ocr = options.ocr ?? null;
  }

  // Whether the run's time is up.
  get expired(): boolean {
    return performance.now() > this.#deadline;
  }

  // Layout is not text: runs of blanks become one, and blank lines go (XML indentation, PDF
  // columns). Done a slice at a time, and only as far as there is room: one regular expression
  // over megabytes of text costs a hundred times their size in memory.
  add(text: string): void {
    const pieces: string[] = [];
    let room = this.#room;
    for (let i = 0; i < text.length && room > 0; i += TIDY_SLICE) {
      let piece = text.slice(i, i + TIDY_SLICE).replace(/[ \t\f\v\r\u00a0]{2,}|[\t\f\v\r\u00a0]/g, ' ').replace(/ ?\n\s*/g, '\n');
      if (i === 0) piece = piece.trimStart();
      if (piece.length > room) {
        this.missing(`more than ${EXTRACT_LIMITS.maxChars} characters of text`);
        piece = piece.slice(0, room);
      }
      pieces.push(piece);
      room -= piece.length;
    }
    const tidy = pieces.join('').trimEnd();
    if (!tidy) return;
    this.#parts.push(tidy);
    this.#room -= tidy.length;
  }

  // Why some of the text is not there (the first reason is the one recorded).
  missing(reason: string): void {
    this.#missing ??= reason;
  }

  get full(): boolean {
    return this.#room === 0;
  }

  // Whether one more file inside a container may be read (counted), and time is left for it.
  nextFile(): boolean {
    if (performance.now() > this.#deadline) {
      this.missing(`not read within ${EXTRACT_LIMITS.seconds} s`);
      return false;
    }
    if (this.#files++ >= EXTRACT_LIMITS.maxFiles) {
      this.missing(`more than ${EXTRACT_LIMITS.maxFiles} files inside`);
      return false;
    }
    return !this.full;
  }

  // Seconds left for a tool.
  get secondsLeft(): number {
    return Math.max(1, Math.ceil((this.#deadline - performance.now()) / 1000));
  }

  // A ZIP member's bytes within the limits; null (and the reason noted) when it is not read.
  unzip(zip: ZipArchive, m: ZipMember): Uint8Array | null {
    if (m.encrypted) {
      this.encrypted = true;
      return null;
    }
    if (m.size > 1024 * 1024 && m.size > m.compressedSize * EXTRACT_LIMITS.maxRatio) {
      this.missing(`"${m.name}" expands ${Math.round(m.size / Math.max(1, m.compressedSize))} times (a ZIP bomb?)`);
      return null;
    }
    if (this.#inflateRoom === 0) {
      this.missing(`more than ${EXTRACT_LIMITS.maxInflatedBytes} bytes to inflate`);
      return null;
    }
    const cap = Math.min(EXTRACT_LIMITS.maxMemberBytes, this.#inflateRoom);
    const { bytes, complete } = zip.read(m, cap);
    this.#inflateRoom -= bytes.length;
    if (!complete) this.missing(`"${m.name}" inflates to more than ${cap} bytes`);
    return bytes;
  }

  // Bytes inflated from a gzip stream of `compressed` bytes may be at most this many: what is
  // left of maxInflatedBytes, and no more than maxRatio times its size (past a megabyte).
  inflateBudget(compressed: number): number {
    return Math.min(this.#inflateRoom, Math.max(1024 * 1024, compressed * EXTRACT_LIMITS.maxRatio));
  }

  // Bytes inflated (or extracted by a tool) outside unzip(), counted against maxInflatedBytes.
  inflated(bytes: number): void {
    this.#inflateRoom = Math.max(0, this.#inflateRoom - bytes);
  }

  get inflateRoom(): number {
    return this.#inflateRoom;
  }

  // A member's bytes as read (an archive already in memory), cut at maxMemberBytes.
  member(bytes: Uint8Array, name: string): Uint8Array {
    if (bytes.length <= EXTRACT_LIMITS.maxMemberBytes) return bytes;
    this.missing(`"${name}" holds more than ${EXTRACT_LIMITS.maxMemberBytes} bytes`);
    return bytes.subarray(0, EXTRACT_LIMITS.maxMemberBytes);
  }

  result(failure?: string): { text: string; extraction: Extraction } {
    const text = this.#parts.join('\n');
    if (failure !== undefined) return { text, extraction: `failed: ${failure}` };
    if (this.encrypted) return { text, extraction: 'encrypted' };
    return { text, extraction: this.#missing === null ? 'ok' : `truncated: ${this.#missing}` };
  }
}
