import { onStarted } from '../../src/startup.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * `npm start`'s demo, end to end: onStarted seeds municipality 2281 through the real command
 * handlers, and what it wrote reads back over HTTP as two closed rounds and one open round with
 * about 270 open cases. A second start leaves the data alone.
 */
describe('demo seeding on start (end to end)', () => {
  let t: TestApp;
  const lines: string[] = [];
  let head = 0;
  const api = (path: string) => `/api/v1/municipalities/2281${path}`;

  beforeAll(async () => {
    t = await startTestApp({ label: 'demo' });
    const started = performance.now();
    await onStarted(t.running, { ...t.config, demo: true }, t.url, (l) => lines.push(l));
    console.log(`demo seeding took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    head = Number((await t.pool.query('SELECT max(position) AS p FROM events')).rows[0].p);
  }, 300_000);
  afterAll(() => t?.close());

  it('reports what it seeded and prints three example requests', () => {
    expect(lines.join('\n')).toMatch(/Demo: \d+ cases, rounds \d{4}-H\d \(closed\), \d{4}-H\d \(closed\), \d{4}-H\d \(open\)/);
    const curls = lines.filter((l) => l.trim().startsWith('curl '));
    expect(curls).toHaveLength(3);
    expect(curls[0]).toMatch(/\/flows\?fromRound=[0-9a-f-]{36}&toRound=[0-9a-f-]{36}'$/);
    expect(curls[1]).toMatch(/\/rounds\/[0-9a-f-]{36}\/statistics\?by=unit'$/);
    expect(curls[2]).toMatch(/\/cases\/[0-9a-f-]{36}'$/);
  });

  it('the three example requests answer with data', async () => {
    const tokens: Record<string, string> = { CASEWORKER: await t.token('caseworker'), PROCESS_OWNER: await t.token('process_owner') };
    for (const line of lines.filter((l) => l.trim().startsWith('curl '))) {
      const [, role, url] = /\$(\w+)" '([^']+)'$/.exec(line)!;
      const r = await fetch(`${url}${url!.includes('?') ? '&' : '?'}minPosition=${head}`, { headers: { authorization: `Bearer ${tokens[role!]}` } });
      expect({ url, status: r.status }).toEqual({ url, status: 200 });
      const body = (await r.json()) as Record<string, unknown>;
      expect(Object.keys(body).length).toBeGreaterThan(3);
    }
  });

  it('has two closed rounds and one open round, half assessed', async () => {
    const po = await t.token('process_owner');
    const r = await t.http().get(api(`/rounds?minPosition=${head}`)).set('authorization', `Bearer ${po}`);
    expect(r.status).toBe(200);
    const rounds = [...r.body.items].sort((a: { referenceDate: string }, b: { referenceDate: string }) => a.referenceDate.localeCompare(b.referenceDate));
    expect(rounds.map((x: { status: string }) => x.status)).toEqual(['closed', 'closed', 'open']);
    for (const round of rounds) {
      expect(round.progress.activeCases).toBeGreaterThan(220);
      expect(round.progress.activeCases).toBeLessThan(330);
    }
    // The first round was the registration day: everyone assessed. The open one is under way.
    expect(rounds[0].progress.remaining).toBe(0);
    expect(rounds[2].progress.assessed).toBeGreaterThan(0);
    expect(rounds[2].progress.remaining).toBeGreaterThan(0);
  });

  it('lists about 270 open cases, and a case reads back with its history', async () => {
    const cw = await t.token('caseworker');
    const open = await t.http().get(api(`/cases?status=open&limit=500&minPosition=${head}`)).set('authorization', `Bearer ${cw}`);
    expect(open.status).toBe(200);
    expect(open.body.items.length).toBeGreaterThan(220);
    expect(open.body.items.length).toBeLessThan(330);
    const caseId = /\/cases\/([0-9a-f-]{36})'$/.exec(lines.find((l) => l.includes('/cases/'))!)![1];
    const c = await t.http().get(api(`/cases/${caseId}?minPosition=${head}`)).set('authorization', `Bearer ${cw}`);
    expect(c.status).toBe(200);
    expect(c.body.personalIdentityNumber).toMatch(/^\d{8}-?\d{4}$/);
    expect(c.body.benefitMonths.length).toBeGreaterThan(0);
    expect(Object.keys(c.body.assessments).length).toBeGreaterThan(0);
  });

  it('a second start leaves existing data alone', async () => {
    const before = Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);
    const again: string[] = [];
    await onStarted(t.running, { ...t.config, demo: true }, t.url, (l) => again.push(l));
    expect(again.join('\n')).toMatch(/already has data/);
    expect(Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count)).toBe(before);
  });

  it('loads nothing under NODE_ENV=production', async () => {
    const t2 = await startTestApp({ label: 'demoprod' });
    try {
      const said: string[] = [];
      await onStarted(t2.running, { ...t2.config, demo: true, nodeEnv: 'production' }, t2.url, (l) => said.push(l));
      expect(said.join('\n')).toMatch(/not loaded under NODE_ENV=production/);
      expect(Number((await t2.pool.query('SELECT count(*) FROM events')).rows[0].count)).toBe(0);
    } finally {
      await t2.close();
    }
    // A second app starts while the first one's projections still digest the demo's 17k events.
  }, 180_000);

  it('does nothing with DEMO=false', async () => {
    const none: string[] = [];
    await onStarted(t.running, { ...t.config, demo: false }, t.url, (l) => none.push(l));
    expect(none).toEqual([]);
  });
});
