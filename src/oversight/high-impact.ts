import type { LedgerEntry } from '../core/types.ts';

// Operations that change who may read what, or take mail out: each is reviewed by someone else.
const HIGH_IMPACT: Record<string, string> = {
  'policy.set': 'access policy changed',
  'mailbox.policy': 'mailbox notification policy changed',
  'user.add': 'user added or roles changed',
  'user.roles': 'roles changed',
  'user.disable': 'user disabled',
  'user.enable': 'user enabled again',
  'mailboxes.import': 'directory imported (owners, sensitivity, managers)',
  'ownership.approve': 'mailbox ownership change approved',
  'user.recovery.request': 'account recovery asked for',
  'user.recovery.approve': 'account recovery approved (a new enrolment code mailed to the person)',
  'request.approve': 'access approved',
  'breakglass.open': 'break-glass access opened',
  'export': 'messages exported',
  'token.create': 'API token created',
};

// The one place that says whether a ledger entry is a high-impact action, and why.
// Key operations (`key.*`) are high impact whatever they are; a search is when it is bulk.
export function highImpact(entry: LedgerEntry, bulkSearchResults: number): string | null {
  if (entry.result !== 'success') return null;
  if (entry.operation.startsWith('key.')) return 'key operation';
  if (entry.operation === 'search' && Number(entry.parameters.results ?? 0) >= bulkSearchResults) return `bulk search (${entry.parameters.results} results)`;
  return HIGH_IMPACT[entry.operation] ?? null;
}
