// What kind of file an attachment is, decided in one place: which attachments the indexer queues
// for their text, which reader the extractor gives them to, and what `type:` finds in a search.
// The content type the sender declared counts first; where it says nothing (octet-stream and its
// like, or none) the file name's extension does, and then the first bytes.

export type Format = 'pdf' | 'docx' | 'xlsx' | 'pptx' | 'odt' | 'ods' | 'odp' | 'rtf' | 'doc' | 'xls' | 'ppt'
  | 'html' | 'text' | 'calendar' | 'vcard' | 'message' | 'zip' | 'tnef' | 'tar' | 'gzip' | '7z' | 'rar' | 'image';

export const FORMATS: Readonly<Record<Format, { readonly types: readonly string[]; readonly extensions: readonly string[] }>> = {
  pdf: { types: ['application/pdf', 'application/x-pdf'], extensions: ['pdf'] },
  docx: { types: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.ms-word.document.macroenabled.12'], extensions: ['docx', 'docm'] },
  xlsx: { types: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/vnd.ms-excel.sheet.macroenabled.12'], extensions: ['xlsx', 'xlsm'] },
  pptx: { types: ['application/vnd.openxmlformats-officedocument.presentationml.presentation', 'application/vnd.ms-powerpoint.presentation.macroenabled.12'], extensions: ['pptx', 'pptm'] },
  odt: { types: ['application/vnd.oasis.opendocument.text'], extensions: ['odt'] },
  ods: { types: ['application/vnd.oasis.opendocument.spreadsheet'], extensions: ['ods'] },
  odp: { types: ['application/vnd.oasis.opendocument.presentation'], extensions: ['odp'] },
  rtf: { types: ['application/rtf', 'text/rtf', 'application/x-rtf', 'text/richtext'], extensions: ['rtf'] },
  doc: { types: ['application/msword'], extensions: ['doc', 'dot'] },
  xls: { types: ['application/vnd.ms-excel', 'application/excel', 'application/x-excel', 'application/x-msexcel'], extensions: ['xls', 'xlt'] },
  ppt: { types: ['application/vnd.ms-powerpoint', 'application/mspowerpoint', 'application/x-mspowerpoint'], extensions: ['ppt', 'pps', 'pot'] },
  html: { types: ['text/html', 'application/xhtml+xml'], extensions: ['html', 'htm', 'xhtml'] },
  text: { types: ['text/plain', 'text/csv', 'text/tab-separated-values', 'text/markdown', 'text/x-log'], extensions: ['txt', 'csv', 'tsv', 'md', 'log'] },
  calendar: { types: ['text/calendar', 'application/ics'], extensions: ['ics', 'ifb'] },
  vcard: { types: ['text/vcard', 'text/x-vcard', 'text/directory'], extensions: ['vcf', 'vcard'] },
  message: { types: ['message/rfc822', 'message/global'], extensions: ['eml'] },
  zip: { types: ['application/zip', 'application/x-zip-compressed', 'application/x-zip'], extensions: ['zip'] },
  // Outlook's winmail.dat: known by its type or its first bytes (".dat" says nothing).
  tnef: { types: ['application/ms-tnef', 'application/vnd.ms-tnef'], extensions: [] },
  tar: { types: ['application/x-tar', 'application/tar', 'application/x-ustar'], extensions: ['tar'] },
  gzip: { types: ['application/gzip', 'application/x-gzip', 'application/x-gtar', 'application/x-compressed-tar', 'application/x-tgz'], extensions: ['gz', 'tgz'] },
  '7z': { types: ['application/x-7z-compressed'], extensions: ['7z'] },
  rar: { types: ['application/vnd.rar', 'application/x-rar-compressed', 'application/x-rar'], extensions: ['rar'] },
  // Pictures are read only with OCR on (index.ocr): see readable().
  image: { types: ['image/png', 'image/jpeg', 'image/jpg', 'image/pjpeg', 'image/tiff'], extensions: ['png', 'jpg', 'jpeg', 'tif', 'tiff'] },
};

// Whether a file of this format is read: pictures only when OCR is on.
export function readable(format: Format | null, ocr: boolean): format is Format {
  return format !== null && (format !== 'image' || ocr);
}

// Content types that say only "some bytes": the name and the bytes decide.
const UNSAID = new Set(['', 'application/octet-stream', 'application/x-download', 'application/download', 'application/binary',
  'application/x-msdownload', 'application/force-download', 'application/unknown', 'binary/octet-stream']);

// Types that name a kind whose text is not read: pictures (OCR reads those it can, by name or
// bytes), sound, video, fonts, signatures and keys, delivery reports, executables.
const KNOWN_UNREAD = /^(image|audio|video|font|model)\/|^application\/(pgp-|pkcs7-|x-pkcs7-|pkcs10|x-x509|pkix|x-msdownload|x-ms-dos|x-executable|x-sh$|java)|^message\/(delivery-status|disposition-notification|partial|external-body)/;

const BY_TYPE = new Map(Object.entries(FORMATS).flatMap(([f, d]) => d.types.map((t) => [t, f as Format] as const)));
const BY_EXTENSION = new Map(Object.entries(FORMATS).flatMap(([f, d]) => d.extensions.map((e) => [e, f as Format] as const)));

// The attachment's format, or null when its text is not extracted (images, audio, unknown
// binaries). `head`: its first bytes, when at hand, for a file its type and name leave open.
export function formatOf(contentType: string | null, filename: string | null, head?: Uint8Array): Format | null {
  const type = (contentType ?? '').toLowerCase();
  const declared = BY_TYPE.get(type);
  if (declared) return declared;
  if (type.startsWith('text/')) return 'text';
  // A type of no kind read says so, unless it is one that says nothing, or one this list does not
  // know (enron.pst's spreadsheets are "application/msexcell"): then the name and bytes decide.
  if (!UNSAID.has(type) && KNOWN_UNREAD.test(type)) return null;
  const extension = filename?.toLowerCase().match(/\.([a-z0-9]{1,8})$/)?.[1];
  const named = extension ? BY_EXTENSION.get(extension) : undefined;
  if (named) return named;
  return head ? sniff(head) : null;
}

// The formats whose first bytes say what they are. A ZIP is looked into by the extractor (an
// Office or OpenDocument file is a ZIP too), an OLE2 compound file likewise (DOC, XLS, PPT).
export function sniff(head: Uint8Array): Format | null {
  const starts = (s: string) => head.length >= s.length && [...s].every((c, i) => head[i] === c.charCodeAt(0));
  if (starts('%PDF-')) return 'pdf';
  if (starts('PK\x03\x04') || starts('PK\x05\x06')) return 'zip';
  if (starts('{\\rtf')) return 'rtf';
  // An OLE2 compound file: DOC, XLS and PPT alike (the extractor reads which from its streams).
  if (starts('\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1')) return 'doc';
  if (starts('BEGIN:VCALENDAR')) return 'calendar';
  if (starts('BEGIN:VCARD')) return 'vcard';
  if (starts('\x78\x9f\x3e\x22')) return 'tnef';
  if (starts('\x1f\x8b\x08')) return 'gzip';
  if (starts('7z\xbc\xaf\x27\x1c')) return '7z';
  if (starts('Rar!\x1a\x07')) return 'rar';
  if (head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar') return 'tar';
  if (starts('\x89PNG\r\n\x1a\n') || starts('\xff\xd8\xff') || starts('II*\0') || starts('MM\0*')) return 'image';
  return null;
}

// What `type:NAME` finds: attachments of that format (its content types and extensions), or
// else whose file name ends in .NAME or whose content type's subtype is NAME (type:png).
export function typeMatch(name: string): { types: string[]; extensions: string[]; subtype: string } {
  const format = FORMATS[name as Format] as (typeof FORMATS)[Format] | undefined;
  return { types: [...(format?.types ?? [])], extensions: [...(format?.extensions ?? [name])], subtype: name };
}
