import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { manyPersonnummer, personnummerVariants } from '../support/personnummer.js';
import { describeHits, scanForClearText, withoutUuids } from '../support/pii-scan.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Erasure story over HTTP: ten people are registered and assessed in round 2026-H1, which is
 * closed (frozen); one of them, with free text in her file and an idempotent registration, asks
 * to be erased. Afterwards her case is gone for every reader, nothing about her is readable in
 * the database, the frozen round counts exactly as before, live views and lists drop her, the
 * log is the same log plus one PersonErased, and the access log says who erased, not whose number.
 */
describe('erasure (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let po: string;
  let admin: string;
  const pins = manyPersonnummer(10, 8);
  const target = 3;
  const caseIds: string[] = [];
  let round1: string;
  let lastPosition = 0;
  let erasurePosition = 0;
  let statisticsBefore: Record<string, unknown>;
  let exportedPseudonym: string;
  let reRegistered: string;
  let logBefore: { pos: string; event_id: string }[];
  const REASON = 'Begäran om radering från den registrerade, beslut 2026-11-20 dnr SOC 2026/4711';
  const FREE_TEXT = 'Samtal om missbruk hos Kalle Karlsson';

  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const eventCount = async () => Number((await t.pool.query('SELECT count(*) FROM events')).rows[0].count);
  const track = <R extends { headers: Record<string, string> }>(r: R): R => {
    const p = Number(r.headers['x-event-position']);
    if (p > lastPosition) lastPosition = p;
    return r;
  };
  let ev: string;
  /** The frozen round's statistics as a caseworker sees them (exact counts). */
  const frozenStatistics = async () => {
    const r = await t.http().get(api(`/rounds/${round1}/statistics?by=gender,unit&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ knownAt: 'close', frozen: true });
    const { position: _p, ...rest } = r.body;
    return rest;
  };
  const ndjson = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const exportOf = async (path: string) => {
    const r = await t.http().get(`/api/v1/exports/${path}`).set('authorization', `Bearer ${ev}`).buffer(true).parse((res, cb) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => cb(null, text));
    });
    expect(r.status).toBe(200);
    return ndjson(r.body as string);
  };

  beforeAll(async () => {
    t = await startTestApp({ label: 'erasure' });
    cw = await t.token('caseworker', ['2281'], 'anna-handlaggare');
    po = await t.token('process_owner', ['2281'], 'per-processagare');
    admin = await t.token('admin', ['2281'], 'karin-admin');
    ev = await t.token('evaluator', ['2281'], 'eva-utvarderare');
  });
  afterAll(() => t.close());

  it('sets the scene: ten people assessed in a round that is then closed', async () => {
    const r = track(await t.http().post(api('/rounds')).set('authorization', `Bearer ${po}`).send({ label: '2026-H1', referenceDate: '2026-06-30', questionnaireVersion: 1 }));
    round1 = r.body.id;
    for (const [i, pin] of pins.entries()) {
      const reg = track(
        await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).set('idempotency-key', `reg-${i}`).send({
          personalIdentityNumber: pin,
          gender: i % 2 === 0 ? 'female' : 'male',
          bornAbroad: 'unknown',
          childrenInHousehold: i % 3,
          unit: UNIT_CODES[i % 4],
          effectiveDate: '2026-01-15',
        }),
      );
      expect(reg.status).toBe(201);
      caseIds.push(reg.body.id);
      const answers = { ...allUnknown(QUESTIONNAIRE_V1), mentalHealth: i === target ? 'severe_problems' : 'some_problems', substanceAbuse: i === target ? 'active' : 'never' };
      expect(track(await t.http().post(api(`/cases/${reg.body.id}/assessments`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, answers })).status).toBe(201);
      expect(track(await t.http().post(api(`/cases/${reg.body.id}/prioritisations`)).set('authorization', `Bearer ${cw}`).send({ roundId: round1, priority: 'high' })).status).toBe(201);
    }
    const id = caseIds[target]!;
    expect(track(await t.http().post(api(`/cases/${id}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'arbete-och-integration', effectiveDate: '2026-03-01', reason: FREE_TEXT })).status).toBe(201);
    expect(track(await t.http().put(api(`/cases/${id}/benefit-months/2026-02`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    expect(track(await t.http().post(api(`/rounds/${round1}/close`)).set('authorization', `Bearer ${po}`)).status).toBe(200);
    // The reads before erasure: the case (access-logged), the frozen round.
    expect((await t.http().get(api(`/cases/${id}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    statisticsBefore = await frozenStatistics();
    expect(JSON.stringify(statisticsBefore)).toContain('active');
    const events = await exportOf(`events?municipalities=2281`);
    exportedPseudonym = events.find((e) => e.stream === `case-2281-${id}` && e.type === 'CaseRegistered')!.pseudonym as string;
    expect(exportedPseudonym).toMatch(/^[a-z2-7]{26}$/);
    const panel = await exportOf(`panel?municipalities=2281&format=ndjson&minPosition=${lastPosition}`);
    expect(panel.map((r) => r.pseudonym)).toContain(exportedPseudonym);
    logBefore = (await t.pool.query('SELECT position::text AS pos, id::text AS event_id FROM events ORDER BY events.position')).rows;
  });

  it('refuses what is not an admin\'s erasure of a known person, writing nothing', async () => {
    const before = await eventCount();
    const send = (token: string, body: unknown, code = '2281') => t.http().post(`/api/v1/municipalities/${code}/admin/erasures`).set('authorization', `Bearer ${token}`).send(body as object);
    expect((await send(cw, { personalIdentityNumber: pins[target], reason: 'x' })).status).toBe(403);
    expect((await send(admin, { personalIdentityNumber: pins[target], reason: 'x' }, '2262')).status).toBe(404);
    const unknown = await send(admin, { personalIdentityNumber: manyPersonnummer(1, 4242)[0], reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toMatch(/person-not-found$/);
    const bad = await send(admin, { personalIdentityNumber: '198503122380', reason: '  ' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['personalIdentityNumber', 'reason']);
    expect((await send(admin, { personalIdentityNumber: pins[target] })).status).toBe(400);
    expect(await eventCount()).toBe(before);
    expect((await t.http().get(api(`/cases/${caseIds[target]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
  });

  it('an admin erases the person: 200, one PersonErased, the key destroyed', async () => {
    const r = await t.http().post(api('/admin/erasures')).set('authorization', `Bearer ${admin}`).set('idempotency-key', 'erase-1').send({ personalIdentityNumber: pins[target], reason: REASON });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ erased: true, erasureId: expect.stringMatching(/^[0-9a-f-]{36}$/), caseIds: [caseIds[target]] });
    erasurePosition = Number(r.headers['x-event-position']);
    expect(erasurePosition).toBeGreaterThan(lastPosition);
    lastPosition = erasurePosition;
    const { rows } = await t.pool.query(`SELECT stream_id, tenant, type, data, metadata FROM events WHERE position = $1`, [erasurePosition]);
    expect(rows[0]).toMatchObject({ stream_id: 'erasures-2281', tenant: '2281', type: 'PersonErased', metadata: { actor: 'karin-admin' } });
    expect(Object.keys(rows[0].data).sort()).toEqual(['basis', 'caseIds', 'pseudonym', 'reasonHash']);
    expect(rows[0].data).toMatchObject({ basis: 'request', caseIds: [caseIds[target]], reasonHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const key = await t.pool.query(`SELECT k.wrapped_key, k.shredded_at, p.pin_ciphertext FROM person_keys k JOIN persons p USING (municipality, pseudonym) WHERE k.pseudonym = $1`, [rows[0].data.pseudonym]);
    expect(key.rows[0]).toMatchObject({ wrapped_key: null, pin_ciphertext: null, shredded_at: expect.any(Date) });
  });

  it('her case answers 404 to every reader and every command, and nothing more is written to it', async () => {
    const id = caseIds[target]!;
    for (const path of [`/cases/${id}`, `/cases/${id}/history`]) {
      const r = await t.http().get(api(path)).set('authorization', `Bearer ${cw}`);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const before = await eventCount();
    const commands = [
      t.http().post(api(`/cases/${id}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'vuxenstod', reason: 'mer text' }),
      t.http().post(api(`/cases/${id}/transfers`)).set('authorization', `Bearer ${cw}`).send({ toUnit: 'vuxenstod' }),
      t.http().put(api(`/cases/${id}/benefit-months/2026-03`)).set('authorization', `Bearer ${cw}`),
      t.http().post(api(`/cases/${id}/close`)).set('authorization', `Bearer ${cw}`).send({ reason: 'moved' }),
      t.http().post(api(`/cases/${id}/prioritisations`)).set('authorization', `Bearer ${cw}`).send({ priority: 'low', reason: 'text' }),
    ];
    for (const c of commands) expect((await c).status).toBe(404);
    expect(await eventCount()).toBe(before);
  });

  it('lists, imports and live views no longer contain her; the others are untouched', async () => {
    const list = await t.http().get(api(`/cases?limit=500&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { id: string }) => c.id).sort()).toEqual(caseIds.filter((_, i) => i !== target).sort());
    const csv = `personalIdentityNumber,month\n${pins[target]},2026-04\n`;
    const imp = await t.http().post(api('/benefit-months/import')).set('authorization', `Bearer ${cw}`).set('content-type', 'text/csv').send(csv);
    expect(imp.body.summary).toMatchObject({ unknownPerson: 1, recorded: 0 });
    const now = await t.http().get(api(`/rounds/${round1}/snapshot?knownAt=now&limit=500&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(now.status).toBe(200);
    expect(now.body.items.map((r: { caseId: string }) => r.caseId).sort()).toEqual(caseIds.filter((_, i) => i !== target).sort());
    const frozen = await t.http().get(api(`/rounds/${round1}/snapshot?knownAt=close&limit=500&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(frozen.body.items.map((r: { caseId: string }) => r.caseId).sort()).toEqual(caseIds.filter((_, i) => i !== target).sort());
    expect((await t.http().get(api(`/cases/${caseIds[0]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    expect((await t.http().get(api(`/rounds/${round1}?minPosition=${lastPosition}`)).set('authorization', `Bearer ${po}`)).status).toBe(200);
  });

  it('the frozen round keeps its numbers', async () => {
    const after = await frozenStatistics();
    expect(after).toEqual(statisticsBefore);
    expect(after.assessed).toBe(10);
    // Live (as corrected since): one person fewer.
    const now = await t.http().get(api(`/rounds/${round1}/statistics?knownAt=now&minPosition=${lastPosition}`)).set('authorization', `Bearer ${cw}`);
    expect(now.status).toBe(200);
    expect(now.body.assessed).toBe(9);
  });

  it('exports no longer contain her: no panel row, no event of her case', async () => {
    const panel = await exportOf(`panel?municipalities=2281&format=ndjson&minPosition=${lastPosition}`);
    expect(panel.length).toBeGreaterThan(0);
    expect(panel.map((r) => r.pseudonym)).not.toContain(exportedPseudonym);
    const events = await exportOf(`events?municipalities=2281`);
    expect(events.filter((e) => e.stream === `case-2281-${caseIds[target]}`)).toEqual([]);
    // What is left of her: the PersonErased itself, so evaluators can drop the pseudonym from earlier exports.
    expect(events.filter((e) => e.pseudonym === exportedPseudonym).map((e) => e.type)).toEqual(['PersonErased']);
    expect(withoutUuids(JSON.stringify(events))).not.toContain(pins[target]!.slice(2, 8));
  });

  it('her row in the frozen snapshot is anonymous', async () => {
    const { rows } = await t.pool.query(`SELECT n.nspname AS schema FROM pg_namespace n WHERE n.nspname LIKE 'proj_round_snapshots_v%' ORDER BY 1 DESC LIMIT 1`);
    const frozen = await t.pool.query(`SELECT case_id, pseudonym, row FROM "${rows[0].schema}".snapshot_rows WHERE tenant = '2281' AND round_id = $1`, [round1]);
    expect(frozen.rows).toHaveLength(10);
    expect(JSON.stringify(frozen.rows)).not.toContain(caseIds[target]);
    expect(JSON.stringify(frozen.rows)).not.toContain(exportedPseudonym);
    const anonymous = frozen.rows.filter((r) => r.row.erased === true);
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]).toMatchObject({ case_id: expect.stringMatching(/^erased-/), pseudonym: '', row: { answers: { substanceAbuse: 'active' } } });
  });

  it('no personnummer, free text or reason in clear text anywhere; no read model row links to her', async () => {
    // Async read models first: case_list has processed the erasure (minPosition above).
    const hits = await scanForClearText(t.pool, [...personnummerVariants(pins[target]!), FREE_TEXT, REASON, 'Kalle Karlsson', 'dnr SOC 2026/4711']);
    expect(describeHits(hits)).toBe('');
    const pseudonym = (await t.pool.query(`SELECT data->>'pseudonym' AS p FROM events WHERE position = $1`, [erasurePosition])).rows[0].p as string;
    // Only the log (append-only), the vault's shredded key row and the audit trail still name the pseudonym.
    const where = await scanForClearText(t.pool, [pseudonym, caseIds[target]!]);
    const tables = [...new Set(where.map((h) => `${h.schema.replace(/_v\d+(_r\d+)?$/, '')}.${h.table}`))].sort();
    const allowed = ['public.access_log', 'public.event_streams', 'public.events', 'public.person_keys', 'public.persons', 'proj_erased_cases.erased_cases'];
    expect(tables.filter((x) => !allowed.includes(x))).toEqual([]);
    expect(tables).toContain('public.events');
  });

  it('her idempotent registration can no longer be replayed', async () => {
    const { rows } = await t.pool.query(`SELECT key FROM idempotency_keys WHERE key LIKE 'reg-%' ORDER BY key`);
    expect(rows.map((r) => r.key)).not.toContain(`reg-${target}`);
    expect(rows).toHaveLength(pins.length - 1);
  });

  it('the log is the same log plus the PersonErased event, in the same order', async () => {
    const after = (await t.pool.query('SELECT position::text AS pos, id::text AS event_id, type FROM events ORDER BY events.position')).rows;
    expect(after.slice(0, logBefore.length).map(({ pos, event_id }) => ({ pos, event_id }))).toEqual(logBefore);
    // Between the snapshot of the log and now: only the PersonErased (the refused commands wrote nothing).
    expect(after.slice(logBefore.length).map((e) => e.type)).toEqual(['PersonErased']);
  });

  it('the audit trail says who erased and when, not whose number or why', async () => {
    const r = await t.http().get(api(`/admin/access-log?caseId=${caseIds[target]}`)).set('authorization', `Bearer ${admin}`);
    expect(r.status).toBe(200);
    const erasure = r.body.items.find((e: { purpose: string }) => e.purpose === 'erasure (request)');
    expect(erasure).toMatchObject({ userId: 'karin-admin', roles: ['admin'], caseId: caseIds[target], endpoint: 'POST /api/v1/municipalities/2281/admin/erasures' });
    expect(r.body.items.some((e: { userId: string }) => e.userId === 'anna-handlaggare')).toBe(true); // earlier reads stay accountable
    const text = withoutUuids(JSON.stringify(r.body));
    expect(text).not.toContain(pins[target]!.slice(0, 8));
    expect(text).not.toContain('4711');
    expect(text).not.toMatch(/radering|dnr|SOC/i);
  });

  it('a repeated erasure answers 200 with erased: false and writes nothing', async () => {
    const before = await eventCount();
    const r = await t.http().post(api('/admin/erasures')).set('authorization', `Bearer ${admin}`).send({ personalIdentityNumber: pins[target], reason: 'again' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ erased: false, caseIds: [caseIds[target]] });
    expect(await eventCount()).toBe(before);
    const replay = await t.http().post(api('/admin/erasures')).set('authorization', `Bearer ${admin}`).set('idempotency-key', 'erase-1').send({ personalIdentityNumber: pins[target], reason: REASON });
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotency-replayed']).toBe('true');
  });

  it('erases by pseudonym too (after restoring an older backup), but not with both or a malformed one', async () => {
    const other = 5;
    const before = await eventCount();
    // Her case was read before: the access log names its pseudonym, as it would after a restore.
    expect((await t.http().get(api(`/cases/${caseIds[other]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(200);
    const log = await t.http().get(api(`/admin/access-log?caseId=${caseIds[other]}`)).set('authorization', `Bearer ${admin}`);
    const pseudonym = log.body.items.find((e: { pseudonym: string | null }) => e.pseudonym)!.pseudonym as string;
    const send = (body: object) => t.http().post(api('/admin/erasures')).set('authorization', `Bearer ${admin}`).send(body);
    expect((await send({ pseudonym, personalIdentityNumber: pins[other], reason: 'x' })).status).toBe(400);
    expect((await send({ pseudonym: 'NOT-A-PSEUDONYM', reason: 'x' })).status).toBe(400);
    expect((await send({ reason: 'x' })).status).toBe(400);
    expect((await send({ pseudonym: 'a'.repeat(26), reason: 'x' })).status).toBe(404);
    expect(await eventCount()).toBe(before);
    const r = await send({ pseudonym, reason: 'återställd säkerhetskopia' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ erased: true, caseIds: [caseIds[other]] });
    expect((await t.http().get(api(`/cases/${caseIds[other]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(404);
  });

  it('the person can be registered again: a new case under a new key, the old one stays erased', async () => {
    const r = track(
      await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: pins[target], gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' }),
    );
    expect(r.status).toBe(201);
    expect(r.body.id).not.toBe(caseIds[target]);
    expect(r.body.personalIdentityNumber.replace('-', '')).toBe(pins[target]);
    expect(r.body.assessments).toEqual({});
    expect((await t.http().get(api(`/cases/${caseIds[target]}`)).set('authorization', `Bearer ${cw}`)).status).toBe(404);
    reRegistered = r.body.id;
  });

  it('read models rebuilt from the log still leave her erased cases out (the projections handle PersonErased)', async () => {
    const names = ['case_list', 'open_cases', 'erased_cases', 'round_snapshots'];
    for (const name of names) expect((await t.http().post(`/api/v1/admin/projections/${name}/rebuild`).set('authorization', `Bearer ${admin}`)).status).toBe(202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const items = (await t.http().get('/api/v1/admin/projections').set('authorization', `Bearer ${admin}`)).body.items as { name: string; schema: string; rebuild: unknown }[];
      if (names.every((n) => items.find((i) => i.name === n && /_r1$/.test(i.schema) && i.rebuild === null))) break;
      if (Date.now() > deadline) throw new Error(`rebuilds did not finish: ${JSON.stringify(items.map((i) => [i.name, i.schema]))}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const head = Number((await t.pool.query('SELECT max(position) AS p FROM events')).rows[0].p);
    const list = await t.http().get(api(`/cases?limit=500&minPosition=${head}`)).set('authorization', `Bearer ${cw}`);
    const ids = list.body.items.map((c: { id: string }) => c.id);
    expect(ids).not.toContain(caseIds[target]);
    expect(ids).not.toContain(caseIds[5]);
    expect(ids).toContain(reRegistered);
    expect(await frozenStatistics()).toEqual(statisticsBefore);
    const before = await eventCount();
    expect((await t.http().post(api(`/cases/${caseIds[target]}/close`)).set('authorization', `Bearer ${cw}`).send({ reason: 'moved' })).status).toBe(404);
    expect(await eventCount()).toBe(before);
    // The person's open case is the new one: a second registration is refused by the rebuilt view.
    const dup = await t.http().post(api('/cases')).set('authorization', `Bearer ${cw}`).send({ personalIdentityNumber: pins[target], gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' });
    expect(dup.status).toBe(409);
    expect(dup.body.caseId).toBe(reRegistered);
  });
});
