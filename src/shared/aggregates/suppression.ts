/**
 * Small-cell protection for aggregates shown to roles without access to individual data
 * (API.md "Small cells"). Primary suppression hides counts 1..min-1. Secondary suppression
 * then makes sure no hidden count can be recovered as "total minus the rest": every additive
 * line (a row or column together with its total) must hide either no cell or at least two.
 * Zero is shown as zero (an empty cell identifies no one).
 */
export interface SuppressedTable {
  /** Cell counts, null where suppressed. */
  cells: (number | null)[][];
  rowTotals: (number | null)[];
  colTotals: (number | null)[];
  total: number | null;
  /** Whether anything was hidden. */
  anySuppressed: boolean;
}

export interface SuppressionOptions {
  minCell: number;
  /** When false (e.g. for multi-select answers, which do not add up), only primary suppression is applied. */
  additive?: boolean;
}

export function isSmall(count: number, minCell: number): boolean {
  return count > 0 && count < minCell;
}

/**
 * Suppresses an r×c table shown with its row totals, column totals and grand total.
 * Works on the augmented (r+1)×(c+1) grid, where the last row/column hold totals, so the same
 * rule protects cells and totals alike.
 */
export function suppressTable(matrix: number[][], opts: SuppressionOptions): SuppressedTable {
  const r = matrix.length;
  const c = matrix[0]?.length ?? 0;
  const grid: number[][] = matrix.map((row) => [...row, row.reduce((a, b) => a + b, 0)]);
  const colTotals = [...Array(c).keys()].map((j) => matrix.reduce((a, row) => a + row[j]!, 0));
  grid.push([...colTotals, colTotals.reduce((a, b) => a + b, 0)]);
  const hidden = grid.map((row) => row.map((v) => isSmall(v, opts.minCell)));

  if (opts.additive !== false) {
    // Lines: every row (cells + its total) and every column (cells + its total), including the totals row/column.
    const lines: [number, number][][] = [];
    for (let i = 0; i <= r; i++) lines.push([...Array(c + 1).keys()].map((j) => [i, j] as [number, number]));
    for (let j = 0; j <= c; j++) lines.push([...Array(r + 1).keys()].map((i) => [i, j] as [number, number]));
    let changed = true;
    while (changed) {
      changed = false;
      for (const line of lines) {
        const hiddenCount = line.filter(([i, j]) => hidden[i]![j]).length;
        if (hiddenCount !== 1) continue;
        const candidates = line.filter(([i, j]) => !hidden[i]![j]);
        if (candidates.length === 0) continue;
        // Prefer the smallest non-zero inner cell (least information lost), then zeros, then totals.
        const isTotal = ([i, j]: [number, number]) => i === r || j === c;
        candidates.sort(
          (a, b) =>
            Number(isTotal(a)) - Number(isTotal(b)) ||
            Number(grid[a[0]]![a[1]] === 0) - Number(grid[b[0]]![b[1]] === 0) ||
            grid[a[0]]![a[1]]! - grid[b[0]]![b[1]]!,
        );
        const [i, j] = candidates[0]!;
        hidden[i]![j] = true;
        changed = true;
      }
    }
  }
  const show = (i: number, j: number) => (hidden[i]![j] ? null : grid[i]![j]!);
  return {
    cells: matrix.map((row, i) => row.map((_, j) => show(i, j))),
    rowTotals: matrix.map((_, i) => show(i, c)),
    colTotals: colTotals.map((_, j) => show(r, j)),
    total: show(r, c),
    anySuppressed: hidden.some((row) => row.some(Boolean)),
  };
}

/** A one-dimensional distribution (e.g. one question's options) with its total. */
export function suppressDistribution(counts: number[], opts: SuppressionOptions): { counts: (number | null)[]; total: number | null } {
  const t = suppressTable([counts], opts);
  return { counts: t.cells[0] ?? [], total: t.total };
}

/** The JSON shape of a count in an aggregate: `{ count, suppressed? }`. */
export function cell(count: number | null): { count: number | null; suppressed?: true } {
  return count === null ? { count: null, suppressed: true } : { count };
}
