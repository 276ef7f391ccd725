import { api } from '../api.ts';
import { Link } from '../router.tsx';
import { useLoad } from '../use-load.ts';
import type { Hold } from './holds-section.tsx';
import type { ErasureRequest } from './erasure-section.tsx';
import type { RuleChange } from './rules-section.tsx';

// On Approvals: what else waits for an approver — retention changes, hold releases, erasure
// requests — counted, with the way to the Retention page where each is decided beside its
// context. Said only when something waits.
export function RecordsWaiting() {
  const r = useLoad(async () => {
    const [retention, holds, subjects] = await Promise.all([
      api.get<{ changes: RuleChange[] }>('/api/v1/retention'),
      api.get<{ holds: Hold[] }>('/api/v1/holds'),
      api.get<{ requests: ErasureRequest[] }>('/api/v1/subject-requests'),
    ]);
    return {
      changes: retention.changes.filter((c) => c.state === 'pending').length,
      releases: holds.holds.filter((h) => h.releases.some((x) => x.state === 'pending')).length,
      erasures: subjects.requests.filter((x) => x.state === 'pending').length,
    };
  }, []);
  if (!r.data || r.data.changes + r.data.releases + r.data.erasures === 0) return null;
  const n = (k: number, one: string, many: string) => (k === 0 ? null : `${k} ${k === 1 ? one : many}`);
  const waiting = [n(r.data.changes, 'retention change', 'retention changes'), n(r.data.releases, 'legal hold release', 'legal hold releases'), n(r.data.erasures, 'erasure request', 'erasure requests')].filter(Boolean);
  return (
    <p className="notice" data-testid="records-waiting">
      Also waiting for a decision: {waiting.join(', ')}. <Link href="/retention">Decide on the Retention page</Link>, beside what each would change.
    </p>
  );
}
