// The load files review tools (Relativity, Concordance and their kin) ingest: one row per message,
// each followed by one row per attachment of it, the same fields in a CSV and in a Concordance
// DAT. Both are UTF-8 with a byte-order mark, which is how those tools (and spreadsheets) tell
// UTF-8 from the local code page, and end rows CRLF.
//
// Families as the tools take them: BegAttach and EndAttach, on every row of a family, are the
// control numbers of its first (the message) and last document (Concordance's family range, which
// Relativity and the others map to a family group); ParentID (an attachment's message) and
// AttachmentIDs (a message's attachments) say the same per row, for tools that link documents
// by those. DocType is "message" or "attachment"; FileName an attachment's name.
export const LOAD_FILE_FIELDS = [
  'ControlNumber', 'Custodian', 'From', 'To', 'CC', 'BCC', 'Subject', 'DateSent', 'DateReceived',
  'MessageID', 'SHA256', 'MD5', 'FilePath', 'TextPath', 'AttachmentNames',
  'DocType', 'ParentID', 'AttachmentIDs', 'BegAttach', 'EndAttach', 'FileName',
] as const;

export type LoadFileRow = Record<(typeof LOAD_FILE_FIELDS)[number], string>;

// A field with several values (addresses, custodians, attachment names) joins them with this,
// the multi-value separator the tools default to.
export const MULTI_VALUE = '; ';

const BOM = '\uFEFF';

// The Concordance defaults: ASCII 20 (shown as ¶ in the tools' code page) between fields, þ
// (U+00FE) around each, ® (U+00AE) for a line break inside one. The format has no escape, so one
// of those three in a value could only be misread; it is written as U+FFFD (the CSV and the .eml
// keep the exact text).
const DAT_COLUMN = '\u0014';
const DAT_QUOTE = '\u00FE';
const DAT_NEWLINE = '\u00AE';

export function loadFiles(rows: readonly LoadFileRow[]): { csv: Buffer; dat: Buffer } {
  const lines = [[...LOAD_FILE_FIELDS], ...rows.map((r) => LOAD_FILE_FIELDS.map((f) => r[f]))];
  const csv = lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
  const dat = lines.map((cells) => cells.map(datCell).join(DAT_COLUMN)).join('\r\n') + '\r\n';
  return { csv: Buffer.from(BOM + csv, 'utf8'), dat: Buffer.from(BOM + dat, 'utf8') };
}

// RFC 4180, every field quoted. A cell a spreadsheet would run as a formula (it starts with =, +,
// -, @, a tab or a carriage return) starts with ' instead (OWASP's CSV injection advice): a
// subject can be made to say "=HYPERLINK(…)".
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

function datCell(value: string): string {
  const text = value.replace(/[\u0014\u00FE\u00AE]/g, '\uFFFD').replace(/\r\n|\r|\n/g, DAT_NEWLINE);
  return `${DAT_QUOTE}${text}${DAT_QUOTE}`;
}
