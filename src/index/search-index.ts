import type { CompletenessSummary } from './index-completeness.ts';

export interface SearchHit {
  sha256: string;
  messageId: string | null;
  date: number | null;
  from: string | null;
  subject: string | null;
}

export interface SearchResult {
  query: string;       // canonical form, for the ledger
  hits: SearchHit[];
  total: number;       // every message the query finds in the scope, not only this page
  sort: SearchSort;    // the order the hits are in (relevance without words is newest)
  // With SearchOptions.countUpTo: the query finds more than `total` (= countUpTo) messages.
  totalIsLowerBound?: true;
  // With SearchOptions.rankUpTo, best match first over more matches than that: the newest this
  // many are in order of relevance, then the older ones newest first.
  rankedNewest?: number;
}

// How far a search counts: options.countUpTo, unless the page asked for lies past it (then
// every match, so that the pages past it are found and told their place).
export function countLimit(options: SearchOptions): number | undefined {
  const { countUpTo } = options;
  return countUpTo !== undefined && (options.offset ?? 0) + options.limit <= countUpTo ? countUpTo : undefined;
}

// The total a search answers with when it counts no further than `limit` (countLimit): the
// same on every backend, whether or not it stopped counting early.
export function boundedTotal(total: number, limit: number | undefined): Pick<SearchResult, 'total' | 'totalIsLowerBound'> {
  return limit !== undefined && total > limit ? { total: limit, totalIsLowerBound: true } : { total };
}

// The order of results: by the Date header (else the receipt time), newest or oldest first;
// messages of the same moment in the order they were archived. `relevance`: the best match of
// the words the query looks for first (BM25), then newest; a query without words (from:,
// dates) is in newest first.
export const SEARCH_SORTS = ['newest', 'oldest', 'relevance'] as const;
export type SearchSort = typeof SEARCH_SORTS[number];

// What a reader may search and read: messages with a participant address in one of these
// mailboxes, inside the date window [dateFrom, dateTo), matching a grant's fixed query.
export interface SearchScope {
  readonly mailboxes: readonly { readonly id: number }[];
  readonly dateFrom: number | null;
  readonly dateTo: number | null;
  readonly fixedQuery: string | null;
}

export interface SearchOptions {
  limit: number;
  offset?: number;
  sort?: SearchSort;   // default newest
  scope?: SearchScope;
  // A mailbox owner's own mailboxes: their bcc: and mailbox: terms see a Bcc only as they
  // received the message (CompileOptions.envelopeOf).
  envelopeOf?: readonly number[];
  // Count the matches no further than this (a person's search: "more than 10,000" is answer
  // enough, and counting a common word's every match is most of such a search's time); unset,
  // every match is counted (exports, evidence packages).
  countUpTo?: number;
  // Best match first over a long list: only the newest this many matches are ranked (ranking a
  // common word's every match takes seconds at millions of messages), ahead of the rest newest
  // first; unset, every match is ranked.
  rankUpTo?: number;
}

// The ids of a page of best-match-first over a long list (SearchOptions.rankUpTo): the newest
// matches, ranked (`ranked`), hold the first places; the places after them are the older matches
// newest first, from `newest`: the first offset + limit ids in newest-first order, asked for
// (and read) only when the page reaches past the ranked ones.
export function rankedNewestPage(ranked: readonly number[], offset: number, limit: number, newest: (n: number) => readonly number[]): number[] {
  const want = offset + limit;
  const page = ranked.slice(offset, want);
  if (want > ranked.length) page.push(...newest(want).slice(Math.max(offset, ranked.length), want));
  return page;
}

// A message as indexed, under the index's own field names.
export interface IndexedDocument {
  id: number;
  sha256: string;
  message_id: string | null;
  message_id_lc: string | null;
  date: number | null;
  from_text: string | null;
  subject: string | null;
  has_attachment: number;
  parse_error: string | null;
}

export interface Participant {
  address: string;
  role: string;
  name: string | null;
  mailbox: string | null;
}

export interface IndexedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  // What became of reading its text: ok | truncated: reason | encrypted | failed: reason; null
  // when it is not a kind of file whose text is read, or not read yet.
  extraction: string | null;
}

// An attachment a search's words were found in.
export interface AttachmentHit {
  attachment: number;        // its place among the message's attachments (0 first)
  filename: string | null;
}

export interface IndexFailures {
  count: number;
  recent: { captureRow: number; sha256: string; error: string; attempts: number; lastFailedAt: number }[];
}

// The read side of the search index. Each call reads what has committed, in one consistent view.
export interface SearchIndex {
  // Throws QueryError for a query the language, or the full-text index, refuses.
  search(text: string, options: SearchOptions): Promise<SearchResult>;
  // The messages of a message's conversation (thread) inside `scope`, oldest first, the message
  // itself included; [] when it is not indexed or not in scope. Messages outside the scope are
  // neither listed nor counted.
  thread(messageRowId: number, scope: SearchScope): Promise<SearchHit[]>;
  // For each text, the passage that best shows the words `query` looks for, as HTML: the text
  // escaped, each matched word in <mark>…</mark>, "…" where it is cut; the start of the text
  // when no word of the query is in it. The texts come from the reader's own scope (the index
  // keeps no text), and nothing of them is kept.
  snippets(query: string, texts: readonly { key: string; text: string }[]): Promise<Map<string, string>>;
  // For each of these messages (already found in the reader's scope), its attachments whose own
  // text holds any of the words `query` looks for (plain words and attachment: terms), by their
  // place among the message's attachments; messages with none are left out.
  attachmentHits(query: string, sha256s: readonly string[]): Promise<Map<string, AttachmentHit[]>>;
  // The message's row id if it is indexed and inside `scope`, else null.
  findInScope(sha256: string, scope: SearchScope): Promise<number | null>;
  // The same for many messages in one query: those indexed and inside `scope`, by sha256.
  inScope(sha256s: readonly string[], scope: SearchScope): Promise<Map<string, number>>;
  // The indexed messages inside `scope` whose row id is in (after, upTo], by row id: what a scope
  // holds, read a window of ids at a time from its mailboxes' side (a legal hold's whole pass
  // reads what the hold covers, not every message of the archive).
  inScopeBetween(scope: SearchScope, after: number, upTo: number): Promise<{ id: number; sha256: string }[]>;
  document(messageRowId: number): Promise<IndexedDocument | null>;
  // Of these messages (row ids), those the index holds a document for.
  indexed(messageRowIds: readonly number[]): Promise<Set<number>>;
  participants(messageRowId: number): Promise<Participant[]>;
  // Which of `mailboxIds` hold at least one of the messages `sha256s`: a mailbox holds a message
  // when one of its addresses takes part in it (from, sender, to, cc, or bcc by envelope), the
  // link the scope condition reads by.
  mailboxesHolding(sha256s: readonly string[], mailboxIds: readonly number[]): Promise<Set<number>>;
  // Indexed messages in which at least one of `mailboxIds` takes part and no other mailbox does
  // (participants with no mailbox, such as outside correspondents, do not count), each with the
  // mailboxes of those that take part; in archive order, at most `limit`. What a leaver's mail is.
  messagesOnlyOf(mailboxIds: readonly number[], limit: number): Promise<{ id: number; sha256: string; mailboxes: number[] }[]>;
  attachments(messageRowId: number): Promise<IndexedAttachment[]>;
  authVerdicts(captureRowId: number): Promise<unknown>;
  // Other messages with the same Message-ID: forged or altered copies are kept and linked, never
  // merged. Only those within `scope` (the reader's): naming one outside it would tell the reader
  // that it exists, and its identity.
  sameMessageId(messageIdLc: string, exceptRowId: number, scope: SearchScope): Promise<string[]>;
  // Every indexed message in which one of these addresses (lowercase) takes part, in any role
  // (from, sender, to, cc, bcc by envelope): what a data-subject request concerns.
  messagesWith(addresses: readonly string[]): Promise<{ id: number; sha256: string }[]>;
  // The mailboxes (by name) that hold any of those messages, by the link mailboxesHolding reads:
  // all that a grant can reach of what a data-subject request concerns.
  mailboxesWith(addresses: readonly string[]): Promise<string[]>;
  // Captures the indexer could not index (each retried now and then), the most recent first.
  failures(limit?: number): Promise<IndexFailures>;
  // The last capture row the indexer has covered.
  cursor(): Promise<number>;
  // Captures indexed whose authentication verdicts are still being checked.
  pendingAuth(): Promise<number>;
  // The last index completeness check (index-completeness.ts), or null if none was made.
  completeness(): Promise<CompletenessSummary | null>;
  // Documents indexed whose attachments' text is still being read.
  pendingExtraction(): Promise<number>;
  // The mailboxes with a words index of their own (PostgreSQL: postgres/mailbox-indexes.ts),
  // biggest first; none on SQLite.
  mailboxIndexes(): Promise<MailboxIndexInfo[]>;
}

export interface MailboxIndexInfo {
  mailbox: string;    // its name
  index: string;      // the index's name in the database
  documents: number;  // the mailbox's documents as the planner estimated them when it was built
  bytes: number;      // the index's size on disk
  builtAt: number;    // ms since the epoch
}
