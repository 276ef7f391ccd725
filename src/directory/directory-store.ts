import type { Tx } from '../core/transactions.ts';
import type { DirectorySource } from './directory-snapshot.ts';

// A person a directory source named, as the last sync left them.
export interface DirectoryLink {
  source: DirectorySource;
  userName: string;
  mailbox: string;
  state: 'active' | 'disabled' | 'removed';
  leftOn: string | null;        // YYYY-MM-DD: the leaving date filed when the directory first said gone
  seenAt: number;
}

export interface DirectorySyncRecord {
  id: string;
  source: DirectorySource;
  actor: string;
  startedAt: number;
  dryRun: boolean;
  state: 'applied' | 'dry-run' | 'stopped';
  summary: Record<string, number>;
  changes: unknown[];
  skipped: { entry: string; why: string }[];
}

// The people each source named and the syncs run (src/directory/directory-sync.ts).
export interface DirectoryStore {
  links(tx: Tx, source: DirectorySource): Promise<DirectoryLink[]>;
  saveLink(tx: Tx, link: DirectoryLink): Promise<void>;
  addSync(tx: Tx, sync: DirectorySyncRecord): Promise<void>;
  syncs(tx: Tx, limit: number): Promise<DirectorySyncRecord[]>;    // newest first
}
