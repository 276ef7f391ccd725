import type { ExtractionRun } from './extraction-run.ts';
import { xmlText } from './xml-text.ts';
import type { ZipArchive, ZipMember } from './zip-archive.ts';

// The text of Office Open XML (DOCX, XLSX, PPTX) and OpenDocument (ODT, ODS, ODP) files: both are
// ZIP archives of XML parts, and their text is the character data of those parts. Which parts,
// and in what order, is all that differs; the XML is read by xmlText, which expands no entity.
// Returns false when the archive is neither (an ordinary ZIP).

// Elements that end a line or a cell, in any of these vocabularies (by local name): paragraphs,
// line and page breaks, tabs, table cells and rows, shared strings, slides' paragraphs, ODF
// spaces and headings.
const BREAKS = new Set(['p', 'br', 'cr', 'tab', 'tc', 'tr', 'si', 'c', 'row', 'h', 'line-break', 's', 'table-cell', 'table-row', 'list-item']);

const NO_BREAKS = new Set<string>();
// A spreadsheet's cells, row by row: <c …>…</c> (or <c …/>), and the end of each row.
const CELL = /<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)|<\/row>/g;
const SHARED_STRING = /<si\b[^>]*?(?:\/>|>([\s\S]*?)<\/si>)/g;

// XML read per part; a megabyte of text takes a few of XML.
const MAX_XML_BYTES = 8 * 1024 * 1024;

const numbered = (re: RegExp) => (a: ZipMember, b: ZipMember) => Number(re.exec(a.name)?.[1] ?? 0) - Number(re.exec(b.name)?.[1] ?? 0);

export function officeText(zip: ZipArchive, run: ExtractionRun): boolean {
  const byName = new Map(zip.members.map((m) => [m.name, m]));
  const all = (re: RegExp, order?: RegExp) => {
    const found = zip.members.filter((m) => re.test(m.name));
    return order ? found.sort(numbered(order)) : found;
  };
  let parts: ZipMember[];
  if (byName.has('word/document.xml')) {
    parts = [byName.get('word/document.xml')!, ...all(/^word\/(header|footer)\d*\.xml$/), ...all(/^word\/(footnotes|endnotes|comments)\.xml$/)];
  } else if (byName.has('xl/workbook.xml')) {
    // Cells refer to the shared strings by number: read first, then each sheet row by row, so
    // that a row's cells stay side by side (a phrase across two cells of a row is found).
    const shared = byName.get('xl/sharedStrings.xml');
    const sharedXml = shared ? readXml(zip, shared, run) : null;
    const strings = sharedXml ? [...sharedXml.matchAll(SHARED_STRING)].map((m) => xmlText(m[1] ?? '', { breaks: NO_BREAKS, skip: (n) => n === 'rPh', maxChars: run.limits.maxChars }).text) : [];
    for (const sheet of all(/^xl\/worksheets\/sheet(\d+)\.xml$/, /sheet(\d+)/)) {
      if (run.full) break;
      const xml = readXml(zip, sheet, run);
      if (xml !== null) run.add(sheetText(xml, strings, run.limits.maxChars));
    }
    parts = all(/^xl\/comments\d*\.xml$/);
  } else if (byName.has('ppt/presentation.xml')) {
    parts = [...all(/^ppt\/slides\/slide(\d+)\.xml$/, /slide(\d+)/), ...all(/^ppt\/notesSlides\/notesSlide(\d+)\.xml$/, /Slide(\d+)/)];
  } else if (byName.has('mimetype') && byName.has('content.xml') && isOpenDocument(zip, byName.get('mimetype')!)) {
    parts = [byName.get('content.xml')!];
  } else {
    return false;
  }
  for (const part of parts) {
    if (run.full) break;
    const xml = readXml(zip, part, run);
    if (xml === null) continue;
    const { text, dtd, more } = xmlText(xml, { breaks: BREAKS, maxChars: run.limits.maxChars });
    // Office and OpenDocument XML never declare a DTD: one that does is hostile or broken.
    if (dtd) run.missing(`${part.name} declares a DTD; its entities are not expanded`);
    if (more) run.missing(`more than ${run.limits.maxChars} characters of text`);
    run.add(text);
  }
  return true;
}

// A part's XML, at most MAX_XML_BYTES of it: one string of a whole part could be more than the
// extractor's heap takes at once.
function readXml(zip: ZipArchive, part: ZipMember, run: ExtractionRun): string | null {
  const bytes = run.unzip(zip, part);
  if (bytes === null) return null;
  if (bytes.length > MAX_XML_BYTES) run.missing(`${part.name} is larger than ${MAX_XML_BYTES} bytes`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, MAX_XML_BYTES)).toString('utf8');
}

// A sheet's values, a row to a line: shared strings (t="s") by their number, inline strings, and
// numbers and formulas' results as written (formulas themselves are not text).
function sheetText(xml: string, strings: readonly string[], maxChars: number): string {
  const out: string[] = [];
  let chars = 0;
  for (const m of xml.matchAll(CELL)) {
    if (chars >= maxChars) break;
    if (m[1] === undefined) {
      out.push('\n');
      continue;
    }
    const type = /\st=["'](\w+)["']/.exec(m[1])?.[1];
    const body = m[2] ?? '';
    const value = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
    const text = type === 's' ? strings[Number(value)] ?? ''
      : type === 'inlineStr' ? xmlText(body, { breaks: NO_BREAKS, maxChars }).text
      : value === undefined ? '' : xmlText(value, { breaks: NO_BREAKS, maxChars }).text;
    out.push(text, ' ');
    chars += text.length + 1;
  }
  return out.join('');
}

function isOpenDocument(zip: ZipArchive, mimetype: ZipMember): boolean {
  const bytes = mimetype.size <= 200 ? zip.read(mimetype, 200).bytes : new Uint8Array();
  return Buffer.from(bytes).toString('latin1').startsWith('application/vnd.oasis.opendocument.');
}
