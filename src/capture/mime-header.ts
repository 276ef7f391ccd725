// The header block of a MIME entity, read as far as unwrapping a journal report needs: which
// fields it has, its Content-Type with parameters and its Content-Transfer-Encoding. Bytes are
// read as latin1, so nothing is lost or replaced whatever the charset.

const LF = 0x0a;
const CR = 0x0d;

export interface MimeHeader {
  fields: Map<string, string[]>;        // lower-cased name → unfolded values, in order
  contentType: { type: string; params: Record<string, string> } | null; // type lower-cased
  transferEncoding: string | null;      // lower-cased
  malformed: string | null;             // the first line that is neither a field nor a continuation
}

// Index just past the empty line that ends a header block, or -1 while it has not been seen.
export function findHeaderEnd(buf: Buffer): number {
  if (buf[0] === LF) return 1;
  if (buf[0] === CR && buf[1] === LF) return 2;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (buf[i + 1] === LF) return i + 2;
    if (buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

export function parseMimeHeader(block: Buffer): MimeHeader {
  const fields = new Map<string, string[]>();
  let malformed: string | null = null;
  let current: { name: string; value: string } | null = null;
  const flush = () => {
    if (!current) return;
    const list = fields.get(current.name) ?? [];
    list.push(current.value.trim());
    fields.set(current.name, list);
    current = null;
  };
  for (const line of block.toString('latin1').split(/\r?\n/)) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      if (current) (current as { value: string }).value += line;
      else malformed ??= line;
      continue;
    }
    flush();
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (!m) {
      malformed ??= line;
      continue;
    }
    current = { name: m[1].toLowerCase(), value: m[2] };
  }
  flush();
  const type = fields.get('content-type');
  const cte = fields.get('content-transfer-encoding');
  return {
    fields,
    contentType: type ? contentType(type[0]) : null,
    transferEncoding: cte ? cte[0].toLowerCase() : null,
    malformed,
  };
}

// `type/subtype; name=value; name="quoted \" value"` (RFC 2045), comments not expected.
function contentType(value: string): { type: string; params: Record<string, string> } | null {
  const m = /^\s*([^\s;/]+\/[^\s;]+)\s*(;.*)?$/s.exec(value);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /;\s*([^\s=;]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s;]+)\s*/gy;
  const rest = m[2] ?? '';
  let p: RegExpExecArray | null;
  let at = 0;
  while (at < rest.length && (re.lastIndex = at, p = re.exec(rest))) {
    params[p[1].toLowerCase()] = p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2];
    at = re.lastIndex;
  }
  if (rest.slice(at).replace(/[;\s]/g, '') !== '') return null;
  return { type: m[1].toLowerCase(), params };
}
