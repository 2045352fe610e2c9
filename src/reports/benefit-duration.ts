/**
 * Duration of assistance (DOMAIN.md, "the seed's table"), for a base year Y.
 *
 * The seed says e.g. "at least 27 months in 2013–2015, breaks at most 2 months in a row" without
 * saying how a longer break counts. Vägen's rule, named the **spell rule**: inside the window,
 * benefit months are grouped into spells; a run of more than `maxBreak` consecutive months
 * without assistance ends a spell and the next benefit month starts a new one. A person
 * qualifies when some spell holds at least `minMonths` benefit months (months in a tolerated
 * break do not count as benefit months). Months outside the window are ignored, so a spell
 * that began before the window only counts its months inside it.
 *
 * This is the one implementation; `benefit-duration.spec.ts` checks it against an independent
 * brute-force version on thousands of random histories.
 */

export type DurationCategory = 'long_term' | 'very_long_term' | 'five_year' | 'ten_year';

export interface CategoryRule {
  category: DurationCategory;
  /** First year of the window, relative to the base year (0 = Y). */
  fromYearOffset: number;
  minMonths: number;
  /** Longest tolerated break in consecutive months; null = breaks do not matter. */
  maxBreak: number | null;
}

export const DURATION_RULES: readonly CategoryRule[] = [
  { category: 'long_term', fromYearOffset: 0, minMonths: 10, maxBreak: null },
  { category: 'very_long_term', fromYearOffset: -2, minMonths: 27, maxBreak: 2 },
  { category: 'five_year', fromYearOffset: -5, minMonths: 45, maxBreak: 3 },
  { category: 'ten_year', fromYearOffset: -9, minMonths: 90, maxBreak: 6 },
];

/** 'YYYY-MM' → months since year 0 (a dense index, so month arithmetic is subtraction). */
export function monthIndex(month: string): number {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) throw new Error(`not a month: ${month}`);
  return Number(m[1]) * 12 + (Number(m[2]) - 1);
}

export function monthFromIndex(i: number): string {
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

/**
 * The spell rule: longest spell (in benefit months) within [from, to] (month indexes, inclusive),
 * where a gap of more than `maxBreak` months without assistance separates spells.
 */
export function longestSpell(months: ReadonlySet<number>, from: number, to: number, maxBreak: number | null): number {
  let best = 0;
  let current = 0;
  let gap = 0;
  for (let m = from; m <= to; m++) {
    if (months.has(m)) {
      if (maxBreak !== null && gap > maxBreak) current = 0;
      current++;
      gap = 0;
      if (current > best) best = current;
    } else if (current > 0) {
      gap++;
    }
  }
  return best;
}

export function qualifies(months: ReadonlySet<number>, baseYear: number, rule: CategoryRule): boolean {
  const from = (baseYear + rule.fromYearOffset) * 12;
  const to = baseYear * 12 + 11;
  return longestSpell(months, from, to, rule.maxBreak) >= rule.minMonths;
}

/** Every category a history qualifies for in base year Y. */
export function durationCategories(months: Iterable<string>, baseYear: number): Set<DurationCategory> {
  const set = new Set<number>();
  for (const m of months) set.add(monthIndex(m));
  return new Set(DURATION_RULES.filter((r) => qualifies(set, baseYear, r)).map((r) => r.category));
}

/** Benefit months in the 12 months ending with the month of `date` (YYYY-MM-DD), inclusive. */
export function monthsInLast12(months: Iterable<string>, date: string): number {
  const end = monthIndex(date.slice(0, 7));
  let n = 0;
  for (const m of months) {
    const i = monthIndex(m);
    if (i > end - 12 && i <= end) n++;
  }
  return n;
}
