import { isSmall } from '../../shared/aggregates/suppression.js';

/**
 * Small-cell protection for a whole answer at once (API.md "Small cells"), where tables share
 * cells: the statistics of a round show each question's options overall, by gender and by unit,
 * and the overall count of an option is the column total of both breakdowns. Protecting each
 * table alone would let a count hidden in one be read off another.
 *
 * The model: cells with values, and additive lines (`parts` sum to `total`). Some cells are not
 * displayed at all (e.g. "other gender" when only women and men are shown), but they are in the
 * lines, because a reader can still compute them as total minus the rest.
 *
 * A count 1..minCell-1 is sensitive, shown or not. The answer is safe when no sensitive count can
 * be worked out from what is shown: not from one line with a single unknown, and not from any
 * combination of lines either (a hidden cell can be a "bridge" between two blocks of hidden
 * cells, pinned down by the sum of several lines although every line has several unknowns).
 * Both are checked; the second with exact linear algebra over the unknown cells. Whenever a
 * sensitive count can be recovered, one more shown cell is hidden (secondary suppression),
 * preferring inner cells over totals, non-zero over zero, and small over large, since those lose
 * the least information; then everything is checked again.
 *
 * Zero is shown as zero: an empty cell identifies no one.
 */
export interface Line {
  parts: readonly string[];
  total: string;
}

export interface ProtectionInput {
  values: ReadonlyMap<string, number>;
  lines: readonly Line[];
  minCell: number;
  /** Cells that are shown (hidden ones become null); default every cell. */
  displayed?: ReadonlySet<string>;
  /** Cells to hide only as a last resort (margins). Default: every line's total. */
  totals?: ReadonlySet<string>;
}

/** The shown cells to hide (primary and secondary suppression). */
export function protectCells(input: ProtectionInput): Set<string> {
  const { values, lines, minCell } = input;
  const displayed = input.displayed ?? new Set(values.keys());
  const totals = input.totals ?? new Set(lines.map((l) => l.total));
  const valueOf = (k: string) => values.get(k) ?? 0;
  const sensitive = new Set([...values.keys()].filter((k) => isSmall(valueOf(k), minCell)));
  const hidden = new Set([...displayed].filter((k) => sensitive.has(k)));
  const cellsOf = (l: Line) => [...l.parts, l.total];
  const linesOf = new Map<string, number[]>();
  lines.forEach((l, i) => {
    for (const k of cellsOf(l)) {
      const list = linesOf.get(k) ?? [];
      list.push(i);
      linesOf.set(k, list);
    }
  });
  const isUnknown = (k: string) => hidden.has(k) || !displayed.has(k);

  /** The best shown cell to hide near `cell`: in its lines, else in lines one step further out. */
  const secondaryFor = (cell: string): string | undefined => {
    const seenLines = new Set<number>();
    let frontier = [...(linesOf.get(cell) ?? [])];
    while (frontier.length > 0) {
      const candidates: string[] = [];
      const next: number[] = [];
      for (const li of frontier) {
        if (seenLines.has(li)) continue;
        seenLines.add(li);
        for (const k of cellsOf(lines[li]!)) {
          if (!isUnknown(k)) candidates.push(k);
          else for (const other of linesOf.get(k) ?? []) next.push(other);
        }
      }
      if (candidates.length > 0) {
        candidates.sort((a, b) => Number(totals.has(a)) - Number(totals.has(b)) || Number(valueOf(a) === 0) - Number(valueOf(b) === 0) || valueOf(a) - valueOf(b) || (a < b ? -1 : 1));
        return candidates[0];
      }
      frontier = next;
    }
    return undefined;
  };

  for (let guard = 0; guard <= values.size; guard++) {
    const exposed = exposedByOneLine(lines, isUnknown, sensitive) ?? exposedByAlgebra(lines, isUnknown, sensitive);
    if (exposed === undefined) break;
    const extra = secondaryFor(exposed);
    if (extra === undefined) break; // nothing shown is left around it
    hidden.add(extra);
  }
  return hidden;
}

/** Repeatedly solves lines with a single unknown; the first sensitive cell so recovered, if any. */
function exposedByOneLine(lines: readonly Line[], isUnknown: (k: string) => boolean, sensitive: ReadonlySet<string>): string | undefined {
  const solved = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const l of lines) {
      const open = [...l.parts, l.total].filter((k) => isUnknown(k) && !solved.has(k));
      if (open.length !== 1) continue;
      const k = open[0]!;
      if (sensitive.has(k)) return k;
      solved.add(k);
      changed = true;
    }
  }
  return undefined;
}

/**
 * The unknown cells that the lines determine, whatever the values: with A the lines' coefficients
 * on the unknowns (+1 for a part, −1 for the total), a cell is determined exactly when its unit
 * vector lies in A's row space, i.e. when a row of A's reduced row echelon form has that cell as
 * its only non-zero entry. Exact rational arithmetic is not needed: entries are small integers
 * and ratios of them, and the tolerance is far below 1/size.
 */
function exposedByAlgebra(lines: readonly Line[], isUnknown: (k: string) => boolean, sensitive: ReadonlySet<string>): string | undefined {
  const index = new Map<string, number>();
  const rows: number[][] = [];
  for (const l of lines) {
    const entries: [string, number][] = [...l.parts.map((k) => [k, 1] as [string, number]), [l.total, -1]];
    const unknown = entries.filter(([k]) => isUnknown(k));
    if (unknown.length === 0) continue;
    for (const [k] of unknown) if (!index.has(k)) index.set(k, index.size);
    rows.push(unknown.map(([k, c]) => [index.get(k)!, c]).flat());
  }
  const n = index.size;
  if (n === 0) return undefined;
  const m = rows.map((pairs) => {
    const row = new Array<number>(n).fill(0);
    for (let i = 0; i < pairs.length; i += 2) row[pairs[i]!]! += pairs[i + 1]!;
    return row;
  });
  const eps = 1e-9;
  let r = 0;
  const pivots: number[] = [];
  for (let c = 0; c < n && r < m.length; c++) {
    let best = r;
    for (let i = r + 1; i < m.length; i++) if (Math.abs(m[i]![c]!) > Math.abs(m[best]![c]!)) best = i;
    if (Math.abs(m[best]![c]!) < eps) continue;
    [m[r], m[best]] = [m[best]!, m[r]!];
    const pivot = m[r]![c]!;
    for (let j = c; j < n; j++) m[r]![j]! /= pivot;
    for (let i = 0; i < m.length; i++) {
      if (i === r) continue;
      const f = m[i]![c]!;
      if (Math.abs(f) < eps) continue;
      for (let j = c; j < n; j++) m[i]![j]! -= f * m[r]![j]!;
    }
    pivots.push(c);
    r++;
  }
  const names = [...index.keys()];
  for (let i = 0; i < pivots.length; i++) {
    const row = m[i]!;
    const nonZero = row.reduce((count, v) => count + (Math.abs(v) > eps ? 1 : 0), 0);
    const cell = names[pivots[i]!]!;
    if (nonZero === 1 && sensitive.has(cell)) return cell;
  }
  return undefined;
}

/** A value as shown: the count, or null with `suppressed: true`. */
export interface Count {
  count: number | null;
  suppressed?: true;
}

export function shown(value: number, hidden: ReadonlySet<string>, key: string): Count {
  return hidden.has(key) ? { count: null, suppressed: true } : { count: value };
}

/** A share of a shown count; null when either count is hidden or the base is zero. */
export function shareOf(part: Count, base: Count): number | null {
  if (part.count === null || base.count === null || base.count === 0) return null;
  return part.count / base.count;
}

/**
 * Collects the cells and lines of one answer, then protects them all together. Keys are opaque
 * strings chosen by the caller; a key used in two tables is the same cell (that is the point).
 */
export class CellBook {
  private readonly values = new Map<string, number>();
  private readonly lines: Line[] = [];
  private readonly undisplayed = new Set<string>();
  private hidden: Set<string> | undefined;

  add(key: string, n = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }

  /** Makes sure the cell exists (a zero is a cell too). */
  touch(key: string): void {
    if (!this.values.has(key)) this.values.set(key, 0);
  }

  value(key: string): number {
    return this.values.get(key) ?? 0;
  }

  line(parts: readonly string[], total: string): void {
    for (const k of [...parts, total]) this.touch(k);
    this.lines.push({ parts, total });
  }

  /** A cell that is never shown but can be computed from shown ones (it takes part in lines). */
  notShown(key: string): void {
    this.touch(key);
    this.undisplayed.add(key);
  }

  /** `protect: false` for roles that may see individual data: every count exact. */
  seal(opts: { protect: boolean; minCell: number }): this {
    this.hidden = opts.protect
      ? protectCells({ values: this.values, lines: this.lines, minCell: opts.minCell, displayed: new Set([...this.values.keys()].filter((k) => !this.undisplayed.has(k))) })
      : new Set();
    return this;
  }

  count(key: string): Count {
    if (!this.hidden) throw new Error('CellBook: seal() before reading counts');
    return shown(this.value(key), this.hidden, key);
  }

  get anySuppressed(): boolean {
    if (!this.hidden) throw new Error('CellBook: seal() before reading counts');
    return [...this.hidden].some((k) => !this.undisplayed.has(k));
  }
}
