// Sealbox's search language: parse a query into an AST, render it back canonically (the
// ledger records that form), and compile it into a SQL boolean expression over `doc d`
// in index.db (schema.sql), with `meta` = the main database attached.
//
//   invoice "wire transfer"        full text, all columns; implicit AND; word* = prefix
//   a OR b, a AND b, NOT a, -a     precedence NOT > AND > OR; parentheses group
//   from: sender: to: cc: bcc:     participation with that role (to: never includes bcc; for an
//                                  owner, bcc: only their own Bcc or on mail they sent)
//   subject: filename:             full text in that column only
//   mailbox:NAME|ADDRESS           any participation by an address of that mailbox
//   has:attachment
//   before:D  after:D  on:D        D = YYYY-MM-DD, UTC days: before = date < D 00:00,
//                                  after = date >= (D+1) 00:00 (D itself excluded), on = within D
//   message-id:ID                  with or without <>, case-insensitive
//   sha256:HEX                     64 hex digits, or a prefix of at least 8
//
// Field values may be quoted; inside quotes \" and \\ are escapes. Address values:
// "a@b.c" = that address; "@b.c" = that domain (not its subdomains); "b.c" = domain, address
// or local part; "a@" = local part; "a" = local part, address or a word of the display name.
//
// Every user value reaches SQL as a bound parameter; full-text values are quoted FTS5
// strings, so punctuation in a query can never become FTS5 or SQL syntax.

import { isDeepStrictEqual } from 'node:util';
import { SealboxError } from '../core/errors.ts';

// Strict limits: a query is typed by a person; anything larger is a mistake or an attack
// on the planner, and is refused with a clear message.
const MAX_QUERY_LENGTH = 4096;
const MAX_TERMS = 256;
const MAX_DEPTH = 32;

const SHA256_PREFIX_MIN = 8;
const DAY_MS = 86_400_000;

export type AddressRole = 'from' | 'sender' | 'to' | 'cc' | 'bcc';
export type FtsColumn = 'subject' | 'filenames';

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
  | { readonly kind: 'date'; readonly op: 'before' | 'after' | 'on'; readonly day: string }
  | { readonly kind: 'message-id'; readonly value: string }   // lowercased, without <>
  | { readonly kind: 'sha256'; readonly value: string };     // lowercased hex, 8..64 digits

export interface CompiledQuery {
  where: string;
  params: (string | number)[];
}

export interface CompileOptions {
  metaSchema?: string;   // schema name the main database is attached under; default "meta"
  // A mailbox owner reading their own mailboxes sees a message as they received it: a Bcc
  // (known only from the envelope) matches bcc: and mailbox: only where it is one of these
  // mailboxes' own addresses, or where they sent the message.
  envelopeOf?: readonly number[];
}

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

const FIELDS = ['from', 'sender', 'to', 'cc', 'bcc', 'subject', 'filename', 'mailbox', 'has',
  'before', 'after', 'on', 'message-id', 'sha256'] as const;
type Field = typeof FIELDS[number];

type Token =
  | { readonly type: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus' | 'eof'; readonly pos: number }
  | { readonly type: 'term'; readonly pos: number; readonly node: QueryNode };

const FIELD_NAME = /[A-Za-z][A-Za-z0-9_-]*:/y;
// What FTS5's unicode61 tokenizer keeps: a term without any of these searches for nothing.
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}]/u;

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
    case 'mailbox': return { kind: 'mailbox', value: value.toLowerCase() };
    case 'has': {
      const v = value.toLowerCase();
      if (v !== 'attachment' && v !== 'attachments') {
        throw new QueryError(`unknown value "${value}" for has: at column ${col(pos)} (use has:attachment)`, pos);
      }
      return { kind: 'has-attachment' };
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

// ms since epoch of 00:00 UTC on a YYYY-MM-DD day, or null if there is no such day.
function dayStart(day: string): number | null {
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
      const prefix = node.column === null ? '' : node.column === 'subject' ? 'subject:' : 'filename:';
      return renderValue(prefix, node.value + (node.prefix ? '*' : ''), node);
    }
    case 'address': return renderValue(node.role + ':', node.value, node);
    case 'mailbox': return renderValue('mailbox:', node.value, node);
    case 'has-attachment': return 'has:attachment';
    case 'date': return `${node.op}:${node.day}`;
    case 'message-id': return renderValue('message-id:', node.value, node);
    case 'sha256': return `sha256:${node.value}`;
  }
}

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

// ---------------------------------------------------------------------------------------
// Compiler

// Separators around a word in a display name ("smith, bob", "bob.smith", "jean-luc").
const NAME_SEPARATORS = '[ \t,.;:"\'()<>/\\@_+&|-]';

export function compileQuery(node: QueryNode, options: CompileOptions = {}): CompiledQuery {
  const meta = options.metaSchema ?? 'meta';
  // Interpolated into SQL, so it must be a plain identifier; this is the caller's value, not the user's.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(meta)) throw new TypeError(`invalid metaSchema ${JSON.stringify(meta)}`);
  const params: (string | number)[] = [];
  const where = new Compiler(params, meta, options.envelopeOf ?? null).compile(node);
  return { where, params };
}

class Compiler {
  private readonly params: (string | number)[];
  private readonly meta: string;
  private readonly envelopeOf: readonly number[] | null;

  constructor(params: (string | number)[], meta: string, envelopeOf: readonly number[] | null) {
    this.params = params;
    this.meta = meta;
    this.envelopeOf = envelopeOf;
  }

  // For a participation row (its columns unqualified or as `alias.`): true unless it is a Bcc
  // the reader may not know of (see CompileOptions.envelopeOf).
  private bccVisible(alias: string): string {
    if (this.envelopeOf === null) return '1';
    const ids = () => this.envelopeOf!.map((id) => this.p(id)).join(', ');
    const own = () => `(SELECT oa.address FROM ${this.meta}.mailbox_address oa WHERE oa.mailbox_id IN (${ids()}))`;
    return `(${alias}role <> 'bcc' OR ${alias}address IN ${own()}`
      + ` OR ${alias}doc_id IN (SELECT sp.doc_id FROM participation sp WHERE sp.role IN ('from', 'sender') AND sp.address IN ${own()}))`;
  }

  // Pushes the value and returns its placeholder; callers build SQL left to right.
  private p(value: string | number): string {
    this.params.push(value);
    return '?';
  }

  // Every expression returned is two-valued (never NULL), so NOT means "does not match".
  compile(node: QueryNode): string {
    const fts = ftsExpression(node);
    if (fts !== null) return this.match(fts);
    switch (node.kind) {
      case 'and': return this.compileAnd(node.children);
      case 'or': return this.compileOr(node.children);
      case 'not': return `NOT (${this.compile(node.child)})`;
      case 'text': return this.match(ftsTerm(node));   // unreachable: handled above
      case 'address': return this.address(node.role, node.value);
      case 'mailbox': return this.mailbox(node.value);
      case 'has-attachment': return 'd.has_attachment <> 0';
      case 'date': {
        const start = dayStart(node.day);
        if (start === null) throw new TypeError(`invalid day ${JSON.stringify(node.day)} in query AST`);
        if (node.op === 'before') return `(d.date IS NOT NULL AND d.date < ${this.p(start)})`;
        if (node.op === 'after') return `(d.date IS NOT NULL AND d.date >= ${this.p(start + DAY_MS)})`;
        return `(d.date IS NOT NULL AND d.date >= ${this.p(start)} AND d.date < ${this.p(start + DAY_MS)})`;
      }
      case 'message-id':
        return `d.message_id_lc IS ${this.p(node.value)}`;   // IS: false, not NULL, when the doc has none
      case 'sha256':
        if (node.value.length === 64) return `d.sha256 = ${this.p(node.value)}`;
        // A range over the unique index; every hex digit sorts below "g".
        return `(d.sha256 >= ${this.p(node.value)} AND d.sha256 < ${this.p(node.value + 'g')})`;
    }
  }

  private match(expression: string): string {
    return `d.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ${this.p(expression)})`;
  }

  // All full-text children become one MATCH (FTS5 intersects far faster than SQL does with
  // several IN lists); negated full-text children join it as FTS5 NOT.
  private compileAnd(children: readonly QueryNode[]): string {
    const positive: string[] = [];
    const negative: string[] = [];
    const rest: QueryNode[] = [];
    for (const c of children) {
      const e = ftsExpression(c);
      const ne = e === null && c.kind === 'not' ? ftsExpression(c.child) : null;
      if (e !== null) positive.push(e);
      else if (ne !== null) negative.push(ne);
      else rest.push(c);
    }
    // Beside full text, an exact address also goes into the MATCH as a phrase on the
    // addresses column, and is then only confirmed per candidate by primary key: otherwise
    // "from:x common-word" would materialise every document holding the common word.
    const confirm: QueryNode[] = [];
    if (positive.length > 0) {
      for (const c of rest) {
        if (c.kind === 'address' && isPrefilterable(c)) {
          positive.push(`addresses : ${quoteFts(c.value)}`);
          confirm.push(c);
        }
      }
    }
    const parts: string[] = [];
    if (positive.length > 0) parts.push(this.match(combineFts(positive, negative)));
    else if (negative.length > 0) parts.push(`NOT (${this.match(negative.join(' OR '))})`);
    for (const c of rest) {
      parts.push(c.kind === 'address' && confirm.includes(c)
        ? `EXISTS (SELECT 1 FROM participation p WHERE p.doc_id = d.id AND p.role = ${this.p(c.role)} AND p.address = ${this.p(c.value)})`
        : this.compile(c));
    }
    return parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`;
  }

  private compileOr(children: readonly QueryNode[]): string {
    const fts: string[] = [];
    const rest: QueryNode[] = [];
    for (const c of children) {
      const e = ftsExpression(c);
      if (e !== null) fts.push(e);
      else rest.push(c);
    }
    const parts: string[] = [];
    if (fts.length > 0) parts.push(this.match(fts.join(' OR ')));
    for (const c of rest) parts.push(this.compile(c));
    return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }

  // Each branch is its own SELECT so that each uses an index (address or domain).
  private address(role: AddressRole, value: string): string {
    const selects: string[] = [];
    const visible = () => (role === 'bcc' && this.envelopeOf !== null ? ` AND ${this.bccVisible('')}` : '');
    const byAddress = (address: string) =>
      selects.push(`SELECT doc_id FROM participation WHERE address = ${this.p(address)} AND role = ${this.p(role)}${visible()}`);
    const byDomain = (domain: string) =>
      selects.push(`SELECT doc_id FROM participation WHERE domain = ${this.p(domain)} AND role = ${this.p(role)}${visible()}`);
    // "bob@" <= address < "bobA" is exactly the addresses starting "bob@" ('A' follows '@'),
    // and unlike LIKE it can use the address index.
    const byLocalPart = (local: string) =>
      selects.push(`SELECT doc_id FROM participation WHERE address >= ${this.p(local + '@')} AND address < ${this.p(local + 'A')} AND role = ${this.p(role)}${visible()}`);

    const at = value.indexOf('@');
    if (at === 0) {
      byDomain(value.slice(1));
    } else if (at > 0 && at === value.length - 1) {
      byLocalPart(value.slice(0, -1));
    } else if (at > 0) {
      byAddress(value);
    } else if (value.includes('.')) {
      byDomain(value);
      byAddress(value);
      byLocalPart(value);
    } else {
      byAddress(value);
      byLocalPart(value);
      // Display-name word: full text on the addresses column narrows to a few documents
      // before the exact word check, instead of scanning every participation row.
      selects.push(`SELECT p.doc_id FROM participation p WHERE p.doc_id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ${this.p('addresses : ' + quoteFts(value))})`
        + ` AND p.role = ${this.p(role)} AND ('.' || p.name || '.') GLOB ${this.p(`*${NAME_SEPARATORS}${escapeGlob(value)}${NAME_SEPARATORS}*`)}`
        + (role === 'bcc' && this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : ''));
    }
    return `d.id IN (${selects.join(' UNION ALL ')})`;
  }

  private mailbox(value: string): string {
    const m = this.meta;
    return `d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (`
      + `SELECT a.address FROM ${m}.mailbox_address a WHERE a.mailbox_id IN (`
      + `SELECT b.id FROM ${m}.mailbox b WHERE lower(b.name) = ${this.p(value)}`
      + ` UNION SELECT c.mailbox_id FROM ${m}.mailbox_address c WHERE c.address = ${this.p(value)}))`
      + (this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : '') + ')';
  }
}

// An exact header address (doc_fts.addresses holds header participants only: a Bcc or a
// sender known only from the envelope is not there) that the tokenizer can find at all.
function isPrefilterable(node: QueryNode & { kind: 'address' }): boolean {
  const at = node.value.indexOf('@');
  return node.role !== 'bcc' && node.role !== 'sender' && at > 0 && at < node.value.length - 1 && TOKEN_CHAR.test(node.value);
}

function quoteFts(value: string): string {
  return '"' + value.replaceAll('"', '""') + '"';
}

function ftsTerm(node: QueryNode & { kind: 'text' }): string {
  const phrase = quoteFts(node.value) + (node.prefix ? ' *' : '');
  return node.column === null ? phrase : `${node.column} : ${phrase}`;
}

// Parenthesised throughout rather than trusting FTS5's operator precedence.
function combineFts(positive: string[], negative: string[]): string {
  const p = positive.join(' AND ');
  return negative.length === 0 ? p : `(${p}) NOT (${negative.join(' OR ')})`;
}

// The FTS5 expression for a subtree made only of full-text terms, or null. FTS5 has no
// unary NOT, so a negation is expressible only beside a positive term under an AND.
function ftsExpression(node: QueryNode): string | null {
  switch (node.kind) {
    case 'text':
      return ftsTerm(node);
    case 'or': {
      const parts = node.children.map(ftsExpression);
      return parts.every((p) => p !== null) ? `(${parts.join(' OR ')})` : null;
    }
    case 'and': {
      const positive: string[] = [];
      const negative: string[] = [];
      for (const c of node.children) {
        const e = ftsExpression(c);
        if (e !== null) { positive.push(e); continue; }
        const ne = c.kind === 'not' ? ftsExpression(c.child) : null;
        if (ne === null) return null;
        negative.push(ne);
      }
      return positive.length === 0 ? null : `(${combineFts(positive, negative)})`;
    }
    default:
      return null;
  }
}

// GLOB's metacharacters, each made literal by a one-character class.
function escapeGlob(value: string): string {
  return value.replace(/[*?[]/g, (c) => `[${c}]`);
}
