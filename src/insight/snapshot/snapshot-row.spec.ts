import { type CaseEventRecord, caseView } from '../../cases/case.view.js';
import { allUnknown } from '../../questionnaires/answers.fixtures.js';
import { monthsInLast12 } from '../../reports/benefit-duration.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { syntheticMunicipality } from '../testing/synthetic-municipality.js';
import { type EventLike, FactsAccumulator } from './case-facts.js';
import { ageGroup, durationFlagsAt, hasChildren, snapshotRow } from './snapshot-row.js';

let position = 0;
function ev(type: string, data: Record<string, unknown>, effectiveDate: string, caseId = 'c1'): EventLike {
  position += 1;
  return { stream: `case-2281-${caseId}`, tenant: '2281', type, position, version: position, data, metadata: { actor: 'cw-1', effectiveDate } };
}

function factsOf(events: EventLike[], roundIds?: string[]) {
  const acc = new FactsAccumulator(roundIds ? new Set(roundIds) : undefined);
  for (const e of events) acc.add(e);
  return acc;
}

describe('snapshotRow', () => {
  const answers = { ...allUnknown(), mentalHealth: 'some_problems' };
  const story = [
    ev('CaseRegistered', { caseId: 'c1', pseudonym: 'ps-1', birthYear: 1985, gender: 'female', bornAbroad: 'yes', childrenInHousehold: 2, unit: 'forsorjningsstod' }, '2025-01-10'),
    ev('BenefitMonthRecorded', { month: '2025-03' }, '2025-03-01'),
    ev('BenefitMonthRecorded', { month: '2026-03' }, '2026-03-01'),
    ev('BenefitMonthRecorded', { month: '2026-04' }, '2026-04-01'),
    ev('InterventionStarted', { interventionId: 'i1', type: 'language_coach', provider: 'municipality', startDate: '2026-02-01' }, '2026-02-01'),
    ev('InterventionStarted', { interventionId: 'i2', type: 'work_practice', provider: 'employment_service', startDate: '2026-01-01' }, '2026-01-01'),
    ev('InterventionEnded', { interventionId: 'i2', endDate: '2026-03-15', outcome: 'completed' }, '2026-03-15'),
    // Assessed and prioritised after the reference date (2026-03-31), during the round.
    ev('AssessmentRecorded', { roundId: 'r1', questionnaireVersion: 1, answers, assessedBy: 'cw-1' }, '2026-04-05'),
    ev('PrioritySet', { priority: 'high', roundId: 'r1', reasonCiphertext: 'vault:x' }, '2026-04-05'),
    ev('PrioritySet', { priority: 'low', roundId: null, reasonCiphertext: null }, '2026-04-06'),
    // Transferred after the reference date: not in the snapshot.
    ev('CaseTransferred', { fromUnit: 'forsorjningsstod', toUnit: 'vuxenstod', reasonCiphertext: null }, '2026-04-10'),
    ev('AssessmentCorrected', { roundId: 'r1', answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:y', correctedBy: 'cw-2' }, '2026-04-05'),
  ];
  const round = { roundId: 'r1', referenceDate: '2026-03-31' };

  it('takes the state on the reference date and the round’s own assessment and priority', () => {
    const acc = factsOf(story);
    const row = snapshotRow(acc.cases.get('c1')!, acc.assessment('c1', 'r1'), round)!;
    expect(row).toEqual({
      caseId: 'c1',
      pseudonym: 'ps-1',
      status: 'open',
      unit: 'forsorjningsstod',
      closureReason: null,
      priority: 'high',
      gender: 'female',
      birthYear: 1985,
      bornAbroad: 'yes',
      childrenInHousehold: 2,
      registeredOn: '2025-01-10',
      answers: { ...answers, mentalHealth: 'severe_problems' },
      assessedBy: 'cw-1',
      assessedOn: '2026-04-05',
      interventions: [{ type: 'language_coach', provider: 'municipality' }],
      benefitMonthsLast12: 1,
      longTerm: false,
      veryLongTerm: false,
      fiveYear: false,
      tenYear: false,
    });
  });

  it('keeps no free text', () => {
    const acc = factsOf(story);
    expect(JSON.stringify([...acc.cases.values(), ...acc.assessments.values()])).not.toMatch(/vault:/);
  });

  it('is null before the registration and closed with its reason after a closure', () => {
    const acc = factsOf([...story, ev('CaseClosed', { reason: 'employment', fromUnit: 'vuxenstod' }, '2026-09-01')]);
    expect(snapshotRow(acc.cases.get('c1')!, undefined, { roundId: 'r0', referenceDate: '2024-12-31' })).toBeNull();
    const later = snapshotRow(acc.cases.get('c1')!, undefined, { roundId: 'r2', referenceDate: '2026-09-30' })!;
    expect(later).toMatchObject({ status: 'closed', unit: null, closureReason: 'employment', answers: null, assessedBy: null, priority: null });
  });

  it('ignores an event applied twice (idempotent facts)', () => {
    const acc = factsOf([...story, ...story]);
    const once = factsOf(story);
    expect(acc.cases.get('c1')).toEqual(once.cases.get('c1'));
    expect(acc.assessment('c1', 'r1')).toEqual(once.assessment('c1', 'r1'));
  });

  it('agrees with caseView over the whole stream, for every case and round of synthetic histories', () => {
    let compared = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const log = syntheticMunicipality({ municipality: '2281', cases: 40, rounds: 5, seed, historyYears: 2 });
      const byCase = new Map<string, CaseEventRecord[]>();
      const acc = new FactsAccumulator();
      let pos = 0;
      const versions = new Map<string, number>();
      for (const step of log.steps) {
        for (const { stream, tenant, event } of step) {
          pos += 1;
          const version = (versions.get(stream) ?? 0) + 1;
          versions.set(stream, version);
          const stored: EventLike = { stream, tenant, type: event.type, position: pos, version, data: event.data, metadata: event.metadata };
          acc.add(stored);
          const caseId = caseIdOfStream(stream);
          if (caseId) {
            const list = byCase.get(caseId) ?? [];
            list.push({ type: event.type, schemaVersion: 1, data: event.data, metadata: event.metadata, version } as unknown as CaseEventRecord);
            byCase.set(caseId, list);
          }
        }
      }
      for (const r of log.rounds) {
        for (const [caseId, events] of byCase) {
          const atRef = caseView(events, { validAt: r.referenceDate });
          const all = caseView(events)!;
          const row = snapshotRow(acc.cases.get(caseId)!, acc.assessment(caseId, r.roundId), r);
          if (!atRef) {
            expect(row).toBeNull();
            continue;
          }
          compared++;
          expect(row).toMatchObject({
            status: atRef.status,
            unit: atRef.unit,
            closureReason: atRef.closure?.reason ?? null,
            priority: all.priorityByRound[r.roundId] ?? null,
            answers: all.assessments[r.roundId]?.answers ?? null,
            assessedBy: all.assessments[r.roundId]?.assessedBy ?? null,
            interventions: atRef.interventions.filter((i) => i.endDate === null).map((i) => ({ type: i.type, provider: i.provider })),
            benefitMonthsLast12: monthsInLast12(atRef.benefitMonths, r.referenceDate),
          });
          expect(row).toMatchObject(durationFlagsAt(atRef.benefitMonths, r.referenceDate));
        }
      }
    }
    // The histories must actually exercise the comparison.
    expect(compared).toBeGreaterThan(500);
  });
});

describe('durationFlagsAt (the spell rule on windows ending with the reference month)', () => {
  const months = (from: string, n: number, skip: number[] = []) => {
    const [y, m] = from.split('-').map(Number) as [number, number];
    return Array.from({ length: n }, (_, k) => k)
      .filter((k) => !skip.includes(k))
      .map((k) => {
        const i = y * 12 + m - 1 + k;
        return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
      });
  };

  it('long-term: 10 of the 12 months up to and including the reference month', () => {
    expect(durationFlagsAt(months('2025-04', 10), '2026-03-31').longTerm).toBe(true); // 2025-04 is the window's first month
    expect(durationFlagsAt(months('2025-03', 10), '2026-02-28').longTerm).toBe(true);
    expect(durationFlagsAt(months('2025-03', 10), '2026-03-01').longTerm).toBe(false); // 2025-03 is outside the window
    expect(durationFlagsAt(months('2025-04', 12, [3, 7]), '2026-03-31').longTerm).toBe(true); // breaks do not matter
  });

  it('very long-term: 27 months in 36 with breaks of at most 2 months', () => {
    expect(durationFlagsAt(months('2023-04', 36, [5, 6, 15, 16, 25, 26]), '2026-03-31').veryLongTerm).toBe(true);
    expect(durationFlagsAt(months('2023-04', 36, [10, 11, 12]), '2026-03-31').veryLongTerm).toBe(false); // a 3-month break splits 33 into 10 + 23
  });

  it('age groups and children', () => {
    expect(ageGroup(2002, '2026-03-31')).toBe('under_25');
    expect(ageGroup(2001, '2026-03-31')).toBe('25_34');
    expect(ageGroup(1971, '2026-03-31')).toBe('55_plus');
    expect([hasChildren(0), hasChildren(3), hasChildren('unknown')]).toEqual(['no', 'yes', 'unknown']);
  });
});
