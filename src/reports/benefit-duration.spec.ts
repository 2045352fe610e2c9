import fc from 'fast-check';
import { DURATION_RULES, durationCategories, longestSpell, monthIndex, monthsInLast12, qualifies, type CategoryRule } from './benefit-duration.js';

/**
 * Independent brute force: a person qualifies if some pair of benefit months (first, last)
 * inside the window has no gap longer than maxBreak between consecutive benefit months in
 * between, and at least minMonths benefit months from first to last.
 */
function bruteForce(months: ReadonlySet<number>, baseYear: number, rule: CategoryRule): boolean {
  const from = (baseYear + rule.fromYearOffset) * 12;
  const to = baseYear * 12 + 11;
  const inWindow = [...months].filter((m) => m >= from && m <= to).sort((a, b) => a - b);
  for (let i = 0; i < inWindow.length; i++) {
    for (let j = i; j < inWindow.length; j++) {
      let ok = true;
      for (let k = i + 1; k <= j; k++) {
        const gap = inWindow[k]! - inWindow[k - 1]! - 1;
        if (rule.maxBreak !== null && gap > rule.maxBreak) ok = false;
      }
      if (ok && j - i + 1 >= rule.minMonths) return true;
    }
  }
  return false;
}

const Y = 2015;
const rule = (c: string) => DURATION_RULES.find((r) => r.category === c)!;
const range = (fromMonth: string, count: number, skip: (i: number) => boolean = () => false) => {
  const out = new Set<number>();
  const start = monthIndex(fromMonth);
  for (let i = 0; i < count; i++) if (!skip(i)) out.add(start + i);
  return out;
};

describe('benefit duration: the spell rule', () => {
  it('agrees with an independent brute force on thousands of random month histories', () => {
    fc.assert(
      fc.property(
        // a history as alternating runs: months with assistance, then a break of 1–9 months,
        // starting anywhere from 2003, so spells and breaks of every length cross every window edge
        fc.integer({ min: 2003 * 12, max: 2010 * 12 }),
        fc.array(fc.record({ on: fc.integer({ min: 1, max: 30 }), off: fc.integer({ min: 1, max: 9 }) }), { maxLength: 20 }),
        fc.integer({ min: 2008, max: 2016 }),
        (start, runs, baseYear) => {
          const months = new Set<number>();
          let m = start;
          for (const run of runs) {
            for (let k = 0; k < run.on; k++) months.add(m++);
            m += run.off;
          }
          for (const r of DURATION_RULES) {
            expect(qualifies(months, baseYear, r)).toBe(bruteForce(months, baseYear, r));
          }
        },
      ),
      { numRuns: 3000, seed: 20261123 },
    );
  });

  it('long-term: 10 months in the year, 9 is not enough', () => {
    expect(qualifies(range('2015-01', 10), Y, rule('long_term'))).toBe(true);
    expect(qualifies(range('2015-03', 9), Y, rule('long_term'))).toBe(false);
    // breaks do not matter for the one-year category
    expect(qualifies(range('2015-01', 12, (i) => i % 6 === 1), Y, rule('long_term'))).toBe(true);
  });

  it('very long-term: a break of exactly 2 months is tolerated, 3 splits the spell', () => {
    // 2013-01..2015-12 = 36 months; break of 2 after 14 months, 20 more months → 34 months in one spell
    const breakOf2 = range('2013-01', 36, (i) => i === 14 || i === 15);
    expect(longestSpell(breakOf2, monthIndex('2013-01'), monthIndex('2015-12'), 2)).toBe(34);
    expect(qualifies(breakOf2, Y, rule('very_long_term'))).toBe(true);
    // a 3-month break in the middle: 15 + 18 months, neither reaches 27
    const breakOf3 = range('2013-01', 36, (i) => i >= 15 && i <= 17);
    expect(qualifies(breakOf3, Y, rule('very_long_term'))).toBe(false);
  });

  it('five-year: a break of 3 is tolerated, 4 is not; ten-year: 6 tolerated, 7 not', () => {
    const five = (brk: number) => range('2010-01', 72, (i) => i >= 30 && i < 30 + brk);
    expect(qualifies(five(3), Y, rule('five_year'))).toBe(true);
    // 30 before and 72-30-4 = 38 after: neither reaches 45
    expect(qualifies(five(4), Y, rule('five_year'))).toBe(false);
    const ten = (brk: number) => range('2006-01', 120, (i) => i >= 60 && i < 60 + brk);
    expect(qualifies(ten(6), Y, rule('ten_year'))).toBe(true);
    expect(qualifies(ten(7), Y, rule('ten_year'))).toBe(false);
  });

  it('counts only months inside the window (window edges)', () => {
    // 27 months ending 2015-03 but starting 2013-01 → all inside; shifted one month earlier → 26 inside
    expect(qualifies(range('2013-01', 27), Y, rule('very_long_term'))).toBe(true);
    expect(qualifies(range('2012-12', 27), Y, rule('very_long_term'))).toBe(false);
    // months after the base year never count
    expect(qualifies(range('2015-06', 12), Y, rule('long_term'))).toBe(false);
  });

  it('spells run across year boundaries, and a break spanning new year is one break', () => {
    // Nov–Dec 2013 off (2 months) with assistance on both sides → still one spell
    const s = range('2013-01', 36, (i) => i === 10 || i === 11);
    expect(qualifies(s, Y, rule('very_long_term'))).toBe(true);
    // Dec 2013 – Feb 2014 off (3 months): split
    const t = range('2013-01', 36, (i) => i >= 11 && i <= 13);
    expect(longestSpell(t, monthIndex('2013-01'), monthIndex('2015-12'), 2)).toBe(22);
  });

  it('reports every category of a history at once', () => {
    const all = range('2006-01', 120);
    expect([...durationCategories([...all].map((i) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`), Y)].sort()).toEqual(
      ['five_year', 'long_term', 'ten_year', 'very_long_term'],
    );
    expect(durationCategories([], Y).size).toBe(0);
  });

  it('counts benefit months in the last 12 months up to a date', () => {
    expect(monthsInLast12(['2025-07', '2025-06', '2026-06', '2026-07'], '2026-06-30')).toBe(2);
  });
});
