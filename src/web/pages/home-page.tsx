import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';
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
      <p><Link href="/account">Your account</Link>: linking it to your organisation's sign-in.</p>
      {me.roles.some((r) => r !== 'owner') && <RecoveryCodes />}
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

// A new set of recovery codes (the old ones stop working), e.g. after using some.
function RecoveryCodes() {
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const renew = async () => {
    if (!window.confirm('Make new recovery codes? Your current ones stop working.')) return;
    try {
      setCodes((await api.post<{ recoveryCodes: string[] }>('/api/v1/me/recovery-codes')).recoveryCodes);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="recovery-h">
      <h2 id="recovery-h">Recovery codes</h2>
      <p className="muted">Each signs you in once if you lose your authenticator.</p>
      <ErrorNote error={error} />
      {codes ? (
        <>
          <p>Your new codes, shown only now:</p>
          <ul className="codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        </>
      ) : <button type="button" className="secondary" onClick={() => void renew()}>Make new recovery codes</button>}
    </section>
  );
}
