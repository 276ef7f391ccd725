// The text of an XML document (the parts of Office and OpenDocument files), read by one forward
// scan that never expands an entity: a document type declaration (DTD) is skipped whole, so the
// entities it defines are never read, and a reference to one stays as written. An entity bomb
// ("billion laughs") is then just a few bytes of text. Only XML's own five entities and
// character references are decoded.

export interface XmlTextOptions {
  // Elements (by local name, without prefix) that end a line of text: paragraphs, cells, breaks.
  breaks: ReadonlySet<string>;
  // Elements whose content is not text (formulas, a cell that holds an index): by local name and
  // the whole start tag.
  skip?(name: string, tag: string): boolean;
  // Characters wanted at most: the scan stops once it has them (`more`).
  maxChars: number;
}

export function xmlText(xml: string, o: XmlTextOptions): { text: string; dtd: boolean; more: boolean } {
  const out: string[] = [];
  let chars = 0;
  let dtd = false;
  let skipping = 0;          // depth inside a skipped element
  let pos = 0;
  while (pos < xml.length && chars < o.maxChars) {
    const lt = xml.indexOf('<', pos);
    const end = lt < 0 ? xml.length : lt;
    if (skipping === 0 && end > pos) {
      const text = decode(xml.slice(pos, Math.min(end, pos + o.maxChars - chars + 16)));
      out.push(text);
      chars += text.length;
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      pos = after(xml, '-->', lt + 4);
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const close = xml.indexOf(']]>', lt + 9);
      if (skipping === 0) out.push(xml.slice(lt + 9, close < 0 ? xml.length : close));
      pos = close < 0 ? xml.length : close + 3;
    } else if (xml.startsWith('<!DOCTYPE', lt)) {
      dtd = true;
      pos = doctypeEnd(xml, lt);
    } else if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) {
      pos = after(xml, '>', lt + 2);
    } else {
      const close = tagEnd(xml, lt);
      const tag = xml.slice(lt, close);
      pos = close;
      const closing = tag.startsWith('</');
      const selfClosing = tag.endsWith('/>');
      const name = /^<\/?([^\s/>]+)/.exec(tag)?.[1] ?? '';
      const local = name.slice(name.indexOf(':') + 1);
      if (skipping > 0) {
        if (closing) skipping--;
        else if (!selfClosing) skipping++;
        continue;
      }
      if (!closing && !selfClosing && o.skip?.(local, tag)) {
        skipping = 1;
        continue;
      }
      if (o.breaks.has(local)) out.push('\n');
    }
  }
  return { text: out.join(''), dtd, more: pos < xml.length };
}

function after(xml: string, marker: string, from: number): number {
  const i = xml.indexOf(marker, from);
  return i < 0 ? xml.length : i + marker.length;
}

// The end of a start or end tag: the first ">" outside a quoted attribute value.
function tagEnd(xml: string, lt: number): number {
  for (let i = lt + 1; i < xml.length; i++) {
    const c = xml[i];
    if (c === '>') return i + 1;
    if (c === '"' || c === "'") {
      const q = xml.indexOf(c, i + 1);
      if (q < 0) return xml.length;
      i = q;
    }
  }
  return xml.length;
}

// The end of <!DOCTYPE …>, internal subset ([ … ]) included.
function doctypeEnd(xml: string, lt: number): number {
  let inSubset = false;
  for (let i = lt + 9; i < xml.length; i++) {
    const c = xml[i];
    if (c === '[') inSubset = true;
    else if (c === ']') inSubset = false;
    else if (c === '>' && !inSubset) return i + 1;
    else if (c === '"' || c === "'") {
      const q = xml.indexOf(c, i + 1);
      if (q < 0) return xml.length;
      i = q;
    }
  }
  return xml.length;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return PREDEFINED[ref]!;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}
