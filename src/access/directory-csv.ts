import { SealboxError } from '../core/errors.ts';

export interface DirectoryRow {
  name: string;
  addresses: string[];
  displayName: string | null;
  owner: string | null;
  sensitivity: string | null;
  manager: string | null;       // user name of the owner's manager
  // The mailbox's department, which retention rules may match (absent or empty: nothing said,
  // the one set stays).
  department?: string | null;
  // The day the person left (YYYY-MM-DD); absent or empty: nothing said (a leaving date is filed
  // for someone else's approval, never applied by the import: src/retention/leavers.ts).
  left?: string | null;
}

const COLUMNS = ['addresses', 'display_name', 'owner', 'sensitivity', 'manager', 'department', 'name', 'left'];

// Why a department name cannot be one, or null. Rules match it exactly as the directory writes
// it, so a value that could never match is refused where it is written (a directory line, a
// rule), not left to keep mail by the default unnoticed: a mailbox has one department (no ';'
// list, as addresses have), and a control character is a stray from a spreadsheet.
export function departmentProblem(value: string): string | null {
  if (value.length > 100) return 'is longer than 100 characters';
  if (value.includes(';')) return "names more than one (a mailbox has one department; ';' is not allowed)";
  if (/\p{Cc}/u.test(value)) return 'holds a control character';
  return null;
}

// The directory import: CSV with a header row naming its columns (addresses is required; several
// addresses in one cell are separated by ';' or spaces). Any bad line rejects the whole file,
// so a typo never half-applies a directory.
export function parseDirectoryCsv(text: string): DirectoryRow[] {
  const records = parseCsv(text);
  if (records.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'directory file is empty');
  const header = records[0].map((h) => h.trim().toLowerCase());
  for (const h of header) if (!COLUMNS.includes(h)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line 1: unknown column "${h}" (expected ${COLUMNS.join(', ')})`);
  if (!header.includes('addresses')) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'line 1: an "addresses" column is required');
  const rows: DirectoryRow[] = [];
  records.slice(1).forEach((cells, i) => {
    const line = i + 2;
    if (cells.length === 1 && cells[0].trim() === '') return;
    if (cells.length !== header.length) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line ${line}: ${cells.length} fields, the header has ${header.length}`);
    const get = (col: string) => {
      const v = cells[header.indexOf(col)]?.trim();
      return v ? v : null;
    };
    const addresses = (get('addresses') ?? '').split(/[;\s]+/).filter(Boolean).map((a) => a.toLowerCase());
    if (addresses.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line ${line}: no address`);
    for (const a of addresses) if (!/^[^@\s]+@[^@\s]+$/.test(a)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line ${line}: "${a}" is not an email address`);
    const left = get('left');
    if (left !== null && (!/^\d{4}-\d{2}-\d{2}$/.test(left) || new Date(`${left}T00:00:00Z`).toISOString().slice(0, 10) !== left)) {
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line ${line}: left "${left}" is not a date (YYYY-MM-DD)`);
    }
    const department = get('department');
    const wrong = department === null ? null : departmentProblem(department);
    if (wrong) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `line ${line}: department "${department}" ${wrong}`);
    rows.push({ name: get('name') ?? addresses[0], addresses, displayName: get('display_name'), owner: get('owner'), sensitivity: get('sensitivity'), manager: get('manager'), department, left });
  });
  return rows;
}

// RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); out.push(row); row = []; field = '';
    } else field += ch;
  }
  if (quoted) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'unclosed quote at the end of the directory file');
  if (field !== '' || row.length > 0) { row.push(field); out.push(row); }
  return out;
}
