import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';
import { EchoTestModule } from './echo.test-module.js';

const ISSUER = 'https://idp.test.example/';
const AUDIENCE = 'vagen-api';

/** Production authentication: RS256/ES256 tokens verified against a key set served over HTTP. */
describe('JWT verification against a JWKS served by a local identity provider', () => {
  let idp: Server;
  let jwksRequests = 0;
  let t: TestApp;
  const keys = {} as Record<'rsa' | 'ec' | 'stranger', { publicKey: CryptoKey; privateKey: CryptoKey; kid: string; alg: 'RS256' | 'ES256' }>;

  beforeAll(async () => {
    keys.rsa = { ...(await generateKeyPair('RS256')), kid: 'rsa-1', alg: 'RS256' };
    keys.ec = { ...(await generateKeyPair('ES256')), kid: 'ec-1', alg: 'ES256' };
    keys.stranger = { ...(await generateKeyPair('RS256')), kid: 'rsa-1', alg: 'RS256' };
    const published: JWK[] = [];
    for (const k of [keys.rsa, keys.ec]) published.push({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' });
    idp = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/.well-known/jwks.json`;
    t = await startTestApp({
      label: 'jwks',
      extraModules: [EchoTestModule],
      config: { auth: { jwtSecret: undefined, jwksUrl, issuer: ISSUER, audience: AUDIENCE } },
    });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => idp?.close(resolve));
  });

  const sign = (
    key: { privateKey: CryptoKey | Uint8Array; kid?: string; alg: string },
    claims: { iss?: string; aud?: string } = {},
  ) =>
    new SignJWT({ name: 'Idp User', roles: ['caseworker'], municipalities: ['2281'] })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
      .setSubject('idp-user-1')
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key.privateKey);

  const call = (token: string) =>
    t.http().post('/api/v1/municipalities/2281/test/echo').set('authorization', `Bearer ${token}`).send({ name: 'jwks', count: 1 });

  it('accepts an RS256 token whose key is in the set', async () => {
    const r = await call(await sign(keys.rsa));
    expect(r.status).toBe(201);
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it('accepts an ES256 token whose key is in the set', async () => {
    expect((await call(await sign(keys.ec))).status).toBe(201);
  });

  it('answers 401 for another issuer or another audience', async () => {
    for (const token of [await sign(keys.rsa, { iss: 'https://evil.example/' }), await sign(keys.ec, { aud: 'another-api' })]) {
      const r = await call(token);
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('answers 401 for an HS256 token when only a JWKS is configured, even one signed with the dev secret', async () => {
    const hs = { privateKey: new TextEncoder().encode(TEST_JWT_SECRET), alg: 'HS256' };
    expect((await call(await sign(hs))).status).toBe(401);
  });

  it('answers 401 for a key id the set does not have', async () => {
    const before = jwksRequests;
    expect((await call(await sign({ ...keys.rsa, kid: 'rsa-unknown' }))).status).toBe(401);
    // An unknown kid must not let a caller make the service hammer the identity provider.
    for (let i = 0; i < 5; i++) await call(await sign({ ...keys.rsa, kid: `rsa-unknown-${i}` }));
    expect(jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it('answers 401 for a token signed by another key under a known key id', async () => {
    expect((await call(await sign(keys.stranger))).status).toBe(401);
  });
});
