import { createHash } from 'node:crypto';
import {
  base64UrlDecode,
  base64UrlEncode,
  buildAuthorizationUrl,
  checkDiscovery,
  codeChallengeS256,
  createCodeVerifier,
  decodeJwtClaims,
  discoveryUrl,
  idTokenMatchesNonce,
  isValidCodeVerifier,
  parseCallback,
  tokenRequestBody,
} from './pkce';

describe('PKCE helpers (RFC 7636)', () => {
  it('computes the S256 challenge of the RFC 7636 appendix B example', async () => {
    expect(await codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('agrees with an independent SHA-256 for random verifiers', async () => {
    for (let i = 0; i < 50; i++) {
      const v = createCodeVerifier();
      const expected = createHash('sha256').update(v, 'ascii').digest('base64url');
      expect(await codeChallengeS256(v)).toBe(expected);
    }
  });

  it('makes 43-character verifiers of the allowed alphabet, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const v = createCodeVerifier();
      expect(v).toHaveLength(43);
      expect(isValidCodeVerifier(v)).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(200);
  });

  it('refuses a verifier that is too short or has other characters', async () => {
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(42) + '+')).toBe(false);
    await expect(codeChallengeS256('short')).rejects.toThrow(/invalid/);
  });

  it('encodes base64url without padding and decodes it back', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) % 256);
      const enc = base64UrlEncode(bytes);
      expect(enc).toBe(Buffer.from(bytes).toString('base64url'));
      expect(Array.from(base64UrlDecode(enc))).toEqual(Array.from(bytes));
    }
  });

  it('builds the authorization request with every parameter the flow needs', () => {
    const url = new URL(
      buildAuthorizationUrl({
        authorizationEndpoint: 'https://idp.example/authorize?tenant=x',
        clientId: 'vagen-web',
        redirectUri: 'https://vagen.example/auth/callback',
        scope: 'openid profile',
        state: 'st',
        nonce: 'no',
        codeChallenge: 'ch',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://idp.example/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'x',
      response_type: 'code',
      client_id: 'vagen-web',
      redirect_uri: 'https://vagen.example/auth/callback',
      scope: 'openid profile',
      state: 'st',
      nonce: 'no',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
  });

  it('accepts the callback only with the expected state', () => {
    expect(parseCallback('?code=abc&state=s1', 's1')).toEqual({ ok: true, code: 'abc' });
    expect(parseCallback('?code=abc&state=s2', 's1')).toEqual({ ok: false, error: 'state_mismatch' });
    expect(parseCallback('?code=abc&state=s1', null)).toEqual({ ok: false, error: 'state_mismatch' });
    expect(parseCallback('?state=s1', 's1')).toEqual({ ok: false, error: 'missing_code' });
    expect(parseCallback('?error=access_denied&error_description=nej&state=s1', 's1')).toEqual({ ok: false, error: 'access_denied', description: 'nej' });
  });

  it('sends the verifier, not the challenge, in the token request', () => {
    const body = tokenRequestBody({ code: 'c', redirectUri: 'https://v/cb', clientId: 'id', codeVerifier: 'ver' });
    expect(Object.fromEntries(body)).toEqual({ grant_type: 'authorization_code', code: 'c', redirect_uri: 'https://v/cb', client_id: 'id', code_verifier: 'ver' });
  });

  it('checks the discovery document', () => {
    const doc = { issuer: 'https://idp.example/realm/', authorization_endpoint: 'https://idp.example/a', token_endpoint: 'https://idp.example/t' };
    expect(discoveryUrl('https://idp.example/realm/')).toBe('https://idp.example/realm/.well-known/openid-configuration');
    expect(checkDiscovery(doc, 'https://idp.example/realm')).toBe(doc);
    expect(() => checkDiscovery({ ...doc, issuer: 'https://evil.example' }, 'https://idp.example/realm')).toThrow(/another issuer/);
    expect(() => checkDiscovery({ ...doc, token_endpoint: undefined }, 'https://idp.example/realm/')).toThrow(/token_endpoint/);
    expect(() => checkDiscovery({ ...doc, code_challenge_methods_supported: ['plain'] }, 'https://idp.example/realm/')).toThrow(/S256/);
  });

  it('matches the ID token nonce', () => {
    const jwt = (claims: object) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.x`;
    expect(decodeJwtClaims(jwt({ sub: 'å' }))).toEqual({ sub: 'å' });
    expect(idTokenMatchesNonce(jwt({ nonce: 'n1' }), 'n1')).toBe(true);
    expect(idTokenMatchesNonce(jwt({ nonce: 'n2' }), 'n1')).toBe(false);
    expect(idTokenMatchesNonce('garbage', 'n1')).toBe(false);
    expect(idTokenMatchesNonce(undefined, 'n1')).toBe(true);
  });
});
