/**
 * The aggregate answers of the API (GET …/statistics, …/crosstab, …/compare) and the little
 * the statistics page derives from them. Counts a role may not see arrive as
 * `{ count: null, suppressed: true }`; nothing here ever recomputes a hidden number.
 */

export interface Count {
  count: number | null;
  suppressed?: boolean;
}

export interface OptionStat extends Count {
  code: string;
  label: string;
  share: number | null;
}

export interface GroupStat extends Count {
  value: string;
  label: string;
  unknownShare: number | null;
  options: OptionStat[];
}

export interface QuestionStat {
  key: string;
  label: string;
  type: 'single' | 'multi';
  answered: Count;
  unknownShare: number | null;
  options: OptionStat[];
  by: Record<string, GroupStat[]>;
}

export interface RoundStatistics {
  population: { cases: Count; assessed: Count; notAssessed: Count };
  assessed: number | null;
  totals: Record<string, (Count & { value: string; label: string })[]>;
  questions: QuestionStat[];
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

export interface CrosstabResult {
  rows: { key: string; label: string; multi: boolean };
  columns: { key: string; label: string; multi: boolean };
  population: 'open_cases' | 'assessed_open_cases';
  rowValues: string[];
  columnValues: string[];
  labels: { rows: Record<string, string>; columns: Record<string, string> };
  cells: (Count & { row: string; column: string })[];
  rowTotals: (Count & { value: string })[];
  columnTotals: (Count & { value: string })[];
  total: Count;
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

export interface CompareItem {
  key: string;
  label: string;
  option: string;
  optionLabel: string;
  from: Count;
  to: Count;
  fromShare: number | null;
  toShare: number | null;
  change: number | null;
}

const ZERO: Count = { count: 0 };

/** The crosstab as a grid: one row per row value, a cell per column value, then the row's total; a last row of column totals. */
export function crosstabGrid(ct: CrosstabResult): { label: string; cells: Count[]; total: Count }[] {
  const cell = new Map(ct.cells.map((c) => [`${c.row}\u0000${c.column}`, c]));
  const rowTotal = new Map(ct.rowTotals.map((t) => [t.value, t]));
  const colTotal = new Map(ct.columnTotals.map((t) => [t.value, t]));
  return [
    ...ct.rowValues.map((r) => ({
      label: ct.labels.rows[r] ?? r,
      cells: ct.columnValues.map((c) => cell.get(`${r}\u0000${c}`) ?? ZERO),
      total: rowTotal.get(r) ?? ZERO,
    })),
    { label: 'Totalt', cells: ct.columnValues.map((c) => colTotal.get(c) ?? ZERO), total: ct.total },
  ];
}

/** Questions whose distribution changed most between two rounds first, for the seminar's "what moved?". */
export function biggestChanges(items: readonly CompareItem[], limit = 10): CompareItem[] {
  return [...items].filter((i) => i.change !== null).sort((a, b) => Math.abs(b.change!) - Math.abs(a.change!)).slice(0, limit);
}

/** A change in share as signed percentage points, "+4,5" / "−2" (Swedish decimal comma, real minus sign). */
export function formatPoints(change: number | null): string {
  if (change === null) return '–';
  const v = Math.round(change * 1000) / 10;
  const abs = Math.abs(v).toLocaleString('sv-SE', { maximumFractionDigits: 1 });
  return v > 0 ? `+${abs}` : v < 0 ? `−${abs}` : '0';
}
