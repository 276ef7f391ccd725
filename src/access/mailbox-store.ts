import type { Tx } from '../core/transactions.ts';
import type { DirectoryRow } from './directory-csv.ts';

export interface Mailbox {
  id: number;
  name: string;
  displayName: string | null;
  owner: string | null;         // user name
  sensitivity: string | null;
  department: string | null;
  manager?: string | null;      // user name of the owner's manager
  auto: boolean;                // made for an address seen in mail, not by the directory
  addresses: string[];          // lowercased
}

// The directory: mailboxes, their addresses and owners. Says nothing about content.
export interface MailboxStore {
  byName(tx: Tx, name: string): Promise<Mailbox | null>;
  // The mailbox an address belongs to, and its owner.
  holderOf(tx: Tx, address: string): Promise<{ name: string; owner: string | null } | null>;
  ownedBy(tx: Tx, owner: string): Promise<{ id: number; name: string }[]>;
  // Mailboxes whose name, display name (or a word of it) or an address starts with the text,
  // directory ones first; each with its first 20 addresses.
  search(tx: Tx, text: string, page: { limit: number; offset: number }): Promise<Mailbox[]>;
  // Creates or updates the row's mailbox (a value left empty keeps the one there) and moves
  // its addresses to it.
  apply(tx: Tx, row: DirectoryRow): Promise<void>;
}
