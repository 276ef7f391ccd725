import { highImpactReason } from '../core/ledger-operations.ts';
import type { LedgerEntry } from '../core/types.ts';

// Whether a ledger entry is a high-impact action (reviewed by someone else), and why: the
// operation's own reason from the registry (core/ledger-operations.ts), or a search that is bulk.
export function highImpact(entry: LedgerEntry, bulkSearchResults: number): string | null {
  if (entry.result !== 'success') return null;
  if (entry.operation === 'search' && Number(entry.parameters.results ?? 0) >= bulkSearchResults) return `bulk search (${entry.parameters.results} results)`;
  return highImpactReason(entry.operation);
}
