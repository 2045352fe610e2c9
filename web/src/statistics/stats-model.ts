/**
 * Normalises the aggregate answers of the API (statistics, crosstab, compare) into the shapes
 * the statistics page draws. Kept apart from React so the mapping is tested (stats-model.spec.ts).
 */

export interface OptionStat {
  code: string;
  label?: string;
  count: number | null;
  share: number | null;
  suppressed?: boolean;
}

export interface GroupStat {
  value: string;
  count?: number | null;
  unknownShare?: number | null;
  options: OptionStat[];
  suppressed?: boolean;
}

export interface QuestionStat {
  key: string;
  label?: string;
  type?: 'single' | 'multi';
  unknownShare: number | null;
  options: OptionStat[];
  by?: Record<string, GroupStat[]>;
}

export interface CountCell {
  value: string;
  count: number | null;
  suppressed?: boolean;
}

export interface RoundStatistics {
  assessed: number | null;
  questions: QuestionStat[];
  totals: Record<string, CountCell[]>;
}

type AnyRecord = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function options(raw: unknown): OptionStat[] {
  if (Array.isArray(raw)) {
    return raw.map((o: AnyRecord) => ({ code: String(o.code ?? o.option ?? o.value), label: o.label as string | undefined, count: num(o.count), share: num(o.share), suppressed: !!o.suppressed }));
  }
  if (raw && typeof raw === 'object') {
    return Object.entries(raw as AnyRecord).map(([code, v]) => {
      const o = (v ?? {}) as AnyRecord;
      return { code, label: o.label as string | undefined, count: num(o.count), share: num(o.share), suppressed: !!o.suppressed };
    });
  }
  return [];
}

/** A list of counts keyed by value, from either `[{ value, count }]` or `{ value: count | { count } }`. */
export function countCells(raw: unknown): CountCell[] {
  if (Array.isArray(raw)) return raw.map((c: AnyRecord) => ({ value: String(c.value ?? c.code ?? c.key), count: num(c.count), suppressed: !!c.suppressed }));
  if (raw && typeof raw === 'object') {
    return Object.entries(raw as AnyRecord).map(([value, v]) =>
      typeof v === 'object' && v !== null ? { value, count: num((v as AnyRecord).count), suppressed: !!(v as AnyRecord).suppressed } : { value, count: num(v), suppressed: v === null },
    );
  }
  return [];
}

function groups(raw: unknown): GroupStat[] {
  const list: [string, AnyRecord][] = Array.isArray(raw)
    ? raw.map((g: AnyRecord) => [String(g.value ?? g.key ?? g.group), g])
    : Object.entries((raw ?? {}) as AnyRecord).map(([k, v]) => [k, (v ?? {}) as AnyRecord]);
  return list.map(([value, g]) => ({ value, count: num(g.count ?? g.assessed), unknownShare: num(g.unknownShare), options: options(g.options), suppressed: !!g.suppressed }));
}

export function normaliseStatistics(raw: unknown): RoundStatistics {
  const r = (raw ?? {}) as AnyRecord;
  const qs: unknown[] = Array.isArray(r.questions)
    ? r.questions
    : Object.entries((r.questions ?? {}) as AnyRecord).map(([key, v]) => ({ key, ...(v as AnyRecord) }));
  const questions = qs.map((q0) => {
    const q = q0 as AnyRecord;
    const byRaw = (q.by ?? {}) as AnyRecord;
    const by: Record<string, GroupStat[]> = {};
    for (const [k, v] of Object.entries(byRaw)) by[k] = groups(v);
    return { key: String(q.key), label: q.label as string | undefined, type: q.type as QuestionStat['type'], unknownShare: num(q.unknownShare), options: options(q.options), by };
  });
  const totalsRaw = (r.totals ?? {}) as AnyRecord;
  const totals: Record<string, CountCell[]> = {};
  for (const [k, v] of Object.entries(totalsRaw)) if (k !== 'assessed' && k !== 'total') totals[k] = countCells(v);
  return { assessed: num(r.assessed ?? r.assessedCases ?? totalsRaw.assessed ?? r.total), questions, totals };
}

export interface Crosstab {
  rowValues: string[];
  columnValues: string[];
  cell(row: string, column: string): { count: number | null; suppressed: boolean };
  rowTotal(row: string): number | null;
  columnTotal(column: string): number | null;
  total: number | null;
}

/** Accepts `cells: [{ row, column, count }]` or `counts[row][column]` with value lists. */
export function normaliseCrosstab(raw: unknown): Crosstab {
  const r = (raw ?? {}) as AnyRecord;
  const map = new Map<string, { count: number | null; suppressed: boolean }>();
  let rowValues: string[] = Array.isArray(r.rowValues) ? r.rowValues.map(String) : [];
  let columnValues: string[] = Array.isArray(r.columnValues) ? r.columnValues.map(String) : [];
  const k = (a: string, b: string) => `${a}\u0000${b}`;
  if (Array.isArray(r.cells)) {
    for (const c of r.cells as AnyRecord[]) {
      const row = String(c.row);
      const col = String(c.column);
      map.set(k(row, col), { count: num(c.count), suppressed: !!c.suppressed || c.count === null });
      if (!rowValues.includes(row)) rowValues.push(row);
      if (!columnValues.includes(col)) columnValues.push(col);
    }
  } else if (r.counts && typeof r.counts === 'object') {
    const counts = r.counts as AnyRecord;
    if (Array.isArray(counts)) {
      counts.forEach((rowArr: unknown[], i) => rowArr.forEach((v, j) => map.set(k(rowValues[i]!, columnValues[j]!), { count: num(v), suppressed: v === null })));
    } else {
      for (const [row, cols] of Object.entries(counts)) {
        if (!rowValues.includes(row)) rowValues.push(row);
        for (const [col, v] of Object.entries((cols ?? {}) as AnyRecord)) {
          if (!columnValues.includes(col)) columnValues.push(col);
          const o = typeof v === 'object' && v !== null ? (v as AnyRecord) : { count: v };
          map.set(k(row, col), { count: num(o.count), suppressed: !!o.suppressed || o.count === null });
        }
      }
    }
  }
  rowValues = [...rowValues];
  columnValues = [...columnValues];
  const cell = (row: string, col: string) => map.get(k(row, col)) ?? { count: 0, suppressed: false };
  const sum = (cells: { count: number | null; suppressed: boolean }[]) => (cells.some((c) => c.suppressed) ? null : cells.reduce((s, c) => s + (c.count ?? 0), 0));
  return {
    rowValues,
    columnValues,
    cell,
    rowTotal: (row) => sum(columnValues.map((c) => cell(row, c))),
    columnTotal: (col) => sum(rowValues.map((row) => cell(row, col))),
    total: sum(rowValues.flatMap((row) => columnValues.map((c) => cell(row, c)))),
  };
}
