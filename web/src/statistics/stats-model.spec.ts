import { biggestChanges, crosstabGrid, formatPoints, type CompareItem, type CrosstabResult } from './stats-model';

describe('statistics page model', () => {
  const ct: CrosstabResult = {
    rows: { key: 'mentalHealth', label: 'Psykisk hälsa', multi: false },
    columns: { key: 'gender', label: 'Kön', multi: false },
    population: 'assessed_open_cases',
    rowValues: ['no_problems', 'severe_problems'],
    columnValues: ['female', 'male'],
    labels: { rows: { no_problems: 'Inga problem', severe_problems: 'Allvarliga problem' }, columns: { female: 'Kvinna', male: 'Man' } },
    cells: [
      { row: 'no_problems', column: 'female', count: 7 },
      { row: 'no_problems', column: 'male', count: null, suppressed: true },
      { row: 'severe_problems', column: 'male', count: 9 },
    ],
    rowTotals: [
      { value: 'no_problems', count: null, suppressed: true },
      { value: 'severe_problems', count: 9 },
    ],
    columnTotals: [
      { value: 'female', count: 7 },
      { value: 'male', count: null, suppressed: true },
    ],
    total: { count: 19 },
    suppression: { applied: true, minCell: 5, anySuppressed: true },
  };

  it('lays the crosstab out with the server’s labels and totals, never its own sums', () => {
    const grid = crosstabGrid(ct);
    expect(grid.map((r) => r.label)).toEqual(['Inga problem', 'Allvarliga problem', 'Totalt']);
    expect(grid[0]!.cells).toEqual([{ row: 'no_problems', column: 'female', count: 7 }, { row: 'no_problems', column: 'male', count: null, suppressed: true }]);
    // A cell the API leaves out is an empty cell, zero.
    expect(grid[1]!.cells[0]).toEqual({ count: 0 });
    expect(grid[0]!.total).toMatchObject({ count: null, suppressed: true });
    expect(grid[2]!.cells[1]).toMatchObject({ count: null, suppressed: true });
    expect(grid[2]!.total).toEqual({ count: 19 });
  });

  it('orders changes by size and writes them as percentage points', () => {
    const item = (option: string, change: number | null): CompareItem => ({ key: 'q', label: 'Q', option, optionLabel: option, from: { count: 1 }, to: { count: 1 }, fromShare: 0, toShare: 0, change });
    expect(biggestChanges([item('a', 0.01), item('b', -0.2), item('c', null), item('d', 0.05)]).map((i) => i.option)).toEqual(['b', 'd', 'a']);
    expect(formatPoints(0.045)).toBe('+4,5');
    expect(formatPoints(-0.02)).toBe('−2');
    expect(formatPoints(0)).toBe('0');
    expect(formatPoints(null)).toBe('–');
  });
});
