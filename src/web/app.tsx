import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, hasCsrfToken, onSessionEnded, setCsrfToken } from './api.ts';
import { ErrorNote } from './error-note.tsx';
import { NoticePage } from './pages/notice-page.tsx';
import type { Notice } from './pages/notice-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { Link, matchPath, useLocation } from './router.tsx';
import { ROUTES } from './routes.tsx';
import type { Me } from './session.ts';
import { hasRole, SessionContext, useSession } from './session.ts';

type State = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'in'; me: Me; notice: Notice | null } | { kind: 'error'; error: unknown };

// The signed-in shell: who is signed in, the pages their roles offer, and the current page.
export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const refresh = useCallback(async () => {
    if (!hasCsrfToken()) {
      setState({ kind: 'signed-out' });
      return;
    }
    try {
      // The notice only when it waits for me (a session that has ended answers one 401, not two).
      const me = await api.get<Me>('/api/v1/me');
      const notice = me.mustAcknowledgeNotice ? await api.get<Notice>('/api/v1/notice') : null;
      setState({ kind: 'in', me, notice: notice?.mustAcknowledge ? notice : null });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setCsrfToken(null);
      setState(error instanceof ApiError && error.status === 401 ? { kind: 'signed-out' } : { kind: 'error', error });
    }
  }, []);
  useEffect(() => {
    void refresh();
    onSessionEnded(() => {
      setCsrfToken(null);
      setState({ kind: 'signed-out' });
    });
    return () => onSessionEnded(null);
  }, [refresh]);
  const signOut = useCallback(async () => {
    let logoutUrl: string | undefined;
    try {
      logoutUrl = (await api.del<{ logoutUrl?: string }>('/api/v1/session')).logoutUrl;
    } finally {
      setCsrfToken(null);
      // Signed in through an identity provider: its session ends too (RP-initiated logout),
      // and it sends the browser back here.
      if (logoutUrl) location.assign(logoutUrl);
      else setState({ kind: 'signed-out' });
    }
  }, []);

  if (state.kind === 'loading') return <main id="main"><p role="status">Loading…</p></main>;
  if (state.kind === 'error') return <main id="main"><h1>Sealbox</h1><ErrorNote error={state.error} /></main>;
  if (state.kind === 'signed-out') return <SignInPage onSignedIn={refresh} />;
  return <SignedIn me={state.me} notice={state.notice} signOut={signOut} refresh={refresh} onAcknowledged={() => setState({ ...state, notice: null })} />;
}

// The session and my unread notices, counted again on every page change.
function SignedIn({ me, notice, signOut, refresh, onAcknowledged }: { me: Me; notice: Notice | null; signOut: () => Promise<void>; refresh: () => Promise<void>; onAcknowledged: () => void }) {
  const [unread, setUnread] = useState(0);
  const { path } = useLocation();
  useEffect(() => {
    if (notice) return;
    let current = true;
    api.get<{ unread: number }>('/api/v1/me/notifications').then((r) => current && setUnread(r.unread), () => undefined);
    return () => {
      current = false;
    };
  }, [path, notice]);
  return (
    <SessionContext.Provider value={{ me, signOut, refresh, unread, setUnread }}>
      <Shell notice={notice} onAcknowledged={onAcknowledged} />
    </SessionContext.Provider>
  );
}

function Shell({ notice, onAcknowledged }: { notice: Notice | null; onAcknowledged: () => void }) {
  const { me, signOut, unread } = useSession();
  const { path, query } = useLocation();
  const offered = notice ? [] : ROUTES.filter((r) => (r.roles === 'any' || hasRole(me, r.roles)) && (!r.when || r.when(me)));
  let match: { route: (typeof ROUTES)[number]; params: Record<string, string> } | null = null;
  for (const route of ROUTES) {
    const params = matchPath(route.path, path);
    if (params) {
      match = { route, params };
      break;
    }
  }
  const allowed = match && (match.route.roles === 'any' || hasRole(me, match.route.roles));
  const Page = match?.route.page;
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link href="/" className="brand">Sealbox</Link>
        <nav aria-label="Main">
          <ul>
            {offered.filter((r) => r.nav !== false && r.path !== '/').map((r) => (
              <li key={r.path}>
                <Link href={r.path} aria-current={match?.route === r ? 'page' : undefined}>
                  {r.title}{r.path === '/notifications' && unread > 0 && <> <span className="count" data-testid="unread-count">{unread}<span className="sr-only"> unread</span></span></>}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span><span className="sr-only">Signed in as </span>{me.displayName ?? me.name} <span className="muted">({me.roles.join(', ')})</span></span>
          <button type="button" onClick={() => void signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {notice && <NoticePage notice={notice} onAcknowledged={onAcknowledged} />}
        {!notice && !match && <NotFound />}
        {!notice && match && !allowed && <Forbidden title={match.route.title} />}
        {!notice && match && allowed && Page && <Page key={path} params={match.params} query={query} />}
      </main>
    </>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page here. <Link href="/">Back to the start</Link>.</p>
    </>
  );
}

function Forbidden({ title }: { title: string }) {
  return (
    <>
      <h1>{title}</h1>
      <p>Your roles do not include this page. <Link href="/">Back to the start</Link>.</p>
    </>
  );
}
