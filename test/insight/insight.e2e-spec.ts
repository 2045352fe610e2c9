import { parquetReadObjects } from 'hyparquet';
import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { UNIT_CODES } from '../../src/units/units.js';
import { type EventLike, FactsAccumulator } from '../../src/insight/snapshot/case-facts.js';
import { snapshotRow } from '../../src/insight/snapshot/snapshot-row.js';
import { manyPersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The insight story over real HTTP on real PostgreSQL. Municipality 2281 registers 40 people
 * (two of gender "other", so small cells exist), assesses and prioritises them in round 2026-H1,
 * closes it, and corrects an assessment afterwards. Between the rounds some cases move, some
 * close, new ones arrive; round 2026-H2 is assessed and closed. Then: frozen vs now, statistics
 * exact and suppressed, crosstab, compare, flows that add up, journeys, reports, the panel in
 * three formats, and a rebuild of the round from the event export that equals the server's.
 */
describe('insight: snapshots, aggregates, flows, reports, exports (end to end)', () => {
  let t: TestApp;
  let cw: string;
  let cw2: string;
  let po: string;
  let ev: string;
  const pins = manyPersonnummer(52, 7281);
  const caseIds: string[] = [];
  let round1: string;
  let round2: string;
  let last = 0;

  const api = (path: string) => `/api/v1/municipalities/2281${path}`;
  const track = <R extends { status: number; headers: Record<string, string>; body: unknown }>(r: R, expected?: number): R => {
    if (expected !== undefined && r.status !== expected) throw new Error(`expected ${expected}, got ${r.status}: ${JSON.stringify(r.body)}`);
    const p = Number(r.headers['x-event-position']);
    if (p > last) last = p;
    return r;
  };
  const post = async (token: string, path: string, body: object, expected = 200) => track(await t.http().post(api(path)).set('authorization', `Bearer ${token}`).send(body), expected);
  const get = (token: string, path: string) => t.http().get(api(path) + (path.includes('?') ? '&' : '?') + `minPosition=${last}`).set('authorization', `Bearer ${token}`);

  const answers = (i: number) => {
    const a = allUnknown(QUESTIONNAIRE_V1) as Record<string, unknown>;
    if (i % 4 !== 0) {
      a.education = ['none', 'compulsory', 'upper_secondary', 'post_secondary'][i % 4];
      a.mentalHealth = i % 2 === 0 ? 'severe_problems' : 'some_problems';
      a.workObstacles = i % 5 === 0 ? ['none'] : ['mental_health', 'language'];
      a.registeredWithEmploymentService = i % 3 === 0 ? 'deregistered_last_12_months' : 'registered';
    }
    return a;
  };

  async function register(i: number, effectiveDate: string): Promise<string> {
    const r = await post(
      cw,
      '/cases',
      {
        personalIdentityNumber: pins[i],
        gender: i === 7 || i === 19 ? 'other' : i % 2 === 0 ? 'female' : 'male',
        bornAbroad: i % 3 === 0 ? 'yes' : 'no',
        childrenInHousehold: i % 4 === 0 ? 'unknown' : i % 3,
        unit: UNIT_CODES[i % 4],
        effectiveDate,
      },
      201,
    );
    return (r.body as { id: string }).id;
  }

  async function assessRound(roundId: string, ids: string[]) {
    for (const [k, id] of ids.entries()) {
      const i = caseIds.indexOf(id);
      await post(k % 3 === 0 ? cw2 : cw, `/cases/${id}/assessments`, { roundId, answers: answers(i) }, 201);
      if (k % 5 !== 4) await post(cw, `/cases/${id}/prioritisations`, { priority: (['high', 'medium', 'low'] as const)[i % 3], roundId }, 201);
    }
  }

  const allPages = async (token: string, path: string) => {
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let first: Record<string, unknown> | undefined;
    do {
      const r = await get(token, `${path}${path.includes('?') ? '&' : '?'}limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      first ??= r.body;
      items.push(...r.body.items);
      cursor = r.body.nextCursor;
    } while (cursor);
    return { ...first!, items };
  };

  beforeAll(async () => {
    t = await startTestApp({ label: 'insight' });
    cw = await t.token('caseworker', ['2281'], 'anna-handlaggare');
    cw2 = await t.token('caseworker', ['2281'], 'bengt-handlaggare');
    po = await t.token('process_owner', ['2281'], 'per-processagare');
    ev = await t.token('evaluator', ['2281'], 'eva-utvarderare');
  }, 120_000);
  afterAll(() => t.close());

  it('round 2026-H1: 40 cases registered, benefit months, an intervention, assessed, prioritised and closed', async () => {
    round1 = ((await post(po, '/rounds', { label: '2026-H1', referenceDate: '2026-03-31', questionnaireVersion: 1 }, 201)).body as { id: string }).id;
    for (let i = 0; i < 40; i++) caseIds.push(await register(i, '2026-01-15'));
    // Ten people have had assistance every month of 2026 so far (long-term by October).
    for (let i = 0; i < 10; i++) for (let m = 1; m <= 10; m++) track(await t.http().put(api(`/cases/${caseIds[i]}/benefit-months/2026-${String(m).padStart(2, '0')}`)).set('authorization', `Bearer ${cw}`).send({}));
    for (let i = 0; i < 8; i++) await post(cw, `/cases/${caseIds[i]}/interventions`, { type: 'work_practice', provider: i % 2 ? 'employment_service' : 'municipality', startDate: '2026-02-01' }, 201);
    await assessRound(round1, caseIds);
    await post(po, `/rounds/${round1}/close`, {});
  });

  it('the frozen snapshot: one row per open case; caseworkers see personnummer (access-logged), evaluators pseudonyms', async () => {
    const s = await allPages(cw, `/rounds/${round1}/snapshot`);
    expect(s).toMatchObject({ knownAt: 'close', frozen: true, total: 40, round: { id: round1, status: 'closed' } });
    expect(s.items).toHaveLength(40);
    expect(new Set(s.items.map((r) => r.caseId))).toEqual(new Set(caseIds));
    const first = s.items.find((r) => r.caseId === caseIds[1])!;
    expect(String(first.personalIdentityNumber).replace('-', '')).toBe(pins[1]);
    expect(first).toMatchObject({ status: 'open', unit: UNIT_CODES[1], priority: 'medium', assessedBy: 'anna-handlaggare', benefitMonthsLast12: 3 });
    const logged = await t.pool.query(`SELECT count(*)::int AS n FROM access_log WHERE user_id = 'anna-handlaggare' AND endpoint LIKE '%/snapshot%'`);
    expect(logged.rows[0].n).toBe(40);

    const e = await allPages(ev, `/rounds/${round1}/snapshot`);
    expect(e.items).toHaveLength(40);
    for (const r of e.items) {
      expect(r).not.toHaveProperty('caseId');
      expect(r).not.toHaveProperty('personalIdentityNumber');
      expect(String(r.pseudonym)).toMatch(/^[a-z2-7]{26}$/);
      expect(String(r.assessedBy)).toMatch(/^staff-[0-9a-f]{16}$/);
    }
    expect(JSON.stringify(e.items)).not.toMatch(/handlaggare/);
    expect((await get(po, `/rounds/${round1}/snapshot`)).status).toBe(403);
    expect((await t.http().get(`/api/v1/municipalities/2262/rounds/${round1}/snapshot`).set('authorization', `Bearer ${cw}`)).status).toBe(404);
  });

  it('a correction after closing: the frozen snapshot keeps the original, knownAt=now shows the correction, a timestamp before it does not', async () => {
    await new Promise((r) => setTimeout(r, 30));
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 30));
    const id = caseIds[1]!;
    await post(cw, `/cases/${id}/assessments/${round1}/corrections`, { answers: { mentalHealth: 'no_problems' }, reason: 'Fel i bedömningen' }, 201);
    const row = async (knownAt: string) => {
      const r = await get(cw, `/rounds/${round1}/snapshot?limit=500&knownAt=${encodeURIComponent(knownAt)}`);
      expect(r.status).toBe(200);
      return r.body.items.find((x: { caseId: string }) => x.caseId === id);
    };
    expect((await row('close')).answers.mentalHealth).toBe('some_problems');
    expect((await row('now')).answers.mentalHealth).toBe('no_problems');
    expect((await row(before)).answers.mentalHealth).toBe('some_problems');
    expect((await row(new Date().toISOString())).answers.mentalHealth).toBe('no_problems');
    const bad = await get(cw, `/rounds/${round1}/snapshot?knownAt=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('knownAt');
  });

  it('between the rounds: transfers, closures, new cases; round 2026-H2 assessed and closed', async () => {
    for (let i = 0; i < 6; i++) await post(cw, `/cases/${caseIds[i]}/transfers`, { toUnit: UNIT_CODES[(i + 1) % 4], effectiveDate: '2026-06-01' }, 201);
    for (let i = 30; i < 36; i++) await post(cw, `/cases/${caseIds[i]}/close`, { reason: i % 2 ? 'employment' : 'studies', effectiveDate: '2026-05-10' });
    for (let i = 40; i < 46; i++) caseIds.push(await register(i, '2026-07-01'));
    round2 = ((await post(po, '/rounds', { label: '2026-H2', referenceDate: '2026-09-30', questionnaireVersion: 1 }, 201)).body as { id: string }).id;
    const open = caseIds.filter((_, i) => i < 30 || i >= 36);
    await assessRound(round2, open);
    await post(po, `/rounds/${round2}/close`, {});
  });

  it('flows: Sankey nodes and links that add up exactly to the two snapshots', async () => {
    const f = await get(po, `/flows?fromRound=${round1}&toRound=${round2}`);
    expect(f.status).toBe(200);
    // Exact counts for a caseworker; the sums are checked on those.
    const x = await get(cw, `/flows?fromRound=${round1}&toRound=${round2}`);
    const a = (await allPages(cw, `/rounds/${round1}/snapshot`)).items;
    const b = (await allPages(cw, `/rounds/${round2}/snapshot?status=all`)).items;
    const links = x.body.links as { source: string; target: string; count: number }[];
    const sum = (pred: (l: { source: string; target: string }) => boolean) => links.filter(pred).reduce((s, l) => s + l.count, 0);
    for (const u of UNIT_CODES) {
      expect(sum((l) => l.source === u)).toBe(a.filter((r) => r.unit === u).length);
      expect(sum((l) => l.target === u)).toBe(b.filter((r) => r.status === 'open' && r.unit === u).length);
    }
    expect(sum((l) => l.source === 'new')).toBe(6);
    expect(sum((l) => l.target === 'closed:employment')).toBe(3);
    expect(sum((l) => l.target === 'closed:studies')).toBe(3);
    expect(x.body.totals).toEqual({ from: { count: 40 }, new: { count: 6 }, to: { count: 40 }, left: { count: 6 } });
    // For the process owner, small links are hidden and never derivable from a node's total.
    const hiddenLinks = (f.body.links as { count: number | null; suppressed?: boolean }[]).filter((l) => l.count === null);
    expect(hiddenLinks.length).toBeGreaterThan(0);
    expect(hiddenLinks.every((l) => l.suppressed === true)).toBe(true);
    for (const l of f.body.links as { count: number | null }[]) if (l.count !== null) expect(l.count).toBeGreaterThanOrEqual(5);
    const bad = await get(po, `/flows?fromRound=${round2}&toRound=${round1}`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('toRound');
    expect((await get(po, `/flows?fromRound=${round1}`)).body.errors[0].path).toBe('toRound');
  });

  it('journeys and destination by priority', async () => {
    const j = await get(cw, `/flows/journeys?rounds=${round1},${round2}`);
    expect(j.status).toBe(200);
    expect(j.body.persons.count).toBe(46);
    expect((j.body.items as { count: number }[]).reduce((s, i) => s + i.count, 0)).toBe(46);
    expect(j.body.items).toEqual(expect.arrayContaining([{ units: [null, UNIT_CODES[0]], count: expect.any(Number) }]));
    const p = await get(po, `/flows/by-priority?fromRound=${round1}&toRound=${round2}`);
    expect(p.status).toBe(200);
    expect(p.body.test).toMatchObject({ degreesOfFreedom: expect.any(Number), pValue: expect.any(Number) });
  });

  it('statistics: exact for caseworkers, small cells hidden for process owners, evaluators and admins', async () => {
    const exact = await get(cw, `/rounds/${round1}/statistics?by=gender,unit`);
    expect(exact.status).toBe(200);
    expect(exact.body.population).toEqual({ cases: { count: 40 }, assessed: { count: 40 }, notAssessed: { count: 0 } });
    const mh = exact.body.questions.find((q: { key: string }) => q.key === 'mentalHealth');
    // Frozen: 10 of the 40 answered "vet ej" (every fourth), the correction after closing is not in it.
    expect(mh.unknownShare).toBeCloseTo(10 / 40, 10);
    const other = mh.by.gender.find((g: { value: string }) => g.value === 'other');
    expect(other.count).toBe(2);
    for (const token of [po, ev, await t.token('admin', ['2281'])]) {
      const s = await get(token, `/rounds/${round1}/statistics?by=gender,unit`);
      expect(s.status).toBe(200);
      expect(s.body.suppression).toMatchObject({ applied: true, minCell: 5, anySuppressed: true });
      const g = s.body.questions.find((q: { key: string }) => q.key === 'mentalHealth').by.gender.find((x: { value: string }) => x.value === 'other');
      expect(g).toMatchObject({ count: null, suppressed: true, unknownShare: null });
    }
    const bad = await get(po, `/rounds/${round1}/statistics?by=shoeSize`);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body.errors[0].path).toBe('by');
    expect((await get(po, `/rounds/${round1}/statistics?color=red`)).status).toBe(400);
  });

  it('crosstab with filters, and 400s that name the parameter', async () => {
    const r = await get(cw, `/rounds/${round1}/crosstab?rows=mentalHealth&columns=gender&filter[registeredWithEmploymentService]=deregistered_last_12_months`);
    expect(r.status).toBe(200);
    expect(r.body.population).toBe('assessed_open_cases');
    const expected = caseIds.slice(0, 40).filter((_, i) => i % 4 !== 0 && i % 3 === 0).length;
    expect(r.body.total.count).toBe(expected);
    const bad = await get(cw, `/rounds/${round1}/crosstab?rows=nope&columns=gender&filter[unit]=mars`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['filter[unit]', 'rows']);
  });

  it('compare is its own route (not a round id) and gives the change in each share', async () => {
    const r = await get(po, `/rounds/compare?from=${round1}&to=${round2}`);
    expect(r.status).toBe(200);
    const item = r.body.items.find((i: { key: string; option: string }) => i.key === 'mentalHealth' && i.option === 'unknown');
    expect(item).toMatchObject({ fromShare: expect.any(Number), toShare: expect.any(Number) });
    expect(item.change).toBeCloseTo(item.toShare - item.fromShare, 10);
    expect((await get(po, '/rounds/compare?from=' + round1)).body.errors[0].path).toBe('to');
  });

  it('reports: benefit duration, assessment consistency, support by gender', async () => {
    const d = await get(cw, '/reports/benefit-duration?year=2026');
    expect(d.status).toBe(200);
    // Persons 0–9: women 0, 2, 4, 6, 8; men 1, 3, 5, 9; person 7 has gender "other".
    expect(d.body.rows.find((r: { category: string }) => r.category === 'long_term')).toMatchObject({ total: { count: 10 }, women: { count: 5 }, men: { count: 4 } });
    const hidden = (await get(po, '/reports/benefit-duration?year=2026')).body.rows.find((r: { category: string }) => r.category === 'long_term');
    // Total minus women minus men would tell the one "other": something must be hidden.
    expect([hidden.total.count, hidden.women.count, hidden.men.count]).toContain(null);
    expect((await get(po, '/reports/benefit-duration?year=26')).body.errors[0].path).toBe('year');
    const c = await get(po, `/reports/assessment-consistency?roundId=${round1}`);
    expect(c.status).toBe(200);
    expect(c.body.caseworkers).toHaveLength(2);
    expect(JSON.stringify(c.body)).not.toMatch(/handlaggare/);
    expect(c.body.variables[0]).toMatchObject({ key: 'priority', test: { degreesOfFreedom: expect.any(Number), cramersV: expect.any(Number) } });
    const s = await get(cw, `/reports/support-by-gender?roundId=${round1}`);
    expect(s.body.rows.find((r: { gender: string; unit: string }) => r.gender === 'all' && r.unit === 'all')).toMatchObject({ cases: { count: 40 }, withInterventions: { count: 8 }, share: 0.2 });
    expect((await get(po, '/reports/support-by-gender')).body.errors[0].path).toBe('roundId');
  });

  it('panel export: CSV, NDJSON and Parquet with the same rows; only evaluators, only their municipalities', async () => {
    const panel = (format: string, token = ev, extra = '') => t.http().get(`/api/v1/exports/panel?municipalities=2281&format=${format}${extra}`).set('authorization', `Bearer ${token}`).buffer(true).parse((res, cb) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => cb(null, Buffer.concat(parts)));
    });
    const csv = await panel('csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (csv.body as Buffer).toString('utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    // Round 1: 40 persons; round 2: the 40 open + the 6 who closed stay in the panel.
    expect(lines).toHaveLength(1 + 40 + 46);
    for (const l of lines.slice(1)) expect(l.split(',')).not.toContain('');
    const at = (l: string, col: string) => l.split(',')[header.indexOf(col)];
    const closed = lines.filter((l) => at(l, 'status') === 'closed');
    expect(closed).toHaveLength(6);
    expect(closed.every((l) => at(l, 'unit') === 'not_applicable' && at(l, 'firstRound') === '2026-H1')).toBe(true);
    expect(lines.some((l) => at(l, 'education') === 'unknown')).toBe(true);
    const nd = await panel('ndjson');
    const objects = (nd.body as Buffer).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(objects).toHaveLength(86);
    const pq = await panel('parquet');
    expect(pq.headers['content-type']).toBe('application/vnd.apache.parquet');
    const buf = pq.body as Buffer;
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
    expect(rows).toHaveLength(86);
    expect(rows.map((r) => `${r.pseudonym}|${r.round}`).sort()).toEqual(objects.map((o) => `${o.pseudonym}|${o.round}`).sort());
    const byLabel = await panel('csv', ev, '&rounds=2026-h1');
    expect((byLabel.body as Buffer).toString('utf8').trimEnd().split('\n')).toHaveLength(41);
    expect((await panel('csv', po)).status).toBe(403);
    expect((await t.http().get('/api/v1/exports/panel?municipalities=2281,2262').set('authorization', `Bearer ${ev}`)).status).toBe(404);
    expect((await t.http().get('/api/v1/exports/panel?format=xlsx').set('authorization', `Bearer ${ev}`)).body.errors[0].path).toBe('format');
    const cb = await t.http().get('/api/v1/exports/codebook').set('authorization', `Bearer ${ev}`);
    expect(cb.body.columns.map((c: { name: string }) => c.name)).toEqual(header);
    expect(cb.body.columns.find((c: { name: string }) => c.name === 'mentalHealth').options).toEqual(expect.arrayContaining([{ code: 'unknown', label: 'Vet ej', missing: 'by_design', missingByDesign: true }]));
  });

  it('event export: pseudonymised NDJSON in global order; a rebuild of round 2026-H1 from it equals the server’s snapshot', async () => {
    const r = await t.http().get('/api/v1/exports/events?municipalities=2281').set('authorization', `Bearer ${ev}`).buffer(true).parse((res, cb) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString('utf8')));
      res.on('end', () => cb(null, s));
    });
    expect(r.status).toBe(200);
    const events = (r.body as string).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((a, b) => a - b));
    const text = r.body as string;
    for (const pin of pins.slice(0, 46)) expect(text).not.toContain(pin);
    expect(text).not.toMatch(/Ciphertext|Fel i bedömningen|handlaggare/);
    expect(events.every((e) => e.municipality === '2281')).toBe(true);

    // The evaluator's rebuild: fold every event before the RoundClosed with the same pure functions.
    const opened = events.find((e) => e.type === 'RoundOpened' && e.data.roundId === round1);
    const closedAt = events.find((e) => e.type === 'RoundClosed' && e.data.roundId === round1).position;
    const acc = new FactsAccumulator(new Set([round1]));
    for (const e of events.filter((x) => x.position < closedAt)) {
      acc.add({ stream: e.stream, tenant: e.municipality, type: e.type, position: e.position, version: 0, data: e.data, metadata: { effectiveDate: e.effectiveDate } } satisfies EventLike);
    }
    const rebuilt = [...acc.cases.values()]
      .map((f) => snapshotRow(f, acc.assessment(f.caseId, round1), { roundId: round1, referenceDate: opened.data.referenceDate }))
      .filter((x) => x !== null && x.status === 'open')
      .map((x) => {
        const { caseId: _c, ...rest } = x!;
        return rest;
      })
      .sort((a, b) => (a.pseudonym < b.pseudonym ? -1 : 1));
    const server = (await allPages(ev, `/rounds/${round1}/snapshot?knownAt=close`)).items;
    expect(rebuilt).toHaveLength(40);
    expect(server).toEqual(rebuilt);

    const tail = await t.http().get(`/api/v1/exports/events?fromPosition=${closedAt}`).set('authorization', `Bearer ${ev}`).buffer(true).parse((res, cb) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString('utf8')));
      res.on('end', () => cb(null, s));
    });
    const later = (tail.body as string).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(later[0].position).toBeGreaterThan(closedAt);
    // A case event in the tail still carries its person's pseudonym (looked up, not in the event itself).
    expect(later.find((e) => e.type === 'AssessmentCorrected').pseudonym).toMatch(/^[a-z2-7]{26}$/);
    expect((await t.http().get('/api/v1/exports/events').set('authorization', `Bearer ${cw}`)).status).toBe(403);
  });
  it('documents every insight endpoint in the OpenAPI description', async () => {
    const doc = await t.http().get('/api/docs-json');
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths);
    for (const p of [
      '/api/v1/municipalities/{code}/rounds/{id}/snapshot',
      '/api/v1/municipalities/{code}/rounds/{id}/statistics',
      '/api/v1/municipalities/{code}/rounds/{id}/crosstab',
      '/api/v1/municipalities/{code}/rounds/compare',
      '/api/v1/municipalities/{code}/flows',
      '/api/v1/municipalities/{code}/flows/journeys',
      '/api/v1/municipalities/{code}/flows/by-priority',
      '/api/v1/municipalities/{code}/reports/benefit-duration',
      '/api/v1/municipalities/{code}/reports/assessment-consistency',
      '/api/v1/municipalities/{code}/reports/support-by-gender',
      '/api/v1/exports/panel',
      '/api/v1/exports/events',
      '/api/v1/exports/codebook',
    ]) {
      expect(paths).toContain(p);
    }
    expect(JSON.stringify(doc.body.paths['/api/v1/municipalities/{code}/rounds/{id}/snapshot'])).toMatch(/knownAt/);
  });
});
