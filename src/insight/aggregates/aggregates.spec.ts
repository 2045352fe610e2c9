import { QUESTIONNAIRE_V1 } from '../../questionnaires/questionnaire.js';
import { allUnknown } from '../../questionnaires/answers.fixtures.js';
import { row, times } from '../testing/rows.fixtures.js';
import { prng, randomAnswers } from '../testing/synthetic-municipality.js';
import { compareRounds } from './compare.js';
import { crosstab } from './crosstab.js';
import { parseFilters, requireDimension } from './dimensions.js';
import { roundStatistics } from './statistics.js';

const REF = '2026-03-31';
const exact = { protect: false, minCell: 5 };
const hidden = { protect: true, minCell: 5 };

/**
 * Independent reading of an answer: in no additive line of shown numbers may exactly one be
 * hidden when that one is small (it would be the total minus the rest). `truth` gives the exact
 * value of each position (from the same aggregate computed without protection).
 */
function assertNoSingleHidden(lines: { parts: (number | null)[]; total: number | null; truth: number[] }[]) {
  for (const l of lines) {
    const shownValues = [...l.parts, l.total];
    const nulls = shownValues.map((v, i) => (v === null ? i : -1)).filter((i) => i >= 0);
    if (nulls.length === 1) expect(l.truth[nulls[0]!]! === 0 || l.truth[nulls[0]!]! >= 5).toBe(true);
  }
}

describe('roundStatistics', () => {
  const rows = [
    ...times(6, () => row({ gender: 'female', answers: { ...allUnknown(), mentalHealth: 'severe_problems', workObstacles: ['mental_health', 'language'] } })),
    ...times(4, () => row({ gender: 'male', unit: 'vuxenstod', answers: { ...allUnknown(), mentalHealth: 'no_problems', workObstacles: ['language'] } })),
    ...times(2, () => row({ gender: 'male', answers: null, priority: null })),
    row({ status: 'closed', unit: null, closureReason: 'employment', answers: null }),
  ];

  it('counts among assessed open cases, with shares, the unknown share, and groups', () => {
    const s = roundStatistics(rows, QUESTIONNAIRE_V1, REF, { by: ['gender'], ...exact });
    expect(s.population).toEqual({ cases: { count: 12 }, assessed: { count: 10 }, notAssessed: { count: 2 } });
    const mh = s.questions.find((q) => q.key === 'mentalHealth')!;
    expect(mh.options.find((o) => o.code === 'severe_problems')).toMatchObject({ count: 6, share: 0.6 });
    expect(mh.unknownShare).toBe(0);
    expect(s.questions.find((q) => q.key === 'education')!.unknownShare).toBe(1);
    // Multi: the share of assessed cases that chose the option; they need not add up to 1.
    const wo = s.questions.find((q) => q.key === 'workObstacles')!;
    expect(wo.options.find((o) => o.code === 'language')).toMatchObject({ count: 10, share: 1 });
    expect(wo.options.find((o) => o.code === 'mental_health')).toMatchObject({ count: 6, share: 0.6 });
    const women = mh.by.gender!.find((g) => g.value === 'female')!;
    expect(women).toMatchObject({ count: 6, unknownShare: 0 });
    expect(women.options.find((o) => o.code === 'severe_problems')).toMatchObject({ count: 6, share: 1 });
    expect(s.totals.unit!.find((u) => u.value === 'vuxenstod')).toMatchObject({ count: 4 });
    expect(s.totals.priority!.find((u) => u.value === 'medium')).toMatchObject({ count: 10 });
    expect(s.suppression).toEqual({ applied: false, minCell: 5, anySuppressed: false });
  });

  it('hides small counts for roles without individual data, so that no line gives one away', () => {
    const s = roundStatistics(rows, QUESTIONNAIRE_V1, REF, { by: ['gender', 'unit'], ...hidden });
    expect(s.suppression.anySuppressed).toBe(true);
    expect(s.population.notAssessed).toEqual({ count: null, suppressed: true });
    // 2 not assessed is small; the population total (12) must then go too, or assessed (10) would tell it.
    expect([s.population.cases.count, s.population.assessed.count]).toContain(null);
    const mh = s.questions.find((q) => q.key === 'mentalHealth')!;
    const men = mh.by.gender!.find((g) => g.value === 'male')!;
    expect(men.count).toBeNull(); // 4 assessed men
    expect(men.options.find((o) => o.code === 'no_problems')).toEqual(expect.objectContaining({ count: null, suppressed: true, share: null }));
    // Every additive line of the answer, against the exact numbers.
    const x = roundStatistics(rows, QUESTIONNAIRE_V1, REF, { by: ['gender', 'unit'], ...exact });
    let lines = 0;
    s.questions.forEach((q, qi) => {
      const xq = x.questions[qi]!;
      if (q.type !== 'single') return;
      for (const k of ['gender', 'unit']) {
        q.options.forEach((o, oi) => {
          assertNoSingleHidden([{ parts: q.by[k]!.map((g) => g.options[oi]!.count), total: o.count, truth: [...xq.by[k]!.map((g) => g.options[oi]!.count!), xq.options[oi]!.count!] }]);
          lines++;
        });
        q.by[k]!.forEach((g, gi) => assertNoSingleHidden([{ parts: g.options.map((o) => o.count), total: g.count, truth: [...xq.by[k]![gi]!.options.map((o) => o.count!), xq.by[k]![gi]!.count!] }]));
      }
      assertNoSingleHidden([{ parts: q.options.map((o) => o.count), total: q.answered.count, truth: [...xq.options.map((o) => o.count!), xq.answered.count!] }]);
    });
    for (const k of ['gender', 'unit', 'priority']) {
      assertNoSingleHidden([{ parts: s.totals[k]!.map((t) => t.count), total: s.population.assessed.count, truth: [...x.totals[k]!.map((t) => t.count!), x.population.assessed.count!] }]);
    }
    expect(lines).toBeGreaterThan(50);
  });

  it('compare: change of each share between two rounds', () => {
    const later = [...times(5, () => row({ answers: { ...allUnknown(), mentalHealth: 'severe_problems' } })), ...times(5, () => row({ answers: { ...allUnknown(), mentalHealth: 'some_problems' } }))];
    const c = compareRounds({ rows, questionnaire: QUESTIONNAIRE_V1, referenceDate: REF }, { rows: later, questionnaire: QUESTIONNAIRE_V1, referenceDate: '2026-09-30' }, exact);
    const severe = c.items.find((i) => i.key === 'mentalHealth' && i.option === 'severe_problems')!;
    expect(severe).toMatchObject({ fromShare: 0.6, toShare: 0.5 });
    expect(severe.change).toBeCloseTo(-0.1, 10);
    expect(c.notCompared).toEqual([]);
  });
});

describe('crosstab', () => {
  const rand = prng(3);
  const rows = times(300, (i) =>
    row({ gender: i % 3 === 0 ? 'male' : 'female', unit: (['forsorjningsstod', 'vuxenstod'] as const)[i % 2], answers: i % 10 === 0 ? null : randomAnswers(rand, QUESTIONNAIRE_V1) }),
  );
  const dim = (k: string) => requireDimension('rows', k, QUESTIONNAIRE_V1, REF);
  const noFilter = parseFilters({}, QUESTIONNAIRE_V1, REF);

  it('counts two background keys over every open case, with totals that add up', () => {
    const t = crosstab(rows, dim('gender'), dim('unit'), noFilter, exact);
    expect(t.population).toBe('open_cases');
    expect(t.total.count).toBe(300);
    const sum = t.cells.reduce((a, c) => a + c.count!, 0);
    expect(sum).toBe(300);
    expect(t.cells.find((c) => c.row === 'male' && c.column === 'vuxenstod')!.count).toBe(rows.filter((r) => r.gender === 'male' && r.unit === 'vuxenstod').length);
  });

  it('with a question key: only assessed cases, filters narrow, a multi question counts a case in each chosen option', () => {
    const f = parseFilters({ 'filter[gender]': 'female', 'filter[unit]': 'vuxenstod,forsorjningsstod' }, QUESTIONNAIRE_V1, REF);
    const t = crosstab(rows, dim('workObstacles'), dim('mentalHealth'), f, exact);
    expect(t.population).toBe('assessed_open_cases');
    const women = rows.filter((r) => r.answers && r.gender === 'female');
    expect(t.total.count).toBe(women.length);
    const lang = women.filter((r) => (r.answers!.workObstacles as string[]).includes('language')).length;
    expect(t.rowTotals.find((r) => r.value === 'language')!.count).toBe(lang);
    expect(t.rows.multi).toBe(true);
  });

  it('rejects unknown keys and values with a 400 naming the parameter', () => {
    expect(() => requireDimension('columns', 'shoeSize', QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'columns' })] }) }));
    expect(() => parseFilters({ 'filter[gender]': 'robot' }, QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'filter[gender]' })] }) }));
    expect(() => parseFilters({ 'filter[nope]': 'x' }, QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'filter[nope]' })] }) }));
    // Names of Object's own properties are not keys (found by bad-input.e2e-spec's fast-check: a 500).
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(() => requireDimension('columns', key, QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'columns' })] }) }));
    }
    expect(() => parseFilters({ 'filter[hasChildren]': 'constructor' }, QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'filter[hasChildren]', message: expect.stringContaining('"constructor"') })] }) }));
    expect(() => parseFilters({ 'filter[constructor]': 'x' }, QUESTIONNAIRE_V1, REF)).toThrow(expect.objectContaining({ extra: expect.objectContaining({ errors: [expect.objectContaining({ path: 'filter[constructor]' })] }) }));
    // The web sends true/false for hasChildren.
    expect(parseFilters({ 'filter[hasChildren]': 'true' }, QUESTIONNAIRE_V1, REF).filters).toEqual([{ key: 'hasChildren', values: ['yes'] }]);
  });

  it('protected: no row or column of a single-valued table gives away a small hidden cell', () => {
    const few = rows.slice(0, 45);
    const t = crosstab(few, dim('mentalHealth'), dim('gender'), noFilter, hidden);
    const x = crosstab(few, dim('mentalHealth'), dim('gender'), noFilter, exact);
    expect(t.suppression.anySuppressed).toBe(true);
    const at = (tt: typeof t, r: string, c: string) => tt.cells.find((e) => e.row === r && e.column === c)!.count;
    for (const rv of t.rowValues) {
      assertNoSingleHidden([{ parts: t.columnValues.map((c) => at(t, rv, c)), total: t.rowTotals.find((r) => r.value === rv)!.count, truth: [...x.columnValues.map((c) => at(x, rv, c)!), x.rowTotals.find((r) => r.value === rv)!.count!] }]);
    }
    for (const cv of t.columnValues) {
      assertNoSingleHidden([{ parts: t.rowValues.map((r) => at(t, r, cv)), total: t.columnTotals.find((c) => c.value === cv)!.count, truth: [...x.rowValues.map((r) => at(x, r, cv)!), x.columnTotals.find((c) => c.value === cv)!.count!] }]);
    }
  });
});
