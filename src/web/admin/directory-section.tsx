import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { useLoad } from '../use-load.ts';

// GET /api/v1/directory/syncs
interface SyncChange {
  kind: 'mailbox' | 'leave' | 'return' | 'disable' | 'roles' | 'role.file' | 'role.cancel';
  outcome: string;
  [key: string]: unknown;
}

export interface DirectorySync {
  id: string;
  source: 'ldap' | 'scim';
  actor: string;
  startedAt: string;
  dryRun: boolean;
  state: 'applied' | 'dry-run' | 'stopped';
  summary: Record<string, number>;
  changes: SyncChange[];
  skipped: { entry: string; why: string }[];
  message?: string | null;
}

interface Syncs {
  ldap: { url: string; baseDns: string[]; everyMinutes: number } | null;
  maxRemovalShare: number;
  roleGroups: Record<string, string[]>;
  syncs: DirectorySync[];
}

// Directory sync (LDAP, SCIM): where it reads from, which groups give which role, and the last
// syncs with each change and what came of it (applied, staged or filed for someone else). Admins
// run a dry run or a sync; a sync the mass-removal guard stopped offers to go ahead.
export function DirectorySection({ admin }: { admin: boolean }) {
  const list = useLoad(() => api.get<Syncs>('/api/v1/directory/syncs?limit=10'), []);
  const [ran, setRan] = useState<DirectorySync | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (body: { dryRun?: boolean; confirm?: boolean }) => {
    setError(null);
    setBusy(true);
    try {
      setRan(await api.post<DirectorySync>('/api/v1/directory/sync', body));
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const data = list.data;
  const last = ran ?? data?.syncs[0] ?? null;
  return (
    <section aria-labelledby="directory-h">
      <h2 id="directory-h">Directory sync</h2>
      {list.loading && <Loading what="directory syncs" />}
      <ErrorNote error={list.error} />
      {data && (
        <>
          <dl data-testid="directory-source">
            <dt>LDAP</dt>
            <dd>{data.ldap ? `${data.ldap.url} (${data.ldap.baseDns.join('; ')}), ${data.ldap.everyMinutes > 0 ? `every ${data.ldap.everyMinutes} minutes` : 'on demand only'}` : 'not configured'}</dd>
            <dt>Mass-removal guard</dt>
            <dd>a sync that would disable or mark as gone more than {Math.round(data.maxRemovalShare * 100)} % of the people stops and asks first</dd>
          </dl>
          <h3>Groups and the roles they give</h3>
          {Object.keys(data.roleGroups).length === 0 ? <p className="muted">No group gives a role (sso.roleGroups): everyone is an owner of their own mailboxes.</p> : (
            <table data-testid="role-groups">
              <thead><tr><th scope="col">Role</th><th scope="col">Groups</th><th scope="col">Given</th></tr></thead>
              <tbody>
                {Object.entries(data.roleGroups).map(([role, groups]) => (
                  <tr key={role}><td>{role}</td><td>{groups.join(', ')}</td><td>{role === 'owner' || role === 'requester' ? 'at once' : 'after an approver approves'}</td></tr>
                ))}
              </tbody>
            </table>
          )}
          {admin && data.ldap && (
            <div className="row">
              <button type="button" className="secondary" disabled={busy} onClick={() => void run({ dryRun: true })}>Dry run</button>
              <button type="button" disabled={busy} onClick={() => void run({})}>Sync now</button>
              {last?.state === 'stopped' && <button type="button" className="danger" disabled={busy} onClick={() => void run({ confirm: true })}>Go ahead with the removals</button>}
            </div>
          )}
          <ErrorNote error={error} />
          <h3>Last sync</h3>
          {last ? <SyncView sync={last} /> : <p className="muted">No sync yet.</p>}
          {data.syncs.length > 1 && (
            <details>
              <summary>Earlier syncs</summary>
              <ul>
                {data.syncs.slice(ran ? 0 : 1).map((y) => <li key={y.id}>{when(y.startedAt)}: {y.source}, {y.state}, {y.summary.changes} changes by {y.actor}</li>)}
              </ul>
            </details>
          )}
        </>
      )}
    </section>
  );
}

function SyncView({ sync }: { sync: DirectorySync }) {
  const stateText = { applied: 'applied', 'dry-run': 'dry run: nothing was changed', stopped: 'stopped by the mass-removal guard: nothing was changed' }[sync.state];
  return (
    <div data-testid="last-sync">
      <p>
        {when(sync.startedAt)}, {sync.source.toUpperCase()}, by {sync.actor}: <strong>{stateText}</strong>. {sync.summary.people} people, {sync.summary.changes} changes
        {sync.summary.staged > 0 && `, ${sync.summary.staged} waiting for approval`}.
      </p>
      {sync.message && <p className="notice" role="alert">{sync.message}</p>}
      {sync.skipped.length > 0 && (
        <details data-testid="sync-skipped">
          <summary>{sync.skipped.length} left out or left for an admin</summary>
          <ul>{sync.skipped.slice(0, 200).map((s, i) => <li key={i}>{s.entry}: {s.why}</li>)}</ul>
        </details>
      )}
      {sync.changes.length > 0 && (
        <div className="scroll">
          <table>
            <thead><tr><th scope="col">Change</th><th scope="col">What came of it</th></tr></thead>
            <tbody>
              {sync.changes.slice(0, 200).map((c, i) => <tr key={i}><td>{describe(c)}</td><td>{c.outcome}</td></tr>)}
            </tbody>
          </table>
          {sync.changes.length > 200 && <p className="muted">and {sync.changes.length - 200} more (GET /api/v1/directory/syncs has them all).</p>}
        </div>
      )}
    </div>
  );
}

function describe(c: SyncChange): string {
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(', ') : 'none');
  switch (c.kind) {
    case 'mailbox': return `mailbox ${c.mailbox} (${list(c.what)})${c.owner ? `, owner ${c.owner}` : ''}`;
    case 'leave': return `${c.user} left on ${c.left} (${c.why})`;
    case 'return': return `${c.user} is back`;
    case 'disable': return `account ${c.user} disabled (${c.why})`;
    case 'roles': return `roles of ${c.user}: ${list(c.from)} → ${list(c.to)}`;
    case 'role.file': return `role ${c.role} for ${c.user} (${c.why})`;
    case 'role.cancel': return `role ${c.role} for ${c.user} no longer asked for`;
  }
}
