// Outlook's "Transport Neutral Encapsulation Format" (TNEF, MS-OXTNEF): the winmail.dat that
// Exchange and Outlook attach in place of the attachments they were sent. Read here as the spec
// lays it out, a signature and then a flat stream of attributes (level, id, length, bytes,
// checksum): an attachment starts at attAttachRendData, takes its name from attAttachTitle (or the
// long name among its MAPI properties) and its bytes from attAttachData; the message's own text
// is attBody, or PR_BODY among its MAPI properties. Nothing is inflated or allocated beyond the
// file's own bytes: every length is checked against what is left.

export interface TnefFile {
  name: string;
  bytes: Uint8Array;
}

export class TnefError extends Error {}

const SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 1;
const LEVEL_ATTACHMENT = 2;
// Attribute ids (the low word of the attribute; the high word is its type).
const ATT_BODY = 0x800c;
const ATT_SUBJECT = 0x8004;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_REND_DATA = 0x9002;
const ATT_MSG_PROPS = 0x9003;
const ATT_ATTACHMENT = 0x9005;
// MAPI property ids and types.
const PR_BODY = 0x1000;
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_DISPLAY_NAME = 0x3001;
const PT_STRING8 = 0x1e;
const PT_UNICODE = 0x1f;
const PT_BINARY = 0x102;
const PT_OBJECT = 0x0d;
const MV = 0x1000;
const FIXED: Record<number, number> = { 0x1: 4, 0x2: 4, 0x3: 4, 0x4: 4, 0x5: 8, 0x6: 8, 0x7: 8, 0xa: 4, 0xb: 4, 0x14: 8, 0x40: 8, 0x48: 16 };

export function isTnef(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true) === SIGNATURE;
}

// The files inside (at most maxFiles; `more` when there were others) and the message's text.
export function readTnef(bytes: Uint8Array, maxFiles: number): { files: TnefFile[]; text: string; more: boolean } {
  if (!isTnef(bytes)) throw new TnefError('not a TNEF file (no signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files: TnefFile[] = [];
  const text: string[] = [];
  let current: { name: string | null; longName: string | null; bytes: Uint8Array | null } | null = null;
  let more = false;
  const finish = () => {
    if (current && current.bytes) {
      if (files.length < maxFiles) files.push({ name: current.longName ?? current.name ?? `attachment-${files.length + 1}`, bytes: current.bytes });
      else more = true;
    }
    current = null;
  };
  let p = 6;   // signature and the legacy key
  while (p < bytes.length) {
    if (p + 9 > bytes.length) throw new TnefError('an attribute is cut short');
    const level = view.getUint8(p);
    const id = view.getUint32(p + 1, true) & 0xffff;
    const length = view.getUint32(p + 5, true);
    const start = p + 9;
    if (length > bytes.length - start - 2) throw new TnefError(`an attribute declares ${length} bytes, more than the file holds`);
    const data = bytes.subarray(start, start + length);
    p = start + length + 2;   // and its checksum
    if (level === LEVEL_ATTACHMENT) {
      if (id === ATT_ATTACH_REND_DATA) {
        finish();
        current = { name: null, longName: null, bytes: null };
      }
      current ??= { name: null, longName: null, bytes: null };
      if (id === ATT_ATTACH_TITLE) current.name = cString(data);
      else if (id === ATT_ATTACH_DATA) current.bytes = data;
      else if (id === ATT_ATTACHMENT) {
        const props = mapiProps(data);
        current.longName = props.get(PR_ATTACH_LONG_FILENAME) ?? props.get(PR_DISPLAY_NAME) ?? current.longName;
      }
    } else if (level === LEVEL_MESSAGE) {
      if (id === ATT_SUBJECT || id === ATT_BODY) text.push(cString(data));
      else if (id === ATT_MSG_PROPS) {
        const body = mapiProps(data).get(PR_BODY);
        if (body) text.push(body);
      }
    }
  }
  finish();
  return { files, text: text.filter(Boolean).join('\n'), more };
}

// 8-bit text as Outlook writes it (its code page is not said here: windows-1252), up to its NUL.
function cString(data: Uint8Array): string {
  const end = data.indexOf(0);
  return new TextDecoder('windows-1252').decode(end < 0 ? data : data.subarray(0, end)).trim();
}

// The string-valued MAPI properties of a property list (MS-OXTNEF 2.1.3.5), by property id; a
// list that does not parse yields what came before the fault (names are a nicety, not needed).
function mapiProps(data: Uint8Array): Map<number, string> {
  const out = new Map<number, string>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u32 = (at: number) => (at + 4 <= data.length ? view.getUint32(at, true) : -1);
  let p = 0;
  const count = u32(p);
  p += 4;
  try {
    for (let i = 0; i < count && p < data.length; i++) {
      if (p + 4 > data.length) return out;
      const type = view.getUint16(p, true);
      const id = view.getUint16(p + 2, true);
      p += 4;
      if (id >= 0x8000) {   // a named property: its GUID, then an id or a name
        const kind = u32(p + 16);
        p += 20;
        if (kind === 0) p += 4;
        else {
          const n = u32(p);
          if (n < 0) return out;
          p += 4 + pad(n);
        }
      }
      const base = type & ~MV;
      const values = type & MV || base === PT_STRING8 || base === PT_UNICODE || base === PT_BINARY || base === PT_OBJECT ? u32(p) : 1;
      if (values < 0 || values > data.length) return out;
      if (type & MV || base === PT_STRING8 || base === PT_UNICODE || base === PT_BINARY || base === PT_OBJECT) p += 4;
      for (let v = 0; v < values; v++) {
        if (base === PT_STRING8 || base === PT_UNICODE || base === PT_BINARY || base === PT_OBJECT) {
          const n = u32(p);
          if (n < 0 || p + 4 + n > data.length) return out;
          const value = data.subarray(p + 4, p + 4 + n);
          if (v === 0 && base === PT_STRING8) out.set(id, cString(value));
          if (v === 0 && base === PT_UNICODE) out.set(id, Buffer.from(value).toString('utf16le').replace(/\0+$/, '').trim());
          p += 4 + pad(n);
        } else {
          const size = FIXED[base];
          if (size === undefined) return out;
          p += size;
        }
      }
    }
  } catch {
    // a list cut short: what was read stands
  }
  return out;
}

function pad(n: number): number {
  return (n + 3) & ~3;
}
