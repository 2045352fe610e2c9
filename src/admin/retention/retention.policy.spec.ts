import fc from 'fast-check';
import { birthDayOf, isDueForCulling, isResearchSample, planRetention, retentionCutoff, type RetentionPerson } from './retention.policy.js';

const closed = (caseId: string, closedOn: string) => ({ caseId, status: 'closed' as const, closedOn });
const open = (caseId: string) => ({ caseId, status: 'open' as const, closedOn: null });

describe('retentionCutoff', () => {
  it('is the same calendar day N years back', () => {
    expect(retentionCutoff('2026-11-23', 5)).toBe('2021-11-23');
    expect(retentionCutoff('2026-01-01', 10)).toBe('2016-01-01');
  });

  it('counts 29 February back to 28 February in a common year', () => {
    expect(retentionCutoff('2028-02-29', 5)).toBe('2023-02-28');
    expect(retentionCutoff('2028-02-29', 4)).toBe('2024-02-29');
  });

  it('a closure exactly N years ago is not yet "more than" N years ago; the day before is', () => {
    const cutoff = retentionCutoff('2026-11-23', 5);
    expect(isDueForCulling({ pseudonym: 'p', cases: [closed('a', '2021-11-23')] }, cutoff)).toBe(false);
    expect(isDueForCulling({ pseudonym: 'p', cases: [closed('a', '2021-11-22')] }, cutoff)).toBe(true);
  });
});

describe('birthDayOf / research sample (SoF 7 kap. 2 §)', () => {
  it('reads the day from a personnummer, with or without hyphen', () => {
    expect(birthDayOf('198503152389')).toBe(15);
    expect(birthDayOf('19850305-2389')).toBe(5);
  });

  it('subtracts 60 from a samordningsnummer day', () => {
    expect(birthDayOf('198503852389')).toBe(25);
    expect(isResearchSample('198503852389')).toBe(true);
    expect(isResearchSample('198503652389')).toBe(true);
    expect(isResearchSample('198503662389')).toBe(false);
  });

  it('keeps exactly the 5th, 15th and 25th', () => {
    for (let day = 1; day <= 31; day++) {
      const pin = `19850${day <= 30 ? 1 : 3}${String(day).padStart(2, '0')}2389`;
      expect(isResearchSample(pin)).toBe([5, 15, 25].includes(day));
    }
  });
});

describe('planRetention', () => {
  const cutoff = '2021-11-23';
  const pins: Record<string, string> = { old: '198503012389', sample: '198503152389', mixed: '198503022389', recent: '198503032389', reopened: '198503042389' };
  const people: RetentionPerson[] = [
    { pseudonym: 'old', cases: [closed('c1', '2019-06-30'), closed('c2', '2020-01-31')] },
    { pseudonym: 'sample', cases: [closed('c3', '2018-03-01')] },
    { pseudonym: 'mixed', cases: [closed('c4', '2015-01-01'), open('c5')] },
    { pseudonym: 'recent', cases: [closed('c6', '2015-01-01'), closed('c7', '2021-11-23')] },
    { pseudonym: 'reopened', cases: [open('c8')] },
  ];

  it('culls only people whose every case closed before the cutoff, keeping the research sample', () => {
    const plan = planRetention(people, { cutoff, keepResearchSample: true, pinOf: (p) => pins[p] });
    expect(plan.cull.map((p) => p.pseudonym)).toEqual(['old']);
    expect(plan.keptForResearch.map((p) => p.pseudonym)).toEqual(['sample']);
  });

  it('culls the research sample too when the municipality does not keep it, without reading numbers', () => {
    const asked: string[] = [];
    const plan = planRetention(people, { cutoff, keepResearchSample: false, pinOf: (p) => (asked.push(p), pins[p]) });
    expect(plan.cull.map((p) => p.pseudonym)).toEqual(['old', 'sample']);
    expect(plan.keptForResearch).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('reads numbers only of people who are due', () => {
    const asked: string[] = [];
    planRetention(people, { cutoff, keepResearchSample: true, pinOf: (p) => (asked.push(p), pins[p]) });
    expect(asked.sort()).toEqual(['old', 'sample']);
  });

  it('agrees with a direct reading of the rule on generated people', () => {
    const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    const kase = fc.oneof(
      date.map((d) => ({ status: 'closed' as const, closedOn: d })),
      fc.constant({ status: 'open' as const, closedOn: null }),
    );
    const person = fc.record({ day: fc.integer({ min: 1, max: 28 }), coordination: fc.boolean(), cases: fc.array(kase, { minLength: 1, maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(person, { maxLength: 20 }), date, fc.boolean(), (raw, cut, keep) => {
        const ps: RetentionPerson[] = raw.map((p, i) => ({ pseudonym: `p${i}`, cases: p.cases.map((c, j) => ({ caseId: `c${i}-${j}`, ...c })) }));
        const pinOf = (pseudonym: string) => {
          const p = raw[Number(pseudonym.slice(1))]!;
          return `199001${String(p.day + (p.coordination ? 60 : 0)).padStart(2, '0')}1234`;
        };
        const plan = planRetention(ps, { cutoff: cut, keepResearchSample: keep, pinOf });
        raw.forEach((p, i) => {
          const allOld = p.cases.every((c) => c.status === 'closed' && c.closedOn! < cut);
          const sample = [5, 15, 25].includes(p.day);
          const inCull = plan.cull.some((x) => x.pseudonym === `p${i}`);
          const inKept = plan.keptForResearch.some((x) => x.pseudonym === `p${i}`);
          expect(inCull).toBe(allOld && !(keep && sample));
          expect(inKept).toBe(allOld && keep && sample);
        });
      }),
      { numRuns: 200 },
    );
  });
});
