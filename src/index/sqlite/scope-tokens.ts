// The full-text table's sixth column, `scope`, holds no text of the message: one token for each
// address and domain taking part in it (every role, the envelope's Bcc and sender included), one
// more for each address and domain it is from (from: is the commonest condition), one for its
// month and one if it has attachments. A search within mailboxes is then one FTS5 MATCH
// — the words AND the mailboxes' address tokens — merged in C over the posting lists, instead
// of an intersection in SQL with every participation row of the mailboxes (issue 20), and a page
// newest first reads month by month and stops when it is full. The user's words never reach this
// column (USER_COLUMNS), and its tokens are letters and hex digits that no folding changes.

// The columns a user's words are searched in: everything but `scope`.
export const USER_COLUMNS = '{subject addresses body filenames attachments}';

// Whether a word or phrase (or a prefix) of the user's could find a scope token: one of its
// words, folded as the tokenizer folds it, is spelled like one (or begins one).
export function mayFindScope(value: string, prefix: boolean): boolean {
  const words = value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().split(/[^\p{L}\p{N}\p{Co}]+/u).filter(Boolean);
  return words.some((w, i) => (prefix && i === words.length - 1
    ? /^([afgm][0-9a-f]*|d[0-9]*)$/.test(w) || ['dnone', 'dearly', 'dlate', ATTACHMENT_TOKEN].some((t) => t.startsWith(w))
    : /^([afgm][0-9a-f]+|d[0-9]{6}|dnone|dearly|dlate)$/.test(w) || w === ATTACHMENT_TOKEN));
}

export const ATTACHMENT_TOKEN = 'hattachment';
const NO_DATE = 'dnone';
const EARLY = 'dearly';
const LATE = 'dlate';
// Years 0000–9999, where SQLite's strftime (migration 0007) and these tokens agree.
const YEAR_0 = -62_167_219_200_000;
const YEAR_10000 = 253_402_300_800_000;

export function addressToken(address: string): string {
  return 'a' + Buffer.from(address, 'utf8').toString('hex');
}

export function domainToken(domain: string): string {
  return 'm' + Buffer.from(domain, 'utf8').toString('hex');
}

// The address and domain of a From.
export function fromToken(address: string): string {
  return 'f' + Buffer.from(address, 'utf8').toString('hex');
}

export function fromDomainToken(domain: string): string {
  return 'g' + Buffer.from(domain, 'utf8').toString('hex');
}

// The month a date falls in (UTC) as a token, with the range of dates that token covers.
export interface Month {
  token: string;
  from: number;    // inclusive, ms
  to: number;      // exclusive, ms
}

export function monthOf(date: number | null): Month | null {
  if (date === null) return null;
  if (date < YEAR_0) return { token: EARLY, from: -Infinity, to: YEAR_0 };
  if (date >= YEAR_10000) return { token: LATE, from: YEAR_10000, to: Infinity };
  const d = new Date(date);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  return { token: `d${String(year).padStart(4, '0')}${String(month + 1).padStart(2, '0')}`, from: utc(year, month), to: utc(year, month + 1) };
}

export function monthToken(date: number | null): string {
  return monthOf(date)?.token ?? NO_DATE;
}

export const NO_DATE_TOKEN = NO_DATE;

// Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear does not.
function utc(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 1);
  return d.getTime();
}

// The month tokens of the months a date range [from, to) touches, or null when they are too many
// to be worth a prefilter.
export function monthsBetween(from: number | null, to: number | null, max = 36): string[] | null {
  if (from === null || to === null || !(from < to)) return null;
  const tokens: string[] = [];
  for (let m = monthOf(from); m !== null && m.from < to; m = monthOf(m.to)) {
    tokens.push(m.token);
    if (tokens.length > max || m.to === Infinity) break;
  }
  return tokens.length > max ? null : tokens;
}

// The scope column's text for a document.
export function scopeText(doc: { participants: Iterable<{ role: string; address: string; domain: string }>; date: number | null; hasAttachment: boolean }): string {
  const tokens = new Set<string>();
  for (const p of doc.participants) {
    tokens.add(addressToken(p.address));
    tokens.add(domainToken(p.domain));
    if (p.role === 'from') tokens.add(fromToken(p.address)).add(fromDomainToken(p.domain));
  }
  tokens.add(monthToken(doc.date));
  if (doc.hasAttachment) tokens.add(ATTACHMENT_TOKEN);
  return [...tokens].join(' ');
}
