import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { api, setCsrfToken } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';

interface Enrolled {
  user: { name: string; roles: string[] };
  totpUri: string | null;
  recoveryCodes?: string[];
}

// Sign-in (password and, for every role but plain owner, a one-time code from an authenticator
// app or a recovery code), and first-time enrolment with the code from `sealbox users add`.
export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  // `sealbox users add` prints a link /enrol?name=…&code=…: it opens enrolment filled in, and the
  // code leaves the address bar (and the history) at once.
  const [invite] = useState(() => {
    if (location.pathname !== '/enrol') return null;
    const q = new URLSearchParams(location.search);
    history.replaceState(null, '', '/');
    return { name: q.get('name') ?? '', code: q.get('code') ?? '' };
  });
  const [mode, setMode] = useState<'sign-in' | 'enrol'>(invite ? 'enrol' : 'sign-in');
  const [enrolled, setEnrolled] = useState<Enrolled | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${mode === 'sign-in' ? 'Sign in' : 'Enrol'} · Sealbox`;
    heading.current?.focus();
  }, [mode, enrolled]);
  return (
    <>
      <header className="top"><span className="brand">Sealbox</span></header>
      <main id="main" className="narrow">
        {enrolled ? (
          <>
            <h1 ref={heading} tabIndex={-1}>Enrolled</h1>
            <EnrolmentResult result={enrolled} onDone={() => { setEnrolled(null); setMode('sign-in'); }} />
          </>
        ) : mode === 'sign-in' ? (
          <>
            <h1 ref={heading} tabIndex={-1}>Sign in</h1>
            <SignInForm onSignedIn={onSignedIn} />
            <p>First time here? <button type="button" className="link" onClick={() => setMode('enrol')}>Enrol with your enrolment code</button></p>
          </>
        ) : (
          <>
            <h1 ref={heading} tabIndex={-1}>Enrol</h1>
            <EnrolForm onEnrolled={setEnrolled} invite={invite} />
            <p><button type="button" className="link" onClick={() => setMode('sign-in')}>Back to sign-in</button></p>
          </>
        )}
      </main>
    </>
  );
}

function SignInForm({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const totp = String(f.get('totp') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ csrfToken: string }>('/api/v1/session', { name: String(f.get('name')).trim(), password: String(f.get('password')), ...(totp ? { totp } : {}) });
      setCsrfToken(r.csrfToken);
      await onSignedIn();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Sign in">
      <label>User name <input name="name" autoComplete="username" required autoFocus /></label>
      <label>Password <input name="password" type="password" autoComplete="current-password" required /></label>
      <label>
        One-time code or recovery code
        <input name="totp" inputMode="text" autoComplete="one-time-code" aria-describedby="totp-help" />
      </label>
      <p id="totp-help" className="muted">The 6-digit code from your authenticator app (every role but plain mailbox owner needs one), or one of your recovery codes.</p>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  );
}

function EnrolForm({ onEnrolled, invite }: { onEnrolled: (r: Enrolled) => void; invite: { name: string; code: string } | null }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    if (f.get('password') !== f.get('password2')) {
      setError(new Error('The two passwords differ.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onEnrolled(await api.post<Enrolled>('/api/v1/enrol', { name: String(f.get('name')).trim(), code: String(f.get('code')).trim(), password: String(f.get('password')) }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Enrol">
      <label>User name <input name="name" autoComplete="username" required defaultValue={invite?.name} /></label>
      <label>Enrolment code <input name="code" autoComplete="off" required aria-describedby="code-help" defaultValue={invite?.code} /></label>
      <p id="code-help" className="muted">The one-time code your administrator gave you (from <code>sealbox users add</code> or the Administration page).</p>
      <label>New password <input name="password" type="password" autoComplete="new-password" minLength={12} required /></label>
      <label>New password again <input name="password2" type="password" autoComplete="new-password" minLength={12} required /></label>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>{busy ? 'Enrolling…' : 'Enrol'}</button>
    </form>
  );
}

function EnrolmentResult({ result, onDone }: { result: Enrolled; onDone: () => void }) {
  const secret = result.totpUri ? new URL(result.totpUri).searchParams.get('secret') : null;
  return (
    <div className="stack">
      <p>Your password is set, {result.user.name}.</p>
      {result.totpUri && (
        <section aria-labelledby="totp-h">
          <h2 id="totp-h">Second factor</h2>
          <p>Add this account to your authenticator app: enter the key, or open the link on the phone that holds the app. This is shown once.</p>
          <dl>
            <dt>Key</dt><dd><code data-testid="totp-secret">{secret}</code></dd>
            <dt>Link</dt><dd><a href={result.totpUri} data-testid="totp-uri">{result.totpUri}</a></dd>
          </dl>
        </section>
      )}
      {result.recoveryCodes && result.recoveryCodes.length > 0 && (
        <section aria-labelledby="recovery-h">
          <h2 id="recovery-h">Recovery codes</h2>
          <p>Each one signs you in once in place of the one-time code, if you lose your authenticator. Keep them somewhere safe; they are shown only now.</p>
          <ul className="codes" data-testid="recovery-codes">
            {result.recoveryCodes.map((c) => <li key={c}><code>{c}</code></li>)}
          </ul>
        </section>
      )}
      <button type="button" onClick={onDone}>I have saved these — sign in</button>
    </div>
  );
}
