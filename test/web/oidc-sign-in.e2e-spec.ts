import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { axeViolations, describeViolations, launchBrowser, openPage } from './support/browser.js';
import { ensureWebBuilt } from './support/build-web.js';
import { FakeOidcProvider } from './support/fake-oidc-provider.js';
import { WhoAmITestModule } from './support/whoami.test-module.js';

/**
 * Production sign-in in a real browser: authorization code + PKCE against an OpenID Connect
 * provider found by discovery from AUTH_ISSUER, the API then verifying the provider's RS256
 * access token against its JWKS. No demo users, no HS256 secret.
 */
describe('OpenID Connect sign-in (authorization code + PKCE) in Chromium', () => {
  let t: TestApp;
  let idp: FakeOidcProvider;
  let browser: Browser;
  beforeAll(async () => {
    await ensureWebBuilt();
    idp = new FakeOidcProvider({ clientId: 'vagen-web', audience: 'vagen-api', user: { sub: 'u-olle', name: 'Olle Oidcsson', roles: ['process_owner'], municipalities: ['2281'] } });
    await idp.start();
    t = await startTestApp({
      label: 'weboidc',
      extraModules: [WhoAmITestModule],
      config: { nodeEnv: 'production', oidcClientId: 'vagen-web', auth: { jwtSecret: undefined, jwksUrl: `${idp.issuer}/jwks`, issuer: idp.issuer, audience: 'vagen-api' } },
    });
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await idp?.close();
  });

  it('signs in through the provider with a PKCE verifier that matches its challenge, and the API accepts the token', async () => {
    const { page, problems, context } = await openPage(browser, t.url);
    await page.goto('/flode');
    await page.getByRole('heading', { name: 'Logga in', level: 1 }).waitFor();
    expect(await page.getByRole('heading', { name: 'Demoanvändare' }).count()).toBe(0);
    expect(describeViolations(await axeViolations(page))).toBe('');

    await page.getByRole('button', { name: 'Logga in' }).click();
    // Provider → /auth/callback → back to the page asked for before signing in.
    await page.waitForURL((u) => u.pathname === '/flode', { timeout: 15_000 });
    await page.getByText('Olle Oidcsson').waitFor();

    expect(idp.issuedCodes).toHaveLength(1);
    expect(idp.issuedCodes[0]!.used).toBe(true);
    expect(idp.issuedCodes[0]!.redirectUri).toBe(`${t.url}/auth/callback`);
    expect(idp.tokenRequests[0]!.code_verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    // The code and the verifier are gone from the address bar and from storage.
    expect(page.url()).not.toMatch(/code=|state=/);
    expect(await page.evaluate(() => sessionStorage.getItem('vagen.oidc.pending'))).toBeNull();

    // The RS256 access token from the provider works against the API (verified with its JWKS).
    const [ok, forged] = await page.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('vagen.session')!) as { token: string };
      const call = (token: string) => fetch('/api/v1/municipalities/2281/test/whoami', { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: await r.json() }));
      return [await call(s.token), await call(s.token.slice(0, -6) + 'AAAAAA')];
    });
    expect(ok).toEqual({ status: 200, body: { userId: 'u-olle', name: 'Olle Oidcsson', roles: ['process_owner'], municipalities: ['2281'] } });
    expect(forged.status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('refuses a callback whose state this browser did not send (CSRF), without calling the token endpoint', async () => {
    const before = idp.tokenRequests.length;
    const { page, context } = await openPage(browser, t.url);
    await page.goto('/auth/callback?code=stolen&state=forged');
    await page.getByText('Inloggningen kunde inte slutföras').waitFor();
    expect(await page.getByText(/state_mismatch/).count()).toBe(1);
    expect(idp.tokenRequests.length).toBe(before);
    expect(describeViolations(await axeViolations(page))).toBe('');
    await context.close();
  });
});
