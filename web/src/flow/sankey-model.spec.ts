import { flowNodeLabel, sankeyModel } from './sankey-model';

describe('Sankey model of a flow between two rounds', () => {
  const flow = {
    nodes: [],
    links: [
      { source: 'new', target: 'arbete-och-integration', count: 5 },
      { source: 'forsorjningsstod', target: 'closed:employment', count: 6 },
      { source: 'forsorjningsstod', target: 'forsorjningsstod', count: 7 },
      { source: 'forsorjningsstod', target: 'vuxenstod', count: null, suppressed: true },
      { source: 'vuxenstod', target: 'vuxenstod', count: 0 },
    ],
  };

  it('gives the two sides distinct nodes, so staying in a unit is no cycle', () => {
    const m = sankeyModel(flow);
    expect(m.links).toContainEqual({ source: 'Från: Försörjningsstöd', target: 'Till: Försörjningsstöd', value: 7 });
    for (const l of m.links) expect(l.source).not.toBe(l.target);
    const names = m.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    for (const l of m.links) expect(names).toEqual(expect.arrayContaining([l.source, l.target]));
  });

  it('leaves suppressed and empty cells out of the diagram but keeps them in the table', () => {
    const m = sankeyModel(flow);
    expect(m.links).toHaveLength(3);
    expect(m.rows).toHaveLength(5);
    expect(m.rows.find((r) => r.target === 'vuxenstod' && r.source === 'forsorjningsstod')).toMatchObject({ count: null, suppressed: true });
    expect(m.hasSuppressed).toBe(true);
  });

  it('sums totals per side without guessing suppressed cells', () => {
    const m = sankeyModel(flow);
    expect(m.total).toBe(18);
    expect(m.bySource.map((s) => [s.code, s.total, s.hasSuppressed])).toEqual([
      ['forsorjningsstod', 13, true],
      ['vuxenstod', 0, false],
      ['new', 5, false],
    ]);
    expect(m.byTarget.find((t) => t.code === 'closed:employment')?.total).toBe(6);
  });

  it('names nodes in Swedish', () => {
    expect(flowNodeLabel('new')).toBe('Nya ärenden');
    expect(flowNodeLabel('closed:other_benefit')).toBe('Avslutat: Annan ersättning');
    expect(flowNodeLabel('rehabilitering-och-utveckling')).toBe('Rehabilitering och Utveckling');
  });
});
