import { prng } from '../testing/synthetic-municipality.js';
import { type Line, protectCells } from './cell-protection.js';

/** An r×c table with row totals, column totals and the grand total, as cells and lines. */
function table(matrix: number[][]): { values: Map<string, number>; lines: Line[] } {
  const r = matrix.length;
  const c = matrix[0]!.length;
  const values = new Map<string, number>();
  matrix.forEach((row, i) => row.forEach((v, j) => values.set(`${i},${j}`, v)));
  for (let i = 0; i < r; i++) values.set(`${i},T`, matrix[i]!.reduce((a, b) => a + b, 0));
  for (let j = 0; j < c; j++) values.set(`T,${j}`, matrix.reduce((a, row) => a + row[j]!, 0));
  values.set('T,T', [...values.entries()].filter(([k]) => k.endsWith(',T') && !k.startsWith('T')).reduce((a, [, v]) => a + v, 0));
  const lines: Line[] = [];
  for (let i = 0; i < r; i++) lines.push({ parts: [...Array(c).keys()].map((j) => `${i},${j}`), total: `${i},T` });
  for (let j = 0; j < c; j++) lines.push({ parts: [...Array(r).keys()].map((i) => `${i},${j}`), total: `T,${j}` });
  lines.push({ parts: [...Array(r).keys()].map((i) => `${i},T`), total: 'T,T' });
  lines.push({ parts: [...Array(c).keys()].map((j) => `T,${j}`), total: 'T,T' });
  return { values, lines };
}

/**
 * Independent check by brute force: a hidden cell is safe when some change of the unknown cells
 * by -1, 0 or +1 each keeps every line's sum and changes that cell (the nullspace of a table's
 * margins is spanned by such ±1 cycles). Exponential, so only for a handful of unknowns.
 */
function recoverable(values: Map<string, number>, lines: Line[], unknown: string[], cell: string): boolean {
  const idx = new Map(unknown.map((k, i) => [k, i]));
  const n = unknown.length;
  const d = new Array<number>(n).fill(-1);
  const total = 3 ** n;
  for (let code = 0; code < total; code++) {
    let x = code;
    for (let i = 0; i < n; i++) {
      d[i] = (x % 3) - 1;
      x = Math.floor(x / 3);
    }
    if (d[idx.get(cell)!] === 0) continue;
    const ok = lines.every((l) => {
      let s = 0;
      for (const p of l.parts) s += idx.has(p) ? d[idx.get(p)!]! : 0;
      s -= idx.has(l.total) ? d[idx.get(l.total)!]! : 0;
      return s === 0;
    });
    if (ok) return false;
  }
  return true;
}

describe('protectCells', () => {
  it('hides small counts and, in a plain table, a second cell in each line that would give one away', () => {
    const { values, lines } = table([
      [20, 3, 30],
      [25, 40, 35],
    ]);
    const hidden = protectCells({ values, lines, minCell: 5 });
    expect(hidden.has('0,1')).toBe(true);
    // Row 0 and column 1 each need a second hidden cell; the smallest inner cells are chosen.
    expect(hidden.has('0,0')).toBe(true);
    expect(hidden.has('1,1') || hidden.has('1,0')).toBe(true);
    expect(hidden.has('T,T')).toBe(false);
  });

  it('shows everything when nothing is small, and zero as zero', () => {
    const { values, lines } = table([
      [0, 12],
      [7, 9],
    ]);
    expect(protectCells({ values, lines, minCell: 5 }).size).toBe(0);
  });

  it('protects a count that is not displayed but follows from the shown ones (total minus the rest)', () => {
    // Shown: women, men, total. Not shown: other + unknown gender = 2, a small count.
    const values = new Map([['women', 40], ['men', 38], ['rest', 2], ['total', 80]]);
    const lines = [{ parts: ['women', 'men', 'rest'], total: 'total' }];
    const hidden = protectCells({ values, lines, minCell: 5, displayed: new Set(['women', 'men', 'total']) });
    expect(hidden.has('men')).toBe(true); // the smaller inner cell
    expect(hidden.has('total')).toBe(false);
  });

  it('finds a cell pinned down by several lines together (a bridge between two blocks of hidden cells)', () => {
    // Small cells form two 2×2 blocks joined by the cell (1,2); no row or column then has a single
    // hidden cell, but (1,2) = (rows 0+1) − (columns 0+1) restricted to the shown cells.
    const m = [
      [2, 3, 50, 60, 70],
      [4, 2, 1, 55, 65],
      [50, 60, 3, 2, 40],
      [55, 45, 4, 1, 35],
      [60, 70, 80, 90, 100],
    ];
    const { values, lines } = table(m);
    const hidden = protectCells({ values, lines, minCell: 5 });
    const unknown = [...hidden];
    for (const k of unknown) {
      if ((values.get(k) ?? 0) > 0 && values.get(k)! < 5) expect(recoverable(values, lines, unknown, k)).toBe(false);
    }
    // More than the nine small cells had to go.
    expect(hidden.size).toBeGreaterThan(9);
  });

  it('on random small tables, no hidden small count can be recovered (brute-force check)', () => {
    const rand = prng(42);
    let checked = 0;
    for (let t = 0; t < 300; t++) {
      const r = 2 + Math.floor(rand() * 2);
      const c = 2 + Math.floor(rand() * 3);
      const m = Array.from({ length: r }, () => Array.from({ length: c }, () => (rand() < 0.3 ? Math.floor(rand() * 5) : 5 + Math.floor(rand() * 30))));
      const { values, lines } = table(m);
      const hidden = protectCells({ values, lines, minCell: 5 });
      if (hidden.size > 9) continue;
      for (const k of hidden) {
        const v = values.get(k)!;
        if (v > 0 && v < 5) {
          expect(recoverable(values, lines, [...hidden], k)).toBe(false);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
