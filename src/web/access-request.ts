// An access request as the API shows it (GET /api/v1/requests).
export interface AccessRequest {
  id: string;
  state: 'pending' | 'approved' | 'active' | 'expired' | 'revoked' | 'denied' | 'lapsed';
  requester: string;
  purpose: string;
  justification: string;
  ticket: string | null;
  mailboxes: string[];
  dateFrom: string | null;
  dateTo: string | null;
  query: string | null;
  permissions: string[];
  durationHours: number;
  approvalsNeeded: number;
  breakglass: boolean;
  createdAt: string;
  lapsesAt: string | null;
  startsAt: string | null;
  endsAt: string | null;
  revokedAt: string | null;
  extends: string | null;       // the grant this request extends
  approvals: { approver: string; decision: 'approve' | 'deny'; reason: string; at: string }[];
}
