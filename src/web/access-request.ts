// An access request as the API shows it (GET /api/v1/requests).
export interface AccessRequest {
  id: string;
  state: 'pending' | 'approved' | 'active' | 'expired' | 'revoked' | 'denied' | 'lapsed';
  requester: string;
  purpose: string;
  justification: string;
  ticket: string | null;
  mailboxes: string[];
  // A data subject's request as its filer sees it until approved: no mailboxes shown (whether the
  // person has mail is learnt only from the approved export).
  sealed: boolean;
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
  approvalsGiven: number;
  tooFewApprovers: boolean;         // pending, and fewer people could still approve it than it needs
  approversLeft: number | null;     // how many could (approvers, auditors and admins are told)
  // What the signed-in person may do about it, as the server decides.
  you: {
    decision: 'approve' | 'deny' | null;
    mayDecide: boolean;
    cannotDecide: string | null;    // the server's words, when one may not decide and has not
    mayRevoke: boolean;
  };
}

// The purpose of a data subject's access request (GDPR Art. 15), as the server files it
// (src/access/subject-access.ts): its fixed query is exactly the person's mail.
export const SUBJECT_ACCESS_PURPOSE = 'subject-access-request';

// "1 of 2 approvals — approved by anna"
export function approvalProgress(r: AccessRequest): string {
  const by = r.approvals.filter((a) => a.decision === 'approve').map((a) => a.approver);
  return `${r.approvalsGiven} of ${r.approvalsNeeded} approvals${by.length > 0 ? ` — approved by ${by.join(', ')}` : ''}`;
}
