import { QUESTIONNAIRE_V1 } from '../../questionnaires/questionnaire.js';
import { allUnknown } from '../../questionnaires/answers.fixtures.js';
import { chiSquareSurvival } from '../../shared/aggregates/chi-square.js';
import { row, times } from '../testing/rows.fixtures.js';
import { assessmentConsistency, benefitDurationReport, lowExpectedShare, type PersonHistory, supportByGender } from './reports.js';

const months = (year: number, from: number, to: number) => times(to - from + 1, (i) => `${year}-${String(from + i).padStart(2, '0')}`);
const exact = { protect: false, minCell: 5 };

describe('benefitDurationReport', () => {
  const person = (p: Partial<PersonHistory> & { pseudonym: string }): PersonHistory => ({ registeredOn: '2020-01-01', gender: 'female', bornAbroad: 'no', childrenInHousehold: 1, months: [], ...p });

  it('counts persons (months merged over their cases) by category with the seed’s columns', () => {
    const histories = [
      // Two cases of one person: 6 + 5 months in 2025 make her long-term, counted once, with the latest background.
      person({ pseudonym: 'a', months: months(2025, 1, 6), registeredOn: '2019-01-01', childrenInHousehold: 4 }),
      person({ pseudonym: 'a', months: months(2025, 7, 11), registeredOn: '2025-07-01', childrenInHousehold: 2, bornAbroad: 'yes' }),
      person({ pseudonym: 'b', gender: 'male', months: months(2025, 1, 10), childrenInHousehold: 'unknown' }),
      person({ pseudonym: 'c', gender: 'other', months: months(2025, 1, 9) }), // 9 months: not long-term
      person({ pseudonym: 'd', months: [...months(2023, 1, 12), ...months(2024, 1, 12), ...months(2025, 1, 12)] }),
    ];
    const r = benefitDurationReport(histories, 2025, exact);
    const lt = r.rows.find((x) => x.category === 'long_term')!;
    expect(lt).toMatchObject({ total: { count: 3 }, women: { count: 2 }, men: { count: 1 }, bornInSweden: { count: 2 }, bornAbroad: { count: 1 }, childrenInHouseholds: { count: 3 }, childrenUnknown: { count: 1 } });
    expect(r.rows.find((x) => x.category === 'very_long_term')).toMatchObject({ total: { count: 1 }, women: { count: 1 } });
    expect(r.rows.find((x) => x.category === 'ten_year')).toMatchObject({ total: { count: 0 } });
    expect(r.persons.count).toBe(4);
  });

  it('hides small counts, also a small rest of other genders that total minus women minus men would show', () => {
    const histories = [
      ...times(20, (i) => person({ pseudonym: `w${i}`, months: months(2025, 1, 12) })),
      ...times(20, (i) => person({ pseudonym: `m${i}`, gender: 'male', months: months(2025, 1, 12) })),
      person({ pseudonym: 'o1', gender: 'other', months: months(2025, 1, 12) }),
    ];
    const r = benefitDurationReport(histories, 2025, { protect: true, minCell: 5 });
    const lt = r.rows.find((x) => x.category === 'long_term')!;
    // 41 = 20 + 20 + 1: one of women, men or total must be hidden.
    expect([lt.total.count, lt.women.count, lt.men.count].filter((v) => v === null)).toHaveLength(1);
    expect(lt.bornInSweden).toEqual({ count: 41 });
  });
});

describe('assessmentConsistency', () => {
  it('finds a caseworker who prioritises differently, with chi-square, p-value and Cramér’s V', () => {
    const rows = [
      ...times(30, (i) => row({ assessedBy: 'cw-anna', priority: (['high', 'medium', 'low'] as const)[i % 3] })),
      ...times(30, () => row({ assessedBy: 'cw-bo', priority: 'high' })),
    ];
    const r = assessmentConsistency(rows, QUESTIONNAIRE_V1, (id) => `staff-${id.length}-${id.slice(-2)}`, exact);
    expect(r.caseworkers.map((c) => c.caseworker)).toEqual(['staff-5-bo', 'staff-7-na']);
    expect(JSON.stringify(r)).not.toMatch(/cw-anna|cw-bo/);
    const p = r.variables.find((v) => v.key === 'priority')!;
    // Table [[30,0,0],[10,10,10]] (bo, anna): chi² = 30, df = 3 with the empty not_set column dropped → 2.
    expect(p.test.statistic).toBeCloseTo(30, 10);
    expect(p.test.degreesOfFreedom).toBe(2);
    expect(p.test.pValue).toBeCloseTo(chiSquareSurvival(30, 2), 12);
    expect(p.test.pValue).toBeCloseTo(Math.exp(-15), 12); // χ²(2) survival is exp(-x/2)
    expect(p.test.cramersV).toBeCloseTo(Math.sqrt(30 / 60), 10);
    expect(p.counts[0]!.map((c) => c.count)).toEqual([30, 0, 0, 0]);
    // Every assessed the same answers ("vet ej"): no dependence at all.
    const edu = r.variables.find((v) => v.key === 'education')!;
    expect(edu.test.statistic).toBe(0);
  });

  it('tells when expected counts are too small for the test', () => {
    expect(lowExpectedShare([[1, 2], [3, 1]])).toBe(1);
    expect(lowExpectedShare([[50, 50], [50, 50]])).toBe(0);
  });
});

describe('supportByGender', () => {
  it('share with running interventions by gender and unit, and by provider', () => {
    const withI = (provider: 'municipality' | 'employment_service') => [{ type: 'work_practice' as const, provider }];
    const rows = [
      ...times(10, (i) => row({ gender: 'female', interventions: i < 2 ? withI('municipality') : [] })),
      ...times(10, (i) => row({ gender: 'male', interventions: i < 5 ? withI('employment_service') : i < 6 ? withI('municipality') : [] })),
      row({ gender: 'male', status: 'closed', unit: null, closureReason: 'moved', interventions: withI('municipality') }),
    ];
    const r = supportByGender(rows, exact);
    const women = r.rows.find((x) => x.gender === 'female' && x.unit === 'all')!;
    expect(women).toMatchObject({ cases: { count: 10 }, withInterventions: { count: 2 }, share: 0.2 });
    const men = r.rows.find((x) => x.gender === 'male' && x.unit === 'forsorjningsstod')!;
    expect(men).toMatchObject({ cases: { count: 10 }, withInterventions: { count: 6 }, share: 0.6 });
    expect(men.byProvider.employment_service).toMatchObject({ count: 5, share: 0.5 });
    const hidden = supportByGender(rows, { protect: true, minCell: 5 });
    const w = hidden.rows.find((x) => x.gender === 'female' && x.unit === 'all')!;
    expect(w.withInterventions).toEqual({ count: null, suppressed: true });
    expect(w.share).toBeNull();
  });
});

describe('answers of a whole municipality stay exact for caseworkers', () => {
  it('no suppression flag when protection is off', () => {
    const r = supportByGender([row({ answers: allUnknown() })], exact);
    expect(r.suppression.anySuppressed).toBe(false);
  });
});
