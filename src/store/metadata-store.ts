import type { AuditStore } from '../access/audit.ts';
import type { SettingStore } from '../access/setting-store.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { CaptureRecord } from '../core/types.ts';
import type { LedgerStore, StoredCheckpoint } from '../ledger/ledger.ts';
import type { CaptureTerms } from '../retention/retention-policy.ts';
import type { BlobRef } from './blob-store.ts';
import type { SealMeta } from './sealed-blob.ts';

export interface MessageRow {
  id: number;
  sha256: string;
  size: number;
  blobRef: BlobRef;
  seal: Pick<SealMeta, 'nonce' | 'tag' | 'wrappedKey' | 'keyId' | 'compression'>;
  firstSeen: number;
  // Destroyed by policy: when, by which ledger entry, under which policy (null: it is here).
  disposed: { at: number; ledgerIndex: number; policy: string } | null;
}

export interface CaptureRow extends CaptureRecord {
  rowId: number;
  messageRowId: number;
  ledgerIndex: number;
  retainUntil: number | null;    // fixed at capture (ms epoch); null: kept for ever
  retentionRule: string | null;  // the rule that gave it; null: the default
  keepUntil: number | null;      // its minimum, fixed at capture too (ms epoch); null: for ever
  keepRule: string | null;       // the rule that gave it; null: the default
}

export interface NewMessage {
  seal: SealMeta;
  ref: BlobRef;
  firstSeen: number;
}

export type MailboxUpsert = { name: string; displayName?: string | null; owner?: string | null; sensitivity?: string | null; manager?: string | null; department?: string | null; auto?: boolean };

// The metadata store itself, whichever backend holds it (SqliteMetadataStore,
// PostgresMetadataStore): the archive's transactions, the ledger, settings, and the messages,
// captures and mailboxes the archive writer and reader work on. The stages' own repositories
// come from the backend's factory (repositories.ts).
export interface MetadataStore extends Transactions, LedgerStore, AuditStore, SettingStore {
  // The row ids of these messages that are archived (not disposed of), by sha256.
  findMessageIds(tx: Tx, sha256s: readonly string[]): Promise<Map<string, number>>;
  // A row for each of these messages (distinct), their row ids in the same order; a message
  // disposed of before is a message again, under its old row id (new bytes, new key). Throws if
  // one is archived and not disposed. One statement for all of them where the backend can.
  insertMessages(tx: Tx, rows: readonly NewMessage[]): Promise<number[]>;
  insertCapture(tx: Tx, capture: CaptureRecord, messageRowId: number, ledgerIndex: number, terms: CaptureTerms): Promise<void>;
  hasCapture(tx: Tx, captureId: string): Promise<boolean>;
  getMessage(tx: Tx, sha256: string): Promise<MessageRow | null>;
  allMessages(tx: Tx): AsyncGenerator<MessageRow>;
  capturesOf(tx: Tx, messageRowId: number): Promise<CaptureRow[]>;
  allCaptures(tx: Tx): AsyncGenerator<CaptureRow & { sha256: string; size: number | null }>;
  lastCaptureRowId(tx: Tx): Promise<number>;
  counts(tx: Tx): Promise<{ captures: number; messages: number; rawBytes: number; blobBytes: number }>;
  upsertMailbox(tx: Tx, mailbox: MailboxUpsert): Promise<number>;
  setMailboxAddress(tx: Tx, address: string, mailboxId: number): Promise<void>;
  mailboxAddresses(tx: Tx, mailboxIds: number[]): Promise<string[]>;
  mailboxForAddress(tx: Tx, address: string): Promise<{ id: number; name: string } | null>;
  // A store several nodes share elects one of them to hold the archive's duties (PostgreSQL: see
  // its holdDuties); onChange tells this node when it takes or loses them, until close, and
  // onCaptures, while it holds them, when any node committed captures. Absent:
  // the store has one server, which always holds them.
  holdDuties?(onChange: (held: boolean) => void, onCaptures?: () => void): Promise<{ held: boolean }>;
  // A store several nodes share counts rate-limit windows for all of them: this request counted
  // under key in window, and how many so far. Absent: each process counts its own.
  countRequest?(key: string, window: number): Promise<number>;
  close(): void | Promise<void>;
}
