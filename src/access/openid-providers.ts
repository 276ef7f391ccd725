import type * as Oidc from 'openid-client';
import type { Config } from '../core/config.ts';
import { LOOPBACK } from '../core/config.ts';
import { readConfiguredFile } from '../core/configured-files.ts';
import { SealboxError } from '../core/errors.ts';

export type ProviderConfig = Config['sso']['providers'][number];

// What a provider said about the person, once its ID token passed every check.
export interface ProviderAnswer {
  claims: Record<string, unknown>;   // the ID token's, with the UserInfo endpoint's beside them
  idToken: string;
}

// The configured OpenID providers, through openid-client: discovery (once, kept; a failure is
// tried again next time), the authorization request with PKCE, state and nonce, and the code
// exchanged for an ID token whose signature, issuer, audience, nonce and expiry openid-client
// checks (authorizationCodeGrant with expectedNonce requires an ID token and checks its claims;
// enableNonRepudiationChecks adds its signature; no check is switched off here). Plain http is allowed only for an issuer on the loopback.
// openid-client (with its JOSE code) is loaded at the first sign-in through a provider, not by
// every process that builds the access services (a console command took ~20 ms longer).
let client: Promise<typeof Oidc> | null = null;
const openIdClient = () => (client ??= import('openid-client'));

export class OpenIdProviders {
  readonly #providers: Map<string, ProviderConfig>;
  readonly #configs = new Map<string, Promise<Oidc.Configuration>>();

  constructor(providers: readonly ProviderConfig[]) {
    this.#providers = new Map(providers.map((p) => [p.id, p]));
  }

  get(id: string): ProviderConfig | null {
    return this.#providers.get(id) ?? null;
  }

  list(): ProviderConfig[] {
    return [...this.#providers.values()];
  }

  async authorizationUrl(p: ProviderConfig, request: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    const config = await this.#config(p);
    const oidc = await openIdClient();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: request.redirectUri, scope: p.scopes.join(' '), response_type: 'code', state: request.state, nonce: request.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(request.codeVerifier), code_challenge_method: 'S256',
    });
  }

  // The provider's answer at the callback URL; throws what openid-client finds wrong with it.
  async exchange(p: ProviderConfig, callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }): Promise<ProviderAnswer> {
    const config = await this.#config(p);
    const oidc = await openIdClient();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true });
    const idClaims = tokens.claims();
    if (!idClaims || !tokens.id_token) throw new Error('the provider sent no ID token');
    // Claims a provider keeps out of the ID token (groups, e-mail) come from its UserInfo endpoint,
    // for the same subject; the ID token's own (amr, acr) are never taken from there.
    const info = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
    return { claims: { ...info, ...idClaims }, idToken: tokens.id_token };
  }

  // Where the browser goes to end its session at the provider too, or null when it has no
  // end_session_endpoint (or cannot be reached now: the Sealbox session has ended all the same).
  async endSessionUrl(p: ProviderConfig, idToken: string | null, postLogoutRedirectUri: string): Promise<URL | null> {
    try {
      const config = await this.#config(p);
      if (!config.serverMetadata().end_session_endpoint) return null;
      return (await openIdClient()).buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri, ...(idToken ? { id_token_hint: idToken } : {}) });
    } catch {
      return null;
    }
  }

  #config(p: ProviderConfig): Promise<Oidc.Configuration> {
    let config = this.#configs.get(p.id);
    if (!config) {
      const issuer = new URL(p.issuer);
      const secret = p.clientSecretFile ? readConfiguredFile(`sso.providers[${p.id}].clientSecretFile`, p.clientSecretFile).trim() : undefined;
      const loopback = issuer.protocol === 'http:' && LOOPBACK.test(issuer.hostname);
      // Over TLS openid-client would take the token endpoint's word for the ID token and skip its
      // signature (OIDC Core allows it); the signature is checked against the provider's keys all
      // the same (enableNonRepudiationChecks), so a token altered anywhere on the way is refused.
      config = openIdClient().then((oidc) => oidc.discovery(issuer, p.clientId, secret, secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
        { timeout: 10, execute: [oidc.enableNonRepudiationChecks, ...(loopback ? [oidc.allowInsecureRequests] : [])] }));
      this.#configs.set(p.id, config);
      // A provider that did not answer is asked again next time.
      config.catch(() => this.#configs.delete(p.id));
    }
    return config.catch((err) => {
      throw new SealboxError('SEALBOX_ERR_UPSTREAM', `${p.label} (${p.issuer}) cannot be reached or did not describe itself: ${(err as Error).message}`, { cause: err });
    });
  }
}
