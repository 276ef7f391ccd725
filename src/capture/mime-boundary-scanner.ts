// Splits the body of a multipart entity at its boundary delimiters (RFC 2046 §5.1.1) as the
// bytes stream past, holding back no more than the start of one line: content is passed on in
// pieces, however long its lines, so a 100 MB attachment never sits in memory.
//
// A delimiter line is `--boundary`, `--` after it for the last one, then optional white space
// (transport padding) and the line end. The line break before a delimiter belongs to the
// delimiter, not to the part's content.

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const CRLF = Buffer.from('\r\n');
const LF_ONLY = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);
// A line this much longer than the delimiter is content, whatever white space it holds.
const MAX_PADDING = 1000;

export type ScanEvent = { kind: 'data'; bytes: Buffer } | { kind: 'delimiter'; last: boolean };

type LineKind = 'content' | 'undecided' | 'delimiter' | 'last';

export class MimeBoundaryScanner {
  readonly #delimiter: Buffer;
  #held: Buffer = EMPTY;               // undecided start of a line, or a CR that may begin a line break
  #break: Buffer | null = null;        // the line break before the current line, not yet passed on
  #inContent = false;                  // the current line is known to be content

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`--${boundary}`, 'latin1');
  }

  push(chunk: Buffer): ScanEvent[] {
    const out: ScanEvent[] = [];
    const data = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = EMPTY;
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(LF, pos);
      if (this.#inContent) {
        if (nl === -1) {
          const end = data[data.length - 1] === CR ? data.length - 1 : data.length;
          if (end > pos) out.push({ kind: 'data', bytes: data.subarray(pos, end) });
          this.#held = Buffer.from(data.subarray(end));
          return out;
        }
        const lineEnd = nl > pos && data[nl - 1] === CR ? nl - 1 : nl;
        if (lineEnd > pos) out.push({ kind: 'data', bytes: data.subarray(pos, lineEnd) });
        this.#break = lineEnd < nl ? CRLF : LF_ONLY;
        this.#inContent = false;
        pos = nl + 1;
        continue;
      }
      const line = data.subarray(pos, nl === -1 ? data.length : nl);
      const kind = this.#classify(line, nl !== -1);
      if (kind === 'undecided') {
        this.#held = Buffer.from(line);
        return out;
      }
      if (kind === 'content') {
        if (this.#break) out.push({ kind: 'data', bytes: this.#break });
        this.#break = null;
        this.#inContent = true;
        continue;
      }
      this.#break = null;
      out.push({ kind: 'delimiter', last: kind === 'last' });
      pos = nl + 1;
    }
    return out;
  }

  // The end of the input: a delimiter without a line end after it still counts.
  end(): ScanEvent[] {
    const out: ScanEvent[] = [];
    if (this.#inContent) {
      if (this.#held.length > 0) out.push({ kind: 'data', bytes: this.#held });
    } else {
      const kind = this.#classify(this.#held, true);
      if (kind === 'delimiter' || kind === 'last') {
        out.push({ kind: 'delimiter', last: kind === 'last' });
      } else {
        if (this.#break) out.push({ kind: 'data', bytes: this.#break });
        if (this.#held.length > 0) out.push({ kind: 'data', bytes: this.#held });
      }
    }
    this.#held = EMPTY;
    this.#break = null;
    this.#inContent = false;
    return out;
  }

  // What a line (without its LF, perhaps with its CR) is; complete: its line end has been seen.
  #classify(line: Buffer, complete: boolean): LineKind {
    const d = this.#delimiter;
    const n = Math.min(line.length, d.length);
    if (line.compare(d, 0, n, 0, n) !== 0) return 'content';
    if (line.length < d.length) return complete ? 'content' : 'undecided';
    let i = d.length;
    let last = false;
    if (line[i] === DASH && line[i + 1] === DASH) {
      last = true;
      i += 2;
    } else if (line[i] === DASH && i + 1 === line.length && !complete) {
      return 'undecided';
    }
    while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (i < line.length && !(line[i] === CR && i === line.length - 1)) return 'content';
    if (!complete) return line.length > d.length + 2 + MAX_PADDING ? 'content' : 'undecided';
    return last ? 'last' : 'delimiter';
  }
}
