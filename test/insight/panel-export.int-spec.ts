import { PanelExporter, onePerPerson } from '../../src/insight/exports/panel-export.js';
import { panelColumns, panelEncoder, type PanelRecord } from '../../src/insight/exports/panel.js';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { roundSnapshotsProjection, ROUND_SNAPSHOTS } from '../../src/insight/snapshot/round-snapshot.projection.js';
import { SnapshotSource } from '../../src/insight/snapshot/snapshot-source.js';
import { syntheticMunicipality } from '../../src/insight/testing/synthetic-municipality.js';
import { type Instance, type Kit, projectionKit } from '../projections/projection-test-kit.js';
import { appendSynthetic, Seeder } from './insight-seed.js';

/**
 * The panel read in pages of a few rows, so that pages end in the middle of a person with two
 * cases, must give exactly what the rounds' frames give when read whole.
 */
describe('panel export in pages', () => {
  let kit: Kit;
  let app: Instance;
  let source: SnapshotSource;

  beforeAll(async () => {
    kit = await projectionKit('insight_panel');
    app = kit.instance();
    await app.engine.register(roundSnapshotsProjection);
    await app.engine.start();
    source = new SnapshotSource(app.engine, app.store);
  });
  afterAll(() => kit.close());

  it('equals the frames: one row per person per round from their first open round on, whatever the page size', async () => {
    const log = syntheticMunicipality({ municipality: '2281', cases: 80, rounds: 3, seed: 5, historyYears: 1 });
    await appendSynthetic(app.store, log);
    // Some people have a second case: closed, then registered again under the same pseudonym.
    const seed = new Seeder(app.store);
    for (let i = 0; i < 6; i++) await seed.register({ pseudonym: `ps${String(i).padStart(7, '0')}2281`, on: '2021-01-10', unit: 'vuxenstod' });
    const { roundId } = await seed.openRound('2026-H1', '2026-03-31');
    const head = await seed.closeRound(roundId, '2026-04-20');
    await app.engine.waitFor(ROUND_SNAPSHOTS, head, 60_000);

    // Expected, from whole frames.
    const rounds = await source.rounds('2281');
    const columns = panelColumns([QUESTIONNAIRE_V1]);
    const first = new Map<string, string>();
    const expected: PanelRecord[] = [];
    let straddled = 0;
    for (const r of rounds) {
      const frame = await source.frame('2281', r, { kind: 'close' });
      const persons = onePerPerson(frame.rows);
      straddled += frame.rows.length - persons.length;
      for (const p of persons) {
        if (p.status === 'open' && !first.has(p.pseudonym)) first.set(p.pseudonym, r.label);
        const ctx = { municipality: '2281', roundId: r.roundId, label: r.label, referenceDate: r.referenceDate, questionnaire: frame.questionnaire, firstRound: undefined };
        if (first.has(p.pseudonym)) expected.push(panelEncoder(ctx, columns)(p, first.get(p.pseudonym)));
      }
    }
    expect(straddled).toBeGreaterThan(0);

    for (const pageSize of [3, 7, 5000]) {
      const exporter = new PanelExporter(source);
      exporter.pageSize = pageSize;
      const plan = await exporter.plan(['2281'], [], { kind: 'close' });
      const got: PanelRecord[] = [];
      for await (const page of exporter.records(plan)) got.push(...page.map((item) => item.record()));
      const key = (x: PanelRecord) => `${x.pseudonym}|${x.round}`;
      // The frozen path (values taken out by PostgreSQL) gives the same records as the encoder on whole rows.
      expect([...got].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual([...expected].sort((a, b) => (key(a) < key(b) ? -1 : 1)));
    }
  });
});
