import type { SnapshotRow } from '../snapshot/snapshot-row.js';
import { CellBook, type Count } from './cell-protection.js';
import type { Dimension } from './dimensions.js';

/**
 * Counts of cases by two keys (API.md `GET /rounds/{id}/crosstab?rows=&columns=&filter[…]=`),
 * among the round's open cases — among the assessed ones when a question is involved (rows,
 * columns or a filter), since only they have answers.
 *
 * A case with several answers to a multi question counts once in each: then that key's
 * values do not add up to its total, and only the lines that do add up are used for protection.
 * Row and column totals count cases (not cells), so they are right for multi questions too.
 */
export interface CrosstabResult {
  rows: { key: string; label: string; multi: boolean };
  columns: { key: string; label: string; multi: boolean };
  filters: { key: string; values: string[] }[];
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

export function crosstab(
  population: readonly SnapshotRow[],
  rowsDim: Dimension,
  colsDim: Dimension,
  filter: { filters: { key: string; values: string[] }[]; test: (r: SnapshotRow) => boolean; dimensions: Dimension[] },
  opts: { protect: boolean; minCell: number },
): CrosstabResult {
  const needsAnswers = rowsDim.question || colsDim.question || filter.dimensions.some((d) => d.question);
  const rows = population.filter((r) => r.status === 'open' && (!needsAnswers || r.answers !== null) && filter.test(r));
  const book = new CellBook();
  const cell = (rv: string, cv: string) => `c|${rv}|${cv}`;
  const rowTotal = (rv: string) => `r|${rv}`;
  const colTotal = (cv: string) => `k|${cv}`;
  for (const rv of rowsDim.values) {
    book.touch(rowTotal(rv.code));
    for (const cv of colsDim.values) book.touch(cell(rv.code, cv.code));
  }
  for (const cv of colsDim.values) book.touch(colTotal(cv.code));
  for (const r of rows) {
    const rvs = rowsDim.of(r);
    const cvs = colsDim.of(r);
    for (const rv of rvs) {
      book.add(rowTotal(rv));
      for (const cv of cvs) book.add(cell(rv, cv));
    }
    for (const cv of cvs) book.add(colTotal(cv));
  }
  book.add('total', rows.length);
  if (!colsDim.multi) for (const rv of rowsDim.values) book.line(colsDim.values.map((cv) => cell(rv.code, cv.code)), rowTotal(rv.code));
  if (!rowsDim.multi) for (const cv of colsDim.values) book.line(rowsDim.values.map((rv) => cell(rv.code, cv.code)), colTotal(cv.code));
  if (!rowsDim.multi) book.line(rowsDim.values.map((rv) => rowTotal(rv.code)), 'total');
  if (!colsDim.multi) book.line(colsDim.values.map((cv) => colTotal(cv.code)), 'total');
  book.seal(opts);
  return {
    rows: { key: rowsDim.key, label: rowsDim.label, multi: rowsDim.multi },
    columns: { key: colsDim.key, label: colsDim.label, multi: colsDim.multi },
    filters: filter.filters,
    population: needsAnswers ? 'assessed_open_cases' : 'open_cases',
    rowValues: rowsDim.values.map((v) => v.code),
    columnValues: colsDim.values.map((v) => v.code),
    labels: { rows: Object.fromEntries(rowsDim.values.map((v) => [v.code, v.label])), columns: Object.fromEntries(colsDim.values.map((v) => [v.code, v.label])) },
    cells: rowsDim.values.flatMap((rv) => colsDim.values.map((cv) => ({ row: rv.code, column: cv.code, ...book.count(cell(rv.code, cv.code)) }))),
    rowTotals: rowsDim.values.map((rv) => ({ value: rv.code, ...book.count(rowTotal(rv.code)) })),
    columnTotals: colsDim.values.map((cv) => ({ value: cv.code, ...book.count(colTotal(cv.code)) })),
    total: book.count('total'),
    suppression: { applied: opts.protect, minCell: opts.minCell, anySuppressed: book.anySuppressed },
  };
}
