import { Link } from '../router.tsx';
import { PageTitle } from '../page-title.tsx';
import { ROUTES } from '../routes.tsx';
import { hasRole, useSession } from '../session.ts';

// The landing page: what this person can do here, by role.
export function HomePage() {
  const { me } = useSession();
  const pages = ROUTES.filter((r) => r.path !== '/' && r.nav !== false && (r.roles === 'any' || hasRole(me, r.roles)) && (!r.when || r.when(me)));
  return (
    <>
      <PageTitle title="Start">Welcome, {me.displayName ?? me.name}</PageTitle>
      <p>
        Signed in as <strong>{me.name}</strong> ({me.roles.join(', ')}).
        {me.mailboxes.length > 0 && <> Your mailboxes: {me.mailboxes.join(', ')}.</>}
      </p>
      <p className="muted">Every search and every message opened here is recorded in the ledger, yours too.</p>
      {pages.length > 0 && (
        <ul className="cards">
          {pages.map((r) => (
            <li key={r.path}><Link href={r.path}>{r.title}</Link></li>
          ))}
        </ul>
      )}
    </>
  );
}
