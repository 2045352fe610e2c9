import { API_CSP, DOCS_CSP } from '../../src/shared/http/security.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { launchBrowser, openPage } from '../web/support/browser.js';

/**
 * Abuse resistance over real HTTP: security headers (helmet) with a CSP per path, Swagger UI still
 * working under its policy in a real browser, strict CORS, and rate limiting per user and per IP.
 * (Body size, JSON depth, malformed JSON and internal error text: test/foundation/http-plumbing.)
 */
describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'headers' });
  });
  afterAll(() => t.close());

  it('every API answer carries the security headers and a CSP that allows nothing', async () => {
    const token = await t.token('caseworker');
    for (const r of [
      await t.http().get('/api/v1/units'),
      await t.http().get('/api/v1/municipalities/2281/cases'),
      await t.http().get('/api/v1/municipalities/2281/cases').set('authorization', `Bearer ${token}`),
      await t.http().post('/api/v1/municipalities/2281/cases').set('authorization', `Bearer ${token}`).set('content-type', 'application/json').send('{bad'),
      await t.http().get('/api/v1/no-such-route'),
      await t.http().get('/api/v1/units?__proto__=1'),
    ]) {
      expect(r.headers['content-security-policy']).toBe(API_CSP);
      expect(r.headers).toMatchObject({
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': expect.stringMatching(/^max-age=\d{8,}; includeSubDomains/),
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'x-permitted-cross-domain-policies': 'none',
        'x-dns-prefetch-control': 'off',
        'origin-agent-cluster': '?1',
      });
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('serves Swagger UI under its own policy, without inline script or eval', async () => {
    const r = await t.http().get('/api/docs');
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(DOCS_CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect((await t.http().get('/api/docs-json')).status).toBe(200);
  });

  it('Swagger UI renders every operation in a real browser with no CSP violation', async () => {
    const browser = await launchBrowser();
    try {
      const { page, context, problems } = await openPage(browser, t.url);
      await context.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));" });
      await page.goto('/api/docs', { waitUntil: 'networkidle' });
      await page.waitForSelector('.opblock', { timeout: 15_000 });
      const operations = await page.locator('.opblock').count();
      expect(operations).toBeGreaterThan(20);
      expect(await page.locator('.opblock-summary-path', { hasText: '/admin/erasures' }).count()).toBe(1);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('CORS', () => {
  let t: TestApp;
  const allowed = 'https://vagen.kommun.example';
  beforeAll(async () => {
    t = await startTestApp({ label: 'cors', config: { corsOrigins: [allowed] } });
  });
  afterAll(() => t.close());

  it('answers a preflight from a configured origin, exposing the headers clients need', async () => {
    const r = await t.http().options('/api/v1/municipalities/2281/cases').set('origin', allowed).set('access-control-request-method', 'POST').set('access-control-request-headers', 'authorization,content-type,if-match,idempotency-key');
    expect(r.status).toBeLessThan(300);
    expect(r.headers['access-control-allow-origin']).toBe(allowed);
    const get = await t.http().get('/api/v1/units').set('origin', allowed);
    expect(get.headers['access-control-allow-origin']).toBe(allowed);
    expect(get.headers['access-control-expose-headers']).toMatch(/X-Event-Position/);
    expect(get.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('gives any other origin nothing to read', async () => {
    for (const origin of ['https://evil.example', 'https://vagen.kommun.example.evil.example', 'null', 'http://vagen.kommun.example']) {
      const pre = await t.http().options('/api/v1/municipalities/2281/cases').set('origin', origin).set('access-control-request-method', 'POST');
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      const get = await t.http().get('/api/v1/units').set('origin', origin);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  const LIMIT = 5;
  beforeAll(async () => {
    t = await startTestApp({ label: 'ratelimit', config: { rateLimitPerMinute: LIMIT } });
  });
  afterAll(() => t.close());

  const rounds = (token?: string) => {
    const r = t.http().get('/api/v1/municipalities/2281/rounds');
    return token ? r.set('authorization', `Bearer ${token}`) : r;
  };

  it('limits each signed-in user on their own, with 429 problem+json and Retry-After', async () => {
    const anna = await t.token('caseworker', ['2281'], 'anna');
    const bo = await t.token('caseworker', ['2281'], 'bo');
    for (let i = 0; i < LIMIT; i++) expect((await rounds(anna)).status).toBe(200);
    const limited = await rounds(anna);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests', type: expect.stringMatching(/rate-limited$/), instance: '/api/v1/municipalities/2281/rounds' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another user at the same address is not affected, nor are requests without a token.
    expect((await rounds(bo)).status).toBe(200);
    expect((await t.http().get('/api/v1/units')).status).toBe(200);
  });

  it('a limited write writes nothing', async () => {
    const cw = await t.token('caseworker', ['2281'], 'writer');
    for (let i = 0; i < LIMIT; i++) await rounds(cw);
    const before = Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);
    const r = await t.http().post('/api/v1/municipalities/2281/cases').set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: '198503122389', gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' });
    expect(r.status).toBe(429);
    expect(Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count)).toBe(before);
  });

  it('limits requests without a valid token per IP address; a forged X-Forwarded-For does not help', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await t.http().get('/api/v1/units').set('authorization', i % 2 ? 'Bearer not.a.token' : '')).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect((await t.http().get('/api/v1/units').set('x-forwarded-for', '203.0.113.9')).status).toBe(429);
  });

  it('does not limit health checks, metrics or CORS preflights', async () => {
    for (let i = 0; i < LIMIT * 2; i++) {
      expect((await t.http().get('/health')).status).toBe(200);
      expect((await t.http().get('/metrics')).status).toBe(200);
    }
  });
});

describe('rate limiting behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'trustproxy', config: { rateLimitPerMinute: 2, trustProxy: ['127.0.0.1'] } });
  });
  afterAll(() => t.close());

  it('counts each client address the proxy forwards', async () => {
    const from = (ip: string) => t.http().get('/api/v1/units').set('x-forwarded-for', ip);
    expect([(await from('198.51.100.1')).status, (await from('198.51.100.1')).status, (await from('198.51.100.1')).status]).toEqual([200, 200, 429]);
    expect((await from('198.51.100.2')).status).toBe(200);
  });
});
