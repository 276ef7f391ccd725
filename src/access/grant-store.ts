import type { AccessRequest, RequestMailbox } from './grants.ts';

// A request as filed: no decision on it yet, beyond what break-glass or a scheduled start sets.
export type FiledRequest = Omit<AccessRequest, 'approvals' | 'deniedAt' | 'revokedAt'>;

// What Grants needs from storage: access requests with their approvals, and the mailboxes a
// request names.
export interface GrantStore {
  insert(request: FiledRequest): void;
  get(id: string): AccessRequest | null;
  list(filter: { requesterId?: number }): AccessRequest[];      // newest first
  addApproval(requestId: string, approval: AccessRequest['approvals'][number]): void;
  deny(requestId: string, at: number): void;
  approve(requestId: string, at: number, window: { startsAt: number; endsAt: number }): void;
  revoke(requestId: string, at: number, byUserId: number): void;
  // By its name in any case, or by one of its addresses.
  mailbox(nameOrAddress: string): RequestMailbox | null;
  // Break-glass is reviewed afterwards: its item in the review queue, opened with the grant.
  openBreakglassReview(requestId: string, subjectUserId: number, at: number): void;
}
