import { SealboxError } from '../../core/errors.ts';
import type { FileWindow } from './file-window.ts';

// The mbox family (one file, each message after a "From " separator line):
// - mboxo: body lines starting "From " were written as ">From " (not reversible: kept as is);
// - mboxrd: every ">*From " line got one more ">", so one is removed on reading;
// - mboxcl / mboxcl2: a Content-Length header gives the body's length (mboxcl also quotes like
//   mboxo; mboxcl2 does not quote at all). Either way the bytes are taken as they are.
export type MboxFormat = 'auto' | 'mboxo' | 'mboxrd' | 'mboxcl' | 'mboxcl2';
export const MBOX_FORMATS: MboxFormat[] = ['auto', 'mboxo', 'mboxrd', 'mboxcl', 'mboxcl2'];

export interface MboxMessage {
  offset: number;        // where its From_ line starts
  fromLine: string;      // that line, without its line end
  start: number;         // first byte of the message (after the From_ line)
  end: number;           // after its last byte (the blank separator line is not the message's)
  next: number;          // where the next From_ line (or the file's end) is
  framing: 'from-line' | 'content-length';
  note: string | null;   // why a Content-Length was not used
}

// A separator is "From " + sender + a date, which always has a time of day and a year
// ("From MAILER-DAEMON Fri Jul  8 12:08:34 2011", "From - Sat Oct 10 11:56:37 2009",
// "From 1580000000@xxx Sat Jan 04 10:18:31 +0000 2020"): a body line "From here on…" that a
// careless writer left unquoted does not split a message.
const FROM_LINE = /^From \S*[ \t].*\d:\d\d.*\d{4}|^From \S*[ \t].*\d{4}.*\d:\d\d/;
const NL_FROM = Buffer.from('\nFrom ');
const MAX_HEADER_BYTES = 1024 * 1024;
const CONTENT_LENGTH = /^content-length:[ \t]*(\d+)[ \t]*\r?\n?$/i;

function lineText(win: FileWindow, pos: number, end: number): string {
  return win.read(pos, Math.min(end, pos + 4096)).toString('latin1').replace(/\r?\n$/, '');
}

function isFromLine(win: FileWindow, pos: number): boolean {
  if (win.byteAt(pos) !== 0x46 /* F */) return false;
  return FROM_LINE.test(lineText(win, pos, win.lineEnd(pos)));
}

// The next From_ line that starts after pos, or the file's size.
function nextFromLine(win: FileWindow, pos: number): number {
  let at = pos;
  for (;;) {
    const idx = win.find(NL_FROM, at);
    if (idx < 0) return win.size;
    if (isFromLine(win, idx + 1)) return idx + 1;
    at = idx + 1;
  }
}

// After a message that ends with an empty line, that line is the separator, not the message's.
function withoutSeparator(win: FileWindow, start: number, end: number): number {
  if (end - start >= 2 && win.byteAt(end - 1) === 10) {
    if (win.byteAt(end - 2) === 10) return end - 1;
    if (end - start >= 4 && win.byteAt(end - 2) === 13 && win.byteAt(end - 3) === 10 && win.byteAt(end - 4) === 13) return end - 2;
  }
  return end;
}

// Where a Content-Length, if the message has a sound one, says the message ends.
function byContentLength(win: FileWindow, start: number): { end: number; next: number } | { note: string } | null {
  let pos = start;
  let length: number | null = null;
  while (pos < win.size) {
    if (pos - start > MAX_HEADER_BYTES) return null;
    const lineEnd = win.lineEnd(pos);
    const first = win.byteAt(pos);
    if (first === 10 || (first === 13 && win.byteAt(pos + 1) === 10)) {
      pos = lineEnd;
      break;
    }
    if (first === 0x43 || first === 0x63) { // C / c
      const m = CONTENT_LENGTH.exec(win.read(pos, Math.min(lineEnd, pos + 200)).toString('latin1'));
      if (m) length = Number(m[1]);
    }
    pos = lineEnd;
  }
  if (length === null) return null;
  const end = pos + length;
  if (end > win.size) return { note: `Content-Length ${length} runs past the end of the file` };
  // The next message starts right there, or after the blank separator line(s).
  let next = end;
  for (;;) {
    if (next === win.size) return { end, next };
    if (win.byteAt(next - 1) === 10 && isFromLine(win, next)) return { end, next };
    if (win.byteAt(next) === 10) next += 1;
    else if (win.byteAt(next) === 13 && win.byteAt(next + 1) === 10) next += 2;
    else return { note: `Content-Length ${length} does not end where a From_ line or the file's end is` };
  }
}

// The messages of one mbox file, in order. A file that does not begin with a From_ line (after
// blank lines) is not an mbox file; an empty one holds no message.
export function* splitMbox(win: FileWindow, format: MboxFormat): Generator<MboxMessage> {
  let pos = 0;
  while (pos < win.size && (win.byteAt(pos) === 10 || (win.byteAt(pos) === 13 && win.byteAt(pos + 1) === 10))) pos = win.lineEnd(pos);
  if (pos >= win.size) return;
  if (!isFromLine(win, pos)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `not an mbox file: it does not begin with a "From " separator line`);
  const useLength = format === 'auto' || format === 'mboxcl' || format === 'mboxcl2';
  while (pos < win.size) {
    const start = win.lineEnd(pos);
    const fromLine = lineText(win, pos, start);
    let note: string | null = null;
    if (useLength) {
      const framed = byContentLength(win, start);
      if (framed && 'end' in framed) {
        yield { offset: pos, fromLine, start, end: framed.end, next: framed.next, framing: 'content-length', note };
        pos = framed.next;
        continue;
      }
      // In auto mode a Content-Length that does not fit is common (left by some MTA): no note.
      if (format !== 'auto') note = `${framed ? framed.note : 'no Content-Length header'}; split at the next From_ line instead`;
    }
    const next = nextFromLine(win, start);
    yield { offset: pos, fromLine, start, end: withoutSeparator(win, start, next), next, framing: 'from-line', note };
    pos = next;
  }
}

const GT_FROM = Buffer.from('>From ');

// mboxrd: remove one ">" from every line that starts with ">…>From ". `atLineStart` says whether
// buf begins at the start of a line (a chunk of a long message may not).
export function unquoteMboxrd(buf: Buffer, atLineStart = true): Buffer {
  const cuts: number[] = [];
  let from = 0;
  for (;;) {
    const idx = buf.indexOf(GT_FROM, from);
    if (idx < 0) break;
    let q = idx;
    while (q > 0 && buf[q - 1] === 0x3e /* > */) q--;
    if (q === 0 ? atLineStart : buf[q - 1] === 10) cuts.push(q);
    from = idx + GT_FROM.length;
  }
  if (cuts.length === 0) return buf;
  const parts: Buffer[] = [];
  let last = 0;
  for (const c of cuts) {
    parts.push(buf.subarray(last, c));
    last = c + 1;
  }
  parts.push(buf.subarray(last));
  return Buffer.concat(parts);
}
