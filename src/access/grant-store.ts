import type { Tx } from '../core/transactions.ts';
import type { AccessRequest, RequestMailbox } from './grants.ts';

// A request as filed: no decision on it yet, beyond what break-glass or a scheduled start sets.
export type FiledRequest = Omit<AccessRequest, 'approvals' | 'deniedAt' | 'revokedAt'>;

// What Grants needs from storage: access requests with their approvals, and the mailboxes a
// request names.
export interface GrantStore {
  insert(tx: Tx, request: FiledRequest): Promise<void>;
  get(tx: Tx, id: string): Promise<AccessRequest | null>;
  list(tx: Tx, filter: { requesterId?: number }): Promise<AccessRequest[]>;      // newest first
  addApproval(tx: Tx, requestId: string, approval: AccessRequest['approvals'][number]): Promise<void>;
  deny(tx: Tx, requestId: string, at: number): Promise<void>;
  approve(tx: Tx, requestId: string, at: number, window: { startsAt: number; endsAt: number }): Promise<void>;
  revoke(tx: Tx, requestId: string, at: number, byUserId: number): Promise<void>;
  // By its name in any case, or by one of its addresses.
  mailbox(tx: Tx, nameOrAddress: string): Promise<RequestMailbox | null>;
  // The sensitivity tags any mailbox carries now, each once.
  sensitivities(tx: Tx): Promise<string[]>;
  // Break-glass is reviewed afterwards: its item in the review queue, opened with the grant.
  openBreakglassReview(tx: Tx, requestId: string, subjectUserId: number, at: number): Promise<void>;
}
