import { allUnknown } from '../../src/questionnaires/answers.fixtures.js';
import { roundSnapshotsProjection, ROUND_SNAPSHOTS } from '../../src/insight/snapshot/round-snapshot.projection.js';
import { SnapshotSource } from '../../src/insight/snapshot/snapshot-source.js';
import { syntheticMunicipality } from '../../src/insight/testing/synthetic-municipality.js';
import { searchPathSql } from '../../src/shared/projections/projection-schema.js';
import { allEvents, type Instance, type Kit, projectionKit } from '../projections/projection-test-kit.js';
import { appendSynthetic, Seeder } from './insight-seed.js';

describe('round_snapshots projection: freezing at RoundClosed, close vs now vs knownAt', () => {
  let kit: Kit;
  let app: Instance;
  let source: SnapshotSource;
  let seed: Seeder;

  beforeAll(async () => {
    kit = await projectionKit('insight_snap');
    app = kit.instance();
    await app.engine.register(roundSnapshotsProjection);
    await app.engine.start();
    source = new SnapshotSource(app.engine, app.store);
    seed = new Seeder(app.store);
  });
  afterAll(() => kit.close());

  const answers = (over: Record<string, unknown> = {}) => ({ ...allUnknown(), mentalHealth: 'some_problems', ...over });

  it('freezes the round as known at closing; knownAt=now shows a later correction; a timestamp before it shows the frozen values', async () => {
    const { roundId } = await seed.openRound('2026-H1', '2026-03-31');
    const anna = await seed.register({ pseudonym: 'ps-anna', gender: 'female', unit: 'forsorjningsstod', on: '2025-06-01' });
    const bo = await seed.register({ pseudonym: 'ps-bo', gender: 'male', unit: 'vuxenstod', on: '2025-06-01' });
    const late = await seed.register({ pseudonym: 'ps-late', on: '2026-04-02' }); // registered after the reference date
    const gone = await seed.register({ pseudonym: 'ps-gone', on: '2025-06-01' });
    await seed.caseEvent(gone, 'CaseClosed', { reason: 'employment', fromUnit: 'forsorjningsstod' }, '2026-02-10');
    await seed.caseEvent(anna, 'AssessmentRecorded', { roundId, questionnaireVersion: 1, answers: answers(), assessedBy: 'cw-1' }, '2026-04-03');
    await seed.caseEvent(anna, 'PrioritySet', { priority: 'high', roundId, reasonCiphertext: null }, '2026-04-03');
    await seed.caseEvent(bo, 'BenefitMonthRecorded', { month: '2026-03' }, '2026-03-01');
    await seed.caseEvent(bo, 'CaseTransferred', { fromUnit: 'vuxenstod', toUnit: 'arbete-och-integration', reasonCiphertext: null }, '2026-04-05');
    const closedAt = await seed.closeRound(roundId, '2026-04-20');

    // After closing: a correction of Anna's assessment and a back-dated transfer of Bo.
    await new Promise((r) => setTimeout(r, 20));
    const beforeCorrection = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const corrected = await seed.caseEvent(anna, 'AssessmentCorrected', { roundId, answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:secret', correctedBy: 'cw-2' }, '2026-04-03');
    await app.engine.waitFor(ROUND_SNAPSHOTS, corrected);

    const round = await source.round('2281', roundId);
    expect(round.closedPosition).toBe(closedAt);
    const frozen = await source.frame('2281', round, { kind: 'close' });
    expect(frozen.frozen).toBe(true);
    expect(frozen.rows.map((r) => r.pseudonym).sort()).toEqual(['ps-anna', 'ps-bo', 'ps-gone']);
    const byPs = (rows: typeof frozen.rows, ps: string) => rows.find((r) => r.pseudonym === ps)!;
    expect(byPs(frozen.rows, 'ps-anna')).toMatchObject({ status: 'open', unit: 'forsorjningsstod', priority: 'high', assessedBy: 'cw-1', answers: { mentalHealth: 'some_problems' } });
    expect(byPs(frozen.rows, 'ps-bo')).toMatchObject({ status: 'open', unit: 'vuxenstod', answers: null, priority: null, benefitMonthsLast12: 1 });
    expect(byPs(frozen.rows, 'ps-gone')).toMatchObject({ status: 'closed', unit: null, closureReason: 'employment' });
    expect(late).toBeDefined();

    const now = await source.frame('2281', round, { kind: 'now' });
    expect(now.frozen).toBe(false);
    expect(byPs(now.rows, 'ps-anna').answers).toMatchObject({ mentalHealth: 'severe_problems' });
    // Everything but the correction is the same.
    expect(now.rows.map((r) => ({ ...r, answers: null }))).toEqual(frozen.rows.map((r) => ({ ...r, answers: null })));

    const then = await source.frame('2281', round, { kind: 'at', at: beforeCorrection });
    expect(then.rows).toEqual(frozen.rows);
    const later = await source.frame('2281', round, { kind: 'at', at: new Date() });
    expect(later.rows).toEqual(now.rows);
    // A time before the round was opened: the round was not known then.
    await expect(source.frame('2281', round, { kind: 'at', at: new Date(Date.now() - 86_400_000) })).rejects.toMatchObject({ slug: 'round-not-found' });

    // The ciphertext of the reason never reaches the read side.
    const { rows } = await kit.pool.query(`SELECT count(*)::int AS n FROM ${(await app.engine.liveSchema(ROUND_SNAPSHOTS))}.insight_assessments WHERE events::text LIKE '%vault:%'`);
    expect(rows[0].n).toBe(0);
  });

  it('an open round has no frozen view (409) but a live one', async () => {
    const { roundId } = await seed.openRound('2026-H2', '2026-09-30');
    const round = await source.round('2281', roundId);
    expect(source.defaultKnownAt(round)).toEqual({ kind: 'now' });
    await expect(source.frame('2281', round, { kind: 'close' })).rejects.toMatchObject({ slug: 'round-not-closed' });
    expect((await source.frame('2281', round)).rows.length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown round and a round of another municipality', async () => {
    const other = new Seeder(app.store, '2262');
    const { roundId } = await other.openRound('2026-H1', '2026-03-31');
    await expect(source.round('2281', roundId)).rejects.toMatchObject({ slug: 'round-not-found' });
    await expect(source.round('2281', 'no-such-round')).rejects.toMatchObject({ slug: 'round-not-found' });
  });

  it('on a synthetic municipality every frozen snapshot equals a replay of the log up to its RoundClosed, and now equals a replay of everything', async () => {
    const log = syntheticMunicipality({ municipality: '2280', cases: 150, rounds: 4, seed: 7, historyYears: 2 });
    const head = await appendSynthetic(app.store, log);
    await app.engine.waitFor(ROUND_SNAPSHOTS, head, 60_000);
    let correctedSomewhere = false;
    for (const r of log.rounds) {
      const round = await source.round('2280', r.roundId);
      const frozen = await source.frame('2280', round, { kind: 'close' });
      const replayed = await source.frame('2280', round, { kind: 'position', position: round.closedPosition! - 1 });
      expect(frozen.rows.length).toBeGreaterThan(50);
      expect(replayed.rows).toEqual(frozen.rows);
      const now = await source.frame('2280', round, { kind: 'now' });
      const all = await source.frame('2280', round, { kind: 'position', position: head });
      expect(all.rows).toEqual(now.rows);
      if (JSON.stringify(now.rows) !== JSON.stringify(frozen.rows)) correctedSomewhere = true;
    }
    // The synthetic history corrects some assessments after closing: frozen and now must differ somewhere.
    expect(correctedSomewhere).toBe(true);
  });

  it('is idempotent: applying the whole log again leaves every table unchanged', async () => {
    const events = (await allEvents(app.store)).filter((e) => roundSnapshotsProjection.handles.includes(e.type));
    const build = await app.engine.buildAsOf(ROUND_SNAPSHOTS, { position: events[events.length - 1]!.position });
    const dump = async () => {
      const out: Record<string, unknown[]> = {};
      for (const t of ['insight_cases', 'insight_assessments', 'insight_rounds', 'insight_questionnaires', 'snapshot_rows']) {
        out[t] = (await kit.pool.query(`SELECT * FROM ${build.schema}.${t} ORDER BY 1, 2, 3`)).rows;
      }
      return out;
    };
    try {
      const before = await dump();
      const client = await kit.pool.connect();
      try {
        await client.query(`BEGIN; ${searchPathSql(build.schema)}`);
        for (let i = 0; i < events.length; i += 500) await roundSnapshotsProjection.apply(client, events.slice(i, i + 500));
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      expect(await dump()).toEqual(before);
      expect(before.snapshot_rows!.length).toBeGreaterThan(100);
    } finally {
      await app.engine.dropTimeTravel(build.schema);
    }
  });
});
