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
// name, as from:/to:/cc: narrow display-name matches through it.
export interface FullText {
  subject: string;
  addresses: string;
  body: string;
  filenames: string;
}

// The write side of the search index, as the indexer uses it.
export interface IndexStore {
  // The last capture row indexed: it commits with the rows it covers.
  cursor(): number;
  setCursor(captureRowId: number): void;
  // One batch: everything fn writes commits together, or nothing does if it throws. One at a
  // time: the indexer runs its batches in turn.
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  // Within a transaction: if fn throws, what it wrote is undone and the error rethrown; the
  // transaction goes on.
  savepoint(fn: () => void): void;

  lastDocumentId(): number;
  hasDocument(messageRowId: number): boolean;
  // Addresses a document names as recipient (to, cc, bcc) and as From.
  namedAddresses(messageRowId: number): { recipients: Set<string>; from: Set<string> };
  // Adds the document in its thread (see threadKeyFor); earlier replies keyed by its own
  // Message-ID join that thread.
  addDocument(doc: NewDocument): void;
  // Documents indexed before threads were kept (no thread yet): their ids and sha256s.
  unthreaded(limit: number): { id: number; sha256: string }[];
  // Puts an already indexed document in its thread, as addDocument would have.
  setThread(messageRowId: number, messageId: string | null, refersTo: string[]): void;
  // A participation already recorded is left as it is.
  addParticipation(messageRowId: number, p: Participation): void;
  addAttachment(messageRowId: number, a: NewAttachment): void;
  addFullText(messageRowId: number, text: FullText): void;
  // The authentication verdicts of one capture, replacing any before.
  setAuthVerdicts(captureRowId: number, verdicts: unknown): void;

  // A capture that could not be indexed: recorded, or its record updated, until a retry succeeds.
  recordFailure(captureRowId: number, sha256: string, error: string, at: number): void;
  clearFailure(captureRowId: number): void;
  // Captures to try again, those that failed longest ago first.
  failedCaptures(limit: number): number[];
  failureCount(): number;
}
