// The text of an RTF document, read in one pass: groups, control words and the text between
// them. Groups that hold no text to read (font and colour tables, style sheets, pictures,
// embedded objects, field instructions, and every "\*" destination a reader may ignore) are
// skipped; \par, \line, \tab and table cells end words; \'hh is a byte in the document's code
// page (\ansicpg) and \uN a Unicode character followed by \ucN replacement characters to skip.
// Written here rather than run through unrtf: it is a hundred lines, needs no process per file,
// and runs under the extractor's memory and time limits like everything else.

const SKIPPED = new Set(['fonttbl', 'colortbl', 'stylesheet', 'listtable', 'listoverridetable', 'revtbl', 'rsidtbl', 'info',
  'pict', 'object', 'objdata', 'fldinst', 'themedata', 'colorschememapping', 'datastore', 'latentstyles', 'xmlnstbl',
  'generator', 'mmathPr', 'filetbl', 'pgdsctbl', 'bkmkstart', 'bkmkend']);
const BREAKS: Record<string, string> = { par: '\n', line: '\n', sect: '\n', page: '\n', row: '\n', cell: '\t', tab: '\t', emdash: '\u2014', endash: '\u2013',
  lquote: '\u2018', rquote: '\u2019', ldblquote: '\u201c', rdblquote: '\u201d', bullet: '\u2022', emspace: ' ', enspace: ' ' };
// Deeper groups than this are read as if skipped: no real document nests so far.
const MAX_GROUPS = 256;

interface Group { skip: boolean; uc: number }

// Read from the bytes themselves (RTF is 7-bit; pictures make files of many megabytes), never
// as one string of the whole file.
export function rtfText(src: Uint8Array, maxChars: number): string {
  const out: string[] = [];
  let chars = 0;
  let decoder = new TextDecoder('windows-1252');
  let pending: number[] = [];      // text bytes, decoded together (a double-byte code page needs pairs)
  const emit = (s: string) => {
    out.push(s);
    chars += s.length;
  };
  const flush = () => {
    if (pending.length === 0) return;
    emit(decoder.decode(Uint8Array.from(pending)));
    pending = [];
  };
  const stack: Group[] = [];
  let g: Group = { skip: false, uc: 1 };
  let toSkip = 0;                  // replacement characters after \uN still to pass over
  let i = 0;
  while (i < src.length && chars < maxChars) {
    const c = src[i]!;
    if (c === OPEN) {
      flush();
      stack.push(g);
      g = { ...g, skip: g.skip || stack.length > MAX_GROUPS };
      // "{\*\dest …}": a destination this reader does not know; skip it.
      if (src[i + 1] === BACKSLASH && src[i + 2] === STAR) g.skip = true;
      i++;
      continue;
    }
    if (c === CLOSE) {
      flush();
      g = stack.pop() ?? g;
      toSkip = 0;
      i++;
      continue;
    }
    if (c === CR || c === LF) { i++; continue; }
    if (c !== BACKSLASH) {
      if (toSkip > 0) toSkip--;
      else if (!g.skip) pending.push(c);
      if (pending.length > 4096) flush();
      i++;
      continue;
    }
    // A control symbol or word.
    const next = src[i + 1];
    if (next === undefined) break;
    if (next === QUOTE) {
      const byte = parseInt(String.fromCharCode(src[i + 2] ?? 0, src[i + 3] ?? 0), 16);
      i += 4;
      if (toSkip > 0) toSkip--;
      else if (!g.skip && !Number.isNaN(byte)) pending.push(byte);
      continue;
    }
    if (!isLetter(next)) {
      // \\ \{ \} are text; \~ a non-breaking space, \- \_ optional and non-breaking hyphens.
      if (!g.skip && toSkip === 0 && (next === BACKSLASH || next === OPEN || next === CLOSE)) pending.push(next);
      else if (!g.skip && next === TILDE) pending.push(0x20);
      if (toSkip > 0) toSkip--;
      i += 2;
      continue;
    }
    let j = i + 1;
    while (j < src.length && j - i <= 32 && isLetter(src[j]!)) j++;
    const word = String.fromCharCode(...src.subarray(i + 1, j));
    let k = j;
    if (src[k] === MINUS) k++;
    while (k < src.length && k - j <= 10 && src[k]! >= 0x30 && src[k]! <= 0x39) k++;
    const arg = k > j && !(k === j + 1 && src[j] === MINUS) ? Number(String.fromCharCode(...src.subarray(j, k))) : null;
    i = src[k] === SPACE ? k + 1 : k;
    if (word === 'bin' && arg !== null) {
      i += Math.max(0, arg);
      continue;
    }
    if (SKIPPED.has(word)) {
      g.skip = true;
      continue;
    }
    if (word === 'ansicpg' && arg !== null) {
      flush();
      try {
        decoder = new TextDecoder(arg === 65001 ? 'utf-8' : `windows-${arg}`);
      } catch {
        try { decoder = new TextDecoder(`cp${arg}`); } catch { /* a code page this runtime lacks: windows-1252 stays */ }
      }
      continue;
    }
    if (word === 'uc' && arg !== null) {
      g.uc = Math.max(0, arg);
      continue;
    }
    if (word === 'u' && arg !== null) {
      flush();
      if (!g.skip) emit(String.fromCharCode(arg < 0 ? arg + 65536 : arg));
      toSkip = g.uc;
      continue;
    }
    const text = BREAKS[word];
    if (text !== undefined && !g.skip) {
      flush();
      emit(text);
    }
  }
  flush();
  return out.join('').slice(0, maxChars);
}

const [OPEN, CLOSE, BACKSLASH, STAR, QUOTE, TILDE, MINUS, SPACE, CR, LF] = [...'{}\\*\'~- \r\n'].map((c) => c.charCodeAt(0));

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
