import { UNIT_CODES } from '../../units/units.js';
import { row } from '../testing/rows.fixtures.js';
import { type EventLike, FactsAccumulator } from '../snapshot/case-facts.js';
import { snapshotRow, type SnapshotRow } from '../snapshot/snapshot-row.js';
import { syntheticMunicipality } from '../testing/synthetic-municipality.js';
import { flows, flowsByPriority, journeys } from './flows.js';

/** Every round's snapshot rows of a synthetic municipality, folded in memory. */
function syntheticSnapshots(seed: number, cases: number, rounds: number): SnapshotRow[][] {
  const log = syntheticMunicipality({ municipality: '2281', cases, rounds, seed, historyYears: 2 });
  const acc = new FactsAccumulator();
  let position = 0;
  const versions = new Map<string, number>();
  for (const step of log.steps) {
    for (const { stream, tenant, event } of step) {
      const version = (versions.get(stream) ?? 0) + 1;
      versions.set(stream, version);
      acc.add({ stream, tenant, type: event.type, position: ++position, version, data: event.data, metadata: event.metadata } satisfies EventLike);
    }
  }
  return log.rounds.map((r) => [...acc.cases.values()].map((f) => snapshotRow(f, acc.assessment(f.caseId, r.roundId), r)).filter((x): x is SnapshotRow => x !== null));
}

describe('flows', () => {
  const snapshots = syntheticSnapshots(11, 400, 4);
  const exact = { protect: false, minCell: 5 };

  it('add up exactly to the two snapshots: out of each unit, into each unit, and new cases', () => {
    for (let i = 0; i + 1 < snapshots.length; i++) {
      const [a, b] = [snapshots[i]!, snapshots[i + 1]!];
      const f = flows(a, b, exact);
      const sum = (pred: (l: (typeof f.links)[number]) => boolean) => f.links.filter(pred).reduce((s, l) => s + l.count!, 0);
      for (const u of UNIT_CODES) {
        expect(sum((l) => l.source === u)).toBe(a.filter((r) => r.status === 'open' && r.unit === u).length);
        expect(sum((l) => l.target === u)).toBe(b.filter((r) => r.status === 'open' && r.unit === u).length);
      }
      const openA = new Set(a.filter((r) => r.status === 'open').map((r) => r.caseId));
      expect(sum((l) => l.source === 'new')).toBe(b.filter((r) => r.status === 'open' && !openA.has(r.caseId)).length);
      expect(sum(() => true)).toBe(openA.size + f.totals.new.count!);
      expect(f.totals.from.count).toBe(openA.size);
      expect(f.totals.to.count).toBe(b.filter((r) => r.status === 'open').length);
      // People do leave, and some come in new: the test exercises both.
      expect(f.totals.left.count).toBeGreaterThan(0);
      expect(f.totals.new.count).toBeGreaterThan(0);
      expect(f.links.some((l) => l.target.startsWith('closed:'))).toBe(true);
    }
  });

  it('hides small links for roles without individual data, keeping the node totals consistent', () => {
    const f = flows(snapshots[0]!, snapshots[1]!, { protect: true, minCell: 5 });
    const x = flows(snapshots[0]!, snapshots[1]!, exact);
    expect(f.suppression.anySuppressed).toBe(true);
    for (const l of f.links) {
      const truth = x.links.find((y) => y.source === l.source && y.target === l.target)!.count!;
      if (truth > 0 && truth < 5) expect(l).toMatchObject({ count: null, suppressed: true });
    }
    // A node with exactly one hidden link would give it away as node total minus the rest.
    for (const node of f.nodes) {
      const own = f.links.filter((l) => (node.side === 'source' ? l.source : l.target) === node.id);
      const hiddenLinks = own.filter((l) => l.count === null);
      if (node.count !== null && hiddenLinks.length === 1) {
        const t = x.links.find((y) => y.source === hiddenLinks[0]!.source && y.target === hiddenLinks[0]!.target)!.count!;
        expect(t >= 5).toBe(true);
      }
    }
  });

  it('by priority: the first round’s open cases by their priority and where they are at the second round', () => {
    const [a, b] = [snapshots[1]!, snapshots[2]!];
    const r = flowsByPriority(a, b, exact);
    expect(r.rows.reduce((s, x) => s + x.count!, 0)).toBe(a.filter((x) => x.status === 'open').length);
    const high = a.filter((x) => x.status === 'open' && x.priority === 'high').length;
    expect(r.byPriority.find((p) => p.priority === 'high')!.count).toBe(high);
    expect(r.test.degreesOfFreedom).toBeGreaterThan(0);
  });

  it('journeys count each person once over several rounds, with null before their first case', () => {
    const rows = (u: string[]) => u.map((unit, i) => row({ caseId: `k${i}`, pseudonym: `p${i}`, unit: unit as SnapshotRow['unit'] }));
    const r1 = rows(['vuxenstod', 'vuxenstod']);
    const r2 = [...rows(['vuxenstod', 'forsorjningsstod']), row({ caseId: 'k9', pseudonym: 'p9', unit: 'vuxenstod' })];
    const r3 = [row({ caseId: 'k0', pseudonym: 'p0', status: 'closed', unit: null, closureReason: 'employment' }), row({ caseId: 'k1', pseudonym: 'p1', unit: 'forsorjningsstod' }), row({ caseId: 'k9', pseudonym: 'p9', unit: 'vuxenstod' })];
    const j = journeys([r1, r2, r3], { protect: false, minCell: 5 });
    expect(j.persons.count).toBe(3);
    expect(j.items).toEqual(
      expect.arrayContaining([
        { units: ['vuxenstod', 'vuxenstod', 'closed:employment'], count: 1 },
        { units: ['vuxenstod', 'forsorjningsstod', 'forsorjningsstod'], count: 1 },
        { units: [null, 'vuxenstod', 'vuxenstod'], count: 1 },
      ]),
    );
    const hidden = journeys([r1, r2, r3], { protect: true, minCell: 5 });
    expect(hidden.items.every((i) => i.count === null)).toBe(true);
    expect(hidden.persons.count).toBeNull();
  });
});
