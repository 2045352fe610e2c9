import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { manyPersonnummer, personnummerVariants } from '../support/personnummer.js';
import { scanForClearText, describeHits } from '../support/pii-scan.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The registration-day story over real HTTP on real PostgreSQL: a municipality opens round
 * 2026-H1, registers 30 people across the four units, records every assessment (some answers
 * "Vet ej"), priorities, a transfer, an intervention, benefit months and two closures, closes the
 * round, opens a second one, makes a late correction, and reads a case as it was and as known.
 */
describe('registration day (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let po: string;
  const pins = manyPersonnummer(30, 2281);
  const caseIds: string[] = [];
  let round1: string;
  let round2: string;
  let lastPosition = 0;

  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const eventCount = async () => Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);
  const track = <R extends { headers: Record<string, string> }>(r: R): R => {
    const p = Number(r.headers['x-event-position']);
    if (p > lastPosition) lastPosition = p;
    return r;
  };

  const answersFor = (i: number) => {
    const a = allUnknown(QUESTIONNAIRE_V1) as Record<string, unknown>;
    if (i % 3 !== 0) {
      a.education = ['none', 'compulsory', 'upper_secondary', 'post_secondary'][i % 4];
      a.mentalHealth = i % 2 === 0 ? 'severe_problems' : 'some_problems';
      a.workObstacles = i % 5 === 0 ? ['none'] : ['mental_health', 'language'];
      a.currentActivity = ['studies'];
    }
    return a;
  };

  beforeAll(async () => {
    t = await startTestApp({ label: 'regday' });
    cw = await t.token('caseworker', ['2281'], 'anna-handlaggare');
    po = await t.token('process_owner', ['2281'], 'per-processagare');
  });
  afterAll(() => t.close());

  it('a process owner opens round 2026-H1', async () => {
    const r = track(await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H1', referenceDate: '2026-06-30', questionnaireVersion: 1 }));
    expect(r.status).toBe(201);
    expect(r.headers.location).toMatch(/\/rounds\/[0-9a-f-]{36}$/);
    round1 = r.body.id;
    expect(r.body).toMatchObject({ label: '2026-H1', status: 'open', progress: { activeCases: 0, assessed: 0, remaining: 0 } });
    // the label is unique (case-insensitively)
    const dup = await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-h1', referenceDate: '2026-06-30', questionnaireVersion: 1 });
    expect(dup.status).toBe(409);
  });

  it('caseworkers register 30 people across the four units', async () => {
    for (const [i, pin] of pins.entries()) {
      const r = track(
        await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).set('idempotency-key', `reg-${i}`).send({
          personalIdentityNumber: pin,
          gender: i % 2 === 0 ? 'female' : 'male',
          bornAbroad: i % 3 === 0 ? 'yes' : i % 3 === 1 ? 'no' : 'unknown',
          childrenInHousehold: i % 4 === 0 ? 'unknown' : i % 3,
          unit: UNIT_CODES[i % 4],
          effectiveDate: '2026-01-15',
        }),
      );
      expect(r.status).toBe(201);
      expect(r.headers.etag).toBe('"1"');
      expect(r.body.personalIdentityNumber.replace('-', '')).toBe(pin.replace('-', ''));
      caseIds.push(r.body.id);
    }
    const list = await t.http().get(api(`/cases?limit=500&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(30);
    const byUnit = await t.http().get(api(`/cases?unit=vuxenstod&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(byUnit.body.items.every((c: { unit: string }) => c.unit === 'vuxenstod')).toBe(true);
    expect(byUnit.body.items.length).toBeGreaterThan(0);
  });

  it('shows the round\'s progress live: 30 active, none assessed', async () => {
    const r = await t.http().get(api(`/rounds?minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(r.status).toBe(200);
    expect(r.body.items[0].progress).toEqual({ activeCases: 30, assessed: 0, prioritised: 0, remaining: 30 });
  });

  it('records every assessment (some "Vet ej") and a priority for each case', async () => {
    for (const [i, id] of caseIds.entries()) {
      const a = track(await t.http().post(api(`/cases/${id}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, answers: answersFor(i) }));
      expect(a.status).toBe(201);
      const p = track(
        await t.http().post(api(`/cases/${id}/prioritisations`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, priority: ['high', 'medium', 'low'][i % 3] }),
      );
      expect(p.status).toBe(201);
    }
    const r = await t.http().get(api(`/rounds/${round1}?minPosition=${lastPosition}`)).set('authorization', `Bearer ${po}`);
    expect(r.body.progress).toEqual({ activeCases: 30, assessed: 30, prioritised: 30, remaining: 0 });
    const second = await t.http().post(api(`/cases/${caseIds[0]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, answers: answersFor(0) });
    expect(second.status).toBe(409);
  });

  it('logs a transfer, an intervention, benefit months and two closures', async () => {
    const transfer = track(
      await t.http().post(api(`/cases/${caseIds[1]}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'arbete-och-integration', effectiveDate: '2026-03-01', reason: 'Redo för arbetsträning' }),
    );
    expect(transfer.status).toBe(201);
    expect(transfer.body.unit).toBe('arbete-och-integration');
    const same = await t.http().post(api(`/cases/${caseIds[1]}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'arbete-och-integration' });
    expect(same.status).toBe(409);

    const started = track(
      await t.http().post(api(`/cases/${caseIds[2]}/interventions`)).set('authorization', `Bearer ${cw}`).send({ type: 'language_coach', provider: 'municipality', startDate: '2026-02-01' }),
    );
    expect(started.status).toBe(201);
    expect(started.body.interventionId).toMatch(/^[0-9a-f-]{36}$/);
    const ended = track(
      await t.http().post(api(`/cases/${caseIds[2]}/interventions/${started.body.interventionId}/end`)).set('authorization', `Bearer ${cw}`).send({ endDate: '2026-05-31', outcome: 'completed' }),
    );
    expect(ended.status).toBe(200);
    expect(ended.body.interventions[0]).toMatchObject({ type: 'language_coach', endDate: '2026-05-31', outcome: 'completed' });

    for (const month of ['2026-01', '2026-02', '2026-03', '2026-02']) {
      const r = track(await t.http().put(api(`/cases/${caseIds[3]}/benefit-months/${month}`)).set('authorization', `Bearer ${cw}`));
      expect(r.status).toBe(200);
    }
    const withdrawn = track(await t.http().delete(api(`/cases/${caseIds[3]}/benefit-months/2026-03`)).set('authorization', `Bearer ${cw}`));
    expect(withdrawn.body.benefitMonths).toEqual(['2026-01', '2026-02']);

    for (const [id, reason] of [[caseIds[4], 'employment'], [caseIds[5], 'studies']] as const) {
      const r = track(await t.http().post(api(`/cases/${id}/close`)).set('authorization', `Bearer ${cw}`).send({ reason, effectiveDate: '2026-08-31' }));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'closed', closure: { reason } });
    }
    const closedTransfer = await t.http().post(api(`/cases/${caseIds[4]}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'vuxenstod' });
    expect(closedTransfer.status).toBe(409);
  });

  it('closes the round; a later assessment in it answers 409', async () => {
    const closed = track(await t.http().post(api(`/rounds/${round1}/close`)).set('authorization', `Bearer ${po}`));
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const late = await t.http().post(api(`/cases/${caseIds[6]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, answers: answersFor(6) });
    expect(late.status).toBe(409);
    const again = await t.http().post(api(`/rounds/${round1}/close`)).set('authorization', `Bearer ${po}`);
    expect(again.status).toBe(409);
  });

  it('opens a second round, where the closed cases are no longer active', async () => {
    const r = track(await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H2', referenceDate: '2026-11-01', questionnaireVersion: 1 }));
    expect(r.status).toBe(201);
    round2 = r.body.id;
    const got = await t.http().get(api(`/rounds/${round2}?minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(got.body.progress).toMatchObject({ activeCases: 28, assessed: 0, remaining: 28 });
    const notAssessed = await t.http().get(api(`/cases?roundId=${round2}&assessed=false&limit=500&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(notAssessed.body.items).toHaveLength(28);
  });

  it('a late correction keeps the original; validAt and knownAt read the case as it was and as known', async () => {
    const id = caseIds[7]!;
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const original = (await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`)).body.assessments[round1].answers.mentalHealth;
    const c = track(
      await t.http().post(api(`/cases/${id}/assessments/${round1}/corrections`)).set('authorization', `Bearer ${cw}`).send({ answers: { mentalHealth: 'no_problems' }, reason: 'Fel fält ifyllt' }),
    );
    expect(c.status).toBe(201);
    const now = await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`);
    expect(now.body.assessments[round1].answers.mentalHealth).toBe('no_problems');
    expect(now.body.assessments[round1].originalAnswers.mentalHealth).toBe(original);
    expect(now.body.assessments[round1].corrections[0]).toMatchObject({ reason: 'Fel fält ifyllt', correctedBy: 'anna-handlaggare' });
    const known = await t.http().get(api(`/cases/${id}?knownAt=${encodeURIComponent(before)}`)).set('authorization', `Bearer ${cw}`);
    expect(known.body.assessments[round1].answers.mentalHealth).toBe(original);

    // validAt: the transferred case was in its first unit before the transfer date
    const early = await t.http().get(api(`/cases/${caseIds[1]}?validAt=2026-02-01`)).set('authorization', `Bearer ${cw}`);
    expect(early.body.unit).toBe(UNIT_CODES[1]);
    const later = await t.http().get(api(`/cases/${caseIds[1]}?validAt=2026-04-01`)).set('authorization', `Bearer ${cw}`);
    expect(later.body.unit).toBe('arbete-och-integration');
    const beforeRegistration = await t.http().get(api(`/cases/${caseIds[1]}?validAt=2025-12-31`)).set('authorization', `Bearer ${cw}`);
    expect(beforeRegistration.status).toBe(404);

    const history = await t.http().get(api(`/cases/${caseIds[1]}/history`)).set('authorization', `Bearer ${cw}`);
    expect(history.body.items.map((e: { type: string }) => e.type)).toEqual(['CaseRegistered', 'AssessmentRecorded', 'PrioritySet', 'CaseTransferred']);
    expect(history.body.items[3].data).toMatchObject({ toUnit: 'arbete-och-integration', reason: 'Redo för arbetsträning' });
    expect(history.body.items[3]).toMatchObject({ effectiveDate: '2026-03-01', actor: 'anna-handlaggare' });
  });

  it('logs every read of individual data', async () => {
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM access_log WHERE case_id = $1 AND user_id = 'anna-handlaggare'`, [caseIds[7]]);
    expect(rows[0].n).toBeGreaterThanOrEqual(3);
  });

  it('keeps no personnummer and no free text in clear text anywhere in the database', async () => {
    const hits = await scanForClearText(t.pool, [...pins.flatMap(personnummerVariants), 'Fel fält ifyllt', 'Redo för arbetsträning']);
    expect(describeHits(hits)).toBe('');
  });

  describe('bad input writes nothing', () => {
    const cases: [string, () => Promise<{ status: number; body: { errors?: { path: string }[] } }>, number, string?][] = [
      ['invalid personnummer (Luhn)', () => t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: '198503122380', gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' }), 400, 'personalIdentityNumber'],
      ['impossible date 2026-02-30', () => t.http().post(api(`/cases/${caseIds[8]}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'vuxenstod', effectiveDate: '2026-02-30' }), 400, 'effectiveDate'],
      ['missing answer', () => t.http().post(api(`/cases/${caseIds[8]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round2, answers: { education: 'none' } }), 400, 'answers.mentalHealth'],
      ['unknown option', () => t.http().post(api(`/cases/${caseIds[8]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round2, answers: { ...allUnknown(QUESTIONNAIRE_V1), education: 'phd' } }), 400, 'answers.education'],
      ['"unknown" not alone in a multi question', () => t.http().post(api(`/cases/${caseIds[8]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round2, answers: { ...allUnknown(QUESTIONNAIRE_V1), workObstacles: ['unknown', 'language'] } }), 400, 'answers.workObstacles'],
      ['wrong round', () => t.http().post(api(`/cases/${caseIds[8]}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: '00000000-0000-4000-8000-000000000000', answers: allUnknown(QUESTIONNAIRE_V1) }), 404],
      ['duplicate person', () => t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: pins[9], gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' }), 409],
      ['unknown field', () => t.http().post(api(`/cases/${caseIds[8]}/close`)).set('authorization', `Bearer ${cw}`).send({ reason: 'moved', because: 'x' }), 400, 'because'],
      ['other municipality', () => t.http().post('/api/v1/municipalities/2262/cases').set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: pins[10], gender: 'male', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' }), 404],
      ['wrong role', () => t.http().post(api(`/cases/${caseIds[8]}/close`)).set('authorization', `Bearer ${po}`).send({ reason: 'moved' }), 403],
      ['future effective date', () => t.http().post(api(`/cases/${caseIds[8]}/close`)).set('authorization', `Bearer ${cw}`).send({ reason: 'moved', effectiveDate: '2099-01-01' }), 400, 'effectiveDate'],
      ['case of another municipality', () => t.http().get(`/api/v1/municipalities/2262/cases/${caseIds[8]}`).set('authorization', `Bearer ${cw}`), 404],
    ];
    it.each(cases.map(([name, send, status, path]) => ({ name, send, status, path })))('$name', async ({ send, status, path }) => {
      const before = await eventCount();
      const r = await send();
      expect(r.status).toBe(status);
      if (path) expect((r.body.errors ?? []).map((e) => e.path)).toContain(path);
      expect(await eventCount()).toBe(before);
    });

    it('the duplicate-person answer names the existing case', async () => {
      const r = await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: pins[9], gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' });
      expect(r.body.caseId).toBe(caseIds[9]);
    });

    it('a stale If-Match answers 412 with the current version and writes nothing', async () => {
      const before = await eventCount();
      const r = await t.http().post(api(`/cases/${caseIds[8]}/transfers`)).set('authorization', `Bearer ${cw}`).set('if-match', '"1"').send({ toUnit: 'vuxenstod' });
      expect(r.status).toBe(412);
      expect(r.body.detail).toMatch(/version is 3/);
      expect(await eventCount()).toBe(before);
    });
  });

  it('10 parallel transfers with the same If-Match: exactly one succeeds', async () => {
    const id = caseIds[12]!;
    const current = await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`);
    const targets = UNIT_CODES.filter((u) => u !== current.body.unit);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.http().post(api(`/cases/${id}/transfers`)).set('authorization', `Bearer ${cw}`).set('if-match', current.headers.etag).send({ toUnit: targets[i % targets.length] }),
      ),
    );
    const ok = results.filter((r) => r.status >= 200 && r.status < 300);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 412 || r.status === 409)).toHaveLength(9);
  });

  it('imports benefit months from CSV, reporting unknown persons', async () => {
    const csv = `personalIdentityNumber,month\n${pins[13]},2026-04\n${pins[13]},2026-04\n${manyPersonnummer(1, 999)[0]},2026-04\n`;
    const r = await t.http().post(api('/benefit-months/import')).set('authorization', `Bearer ${cw}`).set('content-type', 'text/csv').send(csv);
    expect(r.status).toBe(200);
    expect(r.body.summary).toEqual({ rows: 3, recorded: 1, alreadyRecorded: 1, unknownPerson: 1, rejected: 0 });
    const bad = await t.http().post(api('/benefit-months/import')).set('authorization', `Bearer ${cw}`).set('content-type', 'text/csv').send(`${pins[13]},2026-13\n`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('rows[1].month');
  });
});
