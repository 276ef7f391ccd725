import type { CompletenessSummary } from './index-completeness.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { AddressRole } from './search-query.ts';

// A message's document: what result lists show and the fields searches filter on.
export interface NewDocument {
  id: number;                   // the message's row id in the metadata store
  sha256: string;
  messageId: string | null;
  date: number | null;
  fromText: string | null;      // display form of From
  subject: string | null;
  hasAttachment: boolean;
  parseError: string | null;
  // The Message-IDs it refers to (References in order, then In-Reply-To), lowercased: its
  // thread is the one of the first of these already indexed (threadKeyFor).
  refersTo: string[];
}

// An address taking part in a message; address, domain and name as stored (lowercased).
export interface Participation {
  role: AddressRole;
  address: string;
  domain: string;
  name: string | null;
}

export interface NewAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
}

// The searchable text; `addresses` must hold every header participant's address and display
// name, as from:/to:/cc: narrow display-name matches through it. `attachments`: the text read from
// inside the attachments, '' until the extractor has read it (AttachmentExtractor).
export interface FullText {
  subject: string;
  addresses: string;
  body: string;
  filenames: string;
  attachments: string;
}

// What became of reading one attachment's text, by its place among the message's attachments:
// ok | truncated: reason | encrypted | failed: reason.
export interface AttachmentOutcome {
  attachment: number;
  extraction: string;
  // The text read from it (as much as was kept): indexed for it alone too, so that a search
  // result can say which attachment holds its words.
  text?: string;
}

// Captures claimed for indexing (IndexStore.claim), held by this indexer until its work ends.
export interface IndexClaim {
  // Their row ids, ascending (none: nothing to index).
  readonly rowIds: readonly number[];
  // A write transaction of the index, with its write lock, in which the claim commits: on
  // PostgreSQL a savepoint of the claim's own transaction, on SQLite a transaction refused if the
  // cursor has moved since the claim. May be called again after a call that threw (what that
  // wrote is undone).
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  // Within write: these claimed captures (those up to some row) are indexed, and the cursor moves
  // to the last row up to which every capture is.
  done(tx: Tx, rowIds: readonly number[]): Promise<void>;
}

// The write side of the search index, as the indexer uses it. Every call runs in a transaction
// of the index's own (`write`/`read`; one at a time), the handle passed to it.
export interface IndexStore extends Transactions {
  // The last capture row indexed: it commits with the rows it covers.
  cursor(tx: Tx): Promise<number>;
  setCursor(tx: Tx, captureRowId: number): Promise<void>;
  // The next captures to index, at most `limit`, none of them claimed by another indexer, for as
  // long as `work` runs. PostgreSQL, where several nodes index one archive: rows of the queue
  // (index_queue) locked FOR UPDATE SKIP LOCKED in a transaction that lasts until work ends and
  // commits with its write; a node that dies lets go of them with its connection. SQLite (one
  // indexer): the captures after the cursor.
  claim<T>(limit: number, work: (claim: IndexClaim) => Promise<T>): Promise<T>;
  // Within a write transaction: if work throws, what it wrote is undone and the error rethrown;
  // the transaction goes on.
  savepoint(tx: Tx, work: () => Promise<void>): Promise<void>;

  lastDocumentId(tx: Tx): Promise<number>;
  hasDocument(tx: Tx, messageRowId: number): Promise<boolean>;
  // Addresses a document names as recipient (to, cc, bcc), as From, and in any role.
  namedAddresses(tx: Tx, messageRowId: number): Promise<{ recipients: Set<string>; from: Set<string>; all: Set<string> }>;
  // Adds the document in its thread (see threadKeyFor); earlier replies keyed by its own
  // Message-ID join that thread.
  addDocument(tx: Tx, doc: NewDocument): Promise<void>;
  // Documents indexed before threads were kept (no thread yet): their ids and sha256s.
  unthreaded(tx: Tx, limit: number): Promise<{ id: number; sha256: string }[]>;
  // Puts an already indexed document in its thread, as addDocument would have.
  setThread(tx: Tx, messageRowId: number, messageId: string | null, refersTo: string[]): Promise<void>;
  // A participation already recorded is left as it is.
  addParticipation(tx: Tx, messageRowId: number, p: Participation): Promise<void>;
  addAttachment(tx: Tx, messageRowId: number, a: NewAttachment): Promise<void>;
  // A document's words, written after its participants (SQLite's table keeps a token per
  // participant beside them: scope-tokens.ts). PostgreSQL holds a new document's row (addDocument)
  // back until this call and inserts it with its words, so that the row is written once.
  addFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void>;
  // Its words written again, as when a later capture adds a participant (the Bcc of another copy).
  replaceFullText(tx: Tx, messageRowId: number, text: FullText): Promise<void>;
  // The authentication verdicts of one capture, replacing any before.
  setAuthVerdicts(tx: Tx, captureRowId: number, verdicts: unknown): Promise<void>;
  // Verdicts still to come (see AuthChecker): queued with the capture's document, completed by
  // storing them; completeAuth stores nothing and answers false for a capture no longer queued
  // (its message was disposed of while its lookups ran).
  queueAuth(tx: Tx, captureRowId: number): Promise<void>;
  // The last completeness check's summary (index-completeness.ts), kept for the health page.
  setCompleteness(tx: Tx, summary: CompletenessSummary): Promise<void>;
  pendingAuth(tx: Tx, after: number, limit: number): Promise<number[]>;
  pendingAuthCount(tx: Tx): Promise<number>;
  completeAuth(tx: Tx, captureRowId: number, verdicts: unknown): Promise<boolean>;
  // Documents whose attachments' text is still to be read (see AttachmentExtractor): queued with
  // the document, completed by replacing its full text with the attachments' added and recording
  // each attachment's outcome (text null: the message could not be read again; outcomes only).
  // completeExtraction stores nothing and answers false for a document no longer queued (its
  // message was disposed of while its attachments were read).
  queueExtraction(tx: Tx, messageRowId: number): Promise<void>;
  // Each with its message's identity (null: its document is gone, nothing to read).
  pendingExtraction(tx: Tx, after: number, limit: number): Promise<{ id: number; sha256: string | null }[]>;
  pendingExtractionCount(tx: Tx): Promise<number>;
  // `version`: the extractor's (EXTRACTOR_VERSION), recorded as what read the document's attachments.
  completeExtraction(tx: Tx, messageRowId: number, text: FullText | null, outcomes: readonly AttachmentOutcome[], version: number): Promise<boolean>;
  // A document with attachments none of which is of a kind this extractor version reads.
  markAttachmentsRead(tx: Tx, messageRowId: number, version: number): Promise<void>;
  // Documents with attachments that no extractor has read, or an older version than `version`
  // (mail archived while extraction was off or before it could read them): the next `limit`
  // after the id `after` are queued for extraction (an already queued one stays as it is).
  // Returns how many were looked at, how many of them were not queued yet, and the last id, to go on from.
  queueUnread(tx: Tx, after: number, limit: number, version: number): Promise<{ scanned: number; queued: number; last: number }>;
  unreadCount(tx: Tx, version: number): Promise<number>;

  // A capture that could not be indexed: recorded, or its record updated, until a retry succeeds.
  recordFailure(tx: Tx, captureRowId: number, sha256: string, error: string, at: number): Promise<void>;
  clearFailure(tx: Tx, captureRowId: number): Promise<void>;
  // Captures to try again, those that failed longest ago first.
  failedCaptures(tx: Tx, limit: number): Promise<number[]>;
  failureCount(tx: Tx): Promise<number>;

  // The documents' ids (= their messages' row ids) in (after, upTo], ascending: the completeness
  // check reads them a window at a time, up to lastDocumentId.
  documentIds(tx: Tx, after: number, upTo: number): Promise<number[]>;
  // A disposed message: its document, participations, attachments, full text (attachments' text
  // included, and each attachment's own), its place in the extraction queue and its captures' verdicts removed.
  removeDocument(tx: Tx, messageRowId: number, captureRowIds: readonly number[]): Promise<void>;
  // After removals: what was removed is gone from the store's files too (the full-text index
  // merged without it, the log cut); false if a reader kept the log from being cut (next run).
  purgeRemoved(): Promise<boolean>;
}
