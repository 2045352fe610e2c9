import type { Role } from '../../src/shared/auth/principal.js';
import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every endpoint × every role × own/other municipality, against API.md's roles table:
 * - no token → 401 (public endpoints: 2xx);
 * - a municipality the token does not hold → 404, whatever the role (no existence leak);
 * - a role the table does not allow, in the token's own municipality → 403;
 * - an allowed role → not 401/403 and not the municipality 404: 2xx for reads, and for writes
 *   2xx or the 4xx the request itself earns (e.g. 409 for a second round with the same label);
 * - nothing refused writes an event.
 * The table must name every operation in the OpenAPI document: a new endpoint fails this suite
 * until its row is added here.
 */
type Access = 'public' | 'authenticated' | readonly Role[];
const ALL: readonly Role[] = ['caseworker', 'process_owner', 'evaluator', 'admin'];
const CW: readonly Role[] = ['caseworker'];
const PO_ADMIN: readonly Role[] = ['process_owner', 'admin'];
const EVALUATOR: readonly Role[] = ['evaluator'];
const ADMIN: readonly Role[] = ['admin'];
const TOKEN_ROLES: (Role | 'none')[] = [...ALL, 'none'];

interface Fixture {
  caseId: string;
  interventionId: string;
  closedRound: string;
  openRound: string;
}

interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** As in the OpenAPI document. */
  path: string;
  access: Access;
  /** The request's own query string and body (valid, so that an allowed role gets through). */
  query?: (f: Fixture, code: string) => string;
  body?: (f: Fixture) => object | string;
  contentType?: string;
}

const MATRIX: Endpoint[] = [
  // Operations and reference data
  { method: 'GET', path: '/health', access: 'public' },
  { method: 'GET', path: '/health/ready', access: 'public' },
  { method: 'GET', path: '/api/v1/units', access: 'public' },
  { method: 'GET', path: '/api/v1/auth/client-config', access: 'public' },
  { method: 'GET', path: '/api/v1/dev/demo-users', access: 'public' },
  { method: 'GET', path: '/api/v1/admin/projections', access: ADMIN },
  { method: 'POST', path: '/api/v1/admin/projections/{name}/rebuild', access: ADMIN },
  // Questionnaires
  { method: 'GET', path: '/api/v1/municipalities/{code}/questionnaires/current', access: ALL },
  { method: 'GET', path: '/api/v1/municipalities/{code}/questionnaires/{version}', access: ALL },
  {
    method: 'POST',
    path: '/api/v1/municipalities/{code}/questionnaires',
    access: PO_ADMIN,
    body: () => ({ questions: QUESTIONNAIRE_V1.questions }),
  },
  // Rounds
  { method: 'POST', path: '/api/v1/municipalities/{code}/rounds', access: PO_ADMIN, body: () => ({ label: 'matrix', referenceDate: '2026-09-30', questionnaireVersion: 1 }) },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds', access: ALL },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds/{id}', access: ALL },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds/compare', access: ALL, query: (f) => `from=${f.closedRound}&to=${f.openRound}` },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds/{id}/snapshot', access: ['caseworker', 'evaluator'] },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds/{id}/statistics', access: ALL, query: () => 'by=gender' },
  { method: 'GET', path: '/api/v1/municipalities/{code}/rounds/{id}/crosstab', access: ALL, query: () => 'rows=gender&columns=unit' },
  // Cases (caseworkers only); commands in an order that lets each one through
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases', access: CW, body: () => ({ personalIdentityNumber: manyPersonnummer(1, 31337)[0], gender: 'male', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' }) },
  { method: 'GET', path: '/api/v1/municipalities/{code}/cases', access: CW },
  { method: 'GET', path: '/api/v1/municipalities/{code}/cases/{id}', access: CW },
  { method: 'GET', path: '/api/v1/municipalities/{code}/cases/{id}/history', access: CW },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/assessments', access: CW, body: (f) => ({ roundId: f.openRound, answers: allUnknown(QUESTIONNAIRE_V1) }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/assessments/{roundId}/corrections', access: CW, body: () => ({ answers: { education: 'none' }, reason: 'matris' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/prioritisations', access: CW, body: () => ({ priority: 'low' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/transfers', access: CW, body: () => ({ toUnit: 'arbete-och-integration' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/interventions', access: CW, body: () => ({ type: 'language_coach', provider: 'municipality', startDate: '2026-02-01' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/interventions/{interventionId}/end', access: CW, body: () => ({ endDate: '2026-03-01', outcome: 'completed' }) },
  { method: 'PUT', path: '/api/v1/municipalities/{code}/cases/{id}/benefit-months/{month}', access: CW },
  { method: 'DELETE', path: '/api/v1/municipalities/{code}/cases/{id}/benefit-months/{month}', access: CW },
  { method: 'POST', path: '/api/v1/municipalities/{code}/benefit-months/import', access: CW, contentType: 'text/csv', body: () => `personalIdentityNumber,month\n${manyPersonnummer(1, 31337)[0]},2026-04\n` },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/close', access: CW, body: () => ({ reason: 'employment' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/cases/{id}/reopen', access: CW, body: () => ({ unit: 'vuxenstod' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/rounds/{id}/close', access: PO_ADMIN },
  // Aggregates
  { method: 'GET', path: '/api/v1/municipalities/{code}/flows', access: ALL, query: (f) => `fromRound=${f.closedRound}&toRound=${f.openRound}` },
  { method: 'GET', path: '/api/v1/municipalities/{code}/flows/by-priority', access: ALL, query: (f) => `fromRound=${f.closedRound}&toRound=${f.openRound}` },
  { method: 'GET', path: '/api/v1/municipalities/{code}/flows/journeys', access: ALL, query: (f) => `rounds=${f.closedRound},${f.openRound}` },
  { method: 'GET', path: '/api/v1/municipalities/{code}/reports/benefit-duration', access: ALL, query: () => 'year=2026' },
  { method: 'GET', path: '/api/v1/municipalities/{code}/reports/assessment-consistency', access: ALL, query: (f) => `roundId=${f.closedRound}` },
  { method: 'GET', path: '/api/v1/municipalities/{code}/reports/support-by-gender', access: ALL, query: (f) => `roundId=${f.closedRound}` },
  // Evaluator exports (the municipality is in the query)
  { method: 'GET', path: '/api/v1/exports/panel', access: EVALUATOR, query: (_f, code) => `municipalities=${code}&format=ndjson` },
  { method: 'GET', path: '/api/v1/exports/events', access: EVALUATOR, query: (_f, code) => `municipalities=${code}` },
  // The codebook describes columns, no data: any signed-in user.
  { method: 'GET', path: '/api/v1/exports/codebook', access: 'authenticated', query: (_f, code) => `municipalities=${code}` },
  // Administration
  { method: 'POST', path: '/api/v1/municipalities/{code}/admin/erasures', access: ADMIN, body: () => ({ personalIdentityNumber: manyPersonnummer(1, 4711)[0], reason: 'matris' }) },
  { method: 'POST', path: '/api/v1/municipalities/{code}/admin/retention', access: ADMIN, body: () => ({ dryRun: true }) },
  { method: 'GET', path: '/api/v1/municipalities/{code}/admin/access-log', access: ADMIN },
];

const OWN = '2281';
const OTHER = '2262';

describe('authorization matrix (every endpoint × role × municipality)', () => {
  let t: TestApp;
  const f = {} as Fixture;
  const tokens = new Map<string, string>();
  const eventCount = async () => Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);

  beforeAll(async () => {
    t = await startTestApp({ label: 'authzmatrix' });
    for (const role of TOKEN_ROLES) tokens.set(role, await t.token(role === 'none' ? [] : [role], [OWN], `matrix-${role}`));
    const po = tokens.get('process_owner')!;
    const cw = tokens.get('caseworker')!;
    const api = (p: string) => `/api/v1/municipalities/${OWN}${p}`;
    f.closedRound = (await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: 'A', referenceDate: '2026-03-31', questionnaireVersion: 1 })).body.id;
    const c = await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: manyPersonnummer(1, 99)[0], gender: 'female', bornAbroad: 'no', childrenInHousehold: 1, unit: 'vuxenstod', effectiveDate: '2026-01-10' });
    f.caseId = c.body.id;
    await t.http().post(api(`/cases/${f.caseId}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: f.closedRound, answers: allUnknown(QUESTIONNAIRE_V1) });
    f.interventionId = (await t.http().post(api(`/cases/${f.caseId}/interventions`)).set('authorization', `Bearer ${cw}`).send({ type: 'rehabilitation', provider: 'municipality', startDate: '2026-01-15' })).body.interventionId;
    await t.http().post(api(`/rounds/${f.closedRound}/close`)).set('authorization', `Bearer ${po}`);
    const open = await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: 'B', referenceDate: '2026-10-31', questionnaireVersion: 1 });
    f.openRound = open.body.id;
    // Let the async read models catch up with the set-up, so reads do not wait.
    await t.http().get(api(`/rounds/${f.closedRound}/statistics?minPosition=${open.headers['x-event-position']}`)).set('authorization', `Bearer ${po}`);
    expect([f.caseId, f.interventionId, f.closedRound, f.openRound].every(Boolean)).toBe(true);
  });
  afterAll(() => t.close());

  it('names every operation of the OpenAPI document', async () => {
    const doc = (await t.http().get('/api/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const covered = new Set(MATRIX.map((e) => `${e.method} ${e.path}`));
    expect(documented.filter((op) => !covered.has(op))).toEqual([]);
    expect([...covered].filter((op) => !documented.includes(op))).toEqual([]);
  });

  const url = (e: Endpoint, code: string) => {
    const path = e.path
      .replace('{code}', code)
      .replace('{name}', 'case_list')
      .replace('{version}', '1')
      .replace('{month}', '2026-05')
      .replace('{interventionId}', f.interventionId)
      .replace('{roundId}', f.closedRound)
      .replace('{id}', e.path.includes('/rounds/') ? (e.path.endsWith('/close') ? f.openRound : f.closedRound) : f.caseId);
    const q = e.query?.(f, code);
    return q ? `${path}?${q}` : path;
  };

  const send = (e: Endpoint, code: string, token?: string) => {
    const target = url(e, code);
    let r = e.method === 'GET' ? t.http().get(target) : e.method === 'POST' ? t.http().post(target) : e.method === 'PUT' ? t.http().put(target) : t.http().delete(target);
    if (token) r = r.set('authorization', `Bearer ${token}`);
    const body = e.body?.(f);
    if (body === undefined) return r;
    if (e.contentType) r = r.set('content-type', e.contentType);
    return r.send(body as object);
  };

  const allowed = (e: Endpoint, role: Role | 'none') => e.access === 'public' || e.access === 'authenticated' || (role !== 'none' && e.access.includes(role));

  it.each(MATRIX.map((e) => ({ name: `${e.method} ${e.path}`, e })))('$name', async ({ e }) => {
    const seen: string[] = [];
    const expectStatus = (what: string, status: number, ok: (s: number) => boolean, body: { detail?: string }) => {
      if (!ok(status)) seen.push(`${what}: ${status} ${body?.detail ?? ''}`);
    };
    const isMunicipality = e.path.includes('{code}') || e.path.startsWith('/api/v1/exports/') && e.path !== '/api/v1/exports/codebook';

    // Refused requests first: none of them may write anything.
    const before = await eventCount();
    const anonymous = await send(e, OWN);
    expectStatus('no token', anonymous.status, (s) => (e.access === 'public' ? s >= 200 && s < 300 : s === 401), anonymous.body);
    for (const role of TOKEN_ROLES) {
      const token = tokens.get(role)!;
      if (isMunicipality) {
        const other = await send(e, OTHER, token);
        expectStatus(`${role} in ${OTHER}`, other.status, (s) => s === 404, other.body);
      }
      if (!allowed(e, role)) {
        const own = await send(e, OWN, token);
        expectStatus(`${role} in ${OWN}`, own.status, (s) => s === 403, own.body);
      }
    }
    if (e.access !== 'public') expect(await eventCount()).toBe(before);

    // Then every allowed role in its own municipality.
    for (const role of TOKEN_ROLES.filter((r) => allowed(e, r))) {
      const own = await send(e, OWN, tokens.get(role));
      const municipalityNotFound = own.status === 404 && /Municipality \d{4} not found/.test(own.body?.detail ?? '');
      expectStatus(`${role} in ${OWN}`, own.status, (s) => s < 500 && s !== 401 && s !== 403 && !municipalityNotFound && (e.method !== 'GET' || (s >= 200 && s < 300)), own.body);
    }
    expect(seen).toEqual([]);
  });
});
