import fc from 'fast-check';
import { suppressDistribution, suppressTable } from './suppression.js';

/** Can any hidden value be derived exactly from one line (row/column with its total)? */
function recoverable(matrix: number[][], t: ReturnType<typeof suppressTable>): boolean {
  const r = matrix.length;
  const c = matrix[0]!.length;
  const grid = [...t.cells.map((row, i) => [...row, t.rowTotals[i]!]), [...t.colTotals, t.total]];
  const lines: (number | null)[][] = [];
  for (let i = 0; i <= r; i++) lines.push(grid[i]!);
  for (let j = 0; j <= c; j++) lines.push(grid.map((row) => row[j]!));
  return lines.some((line) => line.filter((v) => v === null).length === 1);
}

describe('small-cell suppression', () => {
  it('hides counts 1–4 and keeps 0 and counts ≥ 5', () => {
    const t = suppressTable([[0, 3, 10, 12]], { minCell: 5, additive: false });
    expect(t.cells[0]).toEqual([0, null, 10, 12]);
    expect(t.anySuppressed).toBe(true);
  });

  it('adds a secondary suppression so a hidden cell is not total minus the rest', () => {
    const d = suppressDistribution([3, 10, 12, 40], { minCell: 5 });
    expect(d.counts).toEqual([null, null, 12, 40]);
    expect(d.total).toBe(65);
  });

  it('hides a small total as well as what would reveal it', () => {
    const t = suppressTable([[2, 1], [20, 30]], { minCell: 5 });
    expect(t.rowTotals[0]).toBeNull();
    expect(recoverable([[2, 1], [20, 30]], t)).toBe(false);
  });

  it('never leaves exactly one hidden value in any row or column (random tables)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((r) =>
          fc.integer({ min: 1, max: 6 }).chain((c) => fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r })),
        ),
        (matrix) => {
          const t = suppressTable(matrix, { minCell: 5 });
          expect(recoverable(matrix, t)).toBe(false);
          // every primary small cell is hidden; shown values equal the input
          matrix.forEach((row, i) => row.forEach((v, j) => {
            if (v > 0 && v < 5) expect(t.cells[i]![j]).toBeNull();
            if (t.cells[i]![j] !== null) expect(t.cells[i]![j]).toBe(v);
          }));
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('honours the configured threshold', () => {
    expect(suppressDistribution([7, 20], { minCell: 10 }).counts).toEqual([null, null]);
    expect(suppressDistribution([7, 20], { minCell: 5 }).counts).toEqual([7, 20]);
  });
});
