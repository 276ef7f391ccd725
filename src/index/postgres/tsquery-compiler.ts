// Compiles a search-language AST (../search-query.ts) into a PostgreSQL boolean expression over
// `doc d` (migration 0003 of src/store/postgres/), the full text as tsquery literals matched
// against d.words; and a reader's scope into one more such condition. The same answers as
// ../sqlite/fts5-compiler.ts, query by query (test/conformance/search-index.test.ts).
//
// Every user value reaches SQL as a bound parameter ($n); a full-text value becomes lexemes
// quoted by words.ts, so punctuation in a query can never become tsquery or SQL syntax.

import { typeMatch } from '../extract/formats.ts';
import type { SearchScope } from '../search-index.ts';
import { dayRange, parseQuery } from '../search-query.ts';
import type { AddressRole, QueryNode } from '../search-query.ts';
import { spellingVariants } from '../spelling-variants.ts';
import { COLUMN_WEIGHT, MARK, markLexeme, monthsLexemes, termQuery } from './words.ts';

export interface PgCompiled {
  where: string;
  params: unknown[];
  // The words it looks for (any of them, in their columns), to rank matches by (else null).
  ranking: string | null;
}

// Separators around a word in a display name ("smith, bob", "bob.smith", "jean-luc"), as a
// bracket expression of PostgreSQL's regular expressions.
const NAME_SEPARATORS = '[ \t,.;:"\'()<>/\\\\@_+&|-]';

// A term as a tsquery, in each of its spellings (ß = ss, æ = ae, …); null: no word in it.
// A subject: term looks for the subject's marked words (no weight: the GIN index answers alone).
function ftsTerm(node: QueryNode & { kind: 'text' }, weighted = true): string | null {
  const subject = weighted && node.column === 'subject';
  const weight = weighted && node.column !== null && !subject ? COLUMN_WEIGHT[node.column] : null;
  const spellings = spellingVariants(node.value, node.prefix).map((v) => termQuery(v, node.prefix, weight, subject ? MARK.subject : '')).filter((q): q is string => q !== null);
  if (spellings.length === 0) return null;
  return spellings.length === 1 ? spellings[0]! : `(${spellings.join(' | ')})`;
}

// The tsquery for a subtree made only of full-text terms and conditions the index holds a
// lexeme for (has:attachment, from: an address or @domain; words.ts MARK), or null. tsquery has
// a unary NOT, so unlike FTS5 every such subtree is one.
function ftsExpression(node: QueryNode): string | null {
  switch (node.kind) {
    case 'text':
      return ftsTerm(node);
    case 'has-attachment':
      return markLexeme(MARK.attachment);
    case 'address': {
      if (node.role !== 'from') return null;
      const at = node.value.indexOf('@');
      if (at === 0 && node.value.length > 1) return markLexeme(MARK.fromDomain, node.value.slice(1));
      if (at > 0 && at < node.value.length - 1) return markLexeme(MARK.from, node.value);
      return null;
    }
    case 'not': {
      const e = ftsExpression(node.child);
      return e === null ? null : `!(${e})`;
    }
    case 'and':
    case 'or': {
      const parts = node.children.map(ftsExpression);
      return parts.every((p) => p !== null) ? `(${parts.join(node.kind === 'and' ? ' & ' : ' | ')})` : null;
    }
    default:
      return null;
  }
}

// The words a query looks for, in their columns when `columns`, any of them; null when none.
export function matchedWords(node: QueryNode, options: { columns?: boolean; attachments?: boolean } = {}): string | null {
  const terms: string[] = [];
  const walk = (n: QueryNode, negated: boolean): void => {
    if (n.kind === 'text' && !negated) {
      const wanted = options.attachments ? n.column === null || n.column === 'attachments' : options.columns || n.column === null;
      const t = wanted ? ftsTerm(n, !options.attachments) : null;
      if (t !== null) terms.push(t);
    } else if (n.kind === 'and' || n.kind === 'or') n.children.forEach((c) => walk(c, negated));
    else if (n.kind === 'not') walk(n.child, !negated);
  };
  walk(node, false);
  return terms.length === 0 ? null : terms.join(' | ');
}

// `within`: a search within mailboxes, their lexemes (scopeLexeme, ORed) ANDed into the
// query's own tsquery; `mailboxes` null where the caller states them otherwise (a mailbox's own
// words index, mailbox-indexes.ts), the query's lexemes then still looked for in its tsquery.
export function compileQuery(node: QueryNode, params: unknown[], options: { envelopeOf?: readonly number[]; within?: { mailboxes: string | null } | null } = {}): PgCompiled {
  const compiler = new Compiler(params, options.envelopeOf ?? null);
  const where = options.within ? compiler.within(node, options.within.mailboxes) : compiler.compile(node);
  return { where, params, ranking: matchedWords(node, { columns: true }) };
}

// The dates a query confines itself to (on:, or after: and before: ANDed at its top): from
// (inclusive) to (exclusive), -Infinity and Infinity when open. Implied by its conditions, which
// are checked as well.
export function queryDates(node: QueryNode): { from: number; to: number } {
  let from = -Infinity, to = Infinity;
  for (const n of node.kind === 'and' ? node.children : [node]) {
    const range = n.kind === 'date' ? dayRange(n) : null;
    if (range?.from != null) from = Math.max(from, range.from);
    if (range?.to != null) to = Math.min(to, range.to);
  }
  return { from, to };
}

// Those dates' months as month lexemes ORed; null when open or longer than MAX_IMPLIED_MONTHS.
const MAX_IMPLIED_MONTHS = 6;
function impliedMonths(node: QueryNode): string | null {
  const { from, to } = queryDates(node);
  return Number.isFinite(from) && Number.isFinite(to) ? monthsLexemes(from, to, MAX_IMPLIED_MONTHS) : null;
}

// Whether a subtree looks for any word (not only for conditions the index has lexemes of).
function hasWords(node: QueryNode): boolean {
  if (node.kind === 'text') return true;
  if (node.kind === 'and' || node.kind === 'or') return node.children.some(hasWords);
  return node.kind === 'not' && hasWords(node.child);
}

class Compiler {
  private readonly params: unknown[];
  private readonly envelopeOf: readonly number[] | null;

  constructor(params: unknown[], envelopeOf: readonly number[] | null) {
    this.params = params;
    this.envelopeOf = envelopeOf;
  }

  private p(value: unknown, cast = ''): string {
    this.params.push(value);
    return `$${this.params.length}${cast}`;
  }

  // For a participation row: true unless it is a Bcc the reader may not know of.
  private bccVisible(alias: string): string {
    if (this.envelopeOf === null) return 'TRUE';
    const own = () => `(SELECT oa.address FROM mailbox_address oa WHERE oa.mailbox_id = ANY(${this.p([...this.envelopeOf!], '::bigint[]')}))`;
    return `(${alias}role <> 'bcc' OR ${alias}address IN ${own()}`
      + ` OR ${alias}doc_id IN (SELECT sp.doc_id FROM participation sp WHERE sp.role IN ('from', 'sender') AND sp.address IN ${own()}))`;
  }

  // Within mailboxes: the query's full text and lexemes, and the mailboxes', as one tsquery (a
  // top-level AND's other parts beside it), so that the GIN index answers them in one scan; with
  // the months its dates imply, which the index skips to.
  within(node: QueryNode, mailboxes: string | null): string {
    const months = impliedMonths(node);
    const scope = months === null ? mailboxes : mailboxes === null ? months : `(${mailboxes}) & (${months})`;
    const fts = ftsExpression(node);
    if (fts !== null) return `d.words @@ ${this.p(scope === null ? fts : `(${fts}) & (${scope})`, '::tsquery')}`;
    if (node.kind !== 'and') return scope === null ? this.compile(node) : `(${this.compile(node)}) AND d.words @@ ${this.p(scope, '::tsquery')}`;
    const parts = node.children.map(ftsExpression);
    const words = [...parts.filter((p): p is string => p !== null), ...(scope === null ? [] : [scope])].map((w) => `(${w})`).join(' & ');
    const rest = node.children.filter((_, i) => parts[i] === null).map((c) => this.compile(c));
    return [...(words === '' ? [] : [`d.words @@ ${this.p(words, '::tsquery')}`]), ...rest].join(' AND ');
  }

  // Every expression returned is two-valued (never NULL), so NOT means "does not match".
  // Lexemes alone (has:attachment, from:) are left to their columns: over the whole archive a
  // common one would be read from every row's vector rather than from its column or index.
  compile(node: QueryNode): string {
    const fts = ftsExpression(node);
    if (fts !== null && hasWords(node)) return `d.words @@ ${this.p(fts, '::tsquery')}`;
    switch (node.kind) {
      case 'and': return `(${node.children.map((c) => this.compile(c)).join(' AND ')})`;
      case 'or': return `(${node.children.map((c) => this.compile(c)).join(' OR ')})`;
      case 'not': return `NOT (${this.compile(node.child)})`;
      case 'text': return 'FALSE';   // a term with no word in it (the parser lets none through)
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
        return `(d.message_id_lc IS NOT DISTINCT FROM ${this.p(node.value, '::text')})`;
      case 'sha256':
        if (node.value.length === 64) return `d.sha256 = ${this.p(node.value)}`;
        return `(d.sha256 >= ${this.p(node.value)} AND d.sha256 < ${this.p(node.value + 'g')})`;
    }
  }

  // Each branch is its own SELECT so that each uses an index (address or domain).
  private address(role: AddressRole, value: string): string {
    const selects: string[] = [];
    const visible = () => (role === 'bcc' && this.envelopeOf !== null ? ` AND ${this.bccVisible('')}` : '');
    const byAddress = (address: string) => selects.push(`SELECT doc_id FROM participation WHERE address = ${this.p(address)} AND role = ${this.p(role)}${visible()}`);
    const byDomain = (domain: string) => selects.push(`SELECT doc_id FROM participation WHERE domain = ${this.p(domain)} AND role = ${this.p(role)}${visible()}`);
    // "bob@" <= address < "bobA" is exactly the addresses starting "bob@" (COLLATE "C").
    const byLocalPart = (local: string) => selects.push(`SELECT doc_id FROM participation WHERE address >= ${this.p(local + '@')} AND address < ${this.p(local + 'A')} AND role = ${this.p(role)}${visible()}`);
    const at = value.indexOf('@');
    if (at === 0) byDomain(value.slice(1));
    else if (at > 0 && at === value.length - 1) byLocalPart(value.slice(0, -1));
    else if (at > 0) byAddress(value);
    else if (value.includes('.')) {
      byDomain(value);
      byAddress(value);
      byLocalPart(value);
    } else {
      byAddress(value);
      byLocalPart(value);
      // A word of the display name: the documents with that word in their addresses or body
      // first (the GIN index), then the name itself.
      const narrow = termQuery(value, false, COLUMN_WEIGHT.addresses);
      selects.push(`SELECT p.doc_id FROM participation p WHERE ${narrow === null ? '' : `p.doc_id IN (SELECT id FROM doc WHERE words @@ ${this.p(narrow, '::tsquery')}) AND `}`
        + `p.role = ${this.p(role)} AND ('.' || p.name || '.') ~ ${this.p(`${NAME_SEPARATORS}${escapeRegex(value)}${NAME_SEPARATORS}`)}`
        + (role === 'bcc' && this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : ''));
    }
    return `d.id IN (${selects.join(' UNION ALL ')})`;
  }

  private attachmentType(name: string): string {
    const { types, extensions, subtype } = typeMatch(name);
    const byType = types.length > 0 ? [`a.content_type = ANY(${this.p(types, '::text[]')})`] : [];
    const byName = extensions.map((e) => `a.filename_lc LIKE ${this.p(`%.${escapeLike(e)}`)}`);
    return `d.id IN (SELECT a.doc_id FROM attachment a WHERE ${[...byType, ...byName, `a.content_type LIKE ${this.p(`%/${escapeLike(subtype)}`)}`].join(' OR ')})`;
  }

  private mailbox(value: string): string {
    return `d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (`
      + `SELECT a.address FROM mailbox_address a WHERE a.mailbox_id IN (`
      + `SELECT b.id FROM mailbox b WHERE lower(b.name) = ${this.p(value)}`
      + ` UNION SELECT c.mailbox_id FROM mailbox_address c WHERE c.address = ${this.p(value)}))`
      + (this.envelopeOf !== null ? ` AND ${this.bccVisible('p.')}` : '') + ')';
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// Every character but letters and digits made literal (a backslash before it).
function escapeRegex(value: string): string {
  return value.replace(/[^\p{L}\p{N}]/gu, (c) => `\\${c}`);
}

// The scope as a condition, appended to `params`: the mailboxes, the date window and the grant's
// fixed query, compiled on its own (never pasted into the user's query text). 'in-query': the
// mailboxes are said elsewhere (compileQuery's `within`, inScopeBetween's window).
export function compileScope(scope: SearchScope, params: unknown[], mailboxes: 'participation' | 'in-query' = 'participation'): string {
  const parts: string[] = ['TRUE'];
  if (mailboxes === 'participation') {
    params.push(scope.mailboxes.map((m) => m.id));
    parts.push(`d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (SELECT address FROM mailbox_address WHERE mailbox_id = ANY($${params.length}::bigint[])))`);
  }
  if (scope.dateFrom !== null) {
    params.push(scope.dateFrom);
    parts.push(`d.date >= $${params.length}`);
  }
  if (scope.dateTo !== null) {
    params.push(scope.dateTo);
    parts.push(`d.date < $${params.length}`);
  }
  if (scope.fixedQuery !== null) parts.push(`(${compileQuery(parseQuery(scope.fixedQuery), params).where})`);
  return parts.join(' AND ');
}
