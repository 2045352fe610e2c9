import type { PoolClient } from 'pg';
import { RetentionScheduler, SCHEDULED_RETENTION_ACTOR } from '../../src/admin/retention/retention.scheduler.js';
import { retentionCutoff } from '../../src/admin/retention/retention.policy.js';
import { stockholmDate } from '../../src/shared/time/calendar.js';
import { makePersonnummer } from '../support/personnummer.js';
import { describeHits, scanForClearText, withoutUuids } from '../support/pii-scan.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { personnummerVariants } from '../support/personnummer.js';

const api = (path: string) => `/api/v1/municipalities/2281${path}`;
const today = stockholmDate();
// Dates relative to today where the rule's boundary matters, so the story stays true in later years.
const yearsAgo = (n: number) => retentionCutoff(today, n);

interface Person {
  pin: string;
  /** [registered, closed or null] per case, in order. */
  cases: [string, string | null][];
  ids: string[];
}

async function registerAll(t: TestApp, token: string, people: Record<string, Person>): Promise<number> {
  let last = 0;
  for (const p of Object.values(people)) {
    for (const [registered, closed] of p.cases) {
      const r = await t.http().post(api('/cases')).set('authorization', `Bearer ${token}`).send({ personalIdentityNumber: p.pin, gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod', effectiveDate: registered });
      expect(r.status).toBe(201);
      p.ids.push(r.body.id);
      last = Math.max(last, Number(r.headers['x-event-position']));
      if (closed) {
        const c = await t.http().post(api(`/cases/${r.body.id}/close`)).set('authorization', `Bearer ${token}`).send({ reason: 'employment', effectiveDate: closed });
        expect(c.status).toBe(200);
        last = Math.max(last, Number(c.headers['x-event-position']));
      }
    }
  }
  return last;
}

/**
 * Retention culling (gallring) over HTTP: people whose every case closed more than five years ago
 * go (erased like an admin's erasure), the research sample (born on the 5th, 15th, 25th) and
 * anyone with an open or recent case stays; the dry run lists exactly what the real run then does.
 */
describe('retention (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let admin: string;
  const people: Record<string, Person> = {
    old: { pin: makePersonnummer('1980-04-01', 11), cases: [['2015-03-01', '2019-06-30']], ids: [] },
    sample15: { pin: makePersonnummer('1980-04-15', 12), cases: [['2015-03-01', '2018-02-28']], ids: [] },
    openAgain: { pin: makePersonnummer('1981-05-02', 13), cases: [['2014-01-01', '2016-01-31'], ['2017-01-01', null]], ids: [] },
    recent: { pin: makePersonnummer('1982-06-03', 14), cases: [[yearsAgo(4), yearsAgo(3)]], ids: [] },
    twoOld: { pin: makePersonnummer('1983-07-04', 15), cases: [['2012-01-01', '2016-06-30'], ['2017-01-01', '2020-12-31']], ids: [] },
    sample25coordination: { pin: makePersonnummer('1984-08-25', 16, { coordination: true }), cases: [['2015-01-01', '2019-01-31']], ids: [] },
    current: { pin: makePersonnummer('1985-09-06', 17), cases: [['2026-01-01', null]], ids: [] },
  };
  let lastPosition = 0;
  const eventCount = async () => Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);
  const status = async (id: string) => (await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`)).status;
  const retention = (body: unknown, token = admin, code = '2281') =>
    t.http().post(`/api/v1/municipalities/${code}/admin/retention`).set('authorization', `Bearer ${token}`).send(body as object);

  beforeAll(async () => {
    t = await startTestApp({ label: 'retention' });
    cw = await t.token('caseworker', ['2281'], 'anna-handlaggare');
    admin = await t.token('admin', ['2281'], 'karin-admin');
    lastPosition = await registerAll(t, cw, people);
  });
  afterAll(() => t.close());

  it('refuses other roles, other municipalities and bad bodies', async () => {
    expect((await retention({ dryRun: true }, cw)).status).toBe(403);
    expect((await retention({ dryRun: true }, admin, '2262')).status).toBe(404);
    for (const body of [{}, { dryRun: 'yes' }, { dryRun: 1 }, { dryRun: true, extra: 1 }]) {
      const r = await retention(body);
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('the dry run lists what would go (case ids and closure dates, no numbers) and changes nothing', async () => {
    const before = await eventCount();
    const r = await retention({ dryRun: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      dryRun: true,
      cutoff: yearsAgo(5),
      retentionYears: 5,
      keepResearchSample: true,
      items: [
        { caseId: people.twoOld!.ids[0], closedOn: '2016-06-30' },
        { caseId: people.old!.ids[0], closedOn: '2019-06-30' },
        { caseId: people.twoOld!.ids[1], closedOn: '2020-12-31' },
      ],
      persons: 2,
      keptForResearch: { persons: 2, cases: 2 },
      remainingPersons: 0,
      position: null,
    });
    // No personnummer (ten or more digits in a row) outside the case ids.
    expect(withoutUuids(JSON.stringify(r.body))).not.toMatch(/\d{10}/);
    expect(await eventCount()).toBe(before);
    expect(await status(people.old!.ids[0]!)).toBe(200);
  });

  it('the real run culls exactly that: erased cases answer 404, everyone else is untouched', async () => {
    const before = await eventCount();
    const r = await retention({ dryRun: false });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dryRun: false, persons: 2, keptForResearch: { persons: 2, cases: 2 }, remainingPersons: 0 });
    expect(r.body.items.map((i: { caseId: string }) => i.caseId).sort()).toEqual([...people.old!.ids, ...people.twoOld!.ids].sort());
    expect(Number(r.headers['x-event-position'])).toBe(r.body.position);
    expect(await eventCount()).toBe(before + 2);
    const { rows } = await t.pool.query(`SELECT data, metadata FROM events WHERE type = 'PersonErased' ORDER BY position`);
    expect(rows.map((e) => [e.data.basis, e.metadata.actor, e.data.caseIds.length]).sort((a, b) => a[2] - b[2])).toEqual([
      ['retention', 'karin-admin', 1],
      ['retention', 'karin-admin', 2],
    ]);
    for (const id of [...people.old!.ids, ...people.twoOld!.ids]) expect(await status(id)).toBe(404);
    for (const key of ['sample15', 'openAgain', 'recent', 'sample25coordination', 'current']) {
      for (const id of people[key]!.ids) expect(await status(id)).toBe(200);
    }
    const hits = await scanForClearText(t.pool, [...personnummerVariants(people.old!.pin), ...personnummerVariants(people.twoOld!.pin)]);
    expect(describeHits(hits)).toBe('');
    const list = await t.http().get(api(`/cases?limit=500&minPosition=${r.body.position}`)).set('authorization', `Bearer ${cw}`);
    expect(list.body.items.map((c: { id: string }) => c.id)).not.toContain(people.old!.ids[0]);
  });

  it('a second dry run finds nothing more; the research sample is still kept', async () => {
    const r = await retention({ dryRun: true });
    expect(r.body).toMatchObject({ items: [], persons: 0, keptForResearch: { persons: 2, cases: 2 } });
  });

  it('the culling is in the audit trail, by whom and why (retention), without numbers', async () => {
    const r = await t.http().get(api(`/admin/access-log?caseId=${people.old!.ids[0]}`)).set('authorization', `Bearer ${admin}`);
    expect(r.body.items.find((e: { purpose: string }) => e.purpose === 'erasure (retention)')).toMatchObject({ userId: 'karin-admin', endpoint: 'POST /api/v1/municipalities/2281/admin/retention' });
  });
});

describe('scheduled retention without the research sample', () => {
  let t: TestApp;
  let cw: string;
  const people: Record<string, Person> = {
    sample5: { pin: makePersonnummer('1970-01-05', 21), cases: [['2010-01-01', '2012-12-31']], ids: [] },
    sample15coordination: { pin: makePersonnummer('1971-02-15', 22, { coordination: true }), cases: [['2010-01-01', '2013-12-31']], ids: [] },
    current: { pin: makePersonnummer('1972-03-01', 23), cases: [['2026-01-01', null]], ids: [] },
  };

  // Holds the case list's runner back (its checkpoint locks this catalog row), so the scheduled
  // run starts while the view has not yet seen the cases, as right after a busy registration.
  let holdCaseList: PoolClient | undefined;

  beforeAll(async () => {
    t = await startTestApp({ label: 'retentionsched', config: { retentionKeepResearchSample: false } });
    cw = await t.token('caseworker', ['2281'], 'anna-handlaggare');
    holdCaseList = await t.pool.connect();
    await holdCaseList.query(`BEGIN; SELECT 1 FROM public.projections WHERE name = 'case_list' AND state = 'live' FOR UPDATE`);
    await registerAll(t, cw, people);
  });
  afterAll(async () => {
    await holdCaseList?.query('ROLLBACK').catch(() => undefined);
    holdCaseList?.release();
    await t.close();
  });

  it('culls everyone due, as system:retention, in every municipality with cases', async () => {
    // Not one municipality is skipped because the case list is behind: the run waits for it.
    const run = t.running.app.get(RetentionScheduler).runOnce();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holdCaseList!.query('ROLLBACK');
    holdCaseList!.release();
    holdCaseList = undefined;
    expect(await run).toBe(true);
    const { rows } = await t.pool.query(`SELECT data, metadata FROM events WHERE type = 'PersonErased' ORDER BY position`);
    expect(rows).toHaveLength(2);
    expect(rows.every((e) => e.metadata.actor === SCHEDULED_RETENTION_ACTOR && e.data.basis === 'retention')).toBe(true);
    for (const key of ['sample5', 'sample15coordination']) {
      expect((await t.http().get(api(`/cases/${people[key]!.ids[0]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(404);
    }
    expect((await t.http().get(api(`/cases/${people.current!.ids[0]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    // Nothing left: a second round writes nothing.
    expect(await t.running.app.get(RetentionScheduler).runOnce()).toBe(true);
    expect(Number((await t.pool.query(`SELECT count(*) FROM events WHERE type = 'PersonErased'`)).rows[0].count)).toBe(2);
  });
});
