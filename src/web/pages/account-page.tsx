import { useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { OutcomeNote } from '../outcome-note.tsx';
import type { Outcome } from '../outcome-note.tsx';
import { PageTitle } from '../page-title.tsx';
import type { PageProps } from '../routes.tsx';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface Link {
  provider: string;
  label: string;
  linked: { since: string; lastSignIn: string | null } | null;
}

// The person's own account: its links to the organisation's identity providers. Linking leaves
// for the provider's page and comes back to /account?sso=link, which finishes it here, from this
// session (the server links this session's own account, and only when the provider signed the
// person in under this very name).
export function AccountPage({ query }: PageProps) {
  const { me } = useSession();
  const links = useLoad(() => api.get<{ links: Link[] }>('/api/v1/sso/links'), []);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const returned = useRef(query.get('sso') === 'link');

  // Back from the provider: finish once, and clear the address bar so a reload starts afresh.
  useEffect(() => {
    if (!returned.current) return;
    returned.current = false;
    history.replaceState(null, '', '/account');
    api.post<{ linked: { label: string } }>('/api/v1/sso/link', {}).then((r) => {
      setOutcome({ text: `Your account is now linked to ${r.linked.label}: you can sign in through it.`, at: Date.now() });
      links.reload();
    }, setError);
  }, []);

  const link = async (l: Link) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ location: string }>(`/api/v1/sso/${encodeURIComponent(l.provider)}/link`, {});
      location.assign(r.location);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const unlink = async (l: Link) => {
    if (!window.confirm(`Unlink your account from ${l.label}? Signing in through ${l.label} will no longer sign you in here.`)) return;
    setError(null);
    try {
      await api.del(`/api/v1/sso/links/${encodeURIComponent(l.provider)}`);
      setOutcome({ text: `Your account is no longer linked to ${l.label}.`, at: Date.now() });
      links.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <PageTitle title="Account">Your account</PageTitle>
      <p>Signed in as <strong>{me.name}</strong> ({me.roles.join(', ')}).</p>
      <OutcomeNote outcome={outcome} />
      <ErrorNote error={error} />
      <section aria-labelledby="sso-links-h">
        <h2 id="sso-links-h">Sign-in through your organisation</h2>
        <p className="muted">
          Link your account here to your own account at your organisation's sign-in, to sign in through it from then on. You sign in
          there as yourself, under the same user name as here; only your own account is ever linked, and you are told of each link.
          At each sign-in through it, the roles your organisation maps to its groups follow your groups there.
        </p>
        {links.error ? <ErrorNote error={links.error} /> : !links.data ? <Loading what="your links" /> : links.data.links.length === 0 ? (
          <p>No identity provider is set up here.</p>
        ) : (
          <ul className="stack plain">
            {links.data.links.map((l) => (
              <li key={l.provider} className="card">
                <h3>{l.label}</h3>
                {l.linked ? (
                  <>
                    <p>Linked since {when(l.linked.since)}; last sign-in through it: {when(l.linked.lastSignIn)}.</p>
                    <button type="button" className="secondary" onClick={() => void unlink(l)}>Unlink from {l.label}</button>
                  </>
                ) : (
                  <>
                    <p>Not linked.</p>
                    <button type="button" disabled={busy} onClick={() => void link(l)}>Link my account at {l.label}</button>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
