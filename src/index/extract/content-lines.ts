// The searchable text of an iCalendar invitation (RFC 5545) or a vCard (RFC 6350): both are
// "content lines" (NAME;PARAM=…:value, folded onto lines starting with a space), and only some
// properties are text a person would search for.

const CALENDAR = new Set(['SUMMARY', 'DESCRIPTION', 'LOCATION', 'COMMENT', 'CONTACT', 'CATEGORIES', 'RESOURCES', 'ORGANIZER', 'ATTENDEE']);
// A vCard is all text but for these (binary data, identifiers, structure).
const NOT_CARD_TEXT = new Set(['BEGIN', 'END', 'VERSION', 'PRODID', 'UID', 'REV', 'PHOTO', 'LOGO', 'SOUND', 'KEY', 'CLIENTPIDMAP', 'KIND', 'GENDER', 'TZ', 'GEO', 'LANG', 'SOURCE']);

export function calendarText(text: string): string {
  return lines(text, (name) => CALENDAR.has(name));
}

export function vcardText(text: string): string {
  return lines(text, (name) => !NOT_CARD_TEXT.has(name) && !name.startsWith('X-'));
}

function lines(text: string, wanted: (name: string) => boolean): string {
  const out: string[] = [];
  for (const line of text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/)) {
    const colon = valueStart(line);
    if (colon < 0) continue;
    const [head, ...params] = splitParams(line.slice(0, colon));
    const name = head!.slice(head!.lastIndexOf('.') + 1).toUpperCase();   // "item1.EMAIL": a vCard group
    if (!wanted(name)) continue;
    let value = line.slice(colon + 1);
    const param = (key: string) => params.find((p) => p.toUpperCase().startsWith(`${key}=`))?.slice(key.length + 1).replace(/^"|"$/g, '');
    if (/^b(ase64)?$/i.test(param('ENCODING') ?? '')) continue;
    if (/^quoted-printable$/i.test(param('ENCODING') ?? '')) value = quotedPrintable(value, param('CHARSET'));
    // A person: their name (CN) and address.
    const cn = param('CN');
    value = value.replace(/^mailto:/i, '');
    out.push(unescape([cn, value].filter(Boolean).join(' ')));
  }
  return out.join('\n');
}

// The colon that ends the name and parameters (not one inside a quoted parameter value).
function valueStart(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ':' && !quoted) return i;
  }
  return -1;
}

function splitParams(head: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= head.length; i++) {
    if (head[i] === '"') quoted = !quoted;
    else if (i === head.length || (head[i] === ';' && !quoted)) {
      out.push(head.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

// TEXT escapes; the ";" between the fields of a structured value (N, ADR) separates words.
function unescape(value: string): string {
  return value.replace(/\\([nN,;\\])|;/g, (whole, c: string | undefined) => (c === undefined ? ' ' : c === 'n' || c === 'N' ? '\n' : c));
}

// vCard 2.1 writes non-ASCII values in quoted-printable.
function quotedPrintable(value: string, charset: string | undefined): string {
  const bytes: number[] = [];
  const src = value.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    const hex = src[i] === '=' ? /^[0-9A-Fa-f]{2}/.exec(src.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(src.charCodeAt(i) & 0xff);
    }
  }
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(Uint8Array.from(bytes));
  } catch {
    return new TextDecoder('windows-1252').decode(Uint8Array.from(bytes));
  }
}
