import {
  buildAuthorizationUrl,
  checkDiscovery,
  codeChallengeS256,
  createCodeVerifier,
  discoveryUrl,
  idTokenMatchesNonce,
  parseCallback,
  randomUrlSafe,
  tokenRequestBody,
  type DiscoveryDocument,
} from './pkce';
import { sessionFromToken, type Session } from './session';

export interface OidcClientConfig {
  issuer: string;
  clientId: string;
  scope: string;
}

const PENDING_KEY = 'vagen.oidc.pending';

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

export const redirectUri = (): string => `${location.origin}/auth/callback`;

async function discover(issuer: string): Promise<DiscoveryDocument> {
  const res = await fetch(discoveryUrl(issuer), { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  return checkDiscovery(await res.json(), issuer);
}

/** Leaves the app for the provider's login page; the provider sends the browser back to /auth/callback. */
export async function startOidcSignIn(cfg: OidcClientConfig, returnTo: string): Promise<void> {
  const doc = await discover(cfg.issuer);
  const pending: Pending = { state: randomUrlSafe(), nonce: randomUrlSafe(), verifier: createCodeVerifier(), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(
    buildAuthorizationUrl({
      authorizationEndpoint: doc.authorization_endpoint,
      clientId: cfg.clientId,
      redirectUri: redirectUri(),
      scope: cfg.scope,
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: await codeChallengeS256(pending.verifier),
    }),
  );
}

/**
 * Exchanges the code for tokens. The API is called with the access token (its audience is the
 * API, AUTH_AUDIENCE); the ID token is only checked for the nonce and kept for sign-out.
 */
export async function completeOidcSignIn(cfg: OidcClientConfig, search: string): Promise<{ session: Session; returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY); // one attempt per verifier
  const pending = raw ? (JSON.parse(raw) as Pending) : null;
  const cb = parseCallback(search, pending?.state ?? null);
  if (!cb.ok) throw new Error(cb.description ? `${cb.error}: ${cb.description}` : cb.error);
  const doc = await discover(cfg.issuer);
  const res = await fetch(doc.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: tokenRequestBody({ code: cb.code, redirectUri: redirectUri(), clientId: cfg.clientId, codeVerifier: pending!.verifier }),
  });
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const tokens = (await res.json()) as { access_token?: string; id_token?: string };
  if (!tokens.access_token) throw new Error('no access token');
  if (!idTokenMatchesNonce(tokens.id_token, pending!.nonce)) throw new Error('nonce mismatch');
  return { session: sessionFromToken(tokens.access_token, 'oidc', tokens.id_token), returnTo: pending!.returnTo };
}
