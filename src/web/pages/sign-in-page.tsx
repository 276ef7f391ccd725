import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { api, setCsrfToken } from '../api.ts';
import { CopyButton } from '../copy-button.tsx';
import { ErrorNote } from '../error-note.tsx';
import { QrCode } from '../qr-code.tsx';

interface Enrolled {
  user: { name: string; roles: string[] };
  totpUri: string | null;
  recoveryCodes?: string[];
}

interface Invite {
  name: string;
  code: string;
}

// The enrolment link (Administration, `sealbox users add`) is /enrol#name=…&code=…: a fragment
// never leaves the browser, so the code is in no request line, proxy or server log. Older links
// carried it in the query (/enrol?name=…&code=…); they still open. Either way the address bar
// (and the history) is cleared at once.
function readInvite(): Invite | null {
  if (location.pathname !== '/enrol') return null;
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  history.replaceState(null, '', '/');
  return { name: fragment.get('name') ?? query.get('name') ?? '', code: fragment.get('code') ?? query.get('code') ?? '' };
}

interface Providers {
  providers: { id: string; label: string }[];
  localSignIn: 'everyone' | 'named';
}

type Pending =
  | { state: 'none' }
  | { state: 'failed'; provider: string; message: string }
  | { state: 'authenticated'; provider: string; name: string; secondFactor: 'none' | 'totp' | 'enrol'; totpUri: string | null };

interface SsoSession {
  user: { name: string; roles: string[] };
  csrfToken: string;
  recoveryCodes: string[];
}

// The provider sends the browser back to /?sso=continue or /?sso=failed: read once, and the
// address bar cleared, so a reload starts afresh.
function readSsoReturn(): boolean {
  const sso = new URLSearchParams(location.search).get('sso');
  if (sso !== 'continue' && sso !== 'failed') return false;
  history.replaceState(null, '', '/');
  return true;
}

// "Sign in with …": plain links, as the sign-in leaves for the provider's own page.
function ProviderButtons({ providers }: { providers: Providers | null }) {
  if (!providers || providers.providers.length === 0) return null;
  return (
    <ul className="stack providers" aria-label="Sign in with your organisation's account">
      {providers.providers.map((p) => (
        <li key={p.id}><a className="button" href={`/api/v1/sso/${encodeURIComponent(p.id)}/start`}>Sign in with {p.label}</a></li>
      ))}
    </ul>
  );
}

// Back from the provider: the refusal said plainly, or Sealbox's own second factor where the
// roles need it (set up on the spot by someone who has none yet), then in.
function SsoReturn({ onSignedIn, providers }: { onSignedIn: () => Promise<void>; providers: Providers | null }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const finish = async (totp?: string) => {
    const r = await api.post<SsoSession>('/api/v1/sso/session', totp ? { totp } : {});
    setCsrfToken(r.csrfToken);
    if (r.recoveryCodes.length > 0) setCodes(r.recoveryCodes);
    else await onSignedIn();
  };
  useEffect(() => {
    api.get<Pending>('/api/v1/sso/pending').then(async (p) => {
      setPending(p);
      if (p.state === 'authenticated' && p.secondFactor === 'none') await finish();
    }).catch(setError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => heading.current?.focus(), [pending, codes]);
  useEffect(() => {
    document.title = `${codes ? 'Keep your recovery codes' : pending?.state === 'failed' ? 'Sign-in failed' : 'Signing in'} · Sealbox`;
  }, [pending, codes]);
  if (codes) {
    return (
      <div className="stack">
        <h1 ref={heading} tabIndex={-1}>Keep your recovery codes</h1>
        <p>Your authenticator is set up. Each of these codes signs you in once in place of the one-time code, if you lose your phone. Print them or keep them somewhere safe, away from your phone: they are not shown again.</p>
        <ul className="codes" data-testid="recovery-codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        <button type="button" onClick={() => void onSignedIn()}>Continue to Sealbox</button>
      </div>
    );
  }
  if (error) return <><h1 ref={heading} tabIndex={-1}>Signing in</h1><ErrorNote error={error} /><p><a href="/">Back to sign-in</a></p></>;
  if (!pending || (pending.state === 'authenticated' && pending.secondFactor === 'none')) return <p role="status">Signing you in…</p>;
  if (pending.state !== 'authenticated') {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>Sign-in failed</h1>
        <p className="error" role="alert">{pending.state === 'failed' ? pending.message : 'The sign-in through your organisation\'s account did not finish in this browser, or it took too long.'}</p>
        <p>You are not signed in. Try again:</p>
        <ProviderButtons providers={providers} />
        <p><a href="/">Back to sign-in</a></p>
      </>
    );
  }
  if (pending.secondFactor === 'enrol') {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>Set up your second factor</h1>
        <SecondFactorSetUp result={{ user: { name: pending.name, roles: [] }, totpUri: pending.totpUri }} signIn={finish}
          lead={`${pending.provider} signed you in, ${pending.name}. Your roles also need a one-time code from an authenticator app on your phone, which Sealbox asks for itself. What follows is shown only now.`} />
      </>
    );
  }
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>One more step</h1>
      <p>{pending.provider} signed you in, {pending.name}. Your roles also need the one-time code from your authenticator app.</p>
      <SsoCodeForm finish={finish} />
    </>
  );
}

function SsoCodeForm({ finish }: { finish: (totp: string) => Promise<void> }) {
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const { error, busy, submit } = useStep((f) => finish(text(f, 'totp')), () => field.current?.select());
  return (
    <form onSubmit={submit} className="stack" aria-label="Second factor">
      <label>
        One-time code or recovery code
        <input ref={field} name="totp" inputMode="text" autoComplete="one-time-code" required aria-describedby="sso-totp-help" />
      </label>
      <p id="sso-totp-help" className="muted">The 6-digit code your authenticator app shows for Sealbox, or one of your recovery codes.</p>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  );
}

// One step of signing in as its form runs it: busy while `send` works (the page moves on when it
// has done), its refusal shown and the form left as typed when it throws (then `failed`).
function useStep(send: (form: FormData) => Promise<void>, failed?: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await send(form);
    } catch (err) {
      setError(err);
      setBusy(false);
      failed?.();
    }
  };
  return { error, busy, submit };
}

const text = (form: FormData, key: string) => String(form.get(key) ?? '').trim();

// The first field still to fill takes the focus, so one starts typing at once.
function focusFirstEmpty(form: HTMLFormElement | null): void {
  const fields = [...(form?.querySelectorAll<HTMLInputElement>('input:not([type=hidden]):not([disabled])') ?? [])];
  (fields.find((f) => !f.value) ?? fields[0])?.focus();
}

// Sign-in through the organisation's identity provider (its buttons, then Sealbox's own second
// factor where the roles need it), or with a password (and, for every role but plain owner, a
// one-time code from an authenticator app or a recovery code), and first-time enrolment with the code from the Administration page
// or `sealbox users add`, which ends signed in.
export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [invite] = useState(readInvite);
  // Back from an identity provider (/?sso=continue or /?sso=failed): what came of it is asked below.
  const [back] = useState(readSsoReturn);
  const [providers, setProviders] = useState<Providers | null>(null);
  useEffect(() => {
    api.get<Providers>('/api/v1/sso/providers').then(setProviders, () => setProviders({ providers: [], localSignIn: 'everyone' }));
  }, []);
  const [mode, setMode] = useState<'sign-in' | 'enrol'>(invite ? 'enrol' : 'sign-in');
  // After enrolment with a second factor: what to set up, and the password to sign in with once
  // the first code from the app is typed (kept in memory only, until then).
  const [enrolled, setEnrolled] = useState<{ result: Enrolled; password: string } | null>(null);
  // The set-up step replaces the form that had the focus: its heading takes it.
  const setUpHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => setUpHeading.current?.focus(), [enrolled]);
  useEffect(() => {
    if (back && !enrolled) return;   // SsoReturn names its own steps
    document.title = `${enrolled ? 'Set up your second factor' : mode === 'sign-in' ? 'Sign in' : 'Enrol'} · Sealbox`;
  }, [mode, enrolled, back]);
  const signIn = async (name: string, password: string, totp?: string) => {
    const r = await api.post<{ csrfToken: string }>('/api/v1/session', { name, password, ...(totp ? { totp } : {}) });
    setCsrfToken(r.csrfToken);
    await onSignedIn();
  };
  const onEnrolled = async (result: Enrolled, password: string) => {
    // Without a second factor there is nothing to set up: straight in.
    if (!result.totpUri) await signIn(result.user.name, password);
    else setEnrolled({ result, password });
  };
  return (
    <>
      <header className="top"><span className="brand">Sealbox</span></header>
      <main id="main" className="narrow">
        {back && !enrolled ? (
          <SsoReturn onSignedIn={onSignedIn} providers={providers} />
        ) : enrolled ? (
          <>
            <h1 ref={setUpHeading} tabIndex={-1}>Set up your second factor</h1>
            <SecondFactorSetUp result={enrolled.result} signIn={(totp) => signIn(enrolled.result.user.name, enrolled.password, totp)} />
          </>
        ) : mode === 'sign-in' ? (
          <>
            <h1>Sign in</h1>
            <ProviderButtons providers={providers} />
            {providers && providers.providers.length > 0 && <h2>{providers.localSignIn === 'named' ? 'Administrators and break-glass: local account' : 'Or with a Sealbox password'}</h2>}
            <SignInForm signIn={signIn} />
            <p>First time here? <button type="button" className="link" onClick={() => setMode('enrol')}>Enrol with your enrolment code</button></p>
          </>
        ) : (
          <>
            <h1>Enrol</h1>
            <EnrolForm onEnrolled={onEnrolled} invite={invite} />
            <p><button type="button" className="link" onClick={() => setMode('sign-in')}>Back to sign-in</button></p>
          </>
        )}
      </main>
    </>
  );
}

function SignInForm({ signIn }: { signIn: (name: string, password: string, totp?: string) => Promise<void> }) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => focusFirstEmpty(form.current), []);
  const { error, busy, submit } = useStep((f) => signIn(text(f, 'name'), String(f.get('password')), text(f, 'totp') || undefined));
  return (
    <form ref={form} onSubmit={submit} className="stack" aria-label="Sign in">
      <label>User name <input name="name" autoComplete="username" required /></label>
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

function EnrolForm({ onEnrolled, invite }: { onEnrolled: (r: Enrolled, password: string) => Promise<void>; invite: Invite | null }) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => focusFirstEmpty(form.current), []);
  const { error, busy, submit } = useStep(async (f) => {
    const password = String(f.get('password'));
    if (password !== f.get('password2')) throw new Error('The two passwords differ.');
    await onEnrolled(await api.post<Enrolled>('/api/v1/enrol', { name: text(f, 'name'), code: text(f, 'code'), password }), password);
  });
  return (
    <form ref={form} onSubmit={submit} className="stack" aria-label="Enrol">
      <label>User name <input name="name" autoComplete="username" required defaultValue={invite?.name} /></label>
      <label>Enrolment code <input name="code" autoComplete="off" required aria-describedby="code-help" defaultValue={invite?.code} /></label>
      <p id="code-help" className="muted">The one-time code from your enrolment link, from your administrator, or from the e-mail of an account recovery.</p>
      <label>New password <input name="password" type="password" autoComplete="new-password" minLength={12} required aria-describedby="password-help" /></label>
      <p id="password-help" className="muted">At least 12 characters.</p>
      <label>New password again <input name="password2" type="password" autoComplete="new-password" minLength={12} required /></label>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>{busy ? 'Enrolling…' : 'Enrol'}</button>
    </form>
  );
}

// The authenticator set-up, shown once: the QR code to scan, the key to type or copy, the
// recovery codes; then the app's first code signs in (which also proves the app has the key).
function SecondFactorSetUp({ result, signIn, lead }: { result: Enrolled; signIn: (totp: string) => Promise<void>; lead?: string }) {
  const uri = result.totpUri!;
  const secret = new URL(uri).searchParams.get('secret');
  const codeField = useRef<HTMLInputElement>(null);
  const { error, busy, submit } = useStep((f) => signIn(text(f, 'totp')), () => codeField.current?.select());
  return (
    <div className="stack">
      <p>{lead ?? `Your password is set, ${result.user.name}. Your roles also need a one-time code from an authenticator app on your phone. What follows is shown only now.`}</p>
      <section aria-labelledby="totp-h">
        <h2 id="totp-h">1. Add Sealbox to your authenticator app</h2>
        <p>Scan this QR code with the app, or type the key into it.</p>
        <QrCode text={uri} label="QR code to add your Sealbox account to an authenticator app" />
        <dl>
          <dt>Key</dt>
          <dd>
            <CopyButton text={secret ?? ''} label="Copy the key" testId="totp-secret" />
          </dd>
          <dt>On this phone</dt><dd><a href={uri} data-testid="totp-uri">Open in the authenticator app</a></dd>
        </dl>
      </section>
      {result.recoveryCodes && result.recoveryCodes.length > 0 && (
        <section aria-labelledby="recovery-h">
          <h2 id="recovery-h">2. Keep your recovery codes</h2>
          <p>Each one signs you in once in place of the one-time code, if you lose your phone. Print them or keep them somewhere safe, away from your phone.</p>
          <ul className="codes" data-testid="recovery-codes">
            {result.recoveryCodes.map((c) => <li key={c}><code>{c}</code></li>)}
          </ul>
        </section>
      )}
      <section aria-labelledby="finish-h">
        <h2 id="finish-h">{result.recoveryCodes?.length ? '3.' : '2.'} Sign in with the app's code</h2>
        <form onSubmit={submit} className="stack" aria-label="Finish enrolment">
          <label>
            One-time code from the app
            <input ref={codeField} name="totp" inputMode="numeric" autoComplete="one-time-code" required aria-describedby="finish-help" />
          </label>
          <p id="finish-help" className="muted">The 6-digit code the app now shows for Sealbox. It checks that the app has the key; a recovery code works too.</p>
          <ErrorNote error={error} />
          <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
      </section>
    </div>
  );
}
