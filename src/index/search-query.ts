// Sealbox's search language: parse a query into an AST and render it back canonically (the
// ledger records that form). sqlite/fts5-compiler.ts compiles the AST for the SQLite index.
//
//   invoice "wire transfer"        full text, all columns (attachments' text too); implicit AND;
//                                  word* = prefix
//   a OR b, a AND b, NOT a, -a     precedence NOT > AND > OR; parentheses group
//   from: sender: to: cc: bcc:     participation with that role (to: never includes bcc; for an
//                                  owner, bcc: only their own Bcc or on mail they sent)
//   subject: filename: attachment: full text in that column only (attachment: the text read from
//                                  inside attachments)
//   mailbox:NAME|ADDRESS           any participation by an address of that mailbox
//   has:attachment
//   type:NAME                      an attachment of that kind: pdf, docx, xlsx, …, zip, message
//                                  (extract/formats.ts), else by extension or content subtype
//   before:D  after:D  on:D        D = YYYY-MM-DD, UTC days: before = date < D 00:00,
//                                  after = date >= (D+1) 00:00 (D itself excluded), on = within D
//   message-id:ID                  with or without <>, case-insensitive
//   sha256:HEX                     64 hex digits, or a prefix of at least 8
//
// Field values may be quoted; inside quotes \" and \\ are escapes. Address values:
// "a@b.c" = that address; "@b.c" = that domain (not its subdomains); "b.c" = domain, address
// or local part; "a@" = local part; "a" = local part, address or a word of the display name.

import { isDeepStrictEqual } from 'node:util';
import { SealboxError } from '../core/errors.ts';

// Strict limits: a query is typed by a person; anything larger is a mistake or an attack
// on the planner, and is refused with a clear message.
const MAX_QUERY_LENGTH = 4096;
const MAX_TERMS = 256;
const MAX_DEPTH = 32;

const SHA256_PREFIX_MIN = 8;

export type AddressRole = 'from' | 'sender' | 'to' | 'cc' | 'bcc';
// Every role in which an address takes part, as the index links it (an envelope's recipients
// that no header names as bcc, its sender as sender).
export const ADDRESS_ROLES: readonly AddressRole[] = ['from', 'sender', 'to', 'cc', 'bcc'];
export type FtsColumn = 'subject' | 'filenames' | 'attachments';

export type QueryNode =
  | { readonly kind: 'and'; readonly children: readonly QueryNode[] }
  | { readonly kind: 'or'; readonly children: readonly QueryNode[] }
  | { readonly kind: 'not'; readonly child: QueryNode }
  // column null = all full-text columns
  | { readonly kind: 'text'; readonly column: FtsColumn | null; readonly value: string; readonly prefix: boolean }
  // value lowercased as typed: "a@b.c", "@b.c", "b.c", "a" (classified when compiled)
  | { readonly kind: 'address'; readonly role: AddressRole; readonly value: string }
  | { readonly kind: 'mailbox'; readonly value: string }
  | { readonly kind: 'has-attachment' }
  | { readonly kind: 'type'; readonly value: string }        // lowercased: a format, an extension or a subtype
  | { readonly kind: 'date'; readonly op: 'before' | 'after' | 'on'; readonly day: string }
  | { readonly kind: 'message-id'; readonly value: string }   // lowercased, without <>
  | { readonly kind: 'sha256'; readonly value: string };     // lowercased hex, 8..64 digits

export class QueryError extends SealboxError {
  readonly position: number;   // 0-based offset into the query text

  constructor(message: string, position: number) {
    super('SEALBOX_ERR_QUERY', message);
    this.name = 'QueryError';
    this.position = position;
  }
}

// ---------------------------------------------------------------------------------------
// Lexer

const FIELDS = ['from', 'sender', 'to', 'cc', 'bcc', 'subject', 'filename', 'attachment', 'mailbox', 'has', 'type',
  'before', 'after', 'on', 'message-id', 'sha256'] as const;
type Field = typeof FIELDS[number];

type Token =
  | { readonly type: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus' | 'eof'; readonly pos: number }
  | { readonly type: 'term'; readonly pos: number; readonly node: QueryNode };

const FIELD_NAME = /[A-Za-z][A-Za-z0-9_-]*:/y;
// What FTS5's unicode61 tokenizer keeps: a term without any of these searches for nothing.
export const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u;

function col(pos: number): number {
  return pos + 1;
}

function isSpace(ch: string): boolean {
  return /\s/.test(ch);
}

// Characters that end an unquoted word or field value.
function endsWord(ch: string): boolean {
  return isSpace(ch) || ch === '(' || ch === ')' || ch === '"';
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (isSpace(ch)) { i++; continue; }
    if (ch === '(') { tokens.push({ type: 'lparen', pos: i }); i++; continue; }
    if (ch === ')') { tokens.push({ type: 'rparen', pos: i }); i++; continue; }
    // "-" negates only when glued to what follows, so "a - b" and "--" stay words.
    if (ch === '-' && i + 1 < text.length && !isSpace(text[i + 1]) && text[i + 1] !== ')' && text[i + 1] !== '-') {
      tokens.push({ type: 'minus', pos: i }); i++; continue;
    }
    if (ch === '"') {
      const q = readQuoted(text, i);
      if (q.value === '') throw new QueryError(`empty phrase at column ${col(i)}`, i);
      tokens.push({ type: 'term', pos: i, node: textTerm(null, q.value, i, true) });
      i = q.end;
      continue;
    }
    FIELD_NAME.lastIndex = i;
    const field = FIELD_NAME.exec(text);
    if (field) {
      const name = field[0].slice(0, -1).toLowerCase();
      if (!(FIELDS as readonly string[]).includes(name)) throw unknownField(field[0], i);
      const valuePos = i + field[0].length;
      let value: string;
      let quoted = false;
      if (text[valuePos] === '"') {
        const q = readQuoted(text, valuePos);
        value = q.value; quoted = true; i = q.end;
      } else {
        let end = valuePos;
        while (end < text.length && !endsWord(text[end])) end++;
        value = text.slice(valuePos, end); i = end;
      }
      if (value === '') {
        throw new QueryError(quoted
          ? `empty value for ${name}: at column ${col(valuePos)}`
          : `expected a value after ${name}: at column ${col(valuePos)}`, valuePos);
      }
      tokens.push({ type: 'term', pos: valuePos - field[0].length, node: fieldTerm(name as Field, value, quoted, valuePos) });
      continue;
    }
    let end = i;
    while (end < text.length && !endsWord(text[end])) end++;
    const word = text.slice(i, end);
    if (word === 'AND') tokens.push({ type: 'and', pos: i });
    else if (word === 'OR') tokens.push({ type: 'or', pos: i });
    else if (word === 'NOT') tokens.push({ type: 'not', pos: i });
    else tokens.push({ type: 'term', pos: i, node: textTerm(null, word, i, false) });
    i = end;
  }
  tokens.push({ type: 'eof', pos: text.length });
  return tokens;
}

// A quoted string from the '"' at `start`; \" and \\ are escapes, any other \ is literal.
function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) { value += text[i + 1]; i += 2; continue; }
    value += ch;
    i++;
  }
  throw new QueryError(`unclosed quote starting at column ${col(start)}`, start);
}

function unknownField(spelled: string, pos: number): QueryError {
  const name = spelled.slice(0, -1).toLowerCase();
  let best: string | null = null;
  // Suggest only close misspellings: "form" -> from, but not "re" -> to.
  let bestDistance = Math.min(3, name.length);
  for (const f of FIELDS) {
    const d = editDistance(name, f);
    if (d < bestDistance) { best = f; bestDistance = d; }
  }
  const hint = best
    ? `did you mean ${best}:?`
    : `known fields: ${FIELDS.map((f) => f + ':').join(' ')}; put text with a colon in quotes`;
  return new QueryError(`unknown field "${spelled}" at column ${col(pos)} (${hint})`, pos);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function textTerm(column: FtsColumn | null, raw: string, pos: number, quoted: boolean): QueryNode {
  // Only an unquoted trailing "*" asks for a prefix; inside quotes it is literal text.
  const prefix = !quoted && raw.endsWith('*');
  const value = prefix ? raw.slice(0, -1) : raw;
  if (!TOKEN_CHAR.test(value)) {
    throw new QueryError(`nothing to search for in "${raw}" at column ${col(pos)} (a full-text term needs a letter or digit)`, pos);
  }
  return { kind: 'text', column, value, prefix };
}

function fieldTerm(field: Field, value: string, quoted: boolean, pos: number): QueryNode {
  switch (field) {
    case 'from': case 'sender': case 'to': case 'cc': case 'bcc': {
      const v = value.toLowerCase();
      if (v === '@') throw new QueryError(`expected a domain after "@" for ${field}: at column ${col(pos)}`, pos);
      return { kind: 'address', role: field, value: v };
    }
    case 'subject': return textTerm('subject', value, pos, quoted);
    case 'filename': return textTerm('filenames', value, pos, quoted);
    case 'attachment': return textTerm('attachments', value, pos, quoted);
    case 'mailbox': return { kind: 'mailbox', value: value.toLowerCase() };
    case 'has': {
      const v = value.toLowerCase();
      if (v !== 'attachment' && v !== 'attachments') {
        throw new QueryError(`unknown value "${value}" for has: at column ${col(pos)} (use has:attachment)`, pos);
      }
      return { kind: 'has-attachment' };
    }
    case 'type': {
      const v = value.toLowerCase();
      if (!/^[a-z0-9][a-z0-9.+-]{0,63}$/.test(v)) {
        throw new QueryError(`invalid type "${value}" at column ${col(pos)} (use a kind such as pdf, docx or zip, or a file extension)`, pos);
      }
      return { kind: 'type', value: v };
    }
    case 'before': case 'after': case 'on':
      if (dayStart(value) === null) {
        throw new QueryError(`invalid date "${value}" for ${field}: (use YYYY-MM-DD)`, pos);
      }
      return { kind: 'date', op: field, day: value };
    case 'message-id': {
      const v = value.startsWith('<') && value.endsWith('>') ? value.slice(1, -1) : value;
      if (v === '') throw new QueryError(`empty value for message-id: at column ${col(pos)}`, pos);
      return { kind: 'message-id', value: v.toLowerCase() };
    }
    case 'sha256': {
      if (!/^[0-9a-fA-F]+$/.test(value) || value.length < SHA256_PREFIX_MIN || value.length > 64) {
        throw new QueryError(`invalid sha256 "${value}" at column ${col(pos)} (use ${SHA256_PREFIX_MIN} to 64 hex digits)`, pos);
      }
      return { kind: 'sha256', value: value.toLowerCase() };
    }
  }
}

const DAY_MS = 86_400_000;

// The times a date term admits, [from, to) in ms since epoch, null where open: before: ends at
// the day's start, after: begins with the next day, on: is the day. Null for no such day.
export function dayRange(node: Extract<QueryNode, { kind: 'date' }>): { from: number | null; to: number | null } | null {
  const start = dayStart(node.day);
  if (start === null) return null;
  if (node.op === 'before') return { from: null, to: start };
  if (node.op === 'after') return { from: start + DAY_MS, to: null };
  return { from: start, to: start + DAY_MS };
}

// ms since epoch of 00:00 UTC on a YYYY-MM-DD day, or null if there is no such day.
export function dayStart(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);   // unlike Date.UTC, keeps years 0-99 as written
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return t.getTime();
}

// ---------------------------------------------------------------------------------------
// Parser: or := and (OR and)* ; and := unary ([AND] unary)* ; unary := (NOT | -) unary | primary ;
// primary := "(" or ")" | term

function describeToken(t: Token): string {
  switch (t.type) {
    case 'and': return 'AND';
    case 'or': return 'OR';
    case 'not': return 'NOT';
    case 'minus': return '"-"';
    case 'lparen': return '"("';
    default: return '';
  }
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private depth = 0;
  private terms = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): QueryNode {
    const node = this.parseOr();
    const t = this.peek();
    // parseOr stops only at ")" or the end.
    if (t.type !== 'eof') throw new QueryError(`unbalanced ")" at column ${col(t.pos)}`, t.pos);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private startsTerm(t: Token): boolean {
    return t.type === 'term' || t.type === 'lparen' || t.type === 'not' || t.type === 'minus';
  }

  // After an operator, something must follow that can start a term.
  private expectTermAfter(op: Token): void {
    if (!this.startsTerm(this.peek())) {
      throw new QueryError(`expected a term after ${describeToken(op)} at column ${col(op.pos)}`, op.pos);
    }
  }

  private parseOr(): QueryNode {
    const children = [this.parseAnd()];
    while (this.peek().type === 'or') {
      const op = this.next();
      this.expectTermAfter(op);
      children.push(this.parseAnd());
    }
    return group('or', children);
  }

  private parseAnd(): QueryNode {
    const children = [this.parseUnary()];
    for (;;) {
      const t = this.peek();
      if (t.type === 'and') {
        this.next();
        this.expectTermAfter(t);
        children.push(this.parseUnary());
      } else if (this.startsTerm(t)) {
        children.push(this.parseUnary());
      } else {
        break;
      }
    }
    return group('and', children);
  }

  private parseUnary(): QueryNode {
    const t = this.peek();
    if (t.type === 'not' || t.type === 'minus') {
      this.next();
      this.expectTermAfter(t);
      this.enter(t);
      const child = this.parseUnary();
      this.depth--;
      return { kind: 'not', child };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): QueryNode {
    const t = this.next();
    switch (t.type) {
      case 'term':
        if (++this.terms > MAX_TERMS) throw new QueryError(`too many terms (the limit is ${MAX_TERMS}) at column ${col(t.pos)}`, t.pos);
        return t.node;
      case 'lparen': {
        if (this.peek().type === 'rparen') throw new QueryError(`empty parentheses at column ${col(t.pos)}`, t.pos);
        if (this.peek().type === 'eof') throw new QueryError(`unclosed "(" at column ${col(t.pos)}`, t.pos);
        this.enter(t);
        const inner = this.parseOr();
        this.depth--;
        if (this.peek().type !== 'rparen') throw new QueryError(`unclosed "(" at column ${col(t.pos)}`, t.pos);
        this.next();
        return inner;
      }
      case 'rparen':
        throw new QueryError(`unbalanced ")" at column ${col(t.pos)}`, t.pos);
      case 'eof':
        // Only reachable for an empty query: operators check what follows them.
        throw new QueryError('empty query', t.pos);
      default:
        throw new QueryError(`expected a term before ${describeToken(t)} at column ${col(t.pos)}`, t.pos);
    }
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) throw new QueryError(`query nested too deeply at column ${col(t.pos)} (the limit is ${MAX_DEPTH})`, t.pos);
  }
}

// Flattens a AND (b AND c) into one node, so full-text terms meet under one AND.
function group(kind: 'and' | 'or', children: QueryNode[]): QueryNode {
  if (children.length === 1) return children[0];
  const flat: QueryNode[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  return { kind, children: flat };
}

export function parseQuery(text: string): QueryNode {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QueryError(`query too long (${text.length} characters, the limit is ${MAX_QUERY_LENGTH})`, MAX_QUERY_LENGTH);
  }
  if (text.trim() === '') throw new QueryError('empty query', 0);
  // Control characters are never typed on purpose, and NUL would end an FTS5 string early.
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (control) throw new QueryError(`control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()} at column ${col(control.index)}`, control.index);
  return new Parser(tokenize(text)).parse();
}

// ---------------------------------------------------------------------------------------
// Canonical rendering: explicit AND/OR/NOT, lowercase field names, quotes only where
// needed. parseQuery(describeQuery(n)) yields n again.

export function describeQuery(node: QueryNode): string {
  return render(node);
}

function render(node: QueryNode): string {
  switch (node.kind) {
    case 'or':
      return node.children.map((c) => wrap(c)).join(' OR ');   // (a AND b) OR c: clearer than precedence
    case 'and':
      return node.children.map((c) => wrap(c)).join(' AND ');
    case 'not':
      return 'NOT ' + wrap(node.child);
    case 'text': {
      const prefix = node.column === null ? '' : COLUMN_FIELDS[node.column];
      return renderValue(prefix, node.value + (node.prefix ? '*' : ''), node);
    }
    case 'address': return renderValue(node.role + ':', node.value, node);
    case 'mailbox': return renderValue('mailbox:', node.value, node);
    case 'has-attachment': return 'has:attachment';
    case 'type': return `type:${node.value}`;
    case 'date': return `${node.op}:${node.day}`;
    case 'message-id': return renderValue('message-id:', node.value, node);
    case 'sha256': return `sha256:${node.value}`;
  }
}

const COLUMN_FIELDS: Record<FtsColumn, string> = { subject: 'subject:', filenames: 'filename:', attachments: 'attachment:' };

// Any AND or OR inside another operator is parenthesised.
function wrap(node: QueryNode): string {
  return node.kind === 'or' || node.kind === 'and' ? `(${render(node)})` : render(node);
}

// Bare if the bare form reads back as the same node, else quoted.
function renderValue(prefix: string, bare: string, node: QueryNode): string {
  const candidate = prefix + bare;
  try {
    const tokens = tokenize(candidate);
    if (tokens.length === 2 && tokens[0].type === 'term' && isDeepStrictEqual(tokens[0].node, node)) return candidate;
  } catch {
    // not readable bare: quote it
  }
  const value = node.kind === 'text' ? node.value : bare;
  return prefix + '"' + value.replace(/["\\]/g, (c) => '\\' + c) + '"';
}

