import fc from 'fast-check';
import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { isCalendarDate } from '../../src/shared/time/calendar.js';
import { parsePersonalIdentityNumber } from '../../src/shared/privacy/personal-identity-number.js';
import { BORN_ABROAD, CLOSURE_REASONS, GENDERS, INTERVENTION_OUTCOMES, INTERVENTION_PROVIDERS, INTERVENTION_TYPES, PRIORITIES } from '../../src/cases/case.events.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The bad-input suite: for every endpoint of API.md that takes input, generated malformed
 * requests — wrong types, huge strings, unicode edge cases, SQL/JSON injection, negative and
 * overflowing numbers, impossible dates, missing and extra fields, wrong content types, malformed
 * JSON, garbage path and query parameters — each must answer 4xx application/problem+json,
 * never 5xx, and leave the event log exactly as long as it was.
 *
 * Each request starts from a valid one and breaks it in exactly one way that makes it invalid
 * (a text field accepts any string, so it only gets wrong types, overlong or NUL-carrying text;
 * an optional field may be null). fast-check prints the seed and the shrunk request on failure.
 */

// ------------------------------------------------------------------------------------------------
// Bad values

const INJECTION = [
  "'; DROP TABLE events; --",
  "' OR '1'='1",
  '" OR 1=1 --',
  '1; SELECT pg_sleep(5)',
  '$1',
  '{"$gt": ""}',
  '{"__proto__": {"admin": true}}',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
];
const UNICODE = [
  '',
  ' ',
  '\u0000',
  'A\u0000B',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  'e\u0301',
  '🙂'.repeat(40),
  'ＡＢＣ',
  '１９８５０３１２２３８９',
  '١٩٨٥٠٣١٢٢٣٨٩',
  '\n\r\t',
  '\uFEFF2026-01-01',
  'İ',
];
const BAD_DATES = ['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '0000-01-01', '26-01-01', '2026-1-1', '2026/01/01', '20260101', '2026-01-01T00:00:00Z', '+02026-01-01', '2026-01-01 ', 'today'];
const BAD_NUMBERS = [-1, -2147483649, 2147483648, 9007199254740993, 1e21, 1e308, -1e308, 0.5, 1.000001, 31, 10_001];

const edgeString = fc.oneof(fc.constantFrom(...INJECTION), fc.constantFrom(...UNICODE), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ minLength: 5_000, maxLength: 20_000 }));
/** Any JSON that is not a string (null only where the field is required: IsOptional lets null through). */
const nonString = (required: boolean) =>
  fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    ...(required ? [fc.constant(null)] : []),
  );

type Kind =
  | { t: 'enum'; values: readonly string[] }
  /** `past`: an effective date, which may not be in the future. */
  | { t: 'date'; past?: boolean }
  | { t: 'text'; max: number; min?: number; blankIsBad?: boolean }
  | { t: 'pin' }
  | { t: 'ref' }
  | { t: 'int'; min: number; max: number }
  | { t: 'children' }
  | { t: 'bool' }
  | { t: 'answers' }
  | { t: 'questions' };

interface Field {
  name: string;
  kind: Kind;
  optional?: boolean;
}

/** Values that are invalid for a field of this kind (never a valid one). */
function badValue(kind: Kind, required: boolean): fc.Arbitrary<unknown> {
  switch (kind.t) {
    case 'enum':
      return fc.oneof(nonString(required), edgeString.filter((s) => !kind.values.includes(s)), fc.constantFrom(...kind.values.map((v) => v.toUpperCase()), ...kind.values.map((v) => ` ${v}`)));
    case 'date':
      return fc.oneof(nonString(required), fc.constantFrom(...BAD_DATES), edgeString.filter((s) => !isCalendarDate(s)), ...(kind.past ? [fc.constant('2099-01-01')] : []));
    case 'pin':
      return fc.oneof(
        nonString(required),
        edgeString.filter((s) => !parsePersonalIdentityNumber(s).ok),
        fc.constantFrom('198503122380', '8503122389', '850312-2389', '19850332-2389', '18000101-0000', '198503122389 OR 1=1', '19850312 2389', '２０２６０１０１２３４５'),
        fc.stringMatching(/^\d{12}$/).filter((s) => !parsePersonalIdentityNumber(s).ok),
      );
    case 'ref':
      return fc.oneof(nonString(required), edgeString.filter((s) => s.length <= 100), fc.uuid());
    case 'text':
      return fc.oneof(
        nonString(required),
        fc.string({ minLength: kind.max + 1, maxLength: kind.max + 50 }),
        fc.constantFrom('\u0000', 'ok\u0000', `x${'\u0000'.repeat(3)}`),
        ...(kind.min ? [fc.constant('')] : []),
        ...(kind.blankIsBad ? [fc.constantFrom(' ', '\n\t ')] : []),
      );
    case 'int':
      return fc.oneof(fc.constantFrom(...BAD_NUMBERS.filter((n) => !(Number.isInteger(n) && n >= kind.min && n <= kind.max)), kind.min - 1, kind.max + 1), fc.constantFrom('1', '', 'one', '1e3'), fc.boolean(), ...(required ? [fc.constant(null)] : []));
    case 'children':
      return fc.oneof(fc.constantFrom(...BAD_NUMBERS), fc.constantFrom('2', 'Unknown', 'unknown ', '', 'many', "' OR 1=1"), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
    case 'bool':
      return fc.oneof(fc.constantFrom('true', 'false', 1, 0, '', 'yes', null), fc.integer(), fc.array(fc.boolean(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.boolean(), { maxKeys: 2 }));
    case 'answers':
      return fc.oneof(
        nonString(required).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
        fc.constant({}),
        fc.constantFrom<Record<string, unknown>>(
          { ...allUnknown(QUESTIONNAIRE_V1), education: 'phd' },
          { ...allUnknown(QUESTIONNAIRE_V1), workObstacles: ['unknown', 'language'] },
          { ...allUnknown(QUESTIONNAIRE_V1), workObstacles: 'language' },
          { ...allUnknown(QUESTIONNAIRE_V1), education: ['none'] },
          { ...allUnknown(QUESTIONNAIRE_V1), favouriteColour: 'blue' },
          { ...allUnknown(QUESTIONNAIRE_V1), mentalHealth: null },
          { ...allUnknown(QUESTIONNAIRE_V1), currentActivity: ['studies', 'studies', 'none'] },
        ),
        fc.dictionary(edgeString, fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 3 }),
      );
    case 'questions':
      return fc.oneof(
        nonString(true).filter((v) => !Array.isArray(v)),
        fc.constant([]),
        fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 3 }).filter((a) => a.some((q) => q === null || typeof q !== 'object' || Array.isArray(q))),
        fc.constantFrom(
          [{ key: 'housing', label: 'Boende', type: 'single', options: [{ code: 'own', label: 'Eget' }] }],
          [{ key: 'Bad Key!', label: 'x', type: 'single', options: [{ code: 'unknown', label: 'Vet ej' }] }],
          [{ key: 'housing', label: 'x', type: 'ranking', options: [{ code: 'unknown', label: 'Vet ej' }] }],
          Array.from({ length: 201 }, (_, i) => ({ key: `q${i}`, label: 'x', type: 'single', options: [{ code: 'unknown', label: 'Vet ej' }] })),
        ),
      );
  }
}

// ------------------------------------------------------------------------------------------------
// Malformed requests

interface Sent {
  contentType?: string;
  /** A JSON value, or raw text when `raw` is set. */
  body?: unknown;
  raw?: string;
  /** Overrides of the path (e.g. a garbage id) and extra query. */
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  what: string;
}

const MALFORMED_JSON = [
  '{',
  '{"a":',
  '{"a": 1,}',
  "{'a': 1}",
  '{"a": NaN}',
  '{"a": undefined}',
  '[1, 2',
  '{"a": 01}',
  '{"a": "\\x41"}',
  '{"a": "unterminated}',
  '\u0000',
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {}}}',
  `${'['.repeat(100)}${']'.repeat(100)}`,
  `{"a": ${'{"b": '.repeat(40)}1${'}'.repeat(40)}}`,
  '{"a": 1} {"b": 2}',
];

/** One way of breaking a valid JSON body. */
function brokenBody(fields: Field[], valid: Record<string, unknown>): fc.Arbitrary<Sent> {
  const names = fields.map((f) => f.name);
  const setField = fc.constantFrom(...fields).chain((f) =>
    badValue(f.kind, !f.optional).map((v) => ({ body: { ...valid, [f.name]: v }, what: `${f.name} = ${JSON.stringify(v)?.slice(0, 80)}` })),
  );
  const required = fields.filter((f) => !f.optional);
  const removeField = required.length === 0 ? [] : [fc.constantFrom(...required).map((f) => ({ body: Object.fromEntries(Object.entries(valid).filter(([k]) => k !== f.name)), what: `without ${f.name}` }))];
  const extraField = fc
    .tuple(fc.oneof(fc.constantFrom('id', 'admin', 'isAdmin', 'municipality', 'actor', 'version', 'pseudonym', '$where', 'caseId ', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'constructor', '__proto__'), fc.string({ minLength: 1, maxLength: 12 })), fc.jsonValue({ maxDepth: 2 }))
    .filter(([k]) => !names.includes(k))
    .map(([k, v]) => ({ body: { ...valid, [k]: v }, what: `extra field ${JSON.stringify(k)}` }));
  const notAnObject = fc.oneof(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), fc.string(), fc.integer(), fc.boolean()).map((v) => ({ body: v, what: `body ${JSON.stringify(v).slice(0, 60)}` }));
  const malformed = fc.constantFrom(...MALFORMED_JSON).map((raw) => ({ raw, contentType: 'application/json', what: `malformed JSON ${raw.slice(0, 40)}` }));
  const wrongType = fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+jsonx', 'image/png').map((contentType) => ({
    raw: contentType.includes('urlencoded') ? 'a=1&b=2' : JSON.stringify(valid),
    contentType,
    what: `content-type ${contentType}`,
  }));
  return fc.oneof({ arbitrary: setField, weight: 6 }, ...removeField.map((a) => ({ arbitrary: a, weight: 2 })), { arbitrary: extraField, weight: 2 }, { arbitrary: notAnObject, weight: 1 }, { arbitrary: malformed, weight: 2 }, { arbitrary: wrongType, weight: 1 });
}

const garbageSegment = fc.oneof(fc.constantFrom('x', '0', '-1', '99999999999999999999', 'null', 'undefined', '..', '%2e%2e', '%00', "'%20OR%201=1", '00000000-0000-0000-0000-00000000000g', '00000000-0000-4000-8000-000000000000'), fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_~-]{1,40}$/));

/** Garbage in a query parameter of the endpoint (or an unknown/duplicated parameter). */
function brokenQuery(params: Record<string, fc.Arbitrary<string>>, valid: Record<string, string>): fc.Arbitrary<Sent> {
  const keys = Object.keys(params);
  const setParam = keys.length === 0 ? [] : [fc.constantFrom(...keys).chain((k) => params[k]!.map((v) => ({ query: qs({ ...valid, [k]: v }), what: `${k}=${JSON.stringify(v).slice(0, 60)}` })))];
  const unknown = fc.constantFrom('foo', 'limit2', 'admin', '__proto__', 'sort', 'municipality').filter((k) => !keys.includes(k)).map((k) => ({ query: qs({ ...valid, [k]: '1' }), what: `unknown parameter ${k}` }));
  const duplicated = keys.length === 0 ? [] : [fc.constantFrom(...keys).map((k) => ({ query: `${qs(valid)}&${encodeURIComponent(k)}=a&${encodeURIComponent(k)}=b`, what: `${k} twice` }))];
  return fc.oneof(...setParam, unknown, ...duplicated);
}

function qs(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
}

/** Percent-encoding; a lone surrogate (not encodable as UTF-8) becomes the malformed %ED%A0%80. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s].map((ch) => (/[\ud800-\udfff]/.test(ch) && ch.length === 1 ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

// A well-formed position beyond the head is not bad input (it waits, then 503): only malformed ones.
const badPosition = fc.oneof(fc.constantFrom('-1', '1.5', '1e3', 'abc', '99999999999999999999', '0x10', ' 1'), edgeString).filter((v) => v !== '' && !/^\d{1,15}$/.test(v));
const badLimit = fc.oneof(fc.constantFrom('0', '-1', '501', '1000000', '1.5', 'ten', '', '1e2', '0x1'), edgeString);
const badCursor = fc.oneof(fc.constantFrom('x', 'AAAA', '%%%', 'eyJ4IjoxfQ', Buffer.from("' OR 1=1").toString('base64url')), fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 401, maxLength: 500 }));
const badDateParam = fc.oneof(fc.constantFrom(...BAD_DATES.filter((d) => !d.includes('T'))), edgeString.filter((s) => s !== '' && !isCalendarDate(s)));
const badTimestamp = fc.oneof(fc.constantFrom('2026-02-30T00:00:00Z', '2026-01-01T25:00:00Z', '2026-01-01T00:00:00', 'yesterday', 'close!', 'nowish', '9999999999999'), edgeString.filter((s) => s !== '' && s !== 'close' && s !== 'now'));
const badRoundRef = fc.oneof(fc.uuid(), fc.constantFrom('x', "'; DROP TABLE events; --", '00000000-0000-4000-8000-000000000000'));

// ------------------------------------------------------------------------------------------------

describe('bad input: 4xx problem+json, never 5xx, nothing written (fast-check)', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const f = { caseId: '', interventionId: '', openRound: '', closedRound: '' };
  const RUNS = 25;
  const HALF = Math.ceil(RUNS / 2);
  let events = 0;
  const eventCount = async () => Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);

  beforeAll(async () => {
    t = await startTestApp({ label: 'badinput' });
    for (const role of ['caseworker', 'process_owner', 'evaluator', 'admin'] as const) tokens[role] = await t.token(role, ['2281'], `bad-${role}`);
    const api = (p: string) => `/api/v1/municipalities/2281${p}`;
    const as = (role: string) => ({ authorization: `Bearer ${tokens[role]}` });
    f.closedRound = (await t.http().post(api('/rounds')).set(as('process_owner')).send({ label: 'A', referenceDate: '2026-03-31', questionnaireVersion: 1 })).body.id;
    const c = await t.http().post(api('/cases')).set(as('caseworker')).send({ personalIdentityNumber: manyPersonnummer(1, 5)[0], gender: 'female', bornAbroad: 'no', childrenInHousehold: 1, unit: 'vuxenstod', effectiveDate: '2026-01-10' });
    f.caseId = c.body.id;
    await t.http().post(api(`/cases/${f.caseId}/assessments`)).set(as('caseworker')).send({ roundId: f.closedRound, answers: allUnknown(QUESTIONNAIRE_V1) });
    f.interventionId = (await t.http().post(api(`/cases/${f.caseId}/interventions`)).set(as('caseworker')).send({ type: 'rehabilitation', provider: 'municipality', startDate: '2026-01-15' })).body.interventionId;
    await t.http().post(api(`/rounds/${f.closedRound}/close`)).set(as('process_owner'));
    const open = await t.http().post(api('/rounds')).set(as('process_owner')).send({ label: 'B', referenceDate: '2026-10-31', questionnaireVersion: 1 });
    f.openRound = open.body.id;
    await t.http().get(api(`/rounds/${f.closedRound}/statistics?minPosition=${open.headers['x-event-position']}`)).set(as('process_owner'));
    expect(Object.values(f).every(Boolean)).toBe(true);
    events = await eventCount();
  });
  afterAll(() => t.close());

  /** Sends one malformed request and checks the answer and the log. */
  async function check(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, role: string, s: Sent): Promise<void> {
    const target = `${s.path ?? path}${s.query !== undefined && s.query !== '' ? `?${s.query}` : ''}`;
    let r = method === 'GET' ? t.http().get(target) : method === 'POST' ? t.http().post(target) : method === 'PUT' ? t.http().put(target) : t.http().delete(target);
    r = r.set('authorization', `Bearer ${tokens[role]}`);
    for (const [k, v] of Object.entries(s.headers ?? {})) r = r.set(k, v);
    const before = await eventCount();
    // JSON bodies go as text, so that any JSON value (a bare number, a string) can be sent.
    const raw = s.raw ?? (s.body !== undefined ? JSON.stringify(s.body) : undefined);
    if (raw !== undefined) r = r.set('content-type', s.contentType ?? 'application/json');
    const res = raw !== undefined ? await r.send(raw) : await r;
    if (process.env.BAD_INPUT_TRACE) process.stderr.write(`${new Date().toISOString()} ${res.status} ${method} ${target.slice(0, 120)}\n`);
    const why = `${method} ${target.slice(0, 200)} (${s.what}) → ${res.status} ${String(res.body?.detail ?? res.text ?? '').slice(0, 200)}`;
    if (!(res.status >= 400 && res.status < 500)) throw new Error(`expected 4xx: ${why}`);
    if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) throw new Error(`expected problem+json: ${why}`);
    if (res.body?.status !== res.status || typeof res.body?.title !== 'string') throw new Error(`not a problem document: ${why}`);
    const now = await eventCount();
    if (now !== before) throw new Error(`the log grew from ${before} to ${now}: ${why}`);
  }

  const run = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: () => string, role: string, arb: fc.Arbitrary<Sent>, numRuns = RUNS) => {
    await fc.assert(
      fc.asyncProperty(arb, (s) => check(method, path(), role, s)),
      { numRuns },
    );
  };

  const api = (p: string) => `/api/v1/municipalities/2281${p}`;
  const caseApi = (p = '') => api(`/cases/${f.caseId}${p}`);
  const withPath = (build: (segment: string) => string) => garbageSegment.map((g) => ({ path: build(g), what: `path ${g}` }));

  // -- Cases ---------------------------------------------------------------------------------------

  it('POST /cases', async () => {
    const valid = { personalIdentityNumber: manyPersonnummer(1, 6)[0], gender: 'male', bornAbroad: 'yes', childrenInHousehold: 2, unit: 'forsorjningsstod', effectiveDate: '2026-02-01' };
    const fields: Field[] = [
      { name: 'personalIdentityNumber', kind: { t: 'pin' } },
      { name: 'gender', kind: { t: 'enum', values: GENDERS } },
      { name: 'bornAbroad', kind: { t: 'enum', values: BORN_ABROAD } },
      { name: 'childrenInHousehold', kind: { t: 'children' } },
      { name: 'unit', kind: { t: 'enum', values: UNIT_CODES } },
      { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true },
    ];
    await run('POST', () => api('/cases'), 'caseworker', fc.oneof(brokenBody(fields, valid), fc.constantFrom<Sent>({ body: valid, headers: { 'idempotency-key': 'k'.repeat(201) }, what: 'idempotency key too long' }, { body: valid, headers: { 'idempotency-key': '' }, what: 'empty idempotency key' })), RUNS * 2);
  });

  it('GET /cases (filters)', async () => {
    await run(
      'GET',
      () => api('/cases'),
      'caseworker',
      brokenQuery(
        { unit: edgeString, priority: edgeString, status: fc.constantFrom('OPEN', 'all', 'open ', "open' OR 1=1"), roundId: fc.string({ minLength: 101, maxLength: 120 }), assessed: fc.constantFrom('yes', '1', 'TRUE'), limit: badLimit, cursor: badCursor, minPosition: badPosition },
        {},
      ),
    );
  });

  it('GET /cases/{id} and its history', async () => {
    const params = { validAt: badDateParam, knownAt: badTimestamp, minPosition: badPosition };
    await run('GET', () => caseApi(), 'caseworker', fc.oneof(brokenQuery(params, {}), withPath((g) => api(`/cases/${g}`))));
    await run('GET', () => caseApi('/history'), 'caseworker', fc.oneof(brokenQuery({ knownAt: badTimestamp, minPosition: badPosition, validAt: fc.constant('2026-01-01') }, {}), withPath((g) => api(`/cases/${g}/history`))));
  });

  it('POST /cases/{id}/assessments', async () => {
    const valid = { roundId: f.openRound, answers: allUnknown(QUESTIONNAIRE_V1), effectiveDate: '2026-11-01' };
    const fields: Field[] = [
      { name: 'roundId', kind: { t: 'ref' } },
      { name: 'answers', kind: { t: 'answers' } },
      { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true },
    ];
    await run('POST', () => caseApi('/assessments'), 'caseworker', fc.oneof(brokenBody(fields, valid), withPath((g) => api(`/cases/${g}/assessments`)).map((s) => ({ ...s, body: valid })), fc.constantFrom<Sent>({ body: valid, headers: { 'if-match': 'abc' }, what: 'If-Match abc' }, { body: valid, headers: { 'if-match': '"999"' }, what: 'stale If-Match' })));
  });

  it('POST /cases/{id}/assessments/{roundId}/corrections', async () => {
    const valid = { answers: { education: 'none' }, reason: 'Rättelse' };
    const fields: Field[] = [
      { name: 'answers', kind: { t: 'answers' } },
      { name: 'reason', kind: { t: 'text', max: 2000, min: 1 } },
    ];
    await run('POST', () => caseApi(`/assessments/${f.closedRound}/corrections`), 'caseworker', fc.oneof(brokenBody(fields, valid), withPath((g) => caseApi(`/assessments/${g}/corrections`)).map((s) => ({ ...s, body: valid }))));
  });

  it('POST /cases/{id}/prioritisations', async () => {
    const valid = { priority: 'high', roundId: f.openRound, reason: 'Skäl', effectiveDate: '2026-11-01' };
    const fields: Field[] = [
      { name: 'priority', kind: { t: 'enum', values: PRIORITIES } },
      { name: 'roundId', kind: { t: 'ref' }, optional: true },
      { name: 'reason', kind: { t: 'text', max: 2000, min: 1 }, optional: true },
      { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true },
    ];
    await run('POST', () => caseApi('/prioritisations'), 'caseworker', brokenBody(fields, valid));
  });

  it('POST /cases/{id}/transfers', async () => {
    const valid = { toUnit: 'arbete-och-integration', effectiveDate: '2026-11-01', reason: 'Skäl' };
    const fields: Field[] = [
      { name: 'toUnit', kind: { t: 'enum', values: UNIT_CODES } },
      { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true },
      { name: 'reason', kind: { t: 'text', max: 2000, min: 1 }, optional: true },
    ];
    await run('POST', () => caseApi('/transfers'), 'caseworker', brokenBody(fields, valid));
  });

  it('POST /cases/{id}/interventions and …/end', async () => {
    const start = { type: 'language_coach', provider: 'employment_service', startDate: '2026-02-01' };
    await run(
      'POST',
      () => caseApi('/interventions'),
      'caseworker',
      brokenBody(
        [
          { name: 'type', kind: { t: 'enum', values: INTERVENTION_TYPES } },
          { name: 'provider', kind: { t: 'enum', values: INTERVENTION_PROVIDERS } },
          { name: 'startDate', kind: { t: 'date' } },
        ],
        start,
      ),
    );
    const end = { endDate: '2026-03-01', outcome: 'completed' };
    const endFields: Field[] = [
      { name: 'endDate', kind: { t: 'date' } },
      { name: 'outcome', kind: { t: 'enum', values: INTERVENTION_OUTCOMES } },
    ];
    await run('POST', () => caseApi(`/interventions/${f.interventionId}/end`), 'caseworker', fc.oneof(brokenBody(endFields, end), withPath((g) => caseApi(`/interventions/${g}/end`)).map((s) => ({ ...s, body: end }))));
  });

  it('PUT and DELETE /cases/{id}/benefit-months/{month}', async () => {
    const badMonth = fc.oneof(fc.constantFrom('2026-13', '2026-00', '2026-1', '26-01', '2026-01-01', '202601', '1899-12', '2026-0x', '%00', '..'), edgeString.filter((s) => s.length > 0 && s.length < 50 && !/^\d{4}-\d{2}$/.test(s)).map(enc));
    for (const method of ['PUT', 'DELETE'] as const) {
      await run(method, () => caseApi('/benefit-months/2026-05'), 'caseworker', fc.oneof(badMonth.map((m) => ({ path: caseApi(`/benefit-months/${m}`), what: `month ${m}` })), withPath((g) => api(`/cases/${g}/benefit-months/2026-05`))), HALF);
    }
  });

  it('POST /cases/{id}/close and /reopen', async () => {
    await run('POST', () => caseApi('/close'), 'caseworker', brokenBody([{ name: 'reason', kind: { t: 'enum', values: CLOSURE_REASONS } }, { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true }], { reason: 'moved', effectiveDate: '2026-11-01' }));
    await run('POST', () => caseApi('/reopen'), 'caseworker', brokenBody([{ name: 'unit', kind: { t: 'enum', values: UNIT_CODES } }, { name: 'effectiveDate', kind: { t: 'date', past: true }, optional: true }], { unit: 'vuxenstod', effectiveDate: '2026-11-01' }));
  });

  it('POST /benefit-months/import (CSV and NDJSON)', async () => {
    const pin = manyPersonnummer(1, 5)[0]!;
    const badRow = fc.oneof(
      badValue({ t: 'pin' }, true).filter((v): v is string => typeof v === 'string' && !/[\n\r]/.test(v)).map((p) => `${p},2026-04`),
      fc.constantFrom('2026-13', '2026-1', 'april', '', '2026-04-01').map((m) => `${pin},${m}`),
      fc.constantFrom(`${pin}`, `${pin},2026-04,extra`, `${pin};2026-04;x`, ',,', '"";""'),
    );
    const csv = fc.tuple(fc.array(fc.constant(`${pin},2026-04`), { maxLength: 2 }), badRow, fc.boolean()).map(([good, bad, header]) => ({
      raw: `${header ? 'personalIdentityNumber,month\n' : ''}${[...good, bad].join('\n')}\n`,
      contentType: 'text/csv',
      what: `csv row ${bad.slice(0, 60)}`,
    }));
    const ndjson = fc
      .oneof(
        fc.constantFrom('{', 'null', '[]', '"x"', `{"personalIdentityNumber": "${pin}"}`, `{"personalIdentityNumber": "${pin}", "month": "2026-04", "x": 1}`, `{"personalIdentityNumber": 198503122389, "month": "2026-04"}`),
        badValue({ t: 'pin' }, true).map((p) => JSON.stringify({ personalIdentityNumber: p, month: '2026-04' })),
      )
      .map((line) => ({ raw: `${line}\n`, contentType: 'application/x-ndjson', what: `ndjson ${line.slice(0, 60)}` }));
    const other = fc.constantFrom<Sent>(
      { raw: '', contentType: 'text/csv', what: 'empty csv' },
      { raw: 'personalIdentityNumber,month\n', contentType: 'text/csv', what: 'header only' },
      { body: [{ personalIdentityNumber: pin, month: '2026-04' }], what: 'JSON instead of CSV' },
      { raw: `${pin},2026-04\n`, contentType: 'text/plain', what: 'text/plain' },
      { raw: `${pin},2026-04\n`.repeat(10_001), contentType: 'text/csv', what: 'over 10 000 rows' },
    );
    await run('POST', () => api('/benefit-months/import'), 'caseworker', fc.oneof(csv, ndjson, other));
  });

  // -- Rounds and questionnaires ----------------------------------------------------------------------

  it('POST /rounds', async () => {
    const fields: Field[] = [
      { name: 'label', kind: { t: 'text', max: 100, min: 1 } },
      { name: 'referenceDate', kind: { t: 'date' } },
      { name: 'questionnaireVersion', kind: { t: 'int', min: 1, max: 10_000 } },
    ];
    // A label that exists (A, B) would be a 409; the valid base label is new, so each run breaks it in one way only.
    await run('POST', () => api('/rounds'), 'process_owner', brokenBody(fields, { label: 'C', referenceDate: '2027-03-31', questionnaireVersion: 1 }));
  });

  it('GET /rounds, /rounds/{id} and POST /rounds/{id}/close', async () => {
    await run('GET', () => api('/rounds'), 'process_owner', brokenQuery({ minPosition: badPosition }, {}));
    await run('GET', () => api(`/rounds/${f.openRound}`), 'process_owner', fc.oneof(brokenQuery({ minPosition: badPosition }, {}), withPath((g) => api(`/rounds/${g}`))));
    await run('POST', () => api(`/rounds/${f.closedRound}/close`), 'process_owner', fc.oneof(withPath((g) => api(`/rounds/${g}/close`)), fc.constant<Sent>({ what: 'close a closed round' })));
  });

  it('GET and POST /questionnaires', async () => {
    await run('GET', () => api('/questionnaires/1'), 'process_owner', withPath((g) => api(`/questionnaires/${g}`)).filter((s) => !/\/questionnaires\/(1|current)$/.test(s.path)));
    await run('POST', () => api('/questionnaires'), 'process_owner', brokenBody([{ name: 'questions', kind: { t: 'questions' } }], { questions: QUESTIONNAIRE_V1.questions }));
  });

  // -- Insight ---------------------------------------------------------------------------------------

  it('GET /rounds/{id}/snapshot, statistics, crosstab and compare', async () => {
    const knownAt = { knownAt: badTimestamp, minPosition: badPosition };
    await run('GET', () => api(`/rounds/${f.closedRound}/snapshot`), 'caseworker', fc.oneof(brokenQuery({ ...knownAt, limit: badLimit, cursor: badCursor, status: fc.constantFrom('OPEN', 'x', '') }, {}), withPath((g) => api(`/rounds/${g}/snapshot`))));
    await run('GET', () => api(`/rounds/${f.closedRound}/statistics`), 'process_owner', fc.oneof(brokenQuery({ ...knownAt, by: fc.oneof(edgeString.filter((s) => s.replace(/[\s,]/g, '') !== ''), fc.constantFrom('gender,gender2', 'answers', 'unit;gender')) }, {}), withPath((g) => api(`/rounds/${g}/statistics`))));
    await run('GET', () => api(`/rounds/${f.closedRound}/crosstab`), 'process_owner', brokenQuery({ ...knownAt, rows: fc.oneof(edgeString, fc.constant('pin')), columns: fc.oneof(edgeString, fc.constant('personalIdentityNumber')) }, { rows: 'gender', columns: 'unit' }));
    await run('GET', () => api('/rounds/compare'), 'process_owner', brokenQuery({ from: badRoundRef, to: badRoundRef, knownAt: badTimestamp }, { from: f.closedRound, to: f.openRound }));
  });

  it('GET /flows, /flows/by-priority, /flows/journeys', async () => {
    const rounds = { fromRound: badRoundRef, toRound: badRoundRef, knownAt: badTimestamp, minPosition: badPosition };
    await run('GET', () => api('/flows'), 'process_owner', brokenQuery(rounds, { fromRound: f.closedRound, toRound: f.openRound }));
    await run('GET', () => api('/flows/by-priority'), 'process_owner', brokenQuery(rounds, { fromRound: f.closedRound, toRound: f.openRound }));
    await run('GET', () => api('/flows/journeys'), 'process_owner', brokenQuery({ rounds: fc.oneof(badRoundRef, fc.constant(','), fc.constant(`${f.closedRound},x`)), knownAt: badTimestamp }, { rounds: `${f.closedRound},${f.openRound}` }));
  });

  it('GET /reports/*', async () => {
    const badYear = fc.oneof(fc.constantFrom('-1', '0', '99999', '20x6', '2026.5', '1e3', ''), edgeString);
    await run('GET', () => api('/reports/benefit-duration'), 'process_owner', brokenQuery({ year: badYear, minPosition: badPosition }, { year: '2026' }));
    await run('GET', () => api('/reports/assessment-consistency'), 'process_owner', brokenQuery({ roundId: badRoundRef, knownAt: badTimestamp, questions: fc.oneof(edgeString.filter((s) => s.replace(/[\s,]/g, '') !== ''), fc.constant('education,nope')) }, { roundId: f.closedRound }));
    await run('GET', () => api('/reports/support-by-gender'), 'process_owner', brokenQuery({ roundId: badRoundRef, knownAt: badTimestamp }, { roundId: f.closedRound }));
  });

  it('GET /exports/panel, /exports/events, /exports/codebook', async () => {
    const municipalities = fc.oneof(fc.constantFrom('2262', '2281,2262', '22810', 'abcd', '2281;2262', "2281' OR 1=1"), edgeString.filter((s) => s.replace(/[\s,]/g, '') !== '' && !/^[\s,]*2281[\s,]*$/.test(s)));
    await run('GET', () => '/api/v1/exports/panel', 'evaluator', brokenQuery({ municipalities, format: fc.oneof(fc.constantFrom('CSV', 'xlsx', 'json', 'parquet '), edgeString.filter((s) => s !== '')), knownAt: badTimestamp, rounds: fc.constantFrom('nope', `${f.closedRound},nope`), minPosition: badPosition }, { municipalities: '2281', format: 'ndjson' }));
    await run('GET', () => '/api/v1/exports/events', 'evaluator', brokenQuery({ municipalities, fromPosition: badPosition }, { municipalities: '2281' }));
    await run('GET', () => '/api/v1/exports/codebook', 'evaluator', brokenQuery({ municipalities }, {}), HALF);
  });

  // -- Administration --------------------------------------------------------------------------------

  it('POST /admin/erasures', async () => {
    const fields: Field[] = [
      { name: 'personalIdentityNumber', kind: { t: 'pin' } },
      { name: 'reason', kind: { t: 'text', max: 1000, blankIsBad: true } },
    ];
    await run('POST', () => api('/admin/erasures'), 'admin', fc.oneof(brokenBody(fields, { personalIdentityNumber: manyPersonnummer(1, 5)[0], reason: 'Begäran' }), fc.constant<Sent>({ body: { personalIdentityNumber: manyPersonnummer(1, 4711)[0], reason: 'okänd person' }, what: 'unknown person' })));
  });

  it('POST /admin/retention', async () => {
    await run('POST', () => api('/admin/retention'), 'admin', brokenBody([{ name: 'dryRun', kind: { t: 'bool' } }], { dryRun: true }));
  });

  it('GET /admin/access-log', async () => {
    const badInstant = fc.oneof(badDateParam, badTimestamp.filter((s) => s !== '' && !isCalendarDate(s)));
    await run(
      'GET',
      () => api('/admin/access-log'),
      'admin',
      brokenQuery(
        { from: badInstant, to: badInstant, userId: fc.oneof(fc.string({ minLength: 201, maxLength: 300 }), fc.constantFrom('a\u0000b')), caseId: fc.oneof(edgeString.filter((s) => s !== ''), fc.constant('42')), limit: badLimit, cursor: badCursor },
        {},
      ),
    );
  });

  it('POST /admin/projections/{name}/rebuild', async () => {
    await run('POST', () => '/api/v1/admin/projections/case_list/rebuild', 'admin', withPath((g) => `/api/v1/admin/projections/${g}/rebuild`).filter((s) => !/\/(case_list|open_cases|round_guard|erased_cases|round_snapshots)\/rebuild$/.test(s.path)), HALF);
  });

  // -- Across endpoints ------------------------------------------------------------------------------

  it('garbage municipality codes, and bodies over the size limit or nested too deep', async () => {
    const code = fc.oneof(fc.constantFrom('228', '22810', 'abcd', '2281 ', '%2281', '-281', '0x81', '..'), fc.stringMatching(/^[A-Za-z0-9]{1,6}$/).filter((s) => s !== '2281'));
    await run('GET', () => api('/cases'), 'caseworker', code.map((c) => ({ path: `/api/v1/municipalities/${c}/cases`, what: `code ${c}` })), HALF);
    // Refused before routing, still as problem+json: malformed UTF-8, NUL, prototype keys, a URL over 16 KB.
    for (const [path, status] of [
      [caseApi('/benefit-months/%ED%A0%80'), 400],
      [caseApi('/history?knownAt=%00'), 400],
      [api('/cases?__proto__[admin]=1'), 400],
      [api('/cases?constructor=1'), 400],
      [api(`/cases?cursor=${'x'.repeat(20_000)}`), 431],
    ] as const) {
      await check('GET', path, 'caseworker', { what: `URL ${path.slice(0, 60)}` });
      expect((await t.http().get(path).set('authorization', `Bearer ${tokens.caseworker}`)).status).toBe(status);
    }
    const big = 'x'.repeat(t.config.bodyLimitBytes + 10);
    await check('POST', api('/cases'), 'caseworker', { raw: JSON.stringify({ personalIdentityNumber: big }), contentType: 'application/json', what: 'body over the limit' });
    await check('POST', api('/admin/erasures'), 'admin', { raw: JSON.stringify({ reason: big }), contentType: 'application/json', what: 'body over the limit' });
    // The JSON parser's own limits apply to every JSON body (not only to fields a DTO rejects anyway).
    const deep = `{"answers": ${'{"a": '.repeat(t.config.jsonMaxDepth + 2)}1${'}'.repeat(t.config.jsonMaxDepth + 2)}}`;
    await check('POST', caseApi('/assessments'), 'caseworker', { raw: deep, contentType: 'application/json', what: 'nested too deep' });
    // Each refusal names where: the path of every offending place, as validation errors do.
    for (const [raw, detail, paths] of [
      [deep, /deeper than/, [`answers${'.a'.repeat(t.config.jsonMaxDepth - 1)}`]],
      [JSON.stringify({ roundId: f.openRound, answers: { education: 'none\u0000' } }), /NUL/, ['answers.education']],
      ['{"roundId": "x", "answers": {"__proto__": {"admin": true}}}', /"__proto__" is not allowed/, ['answers.__proto__']],
      ['{"roundId": "x", "answers": {}, "toString": 1}', /"toString" is not allowed/, ['toString']],
      // Nest's ValidationPipe deletes a "prototype" key before validating: without the parser's
      // refusal this extra field would be dropped silently and the command accepted.
      ['{"roundId": "x", "answers": {}, "prototype": []}', /"prototype" is not allowed/, ['prototype']],
      ['{"prototype": 1, "answers": {"constructor": {}, "education": "x\\u0000"}}', /"prototype" is not allowed/, ['prototype', 'answers.constructor', 'answers.education']],
      ['{"roundId": "x",\n "answers": }', /not valid JSON/, ['body']],
    ] as const) {
      const r = await t.http().post(caseApi('/assessments')).set('authorization', `Bearer ${tokens.caseworker}`).set('content-type', 'application/json').send(raw);
      expect(r.status).toBe(400);
      expect(r.body.detail).toMatch(detail);
      expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(paths);
    }
    // Every key fast-check counts as dangerous (names of object and function members), as an
    // extra field of a valid command: each one refused, by the parser or as an unknown field.
    const dangerous = ['__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', '__proto__', 'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf', 'apply', 'arguments', 'bind', 'call', 'caller', 'length', 'name', 'prototype', 'key', 'ref'];
    for (const key of dangerous) {
      const raw = `{"priority": "high", "roundId": ${JSON.stringify(f.openRound)}, "reason": "Skäl", ${JSON.stringify(key)}: 1}`;
      const r = await t.http().post(caseApi('/prioritisations')).set('authorization', `Bearer ${tokens.caseworker}`).set('content-type', 'application/json').send(raw);
      expect([key, r.status, r.body.errors?.[0]?.path ?? r.body.detail]).toEqual([key, 400, expect.stringContaining(key)]);
    }
  });

  it('wrote nothing at all', async () => {
    expect(await eventCount()).toBe(events);
  });
});
