import { Buffer, isUtf8 } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { TextDecoder, TextEncoder } from 'node:util';
import PostalMime, { addressParser } from 'postal-mime';
import type { Attachment as MimeAttachment, Email, Header } from 'postal-mime';
import { installMemoryBlob } from './memory-blob.ts';

// postal-mime joins each part's lines through a Blob: see MemoryBlob.
installMemoryBlob();

export type Address = {
  /** lowercased addr-spec, '' when the mailbox has none */
  address: string;
  name: string;
};

export type AttachmentInfo = {
  filename: string | null;
  contentType: string;
  size: number;
  /**
   * hex SHA-256 of the decoded bytes as postal-mime gives them: exact for base64 parts;
   * parts in 7bit, 8bit or quoted-printable come with every line ended by LF
   */
  sha256: string;
  /** without the angle brackets, as `cid:` URLs refer to it */
  contentId: string | null;
  disposition: string | null;
  /** the decoded bytes, only where parseMessage's `keep` asked for them */
  content?: Uint8Array;
};

export type ParsedMessage = {
  /** without the angle brackets */
  messageId: string | null;
  /** the Message-IDs of In-Reply-To and References, without the angle brackets, in header order */
  inReplyTo: string[];
  references: string[];
  /** ms since the epoch; null when the Date header is missing or unreadable */
  date: number | null;
  from: Address[];
  sender: Address[];
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  /** from a Bcc header; the envelope is the better source */
  bcc: Address[];
  subject: string | null;
  /** plain text body, or the HTML body as readable text; at most MAX_TEXT_BYTES of UTF-8 */
  text: string;
  attachments: AttachmentInfo[];
  /** set when the message could be read only in part */
  parseError: string | null;
};

function limit(name: string, value: number): number {
  // A limit that is 0, NaN or Infinity would quietly switch the guard off.
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

// Real mail nests a few levels and carries tens of parts (the SpamAssassin corpus:
// at most 3 levels and 21 parts); the margins are wide so only hostile input hits them.
const MAX_MIME_DEPTH = limit('MAX_MIME_DEPTH', 32);
const MAX_MIME_PARTS = limit('MAX_MIME_PARTS', 1000);
const MAX_RFC822_DEPTH = limit('MAX_RFC822_DEPTH', 8);
const MAX_HEADERS_SIZE = limit('MAX_HEADERS_SIZE', 2 * 1024 * 1024);
const MAX_TEXT_BYTES = limit('MAX_TEXT_BYTES', 1024 * 1024);
// Markup outweighs text several times over; converting more HTML than this cannot add text.
const MAX_HTML_CHARS = limit('MAX_HTML_CHARS', 8 * MAX_TEXT_BYTES);
// The charset hint for raw 8-bit headers is looked for near the top of the message.
const CHARSET_HINT_WINDOW = limit('CHARSET_HINT_WINDOW', 64 * 1024);
// Base64 attachment bodies larger than this are decoded here rather than by postal-mime, whose
// decoder holds the decoded bytes three times at its end (its pieces, a Blob of them, the
// ArrayBuffer read from the Blob): 72 MB at once for the 24 MB attachment of a 32 MB message.
const LARGE_BODY_BYTES = limit('LARGE_BODY_BYTES', 1024 * 1024);

// Messages larger than this are indexed from their first bytes only (the archive keeps all of
// them); parsing holds the whole input in memory. Here rather than in indexer.ts: the content
// reader and the exporter cut a message as the indexer does, and importing the indexer loaded
// mailauth's checks (~6 MB of heap) on the receiving thread, which never uses them.
export const MAX_PARSE_BYTES = limit('MAX_PARSE_BYTES', 32 * 1024 * 1024);

// What ParseOptions.keepByHead hands over of a large body: enough to tell its kind (extract/formats.ts).
const HEAD_BYTES = limit('HEAD_BYTES', 4096);

export const PARSE_LIMITS = Object.freeze({
  maxMimeDepth: MAX_MIME_DEPTH,
  maxMimeParts: MAX_MIME_PARTS,
  maxRfc822Depth: MAX_RFC822_DEPTH,
  maxHeadersSize: MAX_HEADERS_SIZE,
  maxTextBytes: MAX_TEXT_BYTES,
  largeBodyBytes: LARGE_BODY_BYTES,
  headBytes: HEAD_BYTES,
});

const MIME_OPTIONS = Object.freeze({
  // Raw bytes, not base64 strings: they are hashed, and kept only where parseMessage's `keep` asks.
  attachmentEncoding: 'arraybuffer',
  maxNestingDepth: MAX_MIME_DEPTH,
  maxHeadersSize: MAX_HEADERS_SIZE,
  maxRfc822NestingDepth: MAX_RFC822_DEPTH,
} as const);

export interface ParseOptions {
  /** which attachments keep their bytes (`content`): those whose text is extracted; the rest are hashed and dropped */
  keep?(attachment: AttachmentInfo, content: Uint8Array): boolean;
  /**
   * keep judges an attachment by its first bytes only (its kind: extract/formats.ts sniffs a few
   * hundred): a large body is then handed to it as its first HEAD_BYTES, and one it does not keep
   * is hashed as it is decoded, never held whole (so is every large body when there is no keep)
   */
  keepByHead?: boolean;
  /**
   * the input is the caller's to give up: a large body is decoded over its own base64 in it (the
   * bytes are fewer than the characters), so a kept one is a view into the input, not a copy; but
   * only one that is at least half of the input's buffer, which it holds (a smaller one is copied
   * out, so that a 1 MB PDF kept for reading does not hold the 32 MB message it came in)
   */
  consume?: boolean;
}

/**
 * Reads what the index needs from a stored message. Never throws for bad input: an
 * archive keeps evidence, it does not judge it, so whatever could be recovered is
 * returned together with `parseError`.
 */
export async function parseMessage(raw: Uint8Array, options: ParseOptions = {}): Promise<ParsedMessage> {
  if (raw.byteLength === 0) {
    return buildResult(null, 'empty message (0 bytes)');
  }
  let bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  bytes = transcodeLegacyHeaders(bytes);

  const errors: string[] = [];
  const breach = findLimitBreach(bytes);
  if (breach) {
    errors.push(`${breach.reason}; indexed the parts before the limit`);
    bytes = bytes.subarray(0, breach.offset);
  }

  let email: Email | null = null;
  let large: LargeBodies['ranges'] | null = null;
  try {
    const around = await parseAroundLargeBodies(bytes);
    large = around?.ranges ?? null;
    // postal-mime copies a view into an ArrayBuffer of its own; bytes that are the whole of
    // theirs (the indexer reads a large message so) are handed over as they are: it only reads them.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    email = around?.email ?? await PostalMime.parse(whole ? bytes.buffer as ArrayBuffer : bytes, MIME_OPTIONS);
  } catch (err) {
    errors.push(`MIME parse failed: ${errorMessage(err)}; indexed the top-level headers only`);
    email = await parseHeadersOnly(bytes);
  }

  if (email?.attachments.some((a) => a.rfc822DepthExceeded)) {
    errors.push(`message/rfc822 nested deeper than ${MAX_RFC822_DEPTH}; the innermost messages are indexed as attachments`);
  }
  const ranges = large;
  const bodyOf = ranges ? (a: MimeAttachment): LargeBody | null => {
    const range = ranges.get(a);
    return range ? { decode: () => decodeBase64Body(bytes, range, options.consume === true), hash: () => hashBase64Body(bytes, range) } : null;
  } : undefined;
  return buildResult(email, errors.length ? errors.join('; ') : null, options, bodyOf);
}

async function parseHeadersOnly(bytes: Buffer): Promise<Email | null> {
  let end = headerBlockEnd(bytes);
  if (end > MAX_HEADERS_SIZE) {
    // Cut at a line break so that no header is read half-way.
    end = bytes.lastIndexOf(0x0a, MAX_HEADERS_SIZE - 1) + 1;
  }
  try {
    return await PostalMime.parse(bytes.subarray(0, end), MIME_OPTIONS);
  } catch {
    return null;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------
// Mapping postal-mime's result

const ADDRESS_FIELDS = [
  ['from', 'from'],
  ['sender', 'sender'],
  ['reply-to', 'replyTo'],
  ['to', 'to'],
  ['cc', 'cc'],
  ['bcc', 'bcc'],
] as const;

// A large body that parseMessage decodes itself (see parseAroundLargeBodies): whole, or only hashed.
interface LargeBody {
  decode(): Uint8Array;
  hash(): { sha256: string; size: number; head: Uint8Array };
}

function buildResult(email: Email | null, parseError: string | null, options: ParseOptions = {}, bodyOf?: (a: MimeAttachment) => LargeBody | null): ParsedMessage {
  const headers = email?.headers ?? [];
  const result: ParsedMessage = {
    messageId: email?.messageId ? normalizeMessageId(email.messageId) : null,
    inReplyTo: messageIdList(firstHeader(headers, 'in-reply-to')),
    references: messageIdList(firstHeader(headers, 'references')),
    date: parseMailDate(firstHeader(headers, 'date')),
    from: [],
    sender: [],
    replyTo: [],
    to: [],
    cc: [],
    bcc: [],
    subject: email?.subject !== undefined ? clean(email.subject) : null,
    text: '',
    attachments: [],
    parseError,
  };
  if (!email) return result;

  for (const [key, field] of ADDRESS_FIELDS) {
    result[field] = readAddresses(headers, key);
  }
  if (email.text) {
    result.text = boundText(clean(email.text));
  } else if (email.html) {
    result.text = boundText(clean(htmlToText(email.html.slice(0, MAX_HTML_CHARS))));
  }
  // One large body decoded at a time: each is let go once hashed, unless `keep` keeps it.
  result.attachments = email.attachments.map((a) => describeAttachment(a, options, bodyOf?.(a) ?? undefined));
  return result;
}

// Every occurrence counts: a second From or To is evidence too, and postal-mime keeps
// only the first From.
function readAddresses(headers: Header[], key: string): Address[] {
  const out: Address[] = [];
  for (const header of headers) {
    if (header.key !== key || !header.value) continue;
    for (const mailbox of addressParser(header.value, { flatten: true })) {
      const address = clean(mailbox.address ?? '').trim().toLowerCase();
      const name = clean(mailbox.name).trim();
      if (address || name) out.push({ address, name });
    }
  }
  return out;
}

function firstHeader(headers: Header[], key: string): string | null {
  return headers.find((h) => h.key === key)?.value ?? null;
}

function normalizeMessageId(value: string): string | null {
  const bracketed = /<([^<>]*)>/.exec(value);
  const id = clean(bracketed ? bracketed[1] : value).trim();
  return id || null;
}

// The <…> ids of In-Reply-To or References (comments and phrases around them ignored); a bare
// id without brackets counts when it is all there is. At most the last 64: a thread needs few.
function messageIdList(value: string | null): string[] {
  if (!value) return [];
  const ids = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => clean(m[1]!)).filter(Boolean);
  if (ids.length === 0 && /^\S+@\S+$/.test(value.trim())) ids.push(clean(value.trim()));
  return ids.slice(-64);
}

function describeAttachment(attachment: MimeAttachment, options: ParseOptions, large?: LargeBody): AttachmentInfo {
  const { keep } = options;
  const describe = (size: number, sha256: string): AttachmentInfo => ({
    filename: attachment.filename === null ? null : clean(attachment.filename),
    contentType: attachment.mimeType,
    size,
    sha256,
    contentId: attachment.contentId ? clean(attachment.contentId).replace(/^\s*<|>\s*$/g, '') || null : null,
    disposition: attachment.disposition,
  });
  // Hashed as it is decoded, and decoded whole (a second time) only if kept: a 24 MB body would
  // otherwise be held beside the message it came from.
  if (large && (!keep || options.keepByHead)) {
    const { sha256, size, head } = large.hash();
    const info = describe(size, sha256);
    if (keep?.(info, head)) info.content = held(large.decode());
    return info;
  }
  const content = large?.decode() ??
    (typeof attachment.content === 'string'
      ? Buffer.from(attachment.content, 'utf8')
      : new Uint8Array(attachment.content));
  const info = describe(content.byteLength, createHash('sha256').update(content).digest('hex'));
  if (keep?.(info, content)) info.content = large ? held(content) : content;
  return info;
}

// A large body decoded in place (ParseOptions.consume) is a view of the input: kept as it is only
// if it is most of what it holds alive.
function held(body: Uint8Array): Uint8Array {
  return body.byteLength * 2 >= body.buffer.byteLength ? body : new Uint8Array(body);
}

// NUL cannot be stored in PostgreSQL text and has no meaning in an index.
function clean(value: string): string {
  return value.includes('\0') ? value.replaceAll('\0', '') : value;
}

const utf8Encoder = new TextEncoder();

function boundText(text: string): string {
  // Each UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no measuring.
  if (text.length * 3 <= MAX_TEXT_BYTES) return text;
  // encodeInto stops before a character that does not fit, never inside one.
  const { read } = utf8Encoder.encodeInto(text, new Uint8Array(MAX_TEXT_BYTES));
  return text.slice(0, read);
}

// ---------------------------------------------------------------------------
// MIME bomb guard: a cheap pass over the delimiter lines that postal-mime will act on,
// finding where the message first goes deeper or wider than the limits. postal-mime
// throws away everything on its own depth limit and has no limit on the number of
// parts, so the message is cut there instead and the part before it is indexed.

type Multipart = { boundary: string; depth: number; digest: boolean };

const MULTIPART_RE = /^\s*multipart\/([a-z0-9.+-]+)/i;
const BOUNDARY_RE = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))/i;
const TRAILING_WSP_RE = /^[ \t]*$/;

function findLimitBreach(bytes: Buffer): { offset: number; reason: string } | null {
  const open: Multipart[] = [];
  let inHeaders = true;
  let depth = 0;
  let parts = 0;
  let contentType: string | null = null;
  let inContentType = false;
  let digestChild = false;

  for (let pos = 0; pos < bytes.length; ) {
    const lf = bytes.indexOf(0x0a, pos);
    const next = lf < 0 ? bytes.length : lf + 1;
    let end = lf < 0 ? bytes.length : lf;
    while (end > pos && bytes[end - 1] === 0x0d) end--;

    // postal-mime looks for delimiters on every line, headers included.
    if (open.length && end - pos > 2 && bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) {
      const line = bytes.toString('latin1', pos + 2, end);
      const hit = matchDelimiter(open, line);
      if (hit) {
        const multipart = open[hit.index];
        if (hit.closing) {
          open.length = hit.index;
          inHeaders = false;
          depth = multipart.depth;
        } else {
          open.length = hit.index + 1;
          parts++;
          depth = multipart.depth + 1;
          if (parts > MAX_MIME_PARTS) return { offset: pos, reason: `more than ${MAX_MIME_PARTS} MIME parts` };
          if (depth > MAX_MIME_DEPTH) return { offset: pos, reason: `MIME parts nested deeper than ${MAX_MIME_DEPTH}` };
          inHeaders = true;
          contentType = null;
          inContentType = false;
          digestChild = multipart.digest;
        }
        pos = next;
        continue;
      }
    }

    if (inHeaders) {
      if (end === pos) {
        const type = contentType ?? (digestChild ? 'message/rfc822' : 'text/plain');
        const multipart = MULTIPART_RE.exec(type);
        const boundary = multipart && BOUNDARY_RE.exec(type);
        if (multipart && boundary) {
          open.push({ boundary: boundary[1] ?? boundary[2], depth, digest: multipart[1].toLowerCase() === 'digest' });
          inHeaders = false;
        } else if (/^\s*message\/rfc822\b/i.test(type)) {
          // The headers of the enclosed message follow; postal-mime parses it as well.
          depth++;
          if (depth > MAX_MIME_DEPTH) return { offset: next, reason: `MIME parts nested deeper than ${MAX_MIME_DEPTH}` };
          contentType = null;
          digestChild = false;
        } else {
          inHeaders = false;
        }
        inContentType = false;
      } else if (inContentType && (bytes[pos] === 0x20 || bytes[pos] === 0x09)) {
        contentType += bytes.toString('latin1', pos, end);
      } else {
        inContentType = false;
        // Only lines that can start a Content-Type header are decoded, to keep this cheap.
        if (contentType === null && (bytes[pos] | 0x20) === 0x63) {
          const line = bytes.toString('latin1', pos, end);
          const colon = line.indexOf(':');
          if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-type') {
            contentType = line.slice(colon + 1);
            inContentType = true;
          }
        }
      }
    }
    pos = next;
  }
  return null;
}

// The innermost open multipart wins, as in postal-mime.
function matchDelimiter(open: Multipart[], line: string): { index: number; closing: boolean } | null {
  for (let i = open.length - 1; i >= 0; i--) {
    const boundary = open[i].boundary;
    if (!line.startsWith(boundary)) continue;
    const closing = line.startsWith('--', boundary.length);
    if (TRAILING_WSP_RE.test(line.slice(boundary.length + (closing ? 2 : 0)))) return { index: i, closing };
  }
  return null;
}

function headerBlockEnd(bytes: Buffer): number {
  for (let pos = 0; pos < bytes.length; ) {
    const lf = bytes.indexOf(0x0a, pos);
    if (lf < 0) return bytes.length;
    let end = lf;
    while (end > pos && bytes[end - 1] === 0x0d) end--;
    if (end === pos) return pos;
    pos = lf + 1;
  }
  return bytes.length;
}

// ---------------------------------------------------------------------------
// Large attachment bodies: postal-mime parses the message with each large base64 body of an
// attachment replaced by one line, a marker, and each such body is decoded here from the
// message's own bytes, as postal-mime would decode it, when its attachment is described. Only a
// body postal-mime would give as an attachment whole is replaced: a leaf part (not text, not a
// message, not inside an attached message) declared base64, with no "-" in it, so that no line of
// it can be a delimiter, whatever postal-mime reads as one. Where postal-mime does not give back
// every marker as an attachment of its own, the message is parsed whole instead.

type BodyRange = { start: number; end: number };
type LargeBodies = { email: Email; ranges: Map<MimeAttachment, BodyRange> };

const MARKER_BYTES = 30; // 40 base64 characters, no padding

async function parseAroundLargeBodies(bytes: Buffer): Promise<LargeBodies | null> {
  // Most mail has no body this large: not scanned again.
  const ranges = bytes.length > LARGE_BODY_BYTES ? findLargeBodies(bytes) : [];
  if (ranges.length === 0) return null;
  const marker = randomBytes(MARKER_BYTES - 4);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const [i, r] of ranges.entries()) {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(i);
    pieces.push(bytes.subarray(at, r.start), Buffer.from(`${Buffer.concat([marker, id]).toString('base64')}\r\n`));
    at = r.end;
  }
  pieces.push(bytes.subarray(at));
  let email: Email;
  try {
    email = await PostalMime.parse(Buffer.concat(pieces), MIME_OPTIONS);
  } catch {
    return null;
  }
  const found = new Map<MimeAttachment, BodyRange>();
  const seen = new Set<number>();
  for (const a of email.attachments) {
    if (typeof a.content === 'string' || a.content.byteLength !== MARKER_BYTES) continue;
    const content = Buffer.from(new Uint8Array(a.content as ArrayBuffer));
    if (!content.subarray(0, MARKER_BYTES - 4).equals(marker)) continue;
    const i = content.readUInt32BE(MARKER_BYTES - 4);
    if (i >= ranges.length || seen.has(i)) return null;
    seen.add(i);
    found.set(a, ranges[i]!);
  }
  return seen.size === ranges.length ? { email, ranges: found } : null;
}

// The bodies to decode here, in message order (see above); the walk is findLimitBreach's.
// Exported for its test.
export function findLargeBodies(bytes: Buffer): BodyRange[] {
  const found: BodyRange[] = [];
  const open: (Multipart & { inMessage: boolean })[] = [];
  let inHeaders = true;
  let contentType: string | null = null;
  let encoding: string | null = null;
  let continued: 'type' | 'encoding' | null = null;
  let digestChild = false;
  let inMessage = false;   // within an attached message/rfc822
  let bodyStart = -1;      // a leaf body that may be decoded here
  const close = (end: number) => {
    if (bodyStart >= 0 && end - bodyStart > LARGE_BODY_BYTES && bytes.subarray(bodyStart, end).indexOf(0x2d) < 0) found.push({ start: bodyStart, end });
    bodyStart = -1;
  };

  for (let pos = 0; pos < bytes.length; ) {
    const lf = bytes.indexOf(0x0a, pos);
    const next = lf < 0 ? bytes.length : lf + 1;
    let end = lf < 0 ? bytes.length : lf;
    while (end > pos && bytes[end - 1] === 0x0d) end--;

    if (open.length && end - pos > 2 && bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) {
      const hit = matchDelimiter(open, bytes.toString('latin1', pos + 2, end));
      if (hit) {
        close(pos);
        const multipart = open[hit.index];
        if (hit.closing) {
          open.length = hit.index;
          inHeaders = false;
        } else {
          open.length = hit.index + 1;
          inHeaders = true;
          contentType = null;
          encoding = null;
          continued = null;
          digestChild = multipart.digest;
          inMessage = multipart.inMessage;
        }
        pos = next;
        continue;
      }
    }
    if (bodyStart >= 0) {
      // A body line: skipped whole (bodies are most of a large message).
      pos = next;
      continue;
    }

    if (inHeaders) {
      if (end === pos) {
        const type = contentType ?? (digestChild ? 'message/rfc822' : 'text/plain');
        const multipart = MULTIPART_RE.exec(type);
        const boundary = multipart && BOUNDARY_RE.exec(type);
        if (multipart && boundary) {
          open.push({ boundary: boundary[1] ?? boundary[2], depth: 0, digest: multipart[1].toLowerCase() === 'digest', inMessage });
          inHeaders = false;
        } else if (/^\s*message\/rfc822\b/i.test(type)) {
          contentType = null;
          encoding = null;
          digestChild = false;
          inMessage = true;
        } else {
          inHeaders = false;
          const declared = encoding?.replace(/\([^()]*\)/g, '').trim().toLowerCase();
          if (!inMessage && declared === 'base64' && !/^\s*(text|message|multipart)\//i.test(type)) bodyStart = next;
        }
        continued = null;
      } else if (continued && (bytes[pos] === 0x20 || bytes[pos] === 0x09)) {
        if (continued === 'type') contentType += bytes.toString('latin1', pos, end);
        else encoding += bytes.toString('latin1', pos, end);
      } else {
        continued = null;
        if ((bytes[pos] | 0x20) === 0x63) {
          const line = bytes.toString('latin1', pos, end);
          const colon = line.indexOf(':');
          const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
          if (name === 'content-type' && contentType === null) {
            contentType = line.slice(colon + 1);
            continued = 'type';
          } else if (name === 'content-transfer-encoding' && encoding === null) {
            encoding = line.slice(colon + 1);
            continued = 'encoding';
          }
        }
      }
    }
    pos = next;
  }
  close(bytes.length);
  return found;
}

// A base64 body decoded as postal-mime decodes it: every character outside the base64 alphabet
// is dropped, "=" ends a group of whole units (each decoded alone), and a last unit of one
// character decodes to nothing.
const BASE64_CHAR = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CHAR[c.charCodeAt(0)] = 1;
const DECODE_CHUNK = 64 * 1024; // characters, a multiple of 4

// Two passes: the size first, so the bytes are held once. In place: over the body's own
// characters, each write behind the characters read (three bytes for four).
function decodeBase64Body(bytes: Buffer, range: BodyRange, inPlace: boolean): Uint8Array {
  const decodedLength = (chars: number) => {
    const whole = chars % 4 === 1 ? chars - 1 : chars;
    return Math.floor(whole / 4) * 3 + (whole % 4 ? (whole % 4) - 1 : 0);
  };
  let size = 0;
  let run = 0;
  for (let i = range.start; i < range.end; i++) {
    const c = bytes[i];
    if (BASE64_CHAR[c]) run++;
    else if (c === 0x3d) {
      size += decodedLength(run);
      run = 0;
    }
  }
  size += decodedLength(run);

  const out = inPlace ? bytes.subarray(range.start, range.start + size) : Buffer.allocUnsafeSlow(size);
  let written = 0;
  base64Runs(bytes, range, (chars) => {
    written += out.write(chars, written, 'base64');
  });
  if (written !== size) throw new Error(`base64 body decoded to ${written} bytes, expected ${size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// The same bytes' SHA-256, size and first HEAD_BYTES, decoded a run at a time into one small buffer.
function hashBase64Body(bytes: Buffer, range: BodyRange): { sha256: string; size: number; head: Uint8Array } {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe((DECODE_CHUNK / 4) * 3);
  const head = Buffer.alloc(HEAD_BYTES);
  let headSize = 0;
  let size = 0;
  base64Runs(bytes, range, (chars) => {
    const n = piece.write(chars, 0, 'base64');
    hash.update(piece.subarray(0, n));
    if (headSize < HEAD_BYTES) headSize += piece.copy(head, headSize, 0, Math.min(n, HEAD_BYTES - headSize));
    size += n;
  });
  return { sha256: hash.digest('hex'), size, head: head.subarray(0, headSize) };
}

// Hands the body's characters on in the groups that decode alone, at most DECODE_CHUNK at a time.
function base64Runs(bytes: Buffer, { start, end }: BodyRange, decode: (chars: string) => void): void {
  const chunk = Buffer.allocUnsafe(DECODE_CHUNK);
  let n = 0;
  const flush = (count: number) => {
    if (count > 0) decode(chunk.toString('latin1', 0, count));
    n = 0;
  };
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (BASE64_CHAR[c]) {
      chunk[n++] = c;
      if (n === DECODE_CHUNK) flush(n);
    } else if (c === 0x3d && n > 0) {
      flush(n % 4 === 1 ? n - 1 : n);
    }
  }
  flush(n % 4 === 1 ? n - 1 : n);
}

// ---------------------------------------------------------------------------
// Raw 8-bit headers: postal-mime reads header bytes as UTF-8, so a Subject written in
// koi8-r or latin-1 without encoded words becomes replacement characters. Lines that
// are not UTF-8 are re-read in the charset the message declares (the sender's client
// wrote both in its local charset), or windows-1252, the usual default.

const CHARSET_RE = /charset\s*=\s*"?([A-Za-z0-9_.:+-]+)/i;

function transcodeLegacyHeaders(bytes: Buffer): Buffer {
  const end = headerBlockEnd(bytes);
  if (isUtf8(bytes.subarray(0, end))) return bytes;

  const decoder = legacyDecoder(bytes.toString('latin1', 0, Math.min(bytes.length, CHARSET_HINT_WINDOW)));
  const pieces: Uint8Array[] = [];
  for (let pos = 0; pos < end; ) {
    const lf = bytes.indexOf(0x0a, pos);
    const next = lf < 0 || lf >= end ? end : lf + 1;
    const line = bytes.subarray(pos, next);
    pieces.push(isUtf8(line) ? line : Buffer.from(decoder.decode(line), 'utf8'));
    pos = next;
  }
  pieces.push(bytes.subarray(end));
  return Buffer.concat(pieces);
}

function legacyDecoder(top: string): TextDecoder {
  const label = CHARSET_RE.exec(top)?.[1].toLowerCase();
  for (const candidate of label ? [label, label.replace(/^x-/, '')] : []) {
    try {
      const decoder = new TextDecoder(candidate);
      // Only ASCII-compatible charsets can have written an 8-bit header line; the
      // line is already known not to be UTF-8.
      if (!/^utf-(8|16)/.test(decoder.encoding)) return decoder;
    } catch {
      // not a charset this runtime knows
    }
  }
  return new TextDecoder('windows-1252');
}

// ---------------------------------------------------------------------------
// Date header: RFC 5322 syntax including its obsolete forms, read the same way on
// every host (Date.parse falls back to the local time zone and rejects common junk).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 5322 4.3: the zones it names; any other alphabetic zone means -0000 (UTC,
// local offset unknown).
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, utc: 0,
  edt: -4, est: -5, cdt: -5, cst: -6, mdt: -6, mst: -7, pdt: -7, pst: -8,
};

const TIME = String.raw`(?<time>\d{1,2}:\d{1,2}(?::\d{1,2})?)(?:\.\d+)?`;
const ZONE = String.raw`(?<zone>[+-]+\d{2}:?\d{2}|[a-z]+(?:[+-]\d{1,2}:\d{2}|[+-]\d{1,4})?)`;
const DATE_FORMATS = [
  // RFC 5322 with its obsolete forms, plus the AM/PM some old clients wrote
  new RegExp(String.raw`^(?:[a-z]+\s*,?\s*)?(?<day>\d{1,2})[\s-]*(?<month>[a-z]{3})[a-z]*\.?[\s-]*(?<year>\d{2,4})\s+${TIME}\s*(?<ampm>[ap]m\b)?\s*${ZONE}?`, 'i'),
  // asctime(), as in "From " lines: "Sat Sep 21 08:18:08 2002"
  new RegExp(String.raw`^[a-z]{3},?\s+(?<month>[a-z]{3})[a-z]*\s+(?<day>\d{1,2})\s+${TIME}\s+(?:${ZONE}\s+)?(?<year>\d{4})`, 'i'),
  // ISO 8601
  new RegExp(String.raw`^(?<year>\d{4})-(?<monthNumber>\d{2})-(?<day>\d{2})[t\s]${TIME}\s*${ZONE}?`, 'i'),
];
const ZONE_PARTS_RE = /^([a-z]*)([+-]*)(\d{1,2})?:?(\d{2})?$/i;

/** Reads a Date header the same way on every host: Date.parse falls back to the local time zone and rejects common junk. */
function parseMailDate(value: string | null): number | null {
  if (!value) return null;
  // Comments such as "(PDT)" may appear anywhere in the obsolete syntax.
  const text = value.replace(/\([^()]*\)/g, ' ').trim();
  let groups: Record<string, string | undefined> | undefined;
  for (const format of DATE_FORMATS) {
    groups = format.exec(text)?.groups;
    if (groups) break;
  }
  if (!groups) return null;

  const month = groups.monthNumber !== undefined ? Number(groups.monthNumber) - 1 : MONTHS.indexOf(groups.month!.slice(0, 3).toLowerCase());
  let year = Number(groups.year);
  if (groups.year!.length === 2) year += year < 50 ? 2000 : 1900;
  // Three-digit years count from 1900 (RFC 5322 4.3); so does "0102", a printed tm_year.
  else if (year < 1000) year += 1900;
  let [hour, minute, second = 0] = groups.time!.split(':').map(Number);
  if (groups.ampm) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (groups.ampm.toLowerCase() === 'pm' ? 12 : 0);
  }
  const offset = zoneOffsetMinutes(groups.zone);
  if (offset === null) return null;
  return utcTime(year, month, Number(groups.day), hour, minute, second, offset);
}

function zoneOffsetMinutes(zone: string | undefined): number | null {
  const parts = zone ? ZONE_PARTS_RE.exec(zone) : null;
  if (!parts) return 0;
  const [, name, sign, hours, minutes] = parts;
  if (hours === undefined) return (ZONES[name.toLowerCase()] ?? 0) * 60;
  const h = Number(hours);
  const m = Number(minutes ?? 0);
  if (h > 23 || m > 59) return null;
  // "+-0500" comes from a known broken client; the sign next to the digits wins.
  return (sign.endsWith('-') ? -1 : 1) * (h * 60 + m);
}

function utcTime(year: number, month: number, day: number, hour: number, minute: number, second: number, offsetMinutes: number): number | null {
  if (month < 0 || month > 11 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  // A leap second is read as the last second of its minute.
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 February over into March; such a date is not valid.
  if (new Date(local).getUTCDate() !== day) return null;
  return local - offsetMinutes * 60_000;
}

// ---------------------------------------------------------------------------
// HTML to readable text, for messages that have no plain text part. A single forward
// scan over the tags keeps this linear whatever the markup (unclosed tags, comments).

const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'center', 'dd', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'tfoot',
  'thead', 'tr', 'ul',
]);
const CELL_TAGS = new Set(['td', 'th']);
// Their content is never shown as text.
const HIDDEN_CONTENT_TAGS = new Set(['script', 'style', 'title', 'template']);
const TAG_NAME_RE = /<(\/?)([a-z][a-z0-9:-]*)/iy;
const HIDDEN_CONTENT_END: Record<string, RegExp> = Object.fromEntries(
  [...HIDDEN_CONTENT_TAGS].map((name) => [name, new RegExp(`</${name}\\b`, 'gi')]),
);

export function htmlToText(html: string): string {
  const source = html.replace(/[\t\n\f\r ]+/g, ' ');
  const out: string[] = [];
  let pos = 0;
  while (pos < source.length) {
    const lt = source.indexOf('<', pos);
    if (lt < 0) {
      out.push(source.slice(pos));
      break;
    }
    out.push(source.slice(pos, lt));

    if (source.startsWith('<!--', lt)) {
      const close = source.indexOf('-->', lt + 4);
      pos = close < 0 ? source.length : close + 3;
      continue;
    }
    TAG_NAME_RE.lastIndex = lt;
    const tag = TAG_NAME_RE.exec(source);
    if (!tag && source[lt + 1] !== '!' && source[lt + 1] !== '?') {
      // A "<" that starts no tag is text, as in "a < b".
      out.push('<');
      pos = lt + 1;
      continue;
    }
    const gt = source.indexOf('>', lt);
    pos = gt < 0 ? source.length : gt + 1;
    if (!tag) continue; // doctype, processing instruction

    const name = tag[2].toLowerCase();
    if (!tag[1] && HIDDEN_CONTENT_TAGS.has(name)) {
      const closeRe = HIDDEN_CONTENT_END[name];
      closeRe.lastIndex = pos;
      const close = closeRe.exec(source);
      const closeEnd = close ? source.indexOf('>', close.index) : -1;
      pos = closeEnd < 0 ? source.length : closeEnd + 1;
    } else if (BLOCK_TAGS.has(name)) {
      out.push('\n');
    } else if (CELL_TAGS.has(name)) {
      out.push(' ');
    }
  }

  const lines = decodeEntities(out.join('')).replaceAll('\u00a0', ' ').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    const tidy = line.replace(/[ \t]+/g, ' ').trim();
    // One empty line at most between paragraphs.
    if (tidy || (kept.length && kept[kept.length - 1] !== '')) kept.push(tidy);
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return kept.join('\n');
}

// The entities of HTML 3.2/4 for U+00A0..U+00FF, in code point order; browsers accept
// these without a closing semicolon.
const LATIN1_ENTITY_NAMES = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
  'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave ' +
  'Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN ' +
  'szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute ' +
  'icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml ' +
  'yacute thorn yuml'
).split(' ');

const LEGACY_ENTITIES = new Map<string, string>([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'],
  ...LATIN1_ENTITY_NAMES.map((name, i): [string, string] => [name, String.fromCharCode(0xa0 + i)]),
]);

// Common entities beyond Latin-1 that mail uses; unknown ones are left as written.
const ENTITIES = new Map<string, string>([
  ...LEGACY_ENTITIES,
  ['apos', "'"], ['ndash', '\u2013'], ['mdash', '\u2014'], ['lsquo', '\u2018'], ['rsquo', '\u2019'],
  ['sbquo', '\u201a'], ['ldquo', '\u201c'], ['rdquo', '\u201d'], ['bdquo', '\u201e'],
  ['dagger', '\u2020'], ['Dagger', '\u2021'], ['bull', '\u2022'], ['hellip', '\u2026'],
  ['permil', '\u2030'], ['prime', '\u2032'], ['Prime', '\u2033'], ['lsaquo', '\u2039'],
  ['rsaquo', '\u203a'], ['euro', '\u20ac'], ['trade', '\u2122'], ['larr', '\u2190'],
  ['uarr', '\u2191'], ['rarr', '\u2192'], ['darr', '\u2193'], ['harr', '\u2194'],
  ['ensp', '\u2002'], ['emsp', '\u2003'], ['thinsp', '\u2009'], ['zwnj', '\u200c'],
  ['zwj', '\u200d'], ['lrm', '\u200e'], ['rlm', '\u200f'], ['OElig', '\u0152'], ['oelig', '\u0153'],
  ['Scaron', '\u0160'], ['scaron', '\u0161'], ['Yuml', '\u0178'], ['fnof', '\u0192'],
  ['circ', '\u02c6'], ['tilde', '\u02dc'], ['spades', '\u2660'], ['clubs', '\u2663'],
  ['hearts', '\u2665'], ['diams', '\u2666'],
]);

const ENTITY_RE = /&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{0,31}))(;?)/g;
const windows1252 = new TextDecoder('windows-1252');

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY_RE, (match, dec: string | undefined, hex: string | undefined, name: string | undefined, semicolon: string) => {
    if (name !== undefined) {
      const value = semicolon ? ENTITIES.get(name) : LEGACY_ENTITIES.get(name);
      return value ?? match;
    }
    const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    // HTML reads 0x80-0x9F as the windows-1252 characters that old mail meant by them.
    if (code >= 0x80 && code <= 0x9f) return windows1252.decode(Uint8Array.of(code));
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(code);
  });
}
