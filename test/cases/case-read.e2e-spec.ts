import type pg from 'pg';
import { PG_POOL } from '../../src/shared/database/database.tokens.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Reading one case, over real HTTP on real PostgreSQL: the events, the access-log row and the
 * person's key travel as one message (the log row and the key found by case id through the
 * inline view case_persons), so a read costs one round trip, and the log row and the read stand
 * or fall together.
 */
describe('GET /cases/{id} and /history: one round trip, logged in the same transaction', () => {
  let t: TestApp;
  let cw: string;
  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const [pinA, pinB] = manyPersonnummer(2, 4711);
  let caseA: string;
  let pseudonymA: string;

  const register = async (pin: string) =>
    t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({
      personalIdentityNumber: pin,
      gender: 'female',
      bornAbroad: 'no',
      childrenInHousehold: 1,
      unit: UNIT_CODES[0],
      effectiveDate: '2026-01-15',
    });
  const formatted = (pin: string) => `${pin.slice(0, 8)}-${pin.slice(8)}`;
  const logRows = async (caseId: string) =>
    (await t.pool.query<{ user_id: string; case_id: string; pseudonym: string; endpoint: string }>(
      'SELECT user_id, case_id, pseudonym, endpoint FROM access_log WHERE case_id = $1 AND endpoint LIKE $2 ORDER BY id',
      [caseId, 'GET %'],
    )).rows;

  /** How many times the service takes a connection from its pool while `fn` runs. */
  const checkouts = async (fn: () => Promise<unknown>) => {
    const pool = t.running.app.get<pg.Pool>(PG_POOL);
    let n = 0;
    const count = () => n++;
    pool.on('acquire', count);
    try {
      await fn();
    } finally {
      pool.off('acquire', count);
    }
    return n;
  };
  /**
   * The fewest checkouts of up to five tries of `fn`: the async views' runners share the pool (a
   * batch or a lease renewal may take a connection while a request runs), so one try can count
   * theirs too; a read that itself took two connections would take two every time.
   */
  const fewestCheckouts = async (fn: () => Promise<unknown>) => {
    let fewest = Number.POSITIVE_INFINITY;
    let tries = 0;
    while (tries < 5 && fewest > 1) {
      tries++;
      fewest = Math.min(fewest, await checkouts(fn));
    }
    return { fewest, tries };
  };
  /** This municipality's caseworker's reads of case A so far, as the log should name them. */
  const readsOfA: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ label: 'case_read' });
    cw = await t.token('caseworker', ['2281'], 'cw-reader');
    const a = await register(pinA!);
    expect(a.status).toBe(201);
    caseA = a.body.id;
    pseudonymA = (await t.pool.query<{ pseudonym: string }>(`SELECT data->>'pseudonym' AS pseudonym FROM events WHERE stream_id = $1 AND version = 1`, [`case-2281-${caseA}`])).rows[0]!.pseudonym;
  });
  afterAll(() => t?.close());

  it('answers the case with its personnummer and writes one access-log row naming the reader, the case and the person', async () => {
    let read: { status: number; body: { id: string; personalIdentityNumber: string } } | undefined;
    // One connection, one message: the events, the log row and the key together.
    const reads = await fewestCheckouts(async () => (read = await t.http().get(api(`/cases/${caseA}`)).set('authorization', `Bearer ${cw}`)));
    readsOfA.push(...Array<string>(reads.tries).fill(''));
    expect(reads.fewest).toBe(1);
    expect(read!.status).toBe(200);
    expect(read!.body.id).toBe(caseA);
    expect(read!.body.personalIdentityNumber).toBe(formatted(pinA!));
    // One row per read, each naming the reader, the case and the person.
    expect(await logRows(caseA)).toEqual(readsOfA.map(() => ({ user_id: 'cw-reader', case_id: caseA, pseudonym: pseudonymA, endpoint: `GET /api/v1/municipalities/2281/cases/${caseA}` })));

    let history: { status: number; body: { items: { type: string }[] } } | undefined;
    const histories = await fewestCheckouts(async () => (history = await t.http().get(api(`/cases/${caseA}/history`)).set('authorization', `Bearer ${cw}`)));
    readsOfA.push(...Array<string>(histories.tries).fill('/history'));
    expect(histories.fewest).toBe(1);
    expect(history!.status).toBe(200);
    expect(history!.body.items.map((i) => i.type)).toEqual(['CaseRegistered']);
    expect(await logRows(caseA)).toHaveLength(readsOfA.length);
  });

  it('a failed log write fails the read: 500, no personnummer, nothing logged', async () => {
    const before = await logRows(caseA);
    await t.pool.query('ALTER TABLE access_log RENAME TO access_log_away');
    try {
      for (const path of [`/cases/${caseA}`, `/cases/${caseA}/history`]) {
        const read = await t.http().get(api(path)).set('authorization', `Bearer ${cw}`);
        expect(read.status).toBe(500);
        expect(JSON.stringify(read.body)).not.toContain(pinA!.slice(2));
      }
    } finally {
      await t.pool.query('ALTER TABLE access_log_away RENAME TO access_log');
    }
    expect(await logRows(caseA)).toEqual(before);
    // The pool's connections are fine afterwards.
    expect((await t.http().get(api(`/cases/${caseA}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    readsOfA.push('');
  });

  it('when case_persons does not name the person (a build switched a moment ago), the read still answers and logs once, after the events', async () => {
    const b = await register(pinB!);
    expect(b.status).toBe(201);
    const schema = (await t.pool.query<{ schema_name: string }>(`SELECT schema_name FROM projections WHERE name = 'open_cases' AND state = 'live'`)).rows[0]!.schema_name;
    const { rows: [row] } = await t.pool.query(`DELETE FROM "${schema}".case_persons WHERE case_id = $1 RETURNING case_id, municipality, pseudonym`, [b.body.id]);
    try {
      const read = await t.http().get(api(`/cases/${b.body.id}`)).set('authorization', `Bearer ${cw}`);
      expect(read.status).toBe(200);
      expect(read.body.personalIdentityNumber).toBe(formatted(pinB!));
      expect(await logRows(b.body.id)).toHaveLength(1);
    } finally {
      await t.pool.query(`INSERT INTO "${schema}".case_persons (case_id, municipality, pseudonym) VALUES ($1, $2, $3)`, [row.case_id, row.municipality, row.pseudonym]);
    }
  });

  it('404 for a case id the municipality does not have, a malformed id, or a knownAt before the case was registered', async () => {
    for (const path of ['/cases/00000000-0000-4000-8000-000000000000', '/cases/not-a-uuid', '/cases/----------------------------------------', `/cases/${caseA}?knownAt=2020-01-01T00:00:00Z`]) {
      const read = await t.http().get(api(path)).set('authorization', `Bearer ${cw}`);
      expect([path, read.status, read.headers['content-type']]).toEqual([path, 404, expect.stringContaining('application/problem+json')]);
    }
    // Another municipality's caseworker does not see it either, by its own municipality or by this one.
    const other = await t.token('caseworker', ['0180'], 'cw-other');
    expect((await t.http().get(`/api/v1/municipalities/0180/cases/${caseA}`).set('authorization', `Bearer ${other}`)).status).toBe(404);
    expect((await t.http().get(api(`/cases/${caseA}`)).set('authorization', `Bearer ${other}`)).status).toBe(404);
    // Reads by this municipality's caseworker so far: those of the first test, the one after the
    // failed log, and the knownAt read: a case that existed by then not, but was asked for by id,
    // is logged (the log row travels with the read); the other municipality's reads are not.
    expect((await logRows(caseA)).map((r) => [r.user_id, r.endpoint.replace(/^.*\/cases\/[^/?]+/, '')])).toEqual(
      [...readsOfA, '?knownAt=2020-01-01T00:00:00Z'].map((endpoint) => ['cw-reader', endpoint]),
    );
  });
});
