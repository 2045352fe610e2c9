import type { Questionnaire } from '../../questionnaires/questionnaire.js';
import { UNKNOWN } from '../../questionnaires/questionnaire.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';
import { CellBook, type Count, shareOf } from './cell-protection.js';
import { type Dimension, dimension, openRows } from './dimensions.js';

/**
 * A round's statistics (API.md `GET /rounds/{id}/statistics?by=gender,unit`): per question and
 * option the count and share among assessed cases (for a multi question: the share that chose
 * the option), the unknown ("vet ej") share per question, the same per group of each `by` key,
 * and the assessed cases by unit, gender and priority.
 *
 * Every count of the answer is one cell of one CellBook, so small-cell protection sees the links
 * between the tables: an option's overall count is also the column total of each breakdown, and
 * a group's assessed count is the row total of every question's breakdown.
 */
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
  /** Assessed cases (shorthand of population.assessed). */
  assessed: number | null;
  totals: Record<string, (Count & { value: string; label: string })[]>;
  questions: QuestionStat[];
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

export const TOTAL_KEYS = ['unit', 'gender', 'priority'] as const;

export function roundStatistics(
  rows: readonly SnapshotRow[],
  questionnaire: Questionnaire,
  referenceDate: string,
  opts: { by: readonly string[]; protect: boolean; minCell: number },
): RoundStatistics {
  const population = openRows(rows);
  const assessed = population.filter((r) => r.answers !== null);
  const book = new CellBook();
  book.add('cases', population.length);
  book.add('assessed', assessed.length);
  book.add('notAssessed', population.length - assessed.length);
  book.line(['assessed', 'notAssessed'], 'cases');

  const groupKeys = [...new Set([...TOTAL_KEYS, ...opts.by])];
  const dims = new Map<string, Dimension>(groupKeys.map((k) => [k, dimension(k, questionnaire, referenceDate)!]));
  const groupOf = new Map<string, string[]>(); // per dimension: each assessed row's value, in row order
  for (const [k, d] of dims) {
    const values = assessed.map((r) => d.of(r)[0]!);
    groupOf.set(k, values);
    for (const v of d.values) book.touch(`a|${k}:${v.code}`);
    for (const v of values) book.add(`a|${k}:${v}`);
    book.line(
      d.values.map((v) => `a|${k}:${v.code}`),
      'assessed',
    );
  }

  // Counted in plain arrays first (a string key per row and answer is what made this slow), then
  // handed to the book cell by cell.
  for (const q of questionnaire.questions) {
    const codes = q.options.map((o) => o.code);
    const index = new Map(codes.map((c, i) => [c, i]));
    const cell = (code: string) => `q|${q.key}|${code}`;
    const overall = new Array<number>(codes.length).fill(0);
    const byCounts = opts.by.map((k) => {
      const d = dims.get(k)!;
      return { k, d, groupIndex: new Map(d.values.map((g, i) => [g.code, i])), values: groupOf.get(k)!, counts: d.values.map(() => new Array<number>(codes.length).fill(0)) };
    });
    for (let i = 0; i < assessed.length; i++) {
      const a = assessed[i]!.answers![q.key];
      if (a === undefined) continue;
      for (const c of Array.isArray(a) ? a : [a]) {
        const o = index.get(c);
        if (o === undefined) continue;
        overall[o]!++;
        for (const b of byCounts) {
          const g = b.groupIndex.get(b.values[i]!);
          if (g !== undefined) b.counts[g]![o]!++;
        }
      }
    }
    codes.forEach((c, o) => book.add(cell(c), overall[o]!));
    // A single question's options add up to the assessed cases; a multi question's do not.
    if (q.type === 'single') book.line(codes.map(cell), 'assessed');
    for (const { k, d, counts } of byCounts) {
      const gcell = (g: string, code: string) => `q|${q.key}|${k}:${g}|${code}`;
      d.values.forEach((g, gi) => codes.forEach((c, o) => book.add(gcell(g.code, c), counts[gi]![o]!)));
      for (const c of codes) book.line(d.values.map((g) => gcell(g.code, c)), cell(c));
      if (q.type === 'single') for (const g of d.values) book.line(codes.map((c) => gcell(g.code, c)), `a|${k}:${g.code}`);
    }
  }

  book.seal({ protect: opts.protect, minCell: opts.minCell });
  const assessedCount = book.count('assessed');
  const questions: QuestionStat[] = questionnaire.questions.map((q) => {
    const options = (base: Count, key: (code: string) => string): OptionStat[] =>
      q.options.map((o) => {
        const c = book.count(key(o.code));
        return { code: o.code, label: o.label, ...c, share: shareOf(c, base) };
      });
    const overall = options(assessedCount, (code) => `q|${q.key}|${code}`);
    const by: Record<string, GroupStat[]> = {};
    for (const k of opts.by) {
      const d = dims.get(k)!;
      by[k] = d.values.map((g) => {
        const base = book.count(`a|${k}:${g.code}`);
        const opts2 = options(base, (code) => `q|${q.key}|${k}:${g.code}|${code}`);
        return { value: g.code, label: g.label, ...base, unknownShare: opts2.find((o) => o.code === UNKNOWN)?.share ?? null, options: opts2 };
      });
    }
    return {
      key: q.key,
      label: q.label,
      type: q.type,
      answered: assessedCount,
      unknownShare: overall.find((o) => o.code === UNKNOWN)?.share ?? null,
      options: overall,
      by,
    };
  });
  const totals: RoundStatistics['totals'] = {};
  for (const k of TOTAL_KEYS) totals[k] = dims.get(k)!.values.map((v) => ({ value: v.code, label: v.label, ...book.count(`a|${k}:${v.code}`) }));
  return {
    population: { cases: book.count('cases'), assessed: assessedCount, notAssessed: book.count('notAssessed') },
    assessed: assessedCount.count,
    totals,
    questions,
    suppression: { applied: opts.protect, minCell: opts.minCell, anySuppressed: book.anySuppressed },
  };
}
