import { calls, EchoTestModule } from './echo.test-module.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { SignJWT } from 'jose';

describe('HTTP plumbing: errors, auth, idempotency (real HTTP, real PostgreSQL)', () => {
  let t: TestApp;
  let cw: string;
  beforeAll(async () => {
    t = await startTestApp({ extraModules: [EchoTestModule], label: 'plumbing', config: { bodyLimitBytes: 4096 } });
    cw = await t.token('caseworker');
  });
  afterAll(() => t.close());

  const echo = (token: string, body: unknown, code = '2281') =>
    t.http().post(`/api/v1/municipalities/${code}/test/echo`).set('authorization', `Bearer ${token}`).send(body as object);

  describe('authentication and roles', () => {
    it('answers 401 problem+json without a token', async () => {
      const r = await t.http().post('/api/v1/municipalities/2281/test/echo').send({ name: 'a', count: 1 });
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/api/v1/municipalities/2281/test/echo' });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 for a bad signature', async () => {
      const forged = await new SignJWT({ roles: ['caseworker'], municipalities: ['2281'] })
        .setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('1h')
        .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
      expect((await echo(forged, { name: 'a', count: 1 })).status).toBe(401);
    });

    it('answers 401 for an expired token', async () => {
      const expired = await new SignJWT({ roles: ['caseworker'], municipalities: ['2281'] })
        .setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(t.config.auth.jwtSecret!));
      const r = await echo(expired, { name: 'a', count: 1 });
      expect(r.status).toBe(401);
      expect(r.body.detail).toMatch(/expired/);
    });

    it('answers 403 for a role that is not allowed, in a municipality the token holds', async () => {
      const po = await t.token('process_owner');
      const r = await echo(po, { name: 'a', count: 1 });
      expect(r.status).toBe(403);
      expect(r.body.type).toMatch(/forbidden$/);
    });

    it('answers 404 (not 403) for a municipality the token does not hold, whatever the role', async () => {
      for (const token of [cw, await t.token('process_owner')]) {
        const r = await echo(token, { name: 'a', count: 1 }, '2262');
        expect(r.status).toBe(404);
        expect(r.headers['content-type']).toMatch(/problem\+json/);
      }
    });
  });

  describe('problem+json errors', () => {
    it('reports every failing field, including nested and unknown ones', async () => {
      const r = await echo(cw, { name: 7, count: 'many', inner: { label: 'far too long label', extra: 1 }, unknownField: true });
      expect(r.status).toBe(400);
      const paths = (r.body.errors as { path: string }[]).map((e) => e.path).sort();
      expect(paths).toEqual(expect.arrayContaining(['count', 'inner.extra', 'inner.label', 'name', 'unknownField']));
      expect(r.body).toMatchObject({ type: expect.stringMatching(/validation-error$/), status: 400, title: 'Bad Request' });
    });

    it('answers 400 for malformed JSON and 415 for another content type', async () => {
      const bad = await t.http().post('/api/v1/municipalities/2281/test/echo').set('authorization', `Bearer ${cw}`)
        .set('content-type', 'application/json').send('{"name": ');
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toMatch(/problem\+json/);
      const xml = await t.http().post('/api/v1/municipalities/2281/test/echo').set('authorization', `Bearer ${cw}`)
        .set('content-type', 'application/xml').send('<a/>');
      expect(xml.status).toBe(415);
      expect(xml.headers['content-type']).toMatch(/problem\+json/);
    });

    it('answers 413 for an oversized body', async () => {
      const r = await echo(cw, { name: 'x'.repeat(10_000), count: 1 });
      expect(r.status).toBe(413);
      expect(r.body.status).toBe(413);
    });

    it('answers 400 for JSON nested too deep', async () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = { a: deep };
      const r = await echo(cw, { name: 'a', count: 1, inner: deep });
      expect(r.status).toBe(400);
    });

    it('answers 404 problem+json for an unknown route, and 409 for a conflict', async () => {
      const r = await t.http().get('/api/v1/nothing-here');
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
      const c = await t.http().post('/api/v1/municipalities/2281/test/conflict').set('authorization', `Bearer ${cw}`).send({});
      expect(c.status).toBe(409);
      expect(c.body.type).toMatch(/test-conflict$/);
    });

    it('never shows internal error text or a stack to the client', async () => {
      const r = await t.http().post('/api/v1/municipalities/2281/test/boom').set('authorization', `Bearer ${cw}`).send({});
      expect(r.status).toBe(500);
      expect(JSON.stringify(r.body)).not.toMatch(/secret|srv|app\.ts|at /);
      expect(r.body).toMatchObject({ status: 500, title: 'Internal Server Error' });
    });
  });

  describe('Idempotency-Key', () => {
    const countRows = async () => Number((await t.pool.query('SELECT count(*) FROM idempotency_keys')).rows[0].count);

    it('replays the original status and body and does not run the command again', async () => {
      const before = calls.count;
      const first = await echo(cw, { name: 'anna', count: 3 }).set('idempotency-key', 'k-replay');
      expect(first.status).toBe(201);
      const again = await echo(cw, { count: 3, name: 'anna' }).set('idempotency-key', 'k-replay');
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotency-replayed']).toBe('true');
      expect(calls.count).toBe(before + 1);
    });

    it('answers 422 when the same key comes with a different body', async () => {
      await echo(cw, { name: 'a', count: 1 }).set('idempotency-key', 'k-diff').expect(201);
      const r = await echo(cw, { name: 'a', count: 2 }).set('idempotency-key', 'k-diff');
      expect(r.status).toBe(422);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    });

    it('answers 409 while the first request with the key is still running', async () => {
      const slow = echo(cw, { name: 'slow', count: 1, delayMs: 800 }).set('idempotency-key', 'k-flight');
      const slowDone = slow.then((r) => r);
      await new Promise((r) => setTimeout(r, 200));
      const second = await echo(cw, { name: 'slow', count: 1, delayMs: 800 }).set('idempotency-key', 'k-flight');
      expect(second.status).toBe(409);
      expect((await slowDone).status).toBe(201);
    });

    it('keeps keys per user: another user with the same key runs their own request', async () => {
      const other = await t.token('caseworker', ['2281'], 'someone-else');
      const a = await echo(cw, { name: 'u', count: 1 }).set('idempotency-key', 'k-user');
      const b = await echo(other, { name: 'u', count: 1 }).set('idempotency-key', 'k-user');
      expect(b.headers['idempotency-replayed']).toBeUndefined();
      expect(b.body.call).not.toBe(a.body.call);
    });

    it('writes no idempotency record for a rejected request', async () => {
      const before = await countRows();
      const r = await echo(cw, { name: 5 }).set('idempotency-key', 'k-bad');
      expect(r.status).toBe(400);
      expect(await countRows()).toBe(before);
      // and the key stays usable with a corrected body
      expect((await echo(cw, { name: 'ok', count: 1 }).set('idempotency-key', 'k-bad')).status).toBe(201);
    });

    it('rejects a key longer than 200 characters', async () => {
      const r = await echo(cw, { name: 'a', count: 1 }).set('idempotency-key', 'k'.repeat(201));
      expect(r.status).toBe(400);
      expect(r.body.errors[0].path).toBe('Idempotency-Key');
    });
  });

  describe('operations', () => {
    it('serves health, readiness, metrics and OpenAPI without a token', async () => {
      expect((await t.http().get('/health')).body).toEqual({ status: 'ok' });
      const ready = await t.http().get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.checks.database.status).toBe('ok');
      const metrics = await t.http().get('/metrics');
      expect(metrics.text).toMatch(/vagen_http_request_duration_seconds_bucket\{[^}]*route="\/health"/);
      expect(metrics.text).toMatch(/vagen_http_requests_total/);
      const docs = await t.http().get('/api/docs-json');
      expect(docs.body.openapi).toMatch(/^3\./);
      expect((await t.http().get('/api/docs')).status).toBe(200);
    });
  });
});
