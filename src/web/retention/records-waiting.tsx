import { api } from '../api.ts';
import { Link } from '../router.tsx';
import { useLoad } from '../use-load.ts';
import type { EarlyDisposal } from './early-disposal-section.tsx';
import type { Hold } from './holds-section.tsx';
import type { ErasureRequest } from './erasure-section.tsx';
import type { LeaverChange } from './leavers-section.tsx';
import type { RuleChange } from './rules-section.tsx';

// On Approvals: what else waits for an approver — retention changes, leaving dates and
// exemptions, hold releases, early disposals, erasure requests — counted, with the way to the
// Retention page where each is decided beside its context. Said only when something waits.
export function RecordsWaiting() {
  const r = useLoad(async () => {
    const [retention, leavers, holds, early, subjects] = await Promise.all([
      api.get<{ changes: RuleChange[] }>('/api/v1/retention'),
      api.get<{ changes: LeaverChange[] }>('/api/v1/leavers'),
      api.get<{ holds: Hold[] }>('/api/v1/holds'),
      api.get<{ requests: EarlyDisposal[] }>('/api/v1/disposal-requests'),
      api.get<{ requests: ErasureRequest[] }>('/api/v1/subject-requests'),
    ]);
    const pending = (items: { state: string }[]) => items.filter((x) => x.state === 'pending').length;
    return [
      [pending(retention.changes), 'retention change', 'retention changes'],
      [pending(leavers.changes), 'leaving date or exemption', 'leaving dates or exemptions'],
      [holds.holds.filter((h) => h.releases.some((x) => x.state === 'pending')).length, 'legal hold release', 'legal hold releases'],
      [pending(early.requests), 'early disposal', 'early disposals'],
      [pending(subjects.requests), 'erasure request', 'erasure requests'],
    ] as const;
  }, []);
  const waiting = (r.data ?? []).filter(([k]) => k > 0).map(([k, one, many]) => `${k} ${k === 1 ? one : many}`);
  if (waiting.length === 0) return null;
  return (
    <p className="notice" data-testid="records-waiting">
      Also waiting for a decision: {waiting.join(', ')}. <Link href="/retention">Decide on the Retention page</Link>, beside what each would change.
    </p>
  );
}
