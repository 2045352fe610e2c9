import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { EVENT_STORE, type EventStore } from '../../src/shared/event-store/event-store.port.js';
import { ProjectionEngine } from '../../src/shared/projections/projection-engine.js';
import { streams } from '../../src/shared/streams.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The rules that hold across cases while many caseworkers work at once, over real HTTP on real
 * PostgreSQL. The event store runs inline views before its append lock (appends are not
 * serialised while the views are written), so these races are settled by the views' own row
 * locks, keys and advisory locks: a round closed in the middle of a burst of assessments, the
 * same person registered twice at once, and a person erased while caseworkers write to her case.
 * Each test asserts on the log itself, in global order.
 */
describe('rules under concurrent commands (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let po: string;
  let admin: string;
  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const pins = manyPersonnummer(45, 2281);

  const register = async (pin: string, i: number) =>
    t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({
      personalIdentityNumber: pin,
      gender: i % 2 === 0 ? 'female' : 'male',
      bornAbroad: 'no',
      childrenInHousehold: 0,
      unit: UNIT_CODES[i % 4],
      effectiveDate: '2026-01-15',
    });

  const log = async (where: string, values: unknown[]) =>
    (await t.pool.query<{ position: string; type: string; stream_id: string; data: Record<string, unknown> }>(`SELECT position, type, stream_id, data FROM events WHERE ${where} ORDER BY position`, values)).rows;

  beforeAll(async () => {
    t = await startTestApp({ label: 'guards' });
    cw = await t.token('caseworker', ['2281'], 'cw-guards');
    po = await t.token('process_owner', ['2281'], 'po-guards');
    admin = await t.token('admin', ['2281'], 'admin-guards');
  });
  afterAll(() => t.close());

  it('a round closed during a burst of assessments: every 201 is in the log before RoundClosed, every later one is refused and not written', async () => {
    const round = await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H1', referenceDate: '2026-06-30', questionnaireVersion: 1 });
    expect(round.status).toBe(201);
    const ids: string[] = [];
    for (const [i, pin] of pins.slice(0, 40).entries()) {
      const r = await register(pin, i);
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const answers = allUnknown(QUESTIONNAIRE_V1);
    const assess = (id: string) => t.http().post(api(`/cases/${id}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round.body.id, answers });
    // Half the assessments first, then the close in the middle of the other half.
    const first = ids.slice(0, 20).map(assess);
    const close = t.http().post(api(`/rounds/${round.body.id}/close`)).set('authorization', `Bearer ${po}`);
    const second = ids.slice(20).map(assess);
    const results = await Promise.all([...first, ...second]);
    expect((await close).status).toBe(200);

    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    for (const r of refused) expect(r.body.type).toMatch(/round-closed/);
    expect(accepted.length + refused.length).toBe(40);

    const events = await log(`type IN ('AssessmentRecorded', 'RoundClosed') AND (type = 'RoundClosed' OR data->>'roundId' = $1)`, [round.body.id]);
    const closedAt = events.findIndex((e) => e.type === 'RoundClosed');
    expect(closedAt).toBeGreaterThanOrEqual(0);
    // Exactly the accepted assessments are in the log, all before the close.
    expect(events.slice(0, closedAt).map((e) => e.type)).toEqual(accepted.map(() => 'AssessmentRecorded'));
    expect(events.slice(closedAt + 1)).toEqual([]);
  });

  it('a round closed by another instance: this one still remembers it open, but the assessment is refused and not written', async () => {
    const round = await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H2', referenceDate: '2026-06-30', questionnaireVersion: 1 });
    expect(round.status).toBe(201);
    const [a, b] = await Promise.all([register(pins[43]!, 1), register(pins[44]!, 2)]);
    const answers = allUnknown(QUESTIONNAIRE_V1);
    const assess = (id: string) => t.http().post(api(`/cases/${id}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round.body.id, answers });
    // This instance now remembers the round as open.
    expect((await assess(a.body.id)).status).toBe(201);
    // Another instance closes it: the close is appended without passing through this one.
    const store = t.running.app.get<EventStore>(EVENT_STORE);
    const engine = t.running.app.get(ProjectionEngine);
    await store.append(
      streams.rounds('2281'),
      [{ type: 'RoundClosed', schemaVersion: 1, data: { roundId: round.body.id }, metadata: { actor: 'po-elsewhere', effectiveDate: '2026-07-01' } }],
      { expectedVersion: 'any', tenant: '2281', inline: engine.inline() },
    );
    const refused = await assess(b.body.id);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/round-closed/);
    expect(await log(`type = 'AssessmentRecorded' AND data->>'roundId' = $1`, [round.body.id])).toHaveLength(1);
    // Read afresh the next time: refused by the decider, with the close's date.
    const again = await assess(b.body.id);
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/round-closed/);
  });

  it('the same person registered ten times at once: one case, nine 409s, one CaseRegistered', async () => {
    const pin = pins[40]!;
    const results = await Promise.all(Array.from({ length: 10 }, () => register(pin, 0)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.type).toMatch(/person-has-open-case/);
    }
    const [mine] = await log(`type = 'CaseRegistered' AND stream_id LIKE $1`, [`%${created[0]!.body.id}`]);
    const registered = await log(`type = 'CaseRegistered' AND data->>'pseudonym' = $1`, [mine!.data.pseudonym]);
    expect(registered).toHaveLength(1);
  });

  it('a person erased while caseworkers write to her case: nothing is written to the case after PersonErased', async () => {
    const reg = await register(pins[41]!, 1);
    expect(reg.status).toBe(201);
    const id = reg.body.id as string;
    const write = (i: number) =>
      i % 2 === 0
        ? t.http().post(api(`/cases/${id}/prioritisations`)).set('authorization', `Bearer ${cw}`).send({ priority: ['low', 'medium', 'high'][i % 3] })
        : t.http().post(api(`/cases/${id}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: UNIT_CODES[(i + 2) % 4] });
    const before = Array.from({ length: 8 }, (_, i) => write(i));
    const erase = t.http().post(api('/admin/erasures')).set('authorization', `Bearer ${admin}`).send({ personalIdentityNumber: pins[41], reason: 'Begäran om radering enligt artikel 17.' });
    const after = Array.from({ length: 8 }, (_, i) => write(i + 8));
    const results = await Promise.all([...before, ...after]);
    const erased = await erase;
    expect(erased.status).toBe(200);
    expect(erased.body.caseIds).toEqual([id]);
    for (const r of results) expect([201, 200, 404, 409, 412].includes(r.status) ? r.status : { status: r.status, body: r.body }).toBe(r.status);

    const erasure = await log(`type = 'PersonErased'`, []);
    expect(erasure).toHaveLength(1);
    const caseEvents = await log(`stream_id LIKE $1`, [`%${id}`]);
    for (const e of caseEvents) expect(Number(e.position)).toBeLessThan(Number(erasure[0]!.position));
    // Every accepted write is in the log (and so before the erasure).
    const accepted = results.filter((r) => r.status === 201 || r.status === 200).length;
    expect(caseEvents.length - 1).toBe(accepted);
    // And the case is gone for readers.
    expect((await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`)).status).toBe(404);
  });
});
