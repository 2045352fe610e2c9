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
  const pins = manyPersonnummer(9, 2281);
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

  const stored = async (key: string) =>
    (await t.pool.query<{ body: string | null; ref: Record<string, unknown> | null }>('SELECT response_body AS body, response_ref AS ref FROM idempotency_keys WHERE key = $1', [key])).rows;
  const reads = async (caseId: string) => Number((await t.pool.query('SELECT count(*) FROM access_log WHERE case_id = $1', [caseId])).rows[0].count);
  const post = (path: string, key: string, body: Record<string, unknown>) =>
    t.http().post(api(path)).set('authorization', `Bearer ${cw}`).set('idempotency-key', key).send(body);

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

  it('a retried registration is answered from the case as the command left it: same body, Location, ETag and X-Event-Position, logged as a read, no answer text stored', async () => {
    const first = await register(pins[6]!, 'idem-reg-6');
    expect(first.status).toBe(201);
    // The key was completed in the append's transaction, by reference: the answer (with its
    // personnummer) is not stored, not even encrypted.
    expect(await record('idem-reg-6')).toEqual([{ completed: true, status_code: 201 }]);
    expect(await stored('idem-reg-6')).toEqual([{ body: null, ref: { replayer: 'case', municipality: '2281', caseId: first.body.id, version: 1, created: true } }]);
    // The case moves on; the replay still answers as the registration did.
    const moved = await post(`/cases/${first.body.id}/transfers`, 'idem-transfer-6', { toUnit: 'vuxenstod' });
    expect(moved.status).toBe(201);
    expect(moved.body.version).toBe(2);
    const readsBefore = await reads(first.body.id);
    const again = await register(pins[6]!, 'idem-reg-6');
    expect(again.status).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    for (const h of ['location', 'etag', 'x-event-position']) expect([h, again.headers[h]]).toEqual([h, first.headers[h]]);
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(await reads(first.body.id)).toBe(readsBefore + 1);
    expect(await count('CaseRegistered', first.body.id)).toBe(1);
    // The transfer's replay too, after the case has moved on again.
    expect((await post(`/cases/${first.body.id}/prioritisations`, 'idem-prio-6', { priority: 'high' })).status).toBeLessThan(300);
    const transferAgain = await post(`/cases/${first.body.id}/transfers`, 'idem-transfer-6', { toUnit: 'vuxenstod' });
    expect([transferAgain.status, transferAgain.headers['idempotency-replayed'], transferAgain.headers.etag]).toEqual([201, 'true', '"2"']);
    expect(transferAgain.body).toEqual(moved.body);
  });

  it('a route answering 200 replays its 200; one whose answer is more than the case (a started intervention) replays its stored answer', async () => {
    const c = await register(pins[7]!, 'idem-reg-7');
    const started = await post(`/cases/${c.body.id}/interventions`, 'idem-int-7', { type: 'work_practice', provider: 'municipality', startDate: '2026-02-01' });
    expect(started.status).toBe(201);
    expect(started.body.interventionId).toEqual(expect.any(String));
    const [{ body, ref }] = await stored('idem-int-7') as [{ body: string | null; ref: unknown }];
    expect(ref).toBeNull();
    expect(body).toMatch(/^v1\./); // stored encrypted, as before
    const startedAgain = await post(`/cases/${c.body.id}/interventions`, 'idem-int-7', { type: 'work_practice', provider: 'municipality', startDate: '2026-02-01' });
    expect([startedAgain.status, startedAgain.headers['idempotency-replayed']]).toEqual([201, 'true']);
    expect(startedAgain.body).toEqual(started.body);

    const closed = await post(`/cases/${c.body.id}/close`, 'idem-close-7', { reason: 'employment', effectiveDate: '2026-03-01' });
    expect(closed.status).toBe(200);
    const closedAgain = await post(`/cases/${c.body.id}/close`, 'idem-close-7', { reason: 'employment', effectiveDate: '2026-03-01' });
    expect([closedAgain.status, closedAgain.headers['idempotency-replayed']]).toEqual([200, 'true']);
    expect(closedAgain.body).toEqual(closed.body);
    expect(await count('CaseClosed', c.body.id)).toBe(1);
  });
});
