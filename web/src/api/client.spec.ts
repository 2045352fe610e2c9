import { api, ApiError, buildUrl, configureApi, resetPosition } from './client';

describe('API client', () => {
  const calls: { url: string; init: RequestInit }[] = [];
  let answers: Response[] = [];
  beforeEach(() => {
    calls.length = 0;
    resetPosition();
    configureApi({ token: () => 'tok', onUnauthorized: () => calls.push({ url: 'signed-out', init: {} }) });
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answers.shift()!;
    }) as typeof fetch;
  });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers } });

  it('builds query strings without empty values, lists joined by commas', () => {
    expect(buildUrl('/x', { a: 1, b: '', c: undefined, d: null, e: ['r1', 'r2'], 'filter[gender]': 'female' })).toBe('/x?a=1&e=r1%2Cr2&filter%5Bgender%5D=female');
    expect(buildUrl('/x', {})).toBe('/x');
  });

  it('sends the bearer token, If-Match as an ETag and the Idempotency-Key; reads ETag and position', async () => {
    answers = [json(201, { id: 'c1' }, { etag: '"7"', 'x-event-position': '42', 'idempotency-replayed': 'true' })];
    const r = await api('/api/v1/municipalities/2281/cases/c1/transfers', { method: 'POST', body: { toUnit: 'vuxenstod' }, ifMatch: 6, idempotencyKey: 'k1' });
    const h = calls[0]!.init.headers as Record<string, string>;
    expect(h).toMatchObject({ authorization: 'Bearer tok', 'if-match': '"6"', 'idempotency-key': 'k1', 'content-type': 'application/json' });
    expect(r).toMatchObject({ status: 201, etag: '7', position: '42', replayed: true, data: { id: 'c1' } });
  });

  it('reads tenant data at least as fresh as its own last write (minPosition)', async () => {
    answers = [json(200, {}, { 'x-event-position': '42' }), json(200, {}, { 'x-event-position': '9' }), json(200, { items: [] }), json(200, [])];
    await api('/api/v1/municipalities/2281/rounds', { method: 'POST', body: {} });
    await api('/api/v1/municipalities/2281/rounds', { method: 'POST', body: {} }); // an older position does not go back
    await api('/api/v1/municipalities/2281/cases');
    await api('/api/v1/units');
    expect(calls[2]!.url).toBe('/api/v1/municipalities/2281/cases?minPosition=42');
    expect(calls[3]!.url).toBe('/api/v1/units');
  });

  it('turns problem+json into an ApiError, and a 401 signs the user out', async () => {
    answers = [json(412, { type: 't', title: 'Precondition Failed', status: 412, detail: 'version 8' }), json(401, { type: 't', title: 'Unauthorized', status: 401 })];
    const e = await api('/api/v1/municipalities/2281/cases/c1/close', { method: 'POST', body: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(412);
    expect((e as ApiError).problem.detail).toBe('version 8');
    await api('/api/v1/municipalities/2281/cases').catch(() => undefined);
    expect(calls.some((c) => c.url === 'signed-out')).toBe(true);
  });
});
