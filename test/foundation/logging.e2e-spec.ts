import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp, type RunningApp } from '../../src/app.factory.js';
import { signDevToken } from '../../src/shared/auth/dev-token.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { TEST_JWT_SECRET, testConfig } from '../support/test-app.js';
import { EchoTestModule } from './echo.test-module.js';

type Line = Record<string, unknown> & { msg?: string; reqId?: string; level: number };

describe('structured logging: one JSON object per line, request ids (real HTTP)', () => {
  const raw: string[] = [];
  const lines = (): Line[] => raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  let db: TestDatabase;
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('logging');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        raw.push(chunk.toString());
        done();
      },
    });
    running = await createApp(testConfig(db.url, { logLevel: 'info' }), { extraModules: [EchoTestModule], logDestination: sink });
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(running.app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await running?.close();
    await db?.drop();
  });

  it('writes Nest\'s own messages as JSON too, with their context', () => {
    // JSON.parse in lines() throws on a coloured text line.
    const nest = lines().filter((l) => typeof l.context === 'string');
    const contexts = nest.map((l) => l.context);
    expect(contexts).toEqual(expect.arrayContaining(['NestFactory', 'NestApplication']));
    // One line per module and per route only at LOG_LEVEL=debug.
    expect(contexts).not.toEqual(expect.arrayContaining(['InstanceLoader']));
    expect(contexts).not.toEqual(expect.arrayContaining(['RouterExplorer']));
    expect(nest.find((l) => l.context === 'NestApplication')).toMatchObject({ level: 30, msg: expect.stringMatching(/started/), time: expect.any(String) });
  });

  it('keeps a caller\'s x-request-id, echoes it and logs the request under it', async () => {
    const r = await request(url).get('/health').set('x-request-id', 'trace-abc.123');
    expect(r.headers['x-request-id']).toBe('trace-abc.123');
    const mine = lines().filter((l) => l.reqId === 'trace-abc.123');
    expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(mine[0]).toMatchObject({ req: { method: 'GET', url: '/health' } });
    expect(mine[1]).toMatchObject({ res: { statusCode: 200 }, responseTime: expect.any(Number) });
  });

  it('generates an id when there is none, or when the given one is not a plain short token', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const none = await request(url).get('/health');
    expect(none.headers['x-request-id']).toMatch(uuid);
    for (const bad of ['x'.repeat(101), 'a b', '"},{"level":60']) {
      const r = await request(url).get('/health').set('x-request-id', bad);
      expect(r.headers['x-request-id']).toMatch(uuid);
    }
    expect(lines().some((l) => l.reqId === none.headers['x-request-id'] && l.msg === 'request completed')).toBe(true);
  });

  it('logs an unexpected error with its stack and the request id, and tells the client neither', async () => {
    const token = await signDevToken(TEST_JWT_SECRET, { sub: 'log-test', roles: ['caseworker'], municipalities: ['2281'] });
    const r = await request(url).post('/api/v1/municipalities/2281/test/boom').set('authorization', `Bearer ${token}`).set('x-request-id', 'boom-1').send({});
    expect(r.status).toBe(500);
    expect(r.headers['x-request-id']).toBe('boom-1');
    expect(JSON.stringify(r.body)).not.toContain('boom-1');
    const failed = lines().find((l) => l.reqId === 'boom-1' && l.msg === 'request failed');
    expect(failed).toMatchObject({ level: 50, method: 'POST', url: '/api/v1/municipalities/2281/test/boom', err: { message: expect.any(String), stack: expect.stringContaining('\n    at ') } });
    expect(JSON.stringify(r.body)).not.toContain((failed!.err as { message: string }).message);
  });

  it('does not log request headers (bearer tokens stay out of the log)', () => {
    expect(raw.join('')).not.toMatch(/authorization|Bearer /i);
  });
});
