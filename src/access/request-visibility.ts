import type { AccessRequest } from './grants.ts';
import type { MailboxPolicy } from './notifier.ts';
import type { User } from './people.ts';

// Who may know that an access request exists (see it, its justification, decide on it, revoke
// it). The subject of an investigation learns of it only as their mailboxes' notification
// policy says (notifications, the transparency page), never here, whatever roles they hold:
// owning a mailbox in scope hides the request unless one filed it. A request on a mailbox whose
// policy is `none` (a recorded legal basis) is known only to its requester, approvers and
// auditors; other requests also to admins.
export function mayKnowOfRequest(user: User, r: AccessRequest, policyOf: (mailboxId: number) => MailboxPolicy): boolean {
  if (r.requesterId === user.id) return true;
  if (isSubjectOf(user, r)) return false;
  const covert = r.mailboxes.some((m) => policyOf(m.id).notifyMode === 'none');
  return user.roles.some((role) => role === 'approver' || role === 'auditor' || (role === 'admin' && !covert));
}

// Whether the user owns a mailbox in the request's scope.
export function isSubjectOf(user: User, r: AccessRequest): boolean {
  return r.mailboxes.some((m) => m.owner === user.name);
}
