import { allUnknown } from '../questionnaires/answers.fixtures.js';
import type { CaseEvent } from './case.events.js';
import { type CaseEventRecord, caseView } from './case.view.js';

/**
 * The story, in recording order (what the stream holds). Several facts are recorded late with
 * an earlier effective date; `recordedAt` is the day they were recorded.
 */
let version = 0;
function rec<T extends CaseEvent['type']>(type: T, data: Extract<CaseEvent, { type: T }>['data'], effectiveDate: string, recordedOn: string, actor = 'cw-1'): CaseEventRecord {
  version += 1;
  return { type, schemaVersion: 1, data, metadata: { actor, effectiveDate }, version, recordedAt: new Date(`${recordedOn}T09:00:00+01:00`) } as CaseEventRecord;
}

const original = { ...allUnknown(), mentalHealth: 'some_problems', workObstacles: ['mental_health'] };
const story: CaseEventRecord[] = [
  /* 1 */ rec('CaseRegistered', { caseId: 'c1', pseudonym: 'ps-1', birthYear: 1985, gender: 'female', bornAbroad: 'yes', childrenInHousehold: 2, unit: 'forsorjningsstod' }, '2026-01-10', '2026-03-02'),
  /* 2 */ rec('BenefitMonthRecorded', { month: '2025-12' }, '2025-12-01', '2026-03-02'),
  /* 3 */ rec('BenefitMonthRecorded', { month: '2026-01' }, '2026-01-01', '2026-03-02'),
  /* 4 */ rec('AssessmentRecorded', { roundId: 'r1', questionnaireVersion: 1, answers: original, assessedBy: 'cw-1' }, '2026-03-02', '2026-03-02'),
  /* 5 */ rec('PrioritySet', { priority: 'high', roundId: 'r1', reasonCiphertext: null }, '2026-03-02', '2026-03-02'),
  // recorded on 10 March: she moved to Vuxenstöd on 1 March, and has had a language coach since 1 February
  /* 6 */ rec('CaseTransferred', { fromUnit: 'forsorjningsstod', toUnit: 'vuxenstod', reasonCiphertext: 'vault:r' }, '2026-03-01', '2026-03-10'),
  /* 7 */ rec('InterventionStarted', { interventionId: 'i1', type: 'language_coach', provider: 'municipality', startDate: '2026-02-01' }, '2026-02-01', '2026-03-10'),
  // recorded on 20 April: the January month was a mistake; the assessment's mental health answer too
  /* 8 */ rec('BenefitMonthWithdrawn', { month: '2026-01' }, '2026-01-01', '2026-04-20'),
  /* 9 */ rec('AssessmentCorrected', { roundId: 'r1', answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:c', correctedBy: 'cw-2' }, '2026-03-02', '2026-04-20', 'cw-2'),
  /* 10 */ rec('InterventionEnded', { interventionId: 'i1', endDate: '2026-04-15', outcome: 'completed' }, '2026-04-15', '2026-04-20'),
  /* 11 */ rec('PrioritySet', { priority: 'low', roundId: null, reasonCiphertext: null }, '2026-04-20', '2026-04-20'),
  /* 12 */ rec('CaseClosed', { reason: 'employment', fromUnit: 'vuxenstod' }, '2026-05-31', '2026-06-02'),
];
/** Stands in for the store's `readStream(…, { knownAt })`: only what was recorded by then. */
const knownAt = (day: string) => story.filter((e) => (e.recordedAt as Date) <= new Date(`${day}T23:59:59+02:00`));

describe('caseView', () => {
  it('folds everything known into the read shape of GET /cases/{id}', () => {
    expect(caseView(story)).toEqual({
      id: 'c1',
      pseudonym: 'ps-1',
      birthYear: 1985,
      gender: 'female',
      bornAbroad: 'yes',
      childrenInHousehold: 2,
      registeredOn: '2026-01-10',
      status: 'closed',
      unit: null,
      priority: 'low',
      priorityByRound: { r1: 'high' },
      closure: { reason: 'employment', effectiveDate: '2026-05-31', fromUnit: 'vuxenstod' },
      interventions: [{ interventionId: 'i1', type: 'language_coach', provider: 'municipality', startDate: '2026-02-01', endDate: '2026-04-15', outcome: 'completed' }],
      benefitMonths: ['2025-12'],
      assessments: {
        r1: {
          roundId: 'r1',
          questionnaireVersion: 1,
          answers: { ...original, mentalHealth: 'severe_problems' },
          originalAnswers: original,
          assessedBy: 'cw-1',
          effectiveDate: '2026-03-02',
          recordedAt: '2026-03-02T08:00:00.000Z',
          corrections: [{ answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:c', correctedBy: 'cw-2', recordedAt: '2026-04-20T08:00:00.000Z' }],
        },
      },
      version: 12,
    });
  });

  it('is null before the case was registered (validAt) or when nothing is known', () => {
    expect(caseView(story, { validAt: '2026-01-09' })).toBeNull();
    expect(caseView([])).toBeNull();
    expect(caseView(story, { validAt: '2026-01-10' })).toMatchObject({ status: 'open', unit: 'forsorjningsstod' });
  });

  it('counts a back-dated transfer for every validAt from its effective date, once it is known', () => {
    const unitOn = (events: CaseEventRecord[], validAt: string) => caseView(events, { validAt })!.unit;
    // known now
    expect(unitOn(story, '2026-02-28')).toBe('forsorjningsstod');
    expect(unitOn(story, '2026-03-01')).toBe('vuxenstod');
    expect(unitOn(story, '2026-03-05')).toBe('vuxenstod');
    // as known on 5 March, before it was recorded on the 10th
    expect(unitOn(knownAt('2026-03-05'), '2026-03-05')).toBe('forsorjningsstod');
    expect(unitOn(knownAt('2026-03-10'), '2026-03-05')).toBe('vuxenstod');
  });

  it('shows a back-dated intervention as running between its start and end', () => {
    expect(caseView(story, { validAt: '2026-01-31' })!.interventions).toEqual([]);
    expect(caseView(story, { validAt: '2026-02-15' })!.interventions).toEqual([
      { interventionId: 'i1', type: 'language_coach', provider: 'municipality', startDate: '2026-02-01', endDate: null, outcome: null },
    ]);
    expect(caseView(story, { validAt: '2026-04-15' })!.interventions[0]).toMatchObject({ endDate: '2026-04-15', outcome: 'completed' });
    expect(caseView(knownAt('2026-03-05'), { validAt: '2026-02-15' })!.interventions).toEqual([]);
  });

  it('applies a correction to the assessment for every validAt once known, and keeps the original', () => {
    const mentalHealth = (events: CaseEventRecord[], validAt?: string) => caseView(events, { validAt })!.assessments.r1?.answers.mentalHealth;
    expect(mentalHealth(knownAt('2026-04-19'), '2026-03-02')).toBe('some_problems');
    expect(mentalHealth(knownAt('2026-04-20'), '2026-03-02')).toBe('severe_problems');
    expect(mentalHealth(story, '2026-03-02')).toBe('severe_problems');
    expect(caseView(story, { validAt: '2026-03-02' })!.assessments.r1!.originalAnswers.mentalHealth).toBe('some_problems');
    expect(caseView(knownAt('2026-04-19'))!.assessments.r1!.corrections).toEqual([]);
    // before the assessment day there is no assessment
    expect(caseView(story, { validAt: '2026-03-01' })!.assessments).toEqual({});
  });

  it('drops a withdrawn benefit month for every validAt once the withdrawal is known; a month counts from its first day', () => {
    expect(caseView(knownAt('2026-04-19'), { validAt: '2026-03-01' })!.benefitMonths).toEqual(['2025-12', '2026-01']);
    expect(caseView(story, { validAt: '2026-03-01' })!.benefitMonths).toEqual(['2025-12']);
    expect(caseView(knownAt('2026-04-19'), { validAt: '2025-12-31' })!).toBeNull();
  });

  it('shows the closure from its effective date, with the unit it left from', () => {
    expect(caseView(story, { validAt: '2026-05-30' })).toMatchObject({ status: 'open', unit: 'vuxenstod', closure: null });
    expect(caseView(story, { validAt: '2026-05-31' })).toMatchObject({ status: 'closed', unit: null, closure: { reason: 'employment', fromUnit: 'vuxenstod' } });
    expect(caseView(knownAt('2026-06-01'), { validAt: '2026-06-01' })).toMatchObject({ status: 'open' });
  });

  it('reopening clears the closure and sets the unit', () => {
    const reopened = [...story, rec('CaseReopened', { unit: 'arbete-och-integration' }, '2026-06-10', '2026-06-10')];
    expect(caseView(reopened)).toMatchObject({ status: 'open', unit: 'arbete-och-integration', closure: null });
    expect(caseView(reopened, { validAt: '2026-06-09' })).toMatchObject({ status: 'closed' });
  });

  it('takes the priority in force on validAt, by effective date', () => {
    expect(caseView(story, { validAt: '2026-03-01' })!.priority).toBeNull();
    expect(caseView(story, { validAt: '2026-04-19' })).toMatchObject({ priority: 'high', priorityByRound: { r1: 'high' } });
    expect(caseView(story, { validAt: '2026-04-20' })).toMatchObject({ priority: 'low', priorityByRound: { r1: 'high' } });
  });

  it('folds by effective date, not recording order: a back-dated priority does not override a later one', () => {
    const events = [
      ...story.slice(0, 4),
      rec('PrioritySet', { priority: 'medium', roundId: null, reasonCiphertext: null }, '2026-04-01', '2026-04-01'),
      rec('PrioritySet', { priority: 'high', roundId: null, reasonCiphertext: null }, '2026-03-15', '2026-04-05'),
    ];
    expect(caseView(events)!.priority).toBe('medium');
    expect(caseView(events, { validAt: '2026-03-20' })!.priority).toBe('high');
  });

  it('reports the stream version of the newest event given, whatever validAt is (it is the ETag)', () => {
    expect(caseView(story, { validAt: '2026-01-10' })!.version).toBe(12);
    expect(caseView(knownAt('2026-03-05'))!.version).toBe(5);
    // without store versions: the count of events
    const bare = story.slice(0, 3).map(({ version: _v, recordedAt: _r, ...e }) => e as CaseEventRecord);
    expect(caseView(bare)!.version).toBe(3);
    expect(caseView(bare)!.assessments).toEqual({});
  });
});
