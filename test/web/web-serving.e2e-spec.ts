import { JwtVerifier } from '../../src/shared/auth/jwt.verifier.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ensureWebBuilt } from './support/build-web.js';

describe('the web interface is served by the service (real HTTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestApp({ label: 'webserve' });
  }, 180_000);
  afterAll(() => t?.close());

  it('serves index.html at / in Swedish, with a strict Content-Security-Policy', async () => {
    const r = await t.http().get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toMatch(/<html lang="sv">/);
    const csp = r.headers['content-security-policy'];
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers client-side routes with index.html (a reload on /arenden/123 works)', async () => {
    for (const p of ['/registreringsdag', '/arenden/0b6c2b1e-0000-4000-8000-000000000000', '/flode?x=1', '/auth/callback?code=a&state=b']) {
      const r = await t.http().get(p);
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/<div id="root">/);
    }
  });

  it('serves hashed assets for a year, and the script the page names', async () => {
    const index = (await t.http().get('/')).text;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)![1]!;
    const r = await t.http().get(script);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('never answers API, health or metrics paths with the page: unknown ones stay problem+json 404', async () => {
    for (const p of ['/api/v1/nothing-here', '/api/unknown', '/health/nothing', '/metrics/x']) {
      const r = await t.http().get(p);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await t.http().get('/health')).body).toEqual({ status: 'ok' });
    expect((await t.http().get('/api/docs')).status).toBe(200);
  });

  it('answers 404 for a missing file and for paths outside dist/web', async () => {
    expect((await t.http().get('/assets/missing-file.js')).status).toBe(404);
    expect((await t.http().get('/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await t.http().get('/%2e%2e/%2e%2e/package.json')).status).toBe(404);
  });

  it('offers demo users outside production, with tokens the API accepts', async () => {
    const cfg = await t.http().get('/api/v1/auth/client-config');
    expect(cfg.body).toEqual({ demoUsers: true, oidc: null });
    const r = await t.http().get('/api/v1/dev/demo-users');
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const roles = r.body.items.map((u: { role: string }) => u.role);
    expect(roles).toEqual(expect.arrayContaining(['caseworker', 'process_owner', 'evaluator', 'admin']));
    const verifier = new JwtVerifier(t.config.auth);
    for (const u of r.body.items) {
      const p = await verifier.verify(u.token);
      expect(p).toMatchObject({ userId: u.sub, name: u.name, roles: [u.role], municipalities: u.municipalities });
    }
  });
});

describe('in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestApp({
      label: 'webprod',
      config: { nodeEnv: 'production', oidcClientId: 'vagen-web', auth: { jwtSecret: undefined, jwksUrl: 'https://idp.example.org/jwks', issuer: 'https://idp.example.org/realms/vagen', audience: 'vagen-api' } },
    });
  }, 180_000);
  afterAll(() => t?.close());

  it('offers no demo users, and tells the browser where to sign in with OpenID Connect', async () => {
    expect((await t.http().get('/api/v1/dev/demo-users')).status).toBe(404);
    const cfg = await t.http().get('/api/v1/auth/client-config');
    expect(cfg.body).toEqual({ demoUsers: false, oidc: { issuer: 'https://idp.example.org/realms/vagen', clientId: 'vagen-web', scope: 'openid profile' } });
  });

  it('lets the page reach the identity provider (discovery and token endpoint) and nothing else', async () => {
    const csp = (await t.http().get('/')).headers['content-security-policy'];
    expect(csp).toMatch(/connect-src 'self' https:\/\/idp\.example\.org(;|$)/);
  });
});
