import { allUnknown } from '../questionnaires/answers.fixtures.js';
import { type Answers, QUESTIONNAIRE_V1 } from '../questionnaires/questionnaire.js';
import { deciderSpec, fieldPaths } from '../shared/testing/decider-spec.js';
import { type CaseCommand, type RoundInfo, caseDecider, isOpenOn } from './case.decider.js';
import type { CaseEvent } from './case.events.js';

const spec = deciderSpec(caseDecider);
const TODAY = '2026-03-02';
const ctx = { actor: 'cw-1', today: TODAY };

/** A case event as the decider produces it (actor cw-1 unless given). */
function ev<T extends CaseEvent['type']>(type: T, data: Extract<CaseEvent, { type: T }>['data'], effectiveDate: string, actor = 'cw-1'): CaseEvent {
  return { type, schemaVersion: 1, data, metadata: { actor, effectiveDate } } as CaseEvent;
}

const registered = (effectiveDate = '2026-01-10', unit: 'forsorjningsstod' | 'vuxenstod' = 'forsorjningsstod') =>
  ev('CaseRegistered', { caseId: 'c1', pseudonym: 'ps-1', birthYear: 1985, gender: 'female', bornAbroad: 'no', childrenInHousehold: 2, unit }, effectiveDate);
const transferred = (fromUnit: 'forsorjningsstod' | 'vuxenstod' | 'arbete-och-integration', toUnit: typeof fromUnit, effectiveDate: string) =>
  ev('CaseTransferred', { fromUnit, toUnit, reasonCiphertext: null }, effectiveDate);
const closed = (effectiveDate = '2026-02-15', reason: 'employment' | 'moved' = 'employment', fromUnit: 'forsorjningsstod' | 'vuxenstod' = 'forsorjningsstod') =>
  ev('CaseClosed', { reason, fromUnit }, effectiveDate);
const reopened = (effectiveDate: string, unit: 'vuxenstod' | 'forsorjningsstod' = 'vuxenstod') => ev('CaseReopened', { unit }, effectiveDate);

const round = (over: Partial<RoundInfo> = {}): RoundInfo => ({ roundId: 'r1', status: 'open', referenceDate: '2026-03-01', questionnaire: QUESTIONNAIRE_V1, ...over });
const answers = (): Answers => ({ ...allUnknown(), education: 'compulsory', workObstacles: ['mental_health', 'language'] });
const assessed = (roundId = 'r1', effectiveDate = TODAY) =>
  ev('AssessmentRecorded', { roundId, questionnaireVersion: 1, answers: answers(), assessedBy: 'cw-1' }, effectiveDate);

const register = (over: Partial<Extract<CaseCommand, { type: 'RegisterCase' }>> = {}): CaseCommand => ({
  type: 'RegisterCase',
  ...ctx,
  caseId: 'c1',
  pseudonym: 'ps-1',
  birthYear: 1985,
  gender: 'female',
  bornAbroad: 'no',
  childrenInHousehold: 2,
  unit: 'forsorjningsstod',
  effectiveDate: '2026-01-10',
  openCaseOfPerson: null,
  ...over,
});
const assess = (over: Partial<Extract<CaseCommand, { type: 'RecordAssessment' }>> = {}): CaseCommand => ({
  type: 'RecordAssessment',
  ...ctx,
  roundId: 'r1',
  round: round(),
  answers: answers(),
  ...over,
});

describe('registering a case', () => {
  it('registers the person by pseudonym with background and unit, effective on the given date', () => {
    spec.given([]).when(register()).then([registered()]);
  });

  it('defaults the effective date to today and accepts "unknown" children', () => {
    spec
      .given([])
      .when(register({ effectiveDate: undefined, childrenInHousehold: 'unknown' }))
      .then([ev('CaseRegistered', { caseId: 'c1', pseudonym: 'ps-1', birthYear: 1985, gender: 'female', bornAbroad: 'no', childrenInHousehold: 'unknown', unit: 'forsorjningsstod' }, TODAY)]);
  });

  it('allows one open case per person per municipality, naming the existing case', () => {
    const error = spec.given([]).when(register({ openCaseOfPerson: 'c0' })).thenThrows('conflict', 'person-has-open-case');
    expect(error.details).toEqual({ caseId: 'c0' });
  });

  it('rejects a case id that is already registered', () => {
    spec.given([registered()]).when(register()).thenThrows('conflict', 'case-exists');
  });

  it('rejects an effective date after today', () => {
    const error = spec.given([]).when(register({ effectiveDate: '2026-03-03' })).thenThrows('validation');
    expect(error.errors).toEqual([{ path: 'effectiveDate', message: 'must not be after today (2026-03-02)' }]);
  });

  it('reports every invalid field at once', () => {
    const error = spec
      .given([])
      .when(register({ effectiveDate: '2026-02-30', birthYear: 2027, gender: 'x' as never, bornAbroad: 'maybe' as never, childrenInHousehold: -1, unit: 'ekonomi' as never }))
      .thenThrows('validation');
    expect(fieldPaths(error)).toEqual(['birthYear', 'bornAbroad', 'childrenInHousehold', 'effectiveDate', 'gender', 'unit']);
  });

  it('rejects commands on a case that does not exist', () => {
    spec.given([]).when({ type: 'CloseCase', ...ctx, reason: 'employment' }).thenThrows('not_found', 'case-not-found');
    spec.given([]).when(assess()).thenThrows('not_found', 'case-not-found');
  });
});

describe('recording an assessment', () => {
  it('records every answer, canonical, with the round, questionnaire version and assessor', () => {
    const sent = { ...answers(), workObstacles: ['language', 'mental_health'] };
    spec.given([registered()]).when(assess({ answers: sent })).then([assessed()]);
  });

  it('takes "unknown" for every question', () => {
    spec
      .given([registered()])
      .when(assess({ answers: allUnknown() }))
      .then([ev('AssessmentRecorded', { roundId: 'r1', questionnaireVersion: 1, answers: allUnknown(), assessedBy: 'cw-1' }, TODAY)]);
  });

  it('only in an open round', () => {
    spec.given([registered()]).when(assess({ round: round({ status: 'closed' }) })).thenThrows('conflict', 'round-closed');
  });

  it('only in a round that exists', () => {
    spec.given([registered()]).when(assess({ roundId: 'r9', round: undefined })).thenThrows('not_found', 'round-not-found');
  });

  it('only for a case open on the round\'s reference date', () => {
    // registered after the reference date
    spec.given([registered('2026-03-02')]).when(assess()).thenThrows('conflict', 'case-not-in-round');
    // closed before the reference date
    spec.given([registered(), closed('2026-02-15')]).when(assess()).thenThrows('conflict', 'case-not-in-round');
    // reopened before the reference date: in the round
    spec.given([registered(), closed('2026-02-15'), reopened('2026-02-20')]).when(assess()).then([assessed()]);
  });

  it('for a case open on the reference date but closed since (it belongs to the round\'s snapshot)', () => {
    spec.given([registered(), closed('2026-03-02')]).when(assess()).then([assessed()]);
  });

  it('once per case per round', () => {
    const error = spec.given([registered(), assessed()]).when(assess()).thenThrows('conflict', 'assessment-exists');
    expect(error.details).toEqual({ roundId: 'r1' });
    spec.given([registered(), assessed()]).when(assess({ roundId: 'r2', round: round({ roundId: 'r2' }) })).then([assessed('r2')]);
  });

  it('every question answered with a valid option or unknown, all errors at once', () => {
    const { mentalHealth: _m, ...missing } = answers();
    const error = spec
      .given([registered()])
      .when(assess({ answers: { ...missing, education: 'university', workObstacles: ['none', 'language'], extra: 'x' } }))
      .thenThrows('validation');
    expect(fieldPaths(error)).toEqual(['answers.education', 'answers.extra', 'answers.mentalHealth', 'answers.workObstacles']);
  });

  it('against the round\'s own questionnaire version', () => {
    const v2 = { version: 2, questions: [QUESTIONNAIRE_V1.questions[0]!] };
    spec
      .given([registered()])
      .when(assess({ round: round({ questionnaire: v2 }), answers: { education: 'none' } }))
      .then([ev('AssessmentRecorded', { roundId: 'r1', questionnaireVersion: 2, answers: { education: 'none' }, assessedBy: 'cw-1' }, TODAY)]);
    spec.given([registered()]).when(assess({ round: round({ questionnaire: v2 }) })).thenThrows('validation');
  });

  it('may be back-dated but not dated after today', () => {
    spec.given([registered()]).when(assess({ effectiveDate: '2026-03-01' })).then([assessed('r1', '2026-03-01')]);
    spec.given([registered()]).when(assess({ effectiveDate: '2026-03-03' })).thenThrows('validation');
  });
});

describe('correcting an assessment', () => {
  const correct = (over: Partial<Extract<CaseCommand, { type: 'CorrectAssessment' }>> = {}): CaseCommand => ({
    type: 'CorrectAssessment',
    ...ctx,
    actor: 'cw-2',
    roundId: 'r1',
    round: round(),
    answers: { mentalHealth: 'severe_problems' },
    reasonCiphertext: 'vault:v1:abc',
    ...over,
  });

  it('records the corrected answers, the reason (encrypted) and the author; the original event stays; effective when the assessment was', () => {
    spec
      .given([registered(), assessed('r1', '2026-03-01')])
      .when(correct())
      .then([ev('AssessmentCorrected', { roundId: 'r1', answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:v1:abc', correctedBy: 'cw-2' }, '2026-03-01', 'cw-2')]);
  });

  it('also after the round is closed (late corrections)', () => {
    spec.given([registered(), assessed()]).when(correct({ round: round({ status: 'closed' }) })).then([
      ev('AssessmentCorrected', { roundId: 'r1', answers: { mentalHealth: 'severe_problems' }, reasonCiphertext: 'vault:v1:abc', correctedBy: 'cw-2' }, TODAY, 'cw-2'),
    ]);
  });

  it('only for an existing assessment', () => {
    spec.given([registered()]).when(correct()).thenThrows('not_found', 'assessment-not-found');
    spec.given([registered(), assessed('r2')]).when(correct()).thenThrows('not_found', 'assessment-not-found');
  });

  it('needs a reason and valid answers', () => {
    const error = spec.given([registered(), assessed()]).when(correct({ reasonCiphertext: '', answers: { mentalHealth: 'fine' } })).thenThrows('validation');
    expect(fieldPaths(error)).toEqual(['answers.mentalHealth', 'reason']);
    spec.given([registered(), assessed()]).when(correct({ answers: {} })).thenThrows('validation');
  });
});

describe('setting a priority', () => {
  const prioritise = (over: Partial<Extract<CaseCommand, { type: 'SetPriority' }>> = {}): CaseCommand => ({
    type: 'SetPriority',
    ...ctx,
    priority: 'high',
    roundId: null,
    round: undefined,
    reasonCiphertext: null,
    ...over,
  });

  it('high, medium or low, with an optional encrypted reason', () => {
    spec.given([registered()]).when(prioritise()).then([ev('PrioritySet', { priority: 'high', roundId: null, reasonCiphertext: null }, TODAY)]);
    spec.given([registered()]).when(prioritise({ priority: 'low', reasonCiphertext: 'vault:x' })).then([ev('PrioritySet', { priority: 'low', roundId: null, reasonCiphertext: 'vault:x' }, TODAY)]);
    spec.given([registered()]).when(prioritise({ priority: 'urgent' as never })).thenThrows('validation');
  });

  it('in a round: the round must be open and the case in it', () => {
    spec.given([registered()]).when(prioritise({ roundId: 'r1', round: round() })).then([ev('PrioritySet', { priority: 'high', roundId: 'r1', reasonCiphertext: null }, TODAY)]);
    spec.given([registered()]).when(prioritise({ roundId: 'r1', round: round({ status: 'closed' }) })).thenThrows('conflict', 'round-closed');
    spec.given([registered('2026-03-02')]).when(prioritise({ roundId: 'r1', round: round() })).thenThrows('conflict', 'case-not-in-round');
    spec.given([registered()]).when(prioritise({ roundId: 'r9', round: undefined })).thenThrows('not_found', 'round-not-found');
  });

  it('outside a round: only while the case is open', () => {
    spec.given([registered(), closed()]).when(prioritise()).thenThrows('conflict', 'case-not-open');
  });

  it('can be changed (the latest counts)', () => {
    spec
      .given([registered(), ev('PrioritySet', { priority: 'high', roundId: null, reasonCiphertext: null }, TODAY)])
      .when(prioritise({ priority: 'medium' }))
      .then([ev('PrioritySet', { priority: 'medium', roundId: null, reasonCiphertext: null }, TODAY)]);
  });
});

describe('transferring a case', () => {
  const transfer = (toUnit: 'vuxenstod' | 'forsorjningsstod' | 'arbete-och-integration', effectiveDate?: string): CaseCommand => ({
    type: 'TransferCase',
    ...ctx,
    toUnit,
    reasonCiphertext: null,
    effectiveDate,
  });

  it('moves the case to another unit, recording where it came from', () => {
    spec.given([registered()]).when(transfer('vuxenstod')).then([transferred('forsorjningsstod', 'vuxenstod', TODAY)]);
  });

  it('not to the same unit', () => {
    spec.given([registered()]).when(transfer('forsorjningsstod')).thenThrows('conflict', 'same-unit');
    spec.given([registered(), transferred('forsorjningsstod', 'vuxenstod', '2026-02-01')]).when(transfer('vuxenstod')).thenThrows('conflict', 'same-unit');
  });

  it('not on a closed case', () => {
    spec.given([registered(), closed()]).when(transfer('vuxenstod')).thenThrows('conflict', 'case-closed');
  });

  it('only to one of the four units', () => {
    expect(fieldPaths(spec.given([registered()]).when(transfer('ekonomi' as never)).thenThrows('validation'))).toEqual(['toUnit']);
  });

  it('back-dated, but not before the latest lifecycle change nor after today', () => {
    spec.given([registered()]).when(transfer('vuxenstod', '2026-01-10')).then([transferred('forsorjningsstod', 'vuxenstod', '2026-01-10')]);
    const error = spec.given([registered()]).when(transfer('vuxenstod', '2026-01-09')).thenThrows('conflict', 'effective-date-before-latest-change');
    expect(error.details).toEqual({ latestChange: '2026-01-10' });
    spec
      .given([registered(), transferred('forsorjningsstod', 'vuxenstod', '2026-02-01')])
      .when(transfer('arbete-och-integration', '2026-01-20'))
      .thenThrows('conflict', 'effective-date-before-latest-change');
    spec.given([registered()]).when(transfer('vuxenstod', '2026-03-03')).thenThrows('validation');
  });
});

describe('interventions', () => {
  const start = (over: Partial<Extract<CaseCommand, { type: 'StartIntervention' }>> = {}): CaseCommand => ({
    type: 'StartIntervention',
    ...ctx,
    interventionId: 'i1',
    interventionType: 'language_coach',
    provider: 'municipality',
    startDate: '2026-02-01',
    ...over,
  });
  const end = (over: Partial<Extract<CaseCommand, { type: 'EndIntervention' }>> = {}): CaseCommand => ({
    type: 'EndIntervention',
    ...ctx,
    interventionId: 'i1',
    endDate: '2026-03-01',
    outcome: 'completed',
    ...over,
  });
  const started = ev('InterventionStarted', { interventionId: 'i1', type: 'language_coach', provider: 'municipality', startDate: '2026-02-01' }, '2026-02-01');
  const ended = ev('InterventionEnded', { interventionId: 'i1', endDate: '2026-03-01', outcome: 'completed' }, '2026-03-01');

  it('start with the caller\'s id, effective on the start date', () => {
    spec.given([registered()]).when(start()).then([started]);
  });

  it('start only on a date the case is open, with a known type and provider, not in the future', () => {
    spec.given([registered()]).when(start({ startDate: '2026-01-01' })).thenThrows('conflict', 'case-not-open');
    spec.given([registered(), closed('2026-01-20')]).when(start()).thenThrows('conflict', 'case-not-open');
    spec.given([registered(), closed('2026-02-15')]).when(start()).then([started]);
    expect(fieldPaths(spec.given([registered()]).when(start({ startDate: '2026-04-01', interventionType: 'x' as never, provider: 'y' as never })).thenThrows('validation'))).toEqual([
      'provider',
      'startDate',
      'type',
    ]);
  });

  it('an id is used once', () => {
    spec.given([registered(), started]).when(start()).thenThrows('conflict', 'intervention-exists');
  });

  it('end once, effective on the end date', () => {
    spec.given([registered(), started]).when(end()).then([ended]);
    spec.given([registered(), started, ended]).when(end()).thenThrows('conflict', 'intervention-already-ended');
  });

  it('end not before the start (the start day itself is fine)', () => {
    const error = spec.given([registered(), started]).when(end({ endDate: '2026-01-31' })).thenThrows('validation');
    expect(error.errors).toEqual([{ path: 'endDate', message: "must not be before the intervention's start date 2026-02-01" }]);
    spec.given([registered(), started]).when(end({ endDate: '2026-02-01' })).then([ev('InterventionEnded', { interventionId: 'i1', endDate: '2026-02-01', outcome: 'completed' }, '2026-02-01')]);
  });

  it('ending an unknown intervention is not found', () => {
    spec.given([registered(), started]).when(end({ interventionId: 'i9' })).thenThrows('not_found', 'intervention-not-found');
  });

  it('end with a known outcome, not in the future; also on a closed case', () => {
    expect(fieldPaths(spec.given([registered(), started]).when(end({ endDate: '2026-03-03', outcome: 'x' as never })).thenThrows('validation'))).toEqual(['endDate', 'outcome']);
    spec.given([registered(), started, closed('2026-02-20')]).when(end()).then([ended]);
  });
});

describe('benefit months', () => {
  const record = (month: string): CaseCommand => ({ type: 'RecordBenefitMonth', ...ctx, month });
  const withdraw = (month: string): CaseCommand => ({ type: 'WithdrawBenefitMonth', ...ctx, month });
  const recorded = (month: string) => ev('BenefitMonthRecorded', { month }, `${month}-01`);
  const withdrawn = (month: string) => ev('BenefitMonthWithdrawn', { month }, `${month}-01`);

  it('records a month, effective on its first day, also before the case was registered (register history)', () => {
    spec.given([registered()]).when(record('2026-02')).then([recorded('2026-02')]);
    spec.given([registered()]).when(record('2019-07')).then([recorded('2019-07')]);
  });

  it('a month recorded twice is one month: the second time records nothing', () => {
    spec.given([registered(), recorded('2026-02')]).when(record('2026-02')).then([]);
  });

  it('withdraws a recorded month; withdrawing one that is not recorded records nothing (idempotent DELETE)', () => {
    spec.given([registered(), recorded('2026-02')]).when(withdraw('2026-02')).then([withdrawn('2026-02')]);
    spec.given([registered()]).when(withdraw('2026-02')).then([]);
    spec.given([registered(), recorded('2026-02'), withdrawn('2026-02')]).when(withdraw('2026-02')).then([]);
    spec.given([registered(), recorded('2026-02'), withdrawn('2026-02')]).when(record('2026-02')).then([recorded('2026-02')]);
  });

  it('also on a closed case', () => {
    spec.given([registered(), closed()]).when(record('2026-01')).then([recorded('2026-01')]);
  });

  it('rejects a malformed month and a month after the current one', () => {
    spec.given([registered()]).when(record('2026-13')).thenThrows('validation');
    spec.given([registered()]).when(record('2026-3')).thenThrows('validation');
    spec.given([registered()]).when(record('2026-04')).thenThrows('validation');
    spec.given([registered()]).when(record('2026-03')).then([recorded('2026-03')]);
  });
});

describe('closing and reopening', () => {
  const close = (reason: unknown, effectiveDate?: string): CaseCommand => ({ type: 'CloseCase', ...ctx, reason: reason as never, effectiveDate });
  const reopen = (unit: unknown, effectiveDate?: string, openCaseOfPerson: string | null = null): CaseCommand => ({
    type: 'ReopenCase',
    ...ctx,
    unit: unit as never,
    effectiveDate,
    openCaseOfPerson,
  });

  it('closes with a reason, recording the unit it left from', () => {
    spec.given([registered(), transferred('forsorjningsstod', 'vuxenstod', '2026-02-01')]).when(close('moved', '2026-02-15')).then([closed('2026-02-15', 'moved', 'vuxenstod')]);
  });

  it('closing needs a reason from the list', () => {
    expect(fieldPaths(spec.given([registered()]).when(close(undefined)).thenThrows('validation'))).toEqual(['reason']);
    spec.given([registered()]).when(close('bored')).thenThrows('validation');
  });

  it('closing a closed case is a conflict', () => {
    spec.given([registered(), closed()]).when(close('employment')).thenThrows('conflict', 'case-already-closed');
  });

  it('closing is not dated before the latest change', () => {
    spec.given([registered(), transferred('forsorjningsstod', 'vuxenstod', '2026-02-01')]).when(close('employment', '2026-01-31')).thenThrows('conflict', 'effective-date-before-latest-change');
  });

  it('reopens only a closed case, into a unit', () => {
    spec.given([registered(), closed()]).when(reopen('vuxenstod', '2026-03-01')).then([reopened('2026-03-01')]);
    spec.given([registered()]).when(reopen('vuxenstod')).thenThrows('conflict', 'case-not-closed');
    spec.given([registered(), closed()]).when(reopen(undefined)).thenThrows('validation');
  });

  it('reopens not before the closure', () => {
    spec.given([registered(), closed('2026-02-15')]).when(reopen('vuxenstod', '2026-02-14')).thenThrows('conflict', 'effective-date-before-latest-change');
  });

  it('does not reopen while the person has another open case', () => {
    const error = spec.given([registered(), closed()]).when(reopen('vuxenstod', undefined, 'c2')).thenThrows('conflict', 'person-has-open-case');
    expect(error.details).toEqual({ caseId: 'c2' });
  });

  it('a reopened case can be transferred and closed again', () => {
    const history = [registered(), closed('2026-02-15'), reopened('2026-02-20')];
    spec.given(history).when({ type: 'TransferCase', ...ctx, toUnit: 'arbete-och-integration', reasonCiphertext: null }).then([transferred('vuxenstod', 'arbete-och-integration', TODAY)]);
    spec.given(history).when(close('employment')).then([closed(TODAY, 'employment', 'vuxenstod')]);
  });
});

describe('open on a date (what assessment rules ask)', () => {
  it('follows registration, closure and reopening by effective date, not by recording order', () => {
    const state = [registered('2026-01-10'), transferred('forsorjningsstod', 'vuxenstod', '2026-01-20'), closed('2026-02-15', 'employment', 'vuxenstod'), reopened('2026-02-20')].reduce(
      caseDecider.evolve,
      caseDecider.initialState,
    );
    expect(['2026-01-09', '2026-01-10', '2026-02-14', '2026-02-15', '2026-02-19', '2026-02-20', '2030-01-01'].map((d) => isOpenOn(state, d))).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
  });

  it('a change on the same day as another: the later recorded one holds for that day', () => {
    const state = [registered('2026-01-10'), closed('2026-01-10')].reduce(caseDecider.evolve, caseDecider.initialState);
    expect(isOpenOn(state, '2026-01-10')).toBe(false);
  });
});
