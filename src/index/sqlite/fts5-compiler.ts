// Compiles a search-language AST (../search-query.ts) into a SQL boolean expression over
// `doc d` in index.db (migrations/), with `meta` = the main database attached; and a reader's
// scope into one more such condition.
//
// Every user value reaches SQL as a bound parameter; full-text values are quoted FTS5
// strings, so punctuation in a query can never become FTS5 or SQL syntax.

import { typeMatch } from '../extract/formats.ts';
import type { SearchScope } from '../search-index.ts';
import { ADDRESS_ROLES, dayRange, parseQuery, TOKEN_CHAR } from '../search-query.ts';
import type { AddressRole, QueryNode } from '../search-query.ts';
import { spellingVariants } from '../spelling-variants.ts';
import { addressToken, ATTACHMENT_TOKEN, domainToken, fromDomainToken, fromToken, mayFindScope, monthOf, monthsBetween, USER_COLUMNS } from './scope-tokens.ts';

export interface CompiledQuery {
  where: string;
  params: (string | number)[];
  // The whole query as one FTS5 expression, when it is nothing but full text (else null).
  fullText: string | null;
  // The words it looks for (any of them, in their columns), to rank matches by (else null).
  ranking: string | null;
}

export interface CompileOptions {
  metaSchema?: string;   // schema name the main database is attached under; default "meta"
  // A mailbox owner reading their own mailboxes sees a message as they received it: a Bcc
  // (known only from the envelope) matches bcc: and mailbox: only where it is one of these
  // mailboxes' own addresses, or where they sent the message.
  envelopeOf?: readonly number[];
  // The spellings a full-text term is searched in (default: every one, spellingVariants); the
  // index may leave out those it holds no word of.
  spellings?: Spellings;
}

export type Spellings = (value: string, prefix: boolean) => string[];

// Document ids in (after, upTo]: the rows a condition is asked of (SearchIndex.inScopeBetween).
export interface IdWindow {
  after: number;
  upTo: number;
}

// Separators around a word in a display name ("smith, bob", "bob.smith", "jean-luc").
const NAME_SEPARATORS = '[ \t,.;:"\'()<>/\\@_+&|-]';

export function compileQuery(node: QueryNode, options: CompileOptions & { rows?: 'list' | 'one'; window?: IdWindow } = {}): CompiledQuery {
  const meta = options.metaSchema ?? 'meta';
  // Interpolated into SQL, so it must be a plain identifier; this is the caller's value, not the user's.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(meta)) throw new TypeError(`invalid metaSchema ${JSON.stringify(meta)}`);
  const params: (string | number)[] = [];
  const spell = options.spellings ?? spellingVariants;
  const where = new Compiler(params, meta, options.envelopeOf ?? null, spell, options.window ?? options.rows ?? 'list').compile(node);
  return { where, params, fullText: ftsExpression(node, spell), ranking: matchedWordsExpression(node, { columns: true, spellings: spell }) };
}

class Compiler {
  private readonly params: (string | number)[];
  private readonly meta: string;
  private readonly envelopeOf: readonly number[] | null;
  private readonly spell: Spellings;
  // 'list': a condition over many rows, each IN-list made once per statement (a search);
  // 'row': checked on the few rows found otherwise (compileScoped's residual): a participant
  // condition looks at the row's own participants, never gathers every row of an address first;
  // 'one': everything per row, words and attachments too (the scope of one message, or a thread);
  // a window of ids: as 'one', but each MATCH lists the window's rows (FTS5 seeks to the range).
  private readonly rows: 'list' | 'row' | 'one' | IdWindow;

  constructor(params: (string | number)[], meta: string, envelopeOf: readonly number[] | null, spell: Spellings, rows: 'list' | 'row' | 'one' | IdWindow = 'list') {
    this.params = params;
    this.meta = meta;
    this.envelopeOf = envelopeOf;
    this.spell = spell;
    this.rows = rows;
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
    const fts = ftsExpression(node, this.spell);
    if (fts !== null) return this.match(fts);
    switch (node.kind) {
      case 'and': return this.compileAnd(node.children);
      case 'or': return this.compileOr(node.children);
      case 'not': return `NOT (${this.compile(node.child)})`;
      case 'text': return this.match(ftsTerm(node, this.spell));   // unreachable: handled above
      case 'address': return this.address(node.role, node.value);
      case 'mailbox': return this.mailbox(node.value);
      case 'has-attachment': return 'd.has_attachment <> 0';
      case 'type': return this.attachmentType(node.value);
      case 'date': {
        const range = dayRange(node);
        if (range === null) throw new TypeError(`invalid day ${JSON.stringify(node.day)} in query AST`);
        return `(d.date IS NOT NULL${range.from === null ? '' : ` AND d.date >= ${this.p(range.from)}`}${range.to === null ? '' : ` AND d.date < ${this.p(range.to)}`})`;
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
    // rowid = d.id: an integer column, which FTS5 takes as the one row to look at (a number bound
    // from JS is a REAL, which it does not: see SqliteSearchIndex.attachmentHits).
    if (this.rows === 'one') return `EXISTS (SELECT 1 FROM doc_fts WHERE doc_fts MATCH ${this.p(expression)} AND rowid = d.id)`;
    if (typeof this.rows === 'object') return `d.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ${this.p(expression)} AND rowid > ${this.p(this.rows.after)} AND rowid <= ${this.p(this.rows.upTo)})`;
    return `d.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ${this.p(expression)})`;
  }

  // All full-text children become one MATCH (FTS5 intersects far faster than SQL does with
  // several IN lists); negated full-text children join it as FTS5 NOT.
  private compileAnd(children: readonly QueryNode[]): string {
    const positive: string[] = [];
    const negative: string[] = [];
    const rest: QueryNode[] = [];
    for (const c of children) {
      const e = ftsExpression(c, this.spell);
      const ne = e === null && c.kind === 'not' ? ftsExpression(c.child, this.spell) : null;
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
      const e = ftsExpression(c, this.spell);
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
    if (this.rows !== 'list') return this.addressOfRow(role, value);
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

  // The same condition on the row's participants (its primary key starts with doc_id).
  private addressOfRow(role: AddressRole, value: string): string {
    const head = `EXISTS (SELECT 1 FROM participation p WHERE p.doc_id = d.id AND p.role = ${this.p(role)} AND (`;   // placeholders in order
    const any: string[] = [];
    const at = value.indexOf('@');
    const local = (l: string) => any.push(`(p.address >= ${this.p(l + '@')} AND p.address < ${this.p(l + 'A')})`);
    if (at === 0) any.push(`p.domain = ${this.p(value.slice(1))}`);
    else if (at > 0 && at === value.length - 1) local(value.slice(0, -1));
    else if (at > 0) any.push(`p.address = ${this.p(value)}`);
    else {
      if (value.includes('.')) any.push(`p.domain = ${this.p(value)}`);
      any.push(`p.address = ${this.p(value)}`);
      local(value);
      if (!value.includes('.')) any.push(`('.' || p.name || '.') GLOB ${this.p(`*${NAME_SEPARATORS}${escapeGlob(value)}${NAME_SEPARATORS}*`)}`);
    }
    const visible = role === 'bcc' && this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : '';
    return `${head}${any.join(' OR ')})${visible})`;
  }

  // Attachments of a kind: by its content types, its extensions, or the content type's subtype.
  private attachmentType(name: string): string {
    const { types, extensions, subtype } = typeMatch(name);
    const byType = types.length > 0 ? [`a.content_type IN (${types.map((t) => this.p(t)).join(', ')})`] : [];
    const byName = extensions.map((e) => `a.filename_lc GLOB ${this.p(`*.${escapeGlob(e)}`)}`);
    const kind = [...byType, ...byName, `a.content_type GLOB ${this.p(`*/${escapeGlob(subtype)}`)}`].join(' OR ');
    if (this.rows !== 'list' && this.rows !== 'row') return `EXISTS (SELECT 1 FROM attachment a WHERE a.doc_id = d.id AND (${kind}))`;
    return `d.id IN (SELECT a.doc_id FROM attachment a WHERE ${kind})`;
  }

  private mailbox(value: string): string {
    const m = this.meta;
    if (this.rows !== 'list') {
      return `EXISTS (SELECT 1 FROM participation p WHERE p.doc_id = d.id AND p.address IN (`
        + `SELECT a.address FROM ${m}.mailbox_address a WHERE a.mailbox_id IN (`
        + `SELECT b.id FROM ${m}.mailbox b WHERE lower(b.name) = ${this.p(value)}`
        + ` UNION SELECT c.mailbox_id FROM ${m}.mailbox_address c WHERE c.address = ${this.p(value)}))`
        + (this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : '') + ')';
    }
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

// A word or phrase, in each of its spellings (ß = ss, æ = ae, …: spelling-variants.ts). On
// index.db's table (`guard`) a term of no column that could find a token of the scope column
// (`a*`, a word spelled like one) is kept to the message's own columns; the others are not, as a
// column filter makes FTS5 read where each match is, not only which rows.
function ftsTerm(node: QueryNode & { kind: 'text' }, spell: Spellings = spellingVariants, guard = true): string {
  const values = spell(node.value, node.prefix);
  const spellings = values.map((v) => quoteFts(v) + (node.prefix ? ' *' : ''));
  const phrase = spellings.length === 1 ? spellings[0]! : `(${spellings.join(' OR ')})`;
  if (node.column !== null) return `${node.column} : ${phrase}`;
  return guard && values.some((v) => mayFindScope(v, node.prefix)) ? `${USER_COLUMNS} : ${phrase}` : phrase;
}

// The full-text expression of the words a query looks for anywhere (not those it excludes, nor
// subject:, filename: or attachment: terms), any of them, for marking them in the text of a
// message; null when it looks for none.
export function matchedWordsExpression(node: QueryNode, options: { columns?: boolean; spellings?: Spellings } = {}): string | null {
  const terms: string[] = [];
  const walk = (n: QueryNode, negated: boolean): void => {
    if (n.kind === 'text' && !negated && (options.columns || n.column === null)) terms.push(ftsTerm(n, options.spellings, options.columns === true));
    else if (n.kind === 'and' || n.kind === 'or') n.children.forEach((c) => walk(c, negated));
    else if (n.kind === 'not') walk(n.child, !negated);
  };
  walk(node, false);
  return terms.length === 0 ? null : terms.join(' OR ');
}

// The words a query looks for that can be inside an attachment (those of no column, and
// attachment: terms), any of them, for the table of each attachment's own text (one column, so
// the terms carry none); null when it looks for none.
export function attachmentWordsExpression(node: QueryNode, spellings: Spellings = spellingVariants): string | null {
  const terms: string[] = [];
  const walk = (n: QueryNode, negated: boolean): void => {
    if (n.kind === 'text' && !negated && (n.column === null || n.column === 'attachments')) terms.push(ftsTerm({ ...n, column: null }, spellings, false));
    else if (n.kind === 'and' || n.kind === 'or') n.children.forEach((c) => walk(c, negated));
    else if (n.kind === 'not') walk(n.child, !negated);
  };
  walk(node, false);
  return terms.length === 0 ? null : terms.join(' OR ');
}

// Parenthesised throughout rather than trusting FTS5's operator precedence.
function combineFts(positive: string[], negative: string[]): string {
  const p = positive.join(' AND ');
  return negative.length === 0 ? p : `(${p}) NOT (${negative.join(' OR ')})`;
}

// The FTS5 expression for a subtree made only of full-text terms, or null. FTS5 has no
// unary NOT, so a negation is expressible only beside a positive term under an AND.
function ftsExpression(node: QueryNode, spell: Spellings = spellingVariants): string | null {
  switch (node.kind) {
    case 'text':
      return ftsTerm(node, spell);
    case 'or': {
      const parts = node.children.map((c) => ftsExpression(c, spell));
      return parts.every((p) => p !== null) ? `(${parts.join(' OR ')})` : null;
    }
    case 'and': {
      const positive: string[] = [];
      const negative: string[] = [];
      for (const c of node.children) {
        const e = ftsExpression(c, spell);
        if (e !== null) { positive.push(e); continue; }
        const ne = c.kind === 'not' ? ftsExpression(c.child, spell) : null;
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

// The scope as a condition: the mailboxes, the date window and the grant's fixed query, for
// searches and reads by id alike. The fixed query is compiled on its own, never pasted into
// the user's query text, so no parenthesis or OR in what the user types can step outside it.
// `rows`: 'list' for a search (SQLite lists the mailboxes' documents once, then looks each row
// up in the list), 'one' for a check of a message or a thread (each row's own participants, and
// for a fixed query its words and attachments, are looked at: listing a mailbox's documents for
// every message an export reads made the export quadratic, 1.6 ms a message in a mailbox of 6,000).
export function compileScope(scope: SearchScope, rows: 'list' | 'one' = 'list'): CompiledQuery {
  const ids = scope.mailboxes.map((m) => m.id);
  const rest = scopeRest(scope, rows);
  const mailboxes = rows === 'list'
    ? `d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (${scopeAddresses(ids)}))`
    : `EXISTS (SELECT 1 FROM participation p WHERE p.doc_id = d.id AND p.address IN (${scopeAddresses(ids)}))`;
  return {
    where: [mailboxes, ...rest.where].join(' AND '),
    params: [...ids, ...rest.params], fullText: null, ranking: null,
  };
}

// The scope's documents with ids in (after, upTo]: the mailboxes' participations in that window
// are read by the address index (each address, role and id range one seek: no role left open,
// else the seek would read every participation of the address), the rest checked on those rows.
export function compileScopeWindow(scope: SearchScope, after: number, upTo: number): CompiledQuery {
  const ids = scope.mailboxes.map((m) => m.id);
  const rest = scopeRest(scope, { after, upTo });
  const roles = ADDRESS_ROLES.map((r) => `'${r}'`).join(', ');
  return {
    where: [`d.id > ? AND d.id <= ? AND d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (${scopeAddresses(ids)}) AND p.role IN (${roles}) AND p.doc_id > ? AND p.doc_id <= ?)`, ...rest.where].join(' AND '),
    params: [after, upTo, ...ids, after, upTo, ...rest.params], fullText: null, ranking: null,
  };
}

function scopeAddresses(mailboxIds: readonly number[]): string {
  return `SELECT address FROM meta.mailbox_address WHERE mailbox_id IN (${mailboxIds.map(() => '?').join(', ')})`;
}

// The scope's conditions other than its mailboxes.
function scopeRest(scope: SearchScope, rows: 'list' | 'one' | IdWindow = 'list'): { where: string[]; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (scope.dateFrom !== null) {
    parts.push('d.date >= ?');
    params.push(scope.dateFrom);
  }
  if (scope.dateTo !== null) {
    parts.push('d.date < ?');
    params.push(scope.dateTo);
  }
  if (scope.fixedQuery !== null) {
    const fixed = compileQuery(parseQuery(scope.fixedQuery), typeof rows === 'object' ? { window: rows } : { rows });
    parts.push(`(${fixed.where})`);
    params.push(...fixed.params);
  }
  return { where: parts, params };
}

// A search within mailboxes as one FTS5 expression (`match`: the query's words AND the tokens
// of the mailboxes' addresses, scope-tokens.ts) and what it cannot say (`residual`: a condition
// over `doc d` for the rows the MATCH finds; null when the MATCH is the whole answer). Terms of
// the query that are not words still add what they imply to the MATCH — an address or domain
// token, the attachment token, the months of a date range — so that it finds few rows more than
// the answer; from: an address or a domain is a token of its own, the whole condition.
// `addresses`: the mailboxes' addresses (at least one); `dates`: the first and last date the
// index holds, which close an open date range (after: alone) to its months. A range of whole
// months is said by their tokens alone, the query's dates left out of the residual. `window`:
// the dates every match lies within (null: open on that side).
export function compileScoped(node: QueryNode, scope: SearchScope, addresses: readonly string[], options: CompileOptions & { dates?: () => { min: number; max: number } | null } = {}): { match: string; residual: CompiledQuery | null; window: { from: number | null; to: number | null } } {
  const spell = options.spellings ?? spellingVariants;
  const whole = ftsExpression(node, spell);
  const children = whole !== null ? [] : node.kind === 'and' ? node.children : [node];
  const positive = whole !== null ? [whole] : [];
  const negative: string[] = [];
  const rest: QueryNode[] = [];
  for (const c of children) {
    const e = ftsExpression(c, spell);
    const ne = e === null && c.kind === 'not' ? ftsExpression(c.child, spell) : null;
    if (e !== null) positive.push(e);
    else if (ne !== null) negative.push(ne);
    else rest.push(c);
  }
  const implied: string[] = [`scope : (${addresses.map((a) => quoteFts(addressToken(a))).join(' OR ')})`];
  let from = scope.dateFrom;
  let to = scope.dateTo;
  const residual: QueryNode[] = [];
  for (const c of rest) {
    // The same conditions: nothing left to check.
    if (c.kind === 'has-attachment') {
      implied.push(`scope : ${ATTACHMENT_TOKEN}`);
      continue;
    }
    if (c.kind === 'address' && c.role === 'from') {
      const at = c.value.indexOf('@');
      if (at > 0 && at < c.value.length - 1) {
        implied.push(`scope : ${quoteFts(fromToken(c.value))}`);
        continue;
      }
      if (at === 0 && c.value.length > 1) {
        implied.push(`scope : ${quoteFts(fromDomainToken(c.value.slice(1)))}`);
        continue;
      }
    }
    residual.push(c);
    if (c.kind === 'address') {
      const at = c.value.indexOf('@');
      if (at > 0 && at < c.value.length - 1) implied.push(`scope : ${quoteFts(addressToken(c.value))}`);
      else if (at === 0 && c.value.length > 1) implied.push(`scope : ${quoteFts(domainToken(c.value.slice(1)))}`);
    } else if (c.kind === 'date') {
      const range = dayRange(c);
      if (range?.from != null) from = from === null ? range.from : Math.max(from, range.from);
      if (range?.to != null) to = to === null ? range.to : Math.min(to, range.to);
    }
  }
  const span = (from === null) !== (to === null) ? options.dates?.() : null;
  if (span) {
    from ??= span.min;
    to ??= span.max + 1;
  }
  const months = monthsBetween(from, to);
  if (months !== null) implied.push(`scope : (${months.join(' OR ')})`);
  // Whole months (UTC, as the tokens are): the tokens say the query's dates exactly.
  const wholeMonths = months !== null && monthOf(from)?.from === from && monthOf(to)?.from === to;
  let match = [...positive, ...implied].join(' AND ');
  if (negative.length > 0) match = `(${match}) NOT (${negative.join(' OR ')})`;

  const params: (string | number)[] = [];
  const compiler = new Compiler(params, options.metaSchema ?? 'meta', options.envelopeOf ?? null, spell, 'row');
  const parts = residual.filter((c) => !(wholeMonths && c.kind === 'date')).map((c) => compiler.compile(c));
  const scoped = scopeRest(scope);
  parts.push(...scoped.where);
  params.push(...scoped.params);
  return { match, residual: parts.length === 0 ? null : { where: parts.join(' AND '), params, fullText: null, ranking: null }, window: { from, to } };
}
