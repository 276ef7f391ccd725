import type { Tx } from '../core/transactions.ts';

// started: sent to the provider; checking: its answer is being checked (the step is claimed);
// failed or authenticated: what came of it; done: a session was made from it. A link's round trip
// (purpose link) ends in `linkable` instead, which no sign-in step takes, then `done` when linked.
export type PendingLoginState = 'started' | 'checking' | 'failed' | 'authenticated' | 'linkable' | 'done';

// A sign-in on its way through a provider (src/access/sso-sign-in.ts), found by the hash of the
// cookie that binds it to the browser that started it.
// sign-in: a sign-in through the provider; link: a person signed in here links their account there.
export type PendingLoginPurpose = 'sign-in' | 'link';

export interface PendingLogin {
  idHash: string;
  provider: string;
  purpose: PendingLoginPurpose;
  sessionId: string | null;     // link: the session that started it
  subject: string | null;       // link: the provider's subject, once its answer passed the checks
  claimedName: string | null;   // link: the provider's user-name claim, lowercased
  state: PendingLoginState;
  oauthState: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  createdAt: number;
  expiresAt: number;
  message: string | null;
  userId: number | null;
  providerMfa: string | null;
  idToken: string | null;
  totpWrapped: Buffer | null;
}

// Provider identities bound to people, and sign-ins under way.
export interface SsoStore {
  // The person a provider's subject is bound to, or null.
  identity(tx: Tx, provider: string, subject: string): Promise<number | null>;
  bind(tx: Tx, identity: { provider: string; subject: string; userId: number; at: number }): Promise<void>;
  // A person's own bindings (one a provider at most), and the end of one.
  identitiesOf(tx: Tx, userId: number): Promise<{ provider: string; subject: string; createdAt: number; lastSignIn: number | null }[]>;
  unbind(tx: Tx, provider: string, userId: number): Promise<boolean>;
  signedIn(tx: Tx, provider: string, subject: string, at: number): Promise<void>;
  addLogin(tx: Tx, login: Pick<PendingLogin, 'idHash' | 'provider' | 'oauthState' | 'nonce' | 'codeVerifier' | 'redirectUri' | 'createdAt' | 'expiresAt'> & Partial<Pick<PendingLogin, 'purpose' | 'sessionId' | 'userId'>>): Promise<void>;
  login(tx: Tx, idHash: string): Promise<PendingLogin | null>;
  // Moves a sign-in from one state to the next, setting the fields given; false when it was not in
  // `from` (used already, failed, never started): each step happens once.
  advance(tx: Tx, idHash: string, from: PendingLoginState, to: PendingLoginState, fields?: Partial<Pick<PendingLogin, 'message' | 'userId' | 'providerMfa' | 'idToken' | 'totpWrapped' | 'subject' | 'claimedName'>>): Promise<boolean>;
  // Sign-ins that expired before this time are forgotten.
  dropExpired(tx: Tx, before: number): Promise<void>;
}
