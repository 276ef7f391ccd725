import type { Tx } from '../core/transactions.ts';
import type { FiledDecision } from './four-eyes.ts';
import type { Role } from './roles.ts';

// A role filed for someone else's decision: who would gain it, and why it was asked for.
export interface RoleChangeRecord extends Omit<FiledDecision, 'decision'> {
  userId: number;
  role: Role;
  why: string;
  // cancel: the reason it was filed went away first (the person left the provider's group).
  decision: 'approve' | 'deny' | 'cancel' | null;
}

// Role changes waiting for an approver, and past ones (src/access/role-changes.ts).
export interface RoleChangeStore {
  add(tx: Tx, c: Pick<RoleChangeRecord, 'id' | 'userId' | 'role' | 'why' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void>;
  decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number }): Promise<void>;
  get(tx: Tx, id: string): Promise<RoleChangeRecord | null>;
  forUser(tx: Tx, userId: number): Promise<RoleChangeRecord[]>;   // oldest first
  list(tx: Tx): Promise<RoleChangeRecord[]>;                      // the latest 500, newest first
}
