import type { AccessRequest } from './grants.ts';
import type { MailboxPolicy } from './notifier.ts';

// Whether a mailbox's owner may see an access by someone else on their transparency page yet.
// The mailbox's notification policy decides, as it does for the notification itself: "before"
// at once; "after" only once the grant is over and its N days have passed (an investigation
// under way is not tipped off); "none" (a recorded legal basis) not at all.
export function ownerMaySee(policy: MailboxPolicy, grant: AccessRequest | null, now: number): boolean {
  if (policy.notifyMode === 'before') return true;
  if (policy.notifyMode === 'none') return false;
  if (!grant) return true;
  const ended = grant.revokedAt ?? (grant.endsAt !== null && grant.endsAt <= now ? grant.endsAt : null);
  if (ended === null) return false;
  return now >= ended + (policy.notifyAfterDays ?? 0) * 86_400_000;
}
