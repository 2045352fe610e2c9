import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { IdempotencyStore } from '../../src/shared/http/idempotency/idempotency.store.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Idempotency-Key on case commands, which take the key in the transaction that appends their
 * events: a retry is answered from the record and writes nothing, whatever the command would say
 * now; a failed command records nothing; concurrent retries append once.
 */
describe('Idempotency-Key on case commands (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let po: string;
  let roundId: string;
  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const pins = manyPersonnummer(6, 2281);
  const answers = allUnknown(QUESTIONNAIRE_V1);

  const register = (pin: string, key: string) =>
    t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).set('idempotency-key', key).send({
      personalIdentityNumber: pin,
      gender: 'female',
      bornAbroad: 'no',
      childrenInHousehold: 1,
      unit: 'forsorjningsstod',
      effectiveDate: '2026-01-15',
    });
  const assess = (id: string, key: string, body: Record<string, unknown> = { roundId, answers }) =>
    t.http().post(api(`/cases/${id}/assessments`)).set('authorization', `Bearer ${cw}`).set('idempotency-key', key).send(body);
  const count = async (type: string, stream?: string) =>
    Number((await t.pool.query(`SELECT count(*) FROM events WHERE type = $1 AND ($2::text IS NULL OR stream_id LIKE '%' || $2)`, [type, stream ?? null])).rows[0].count);
  const record = async (key: string) =>
    (await t.pool.query<{ completed: boolean; status_code: number | null }>('SELECT completed_at IS NOT NULL AS completed, status_code FROM idempotency_keys WHERE key = $1', [key])).rows;

  beforeAll(async () => {
    t = await startTestApp({ label: 'idem-cases' });
    cw = await t.token('caseworker', ['2281'], 'cw-idem');
    po = await t.token('process_owner', ['2281'], 'po-idem');
    const round = await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H1', referenceDate: '2026-06-30', questionnaireVersion: 1 });
    roundId = round.body.id;
  });
  afterAll(() => t.close());

  it('a retried assessment is answered from the record, with the same body, and appends nothing', async () => {
    const c = await register(pins[0]!, 'idem-reg-0');
    expect(c.status).toBe(201);
    const first = await assess(c.body.id, 'idem-assess-0');
    expect(first.status).toBe(201);
    expect(await record('idem-assess-0')).toEqual([{ completed: true, status_code: 201 }]);
    // The command itself would now be refused (assessment-exists): the retry still gets the 201.
    const again = await assess(c.body.id, 'idem-assess-0');
    expect(again.status).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(await count('AssessmentRecorded', c.body.id)).toBe(1);
  });

  it('the same key with another body is 422 and appends nothing', async () => {
    const c = await register(pins[1]!, 'idem-reg-1');
    const other = await register(pins[2]!, 'idem-reg-2');
    expect((await assess(c.body.id, 'idem-assess-1')).status).toBe(201);
    const reused = await assess(other.body.id, 'idem-assess-1');
    expect(reused.status).toBe(422);
    expect(reused.body.type).toMatch(/idempotency-key-reused/);
    expect(await count('AssessmentRecorded', other.body.id)).toBe(0);
  });

  it('a refused command records nothing under its key: the corrected request with the same key goes through', async () => {
    const c = await register(pins[3]!, 'idem-reg-3');
    const bad = await assess(c.body.id, 'idem-assess-3', { roundId, answers: { ...answers, education: 'no-such-option' } });
    expect(bad.status).toBe(400);
    expect(await record('idem-assess-3')).toEqual([]);
    const fixed = await assess(c.body.id, 'idem-assess-3');
    expect(fixed.status).toBe(201);
    expect(fixed.headers['idempotency-replayed']).toBeUndefined();
  });

  it('eight concurrent retries of one registration: one case, every answer the 201 or 409 in flight', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => register(pins[4]!, 'idem-reg-4')));
    for (const r of results) {
      if (r.status !== 201) {
        expect(r.status).toBe(409);
        expect(r.body.type).toMatch(/idempotency-key-in-flight/);
      }
    }
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(created.filter((r) => r.headers['idempotency-replayed'] === undefined)).toHaveLength(1);
    expect(await count('CaseRegistered', created[0]!.body.id)).toBe(1);
    // A later retry is the replay.
    const late = await register(pins[4]!, 'idem-reg-4');
    expect(late.status).toBe(201);
    expect(late.body.id).toBe(created[0]!.body.id);
    expect(late.headers['idempotency-replayed']).toBe('true');
  });

  it('a key held by a request still running (its claim not answered) is 409 in flight, and the command appends nothing', async () => {
    const c = await register(pins[5]!, 'idem-reg-5');
    const path = api(`/cases/${c.body.id}/assessments`);
    const hash = IdempotencyStore.hash('POST', path, { roundId, answers });
    await t.pool.query(`INSERT INTO idempotency_keys (user_id, key, method, path, request_hash) VALUES ('cw-idem', 'idem-held', 'POST', $1, $2)`, [path, hash]);
    const r = await assess(c.body.id, 'idem-held');
    expect(r.status).toBe(409);
    expect(r.body.type).toMatch(/idempotency-key-in-flight/);
    expect(await count('AssessmentRecorded', c.body.id)).toBe(0);
  });
});
