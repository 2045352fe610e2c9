/**
 * OpenID Connect authorization code flow with PKCE (RFC 7636), browser side. Pure helpers here
 * (tested in pkce.spec.ts); oidc.ts does the redirects and storage.
 *
 * Why PKCE and no client secret: a single-page app cannot keep a secret, so the code is bound
 * to a one-time verifier that never leaves this browser tab until the token request.
 */

export interface DiscoveryDocument {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64UrlDecode(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A random URL-safe string from `bytes` random bytes (32 bytes → 43 characters). */
export function randomUrlSafe(bytes = 32, random: (a: Uint8Array<ArrayBuffer>) => Uint8Array = (a) => crypto.getRandomValues(a)): string {
  return base64UrlEncode(random(new Uint8Array(bytes)));
}

/** RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~]; 32 random bytes give 43. */
export function createCodeVerifier(random?: (a: Uint8Array<ArrayBuffer>) => Uint8Array): string {
  return randomUrlSafe(32, random);
}

export function isValidCodeVerifier(v: string): boolean {
  return /^[A-Za-z0-9\-._~]{43,128}$/.test(v);
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export async function codeChallengeS256(verifier: string): Promise<string> {
  if (!isValidCodeVerifier(verifier)) throw new Error('invalid code verifier');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}

export function discoveryUrl(issuer: string): string {
  return issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration';
}

/** Checks what the flow relies on, so a misconfigured provider fails with a clear message. */
export function checkDiscovery(doc: unknown, expectedIssuer: string): DiscoveryDocument {
  const d = doc as Partial<DiscoveryDocument> | null;
  if (!d || typeof d !== 'object') throw new Error('discovery document is not JSON object');
  if (typeof d.authorization_endpoint !== 'string' || typeof d.token_endpoint !== 'string') {
    throw new Error('discovery document lacks authorization_endpoint or token_endpoint');
  }
  // OpenID Connect Discovery §4.3: the issuer in the document must be the one we asked.
  if (d.issuer?.replace(/\/+$/, '') !== expectedIssuer.replace(/\/+$/, '')) throw new Error('discovery document is for another issuer');
  if (d.code_challenge_methods_supported && !d.code_challenge_methods_supported.includes('S256')) {
    throw new Error('the provider does not support PKCE S256');
  }
  return d as DiscoveryDocument;
}

export interface AuthorizationRequest {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

export function buildAuthorizationUrl(r: AuthorizationRequest): string {
  const url = new URL(r.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', r.clientId);
  url.searchParams.set('redirect_uri', r.redirectUri);
  url.searchParams.set('scope', r.scope);
  url.searchParams.set('state', r.state);
  url.searchParams.set('nonce', r.nonce);
  url.searchParams.set('code_challenge', r.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

export type CallbackResult = { ok: true; code: string } | { ok: false; error: string; description?: string };

/** Reads the redirect back from the provider. A state that does not match is refused (CSRF). */
export function parseCallback(search: string, expectedState: string | null): CallbackResult {
  const p = new URLSearchParams(search);
  const error = p.get('error');
  if (error) return { ok: false, error, description: p.get('error_description') ?? undefined };
  if (!expectedState || p.get('state') !== expectedState) return { ok: false, error: 'state_mismatch' };
  const code = p.get('code');
  if (!code) return { ok: false, error: 'missing_code' };
  return { ok: true, code };
}

export function tokenRequestBody(r: { code: string; redirectUri: string; clientId: string; codeVerifier: string }): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: r.code,
    redirect_uri: r.redirectUri,
    client_id: r.clientId,
    code_verifier: r.codeVerifier,
  });
}

/** The claims of a JWT, unverified: the API verifies signatures; the browser only reads them. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  return JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[1]!))) as Record<string, unknown>;
}

/** The ID token must carry the nonce of this sign-in (replay protection, OIDC Core §3.1.3.7). */
export function idTokenMatchesNonce(idToken: string | undefined, nonce: string): boolean {
  if (!idToken) return true; // a provider that returns no ID token: nothing to replay
  try {
    return decodeJwtClaims(idToken).nonce === nonce;
  } catch {
    return false;
  }
}
