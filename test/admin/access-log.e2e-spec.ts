import { stockholmDate } from '../../src/shared/time/calendar.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The admin's view of who read what (API.md "Administration"), itself logged. */
describe('access log search (end to end)', () => {
  let t: TestApp;
  let anna: string;
  let bo: string;
  let admin: string;
  const ids: string[] = [];
  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const search = (query = '', token = admin) => t.http().get(api(`/admin/access-log${query}`)).set('authorization', `Bearer ${token}`);

  beforeAll(async () => {
    t = await startTestApp({ label: 'accesslog' });
    anna = await t.token('caseworker', ['2281'], 'anna');
    bo = await t.token('caseworker', ['2281', '2262'], 'bo');
    admin = await t.token('admin', ['2281'], 'karin-admin');
    for (const pin of manyPersonnummer(2, 77)) {
      const r = await t.http().post(api('/cases')).set('authorization', `Bearer ${anna}`).send({ personalIdentityNumber: pin, gender: 'male', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' });
      ids.push(r.body.id);
    }
    await t.http().get(api(`/cases/${ids[0]}`)).set('authorization', `Bearer ${anna}`).set('x-access-reason', 'Uppföljning 198503122389');
    await t.http().get(api(`/cases/${ids[1]}/history`)).set('authorization', `Bearer ${bo}`);
    // Another municipality's reads are not in 2281's log.
    await t.http().get('/api/v1/municipalities/2262/cases').set('authorization', `Bearer ${bo}`);
  });
  afterAll(() => t.close());

  it('lists reads newest first, the admin\'s own search first: it is logged before it answers', async () => {
    const r = await search();
    expect(r.status).toBe(200);
    expect(r.body.items[0]).toMatchObject({ userId: 'karin-admin', roles: ['admin'], caseId: null, endpoint: 'GET /api/v1/municipalities/2281/admin/access-log' });
    expect(r.body.items.every((e: { municipality: string }) => e.municipality === '2281')).toBe(true);
    const at = r.body.items.map((e: { at: string }) => e.at);
    expect([...at].sort().reverse()).toEqual(at);
    const anna0 = r.body.items.find((e: { userId: string; caseId: string; endpoint: string }) => e.userId === 'anna' && e.caseId === ids[0] && e.endpoint.startsWith('GET'));
    // The reason header is kept, with anything like a personnummer masked.
    expect(anna0.purpose).toBe('Uppföljning [personnummer]');
  });

  it('filters by user and by case', async () => {
    const byUser = await search('?userId=bo');
    expect(byUser.body.items.length).toBeGreaterThan(0);
    expect(byUser.body.items.every((e: { userId: string }) => e.userId === 'bo')).toBe(true);
    const byCase = await search(`?caseId=${ids[1]!.toUpperCase()}`);
    expect(byCase.body.items.length).toBeGreaterThan(0);
    expect(byCase.body.items.every((e: { caseId: string }) => e.caseId === ids[1])).toBe(true);
  });

  it('filters by time: dates are whole Stockholm days, timestamps exact', async () => {
    const today = stockholmDate();
    expect((await search(`?from=${today}&to=${today}`)).body.items.length).toBeGreaterThan(0);
    expect((await search(`?from=2000-01-01&to=2000-12-31`)).body.items).toEqual([]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await search(`?from=${encodeURIComponent(future)}`)).body.items).toEqual([]);
    const past = new Date(Date.now() - 3600_000).toISOString();
    expect((await search(`?to=${encodeURIComponent(past)}`)).body.items).toEqual([]);
  });

  it('pages with limit and cursor without gaps or repeats', async () => {
    const all = (await search('?limit=500&userId=anna')).body.items.map((e: { id: string }) => e.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await search(`?limit=2&userId=anna${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it.each([
    ['?from=2026-02-30', 'from'],
    ['?to=2026-13-01', 'to'],
    ['?from=2026-01-01T25:00:00Z', 'from'],
    ['?from=yesterday', 'from'],
    ['?from=2026-02-01&to=2026-01-01', 'from'],
    ['?limit=0', 'limit'],
    ['?limit=501', 'limit'],
    ['?limit=-1', 'limit'],
    ['?caseId=42', 'caseId'],
    ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['?sort=asc', 'sort'],
  ])('%s → 400 naming %s', async (query, path) => {
    const r = await search(query);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('is for admins of the municipality only', async () => {
    expect((await search('', anna)).status).toBe(403);
    expect((await t.http().get('/api/v1/municipalities/2262/admin/access-log').set('authorization', `Bearer ${admin}`)).status).toBe(404);
    expect((await t.http().get(api('/admin/access-log'))).status).toBe(401);
  });
});
