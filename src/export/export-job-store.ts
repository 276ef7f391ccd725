import type { Tx } from '../core/transactions.ts';
import type { OtherParties } from '../access/subject-access.ts';
import type { PackageItem } from './evidence-package.ts';

// A legal hold as an export of its case records it in the package's chain of custody.
export interface ExportedHold {
  id: string;
  name: string;
  matter: string;
  custodians: string[];
  dateFrom: number | null;
  dateTo: number | null;
  query: string | null;
  placedAt: number;
  placedBy: string;
}

export const EXPORT_JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ExportJobState = (typeof EXPORT_JOB_STATES)[number];

// A file a finished job hands out: a zip volume, and the messages whose files it holds.
export interface ExportFile {
  name: string;
  size: number;
  sha256: string;
  messages: string[];
}

// Who started a job, as the ledger records them: its entries are written in their name.
export interface ExportJobActor {
  sessionId: string | null;
  clientIp: string | null;
  userAgent: string | null;
}

export interface ExportJob {
  id: string;
  userId: number;
  grantId: string;
  query: string;
  canonicalQuery: string;
  limit: number;
  note: string | null;
  volumeBytes: number;
  mboxPerCustodian: boolean;     // also one mboxrd file per custodian
  // Under a data subject's access grant (GDPR Art. 15): how others' mail was treated, and how
  // many messages of what was found were withheld under that rule.
  subjectAccess: { otherParties: OtherParties; withheld: number } | null;
  hold: ExportedHold | null;     // the case (legal hold) exported, as it was when the job started
  mailboxes: { id: number; name: string }[];   // those its start entry named
  actor: ExportJobActor;
  state: ExportJobState;
  createdAt: number;
  startedEntry: number;
  total: number;                 // found in the grant's scope
  sha256s: string[];             // exported, in order (at most limit of total); [] but from withMessages
  messages: number;              // how many that is
  checkpointSize: number;
  messagesDone: number;
  bytesDone: number;
  bytesTotal: number;
  phase: 'messages' | 'package' | 'zip';
  resumed: number;
  error: string | null;
  finishedAt: number | null;
  ledgerIndex: number | null;
  manifestSha256: string | null;
  files: ExportFile[];
}

export type NewExportJob = Pick<ExportJob, 'id' | 'userId' | 'grantId' | 'query' | 'canonicalQuery' | 'limit' | 'note' | 'volumeBytes' | 'mboxPerCustodian' | 'subjectAccess' | 'hold' | 'mailboxes' | 'actor' | 'createdAt' | 'startedEntry' | 'total' | 'sha256s' | 'checkpointSize' | 'bytesTotal'>;

export interface ExportJobStore {
  add(tx: Tx, job: NewExportJob): Promise<void>;
  get(tx: Tx, id: string): Promise<ExportJob | null>;             // without sha256s: a status polled while it runs
  withMessages(tx: Tx, id: string): Promise<ExportJob | null>;    // with them: for its run
  ofUser(tx: Tx, userId: number): Promise<ExportJob[]>;          // newest first, without sha256s
  // Queued and running ones, oldest first: what a server starting up has to do.
  unfinished(tx: Tx): Promise<string[]>;
  // queued|running → running; a job found running already was stopped mid-way, and is resumed.
  begin(tx: Tx, id: string): Promise<boolean>;
  items(tx: Tx, id: string): Promise<Map<number, PackageItem>>;
  // Messages made, with the job's counts, while it is still running (not once cancelled).
  progress(tx: Tx, id: string, made: [number, PackageItem][], p: { messagesDone: number; bytesDone: number; phase: ExportJob['phase'] }): Promise<boolean>;
  finished(tx: Tx, id: string, f: { at: number; ledgerIndex: number; manifestSha256: string; files: ExportFile[] }): Promise<void>;
  failed(tx: Tx, id: string, f: { at: number; error: string }): Promise<void>;
  // queued|running → cancelled; false when it had ended already.
  cancel(tx: Tx, id: string, at: number): Promise<boolean>;
}
