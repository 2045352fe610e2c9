import type { Questionnaire } from '../questionnaires/questionnaire.js';
import { parseAnswers, validateAnswers } from '../questionnaires/validate-answers.js';
import type { CommandContext, Decider } from '../shared/domain/decider.js';
import { DomainError, type FieldError, throwIfInvalid } from '../shared/domain/domain-error.js';
import { isCalendarDate, isYearMonth } from '../shared/time/calendar.js';
import { type UnitCode, isUnitCode } from '../units/units.js';
import {
  BORN_ABROAD,
  type BornAbroad,
  CLOSURE_REASONS,
  type CaseEvent,
  type ChildrenInHousehold,
  type ClosureReason,
  GENDERS,
  type Gender,
  INTERVENTION_OUTCOMES,
  INTERVENTION_PROVIDERS,
  INTERVENTION_TYPES,
  type InterventionOutcome,
  type InterventionProvider,
  type InterventionType,
  PRIORITIES,
  type Priority,
} from './case.events.js';

/*
 * The rules of one case. The decider folds the whole stream (everything recorded, whatever its
 * effective date); "what was true on date D" is answered from `periods`.
 *
 * Time rules:
 * - A command's effectiveDate defaults to `today` and may be back-dated, never after `today`.
 * - Lifecycle changes (transfer, close, reopen) may not be dated before the latest lifecycle
 *   change already recorded (409 `effective-date-before-latest-change`). So `periods` is only
 *   ever appended to, and the `fromUnit` that transfer and closure events carry stays true.
 *   Inserting a change into the past would silently re-interpret later facts; a mistaken
 *   history is corrected by further events instead.
 * - Interventions, priorities, assessments and benefit months may be back-dated freely within
 *   the case's life (benefit months even before it: register history).
 *
 * Check order: unknown case/round/intervention (404), then field validation (400, every
 * field), then conflicts with the state (409).
 */

export type Period =
  | { from: string; status: 'open'; unit: UnitCode }
  | { from: string; status: 'closed'; reason: ClosureReason; fromUnit: UnitCode };

export interface InterventionState {
  startDate: string;
  endDate: string | null;
}

interface Registered {
  caseId: string;
  pseudonym: string;
  /** Lifecycle by effective date, oldest first; the first is the registration. Never empty. */
  periods: Period[];
  /** Rounds with an assessment, and the assessment's questionnaire version and effective date. */
  assessments: Record<string, { questionnaireVersion: number; effectiveDate: string }>;
  interventions: Record<string, InterventionState>;
  /** Recorded (and not withdrawn) benefit months, sorted. */
  benefitMonths: string[];
}

/** Tagged by the current (latest) period. */
export type CaseState =
  | { status: 'not_registered' }
  | (Registered & { status: 'open'; unit: UnitCode })
  | (Registered & { status: 'closed'; reason: ClosureReason; fromUnit: UnitCode });

export type RegisteredCase = Exclude<CaseState, { status: 'not_registered' }>;

/** What the handler knows about a round (from the rounds stream and the questionnaires). */
export interface RoundInfo {
  roundId: string;
  status: 'open' | 'closed';
  referenceDate: string;
  /** The questionnaire version the round uses. */
  questionnaire: Questionnaire;
}

/** Commands take what the handler resolved; `round: undefined` = no such round in the municipality. */
export type CaseCommand =
  | (CommandContext & {
      type: 'RegisterCase';
      caseId: string;
      pseudonym: string;
      birthYear: number;
      gender: Gender;
      bornAbroad: BornAbroad;
      childrenInHousehold: ChildrenInHousehold;
      unit: UnitCode;
      effectiveDate?: string;
      /** The person's open case in this municipality, if any (from the inline "open cases" view). */
      openCaseOfPerson: string | null;
    })
  | (CommandContext & { type: 'RecordAssessment'; roundId: string; round: RoundInfo | undefined; answers: unknown; effectiveDate?: string })
  | (CommandContext & {
      type: 'CorrectAssessment';
      roundId: string;
      round: RoundInfo | undefined;
      /** Some questions. */
      answers: unknown;
      /** The vault's envelope of the reason text; required. */
      reasonCiphertext: string;
    })
  | (CommandContext & {
      type: 'SetPriority';
      priority: Priority;
      roundId: string | null;
      round: RoundInfo | undefined;
      reasonCiphertext: string | null;
      effectiveDate?: string;
    })
  | (CommandContext & { type: 'TransferCase'; toUnit: UnitCode; reasonCiphertext: string | null; effectiveDate?: string })
  | (CommandContext & {
      type: 'StartIntervention';
      interventionId: string;
      interventionType: InterventionType;
      provider: InterventionProvider;
      startDate: string;
    })
  | (CommandContext & { type: 'EndIntervention'; interventionId: string; endDate: string; outcome: InterventionOutcome })
  | (CommandContext & { type: 'RecordBenefitMonth'; month: string })
  | (CommandContext & { type: 'WithdrawBenefitMonth'; month: string })
  | (CommandContext & { type: 'CloseCase'; reason: ClosureReason; effectiveDate?: string })
  | (CommandContext & {
      type: 'ReopenCase';
      unit: UnitCode;
      effectiveDate?: string;
      /** Another open case of the same person in this municipality, if any. */
      openCaseOfPerson: string | null;
    });

export const initialCaseState: CaseState = { status: 'not_registered' };

/** The period in force on `date`, or undefined before the case started. */
export function periodOn(state: CaseState, date: string): Period | undefined {
  if (state.status === 'not_registered') return undefined;
  let found: Period | undefined;
  // Periods are sorted by `from`; on equal dates the later-recorded one wins.
  for (const p of state.periods) {
    if (p.from > date) break;
    found = p;
  }
  return found;
}

export function isOpenOn(state: CaseState, date: string): boolean {
  return periodOn(state, date)?.status === 'open';
}

export const caseDecider: Decider<CaseCommand, CaseEvent, CaseState> = {
  initialState: initialCaseState,
  decide,
  evolve,
};

function decide(command: CaseCommand, state: CaseState): CaseEvent[] {
  if (command.type === 'RegisterCase') return register(command, state);
  if (state.status === 'not_registered') throw DomainError.notFound('case-not-found', 'The case does not exist.');
  const meta = (effectiveDate: string) => ({ actor: command.actor, effectiveDate });
  const errors: FieldError[] = [];

  switch (command.type) {
    case 'RecordAssessment': {
      const round = requireRound(command.roundId, command.round);
      const effectiveDate = checkEffectiveDate(command, errors);
      errors.push(...validateAnswers(round.questionnaire, command.answers, 'full'));
      throwIfInvalid(errors);
      if (round.status === 'closed') throw DomainError.conflict('round-closed', `Round ${round.roundId} is closed; assessments can no longer be recorded in it.`);
      requireOpenOnReferenceDate(state, round);
      if (Object.hasOwn(state.assessments, round.roundId)) {
        throw DomainError.conflict('assessment-exists', `The case already has an assessment in round ${round.roundId}; correct it instead.`, { roundId: round.roundId });
      }
      return [
        {
          type: 'AssessmentRecorded',
          schemaVersion: 1,
          data: {
            roundId: round.roundId,
            questionnaireVersion: round.questionnaire.version,
            answers: parseAnswers(round.questionnaire, command.answers, 'full'),
            assessedBy: command.actor,
          },
          metadata: meta(effectiveDate),
        },
      ];
    }

    case 'CorrectAssessment': {
      const assessment = Object.hasOwn(state.assessments, command.roundId) ? state.assessments[command.roundId] : undefined;
      if (!assessment) throw DomainError.notFound('assessment-not-found', `The case has no assessment in round ${command.roundId}.`, { roundId: command.roundId });
      const round = requireRound(command.roundId, command.round);
      if (round.questionnaire.version !== assessment.questionnaireVersion) {
        // The handler must pass the round's questionnaire; a mismatch is a bug, not bad input.
        throw new Error(`Assessment in round ${round.roundId} used questionnaire ${assessment.questionnaireVersion}, got ${round.questionnaire.version}`);
      }
      errors.push(...validateAnswers(round.questionnaire, command.answers, 'partial'));
      if (!isCiphertext(command.reasonCiphertext)) errors.push({ path: 'reason', message: 'a correction needs a reason' });
      throwIfInvalid(errors);
      // Allowed in closed rounds too: the frozen snapshot keeps the original, "as corrected
      // since" shows this.
      return [
        {
          type: 'AssessmentCorrected',
          schemaVersion: 1,
          data: {
            roundId: round.roundId,
            answers: parseAnswers(round.questionnaire, command.answers, 'partial'),
            reasonCiphertext: command.reasonCiphertext,
            correctedBy: command.actor,
          },
          metadata: meta(assessment.effectiveDate),
        },
      ];
    }

    case 'SetPriority': {
      const round = command.roundId === null ? null : requireRound(command.roundId, command.round);
      const effectiveDate = checkEffectiveDate(command, errors);
      checkEnum(command.priority, PRIORITIES, 'priority', errors);
      checkOptionalCiphertext(command.reasonCiphertext, errors);
      throwIfInvalid(errors);
      if (round) {
        if (round.status === 'closed') throw DomainError.conflict('round-closed', `Round ${round.roundId} is closed; its priorities can no longer be set.`);
        requireOpenOnReferenceDate(state, round);
      } else if (!isOpenOn(state, effectiveDate)) {
        throw DomainError.conflict('case-not-open', `The case is not open on ${effectiveDate}.`);
      }
      return [
        {
          type: 'PrioritySet',
          schemaVersion: 1,
          data: { priority: command.priority, roundId: round?.roundId ?? null, reasonCiphertext: command.reasonCiphertext },
          metadata: meta(effectiveDate),
        },
      ];
    }

    case 'TransferCase': {
      const effectiveDate = checkEffectiveDate(command, errors);
      if (!isUnitCode(command.toUnit)) errors.push({ path: 'toUnit', message: 'must be one of the four units' });
      checkOptionalCiphertext(command.reasonCiphertext, errors);
      throwIfInvalid(errors);
      if (state.status === 'closed') throw DomainError.conflict('case-closed', 'A closed case cannot be transferred; reopen it into a unit instead.');
      if (state.unit === command.toUnit) throw DomainError.conflict('same-unit', `The case already belongs to ${state.unit}.`);
      requireNotBeforeLatestChange(state, effectiveDate);
      return [
        {
          type: 'CaseTransferred',
          schemaVersion: 1,
          data: { fromUnit: state.unit, toUnit: command.toUnit, reasonCiphertext: command.reasonCiphertext },
          metadata: meta(effectiveDate),
        },
      ];
    }

    case 'StartIntervention': {
      checkDate(command.startDate, command.today, 'startDate', errors);
      checkEnum(command.interventionType, INTERVENTION_TYPES, 'type', errors);
      checkEnum(command.provider, INTERVENTION_PROVIDERS, 'provider', errors);
      throwIfInvalid(errors);
      if (Object.hasOwn(state.interventions, command.interventionId)) {
        throw DomainError.conflict('intervention-exists', `Intervention ${command.interventionId} already exists.`);
      }
      if (!isOpenOn(state, command.startDate)) throw DomainError.conflict('case-not-open', `The case is not open on ${command.startDate}.`);
      return [
        {
          type: 'InterventionStarted',
          schemaVersion: 1,
          data: { interventionId: command.interventionId, type: command.interventionType, provider: command.provider, startDate: command.startDate },
          metadata: meta(command.startDate),
        },
      ];
    }

    case 'EndIntervention': {
      const intervention = Object.hasOwn(state.interventions, command.interventionId) ? state.interventions[command.interventionId] : undefined;
      if (!intervention) throw DomainError.notFound('intervention-not-found', `The case has no intervention ${command.interventionId}.`);
      if (checkDate(command.endDate, command.today, 'endDate', errors) && command.endDate < intervention.startDate) {
        errors.push({ path: 'endDate', message: `must not be before the intervention's start date ${intervention.startDate}` });
      }
      checkEnum(command.outcome, INTERVENTION_OUTCOMES, 'outcome', errors);
      throwIfInvalid(errors);
      if (intervention.endDate !== null) {
        throw DomainError.conflict('intervention-already-ended', `Intervention ${command.interventionId} already ended on ${intervention.endDate}.`);
      }
      // Allowed on a closed case: ending what is still running is tidying up, not new work.
      return [
        {
          type: 'InterventionEnded',
          schemaVersion: 1,
          data: { interventionId: command.interventionId, endDate: command.endDate, outcome: command.outcome },
          metadata: meta(command.endDate),
        },
      ];
    }

    case 'RecordBenefitMonth':
    case 'WithdrawBenefitMonth': {
      if (!isYearMonth(command.month)) errors.push({ path: 'month', message: 'must be a month YYYY-MM' });
      else if (command.month > command.today.slice(0, 7)) errors.push({ path: 'month', message: 'must not be after the current month' });
      throwIfInvalid(errors);
      const recorded = state.benefitMonths.includes(command.month);
      // Both are idempotent (PUT and DELETE): a month recorded twice is one month, and
      // withdrawing a month that is not recorded changes nothing — so a retried DELETE whose
      // first answer was lost does not fail. Any case status: register history is history.
      if (command.type === 'RecordBenefitMonth') {
        return recorded ? [] : [{ type: 'BenefitMonthRecorded', schemaVersion: 1, data: { month: command.month }, metadata: meta(`${command.month}-01`) }];
      }
      return recorded ? [{ type: 'BenefitMonthWithdrawn', schemaVersion: 1, data: { month: command.month }, metadata: meta(`${command.month}-01`) }] : [];
    }

    case 'CloseCase': {
      const effectiveDate = checkEffectiveDate(command, errors);
      checkEnum(command.reason, CLOSURE_REASONS, 'reason', errors);
      throwIfInvalid(errors);
      if (state.status === 'closed') throw DomainError.conflict('case-already-closed', `The case is already closed (${state.reason}).`);
      requireNotBeforeLatestChange(state, effectiveDate);
      return [{ type: 'CaseClosed', schemaVersion: 1, data: { reason: command.reason, fromUnit: state.unit }, metadata: meta(effectiveDate) }];
    }

    case 'ReopenCase': {
      const effectiveDate = checkEffectiveDate(command, errors);
      if (!isUnitCode(command.unit)) errors.push({ path: 'unit', message: 'must be one of the four units' });
      throwIfInvalid(errors);
      if (state.status !== 'closed') throw DomainError.conflict('case-not-closed', 'Only a closed case can be reopened.');
      if (command.openCaseOfPerson !== null) {
        throw DomainError.conflict('person-has-open-case', 'The person already has an open case in this municipality.', { caseId: command.openCaseOfPerson });
      }
      requireNotBeforeLatestChange(state, effectiveDate);
      return [{ type: 'CaseReopened', schemaVersion: 1, data: { unit: command.unit }, metadata: meta(effectiveDate) }];
    }
  }
}

function register(command: Extract<CaseCommand, { type: 'RegisterCase' }>, state: CaseState): CaseEvent[] {
  const errors: FieldError[] = [];
  const effectiveDate = checkEffectiveDate(command, errors);
  const thisYear = Number(command.today.slice(0, 4));
  if (typeof command.pseudonym !== 'string' || command.pseudonym.length === 0) throw new Error('RegisterCase needs the pseudonym derived by the privacy module');
  if (!Number.isInteger(command.birthYear) || command.birthYear < 1900 || command.birthYear > thisYear) {
    errors.push({ path: 'birthYear', message: `must be a year between 1900 and ${thisYear}` });
  }
  checkEnum(command.gender, GENDERS, 'gender', errors);
  checkEnum(command.bornAbroad, BORN_ABROAD, 'bornAbroad', errors);
  const children = command.childrenInHousehold;
  if (children !== 'unknown' && !(Number.isInteger(children) && children >= 0 && children <= 30)) {
    errors.push({ path: 'childrenInHousehold', message: 'must be a whole number from 0 to 30, or "unknown"' });
  }
  if (!isUnitCode(command.unit)) errors.push({ path: 'unit', message: 'must be one of the four units' });
  throwIfInvalid(errors);
  if (state.status !== 'not_registered') throw DomainError.conflict('case-exists', `Case ${command.caseId} already exists.`);
  // One open case per person per municipality. The handler passes what the inline view says;
  // that view's unique index closes the race between two concurrent registrations.
  if (command.openCaseOfPerson !== null) {
    throw DomainError.conflict('person-has-open-case', 'The person already has an open case in this municipality.', { caseId: command.openCaseOfPerson });
  }
  return [
    {
      type: 'CaseRegistered',
      schemaVersion: 1,
      data: {
        caseId: command.caseId,
        pseudonym: command.pseudonym,
        birthYear: command.birthYear,
        gender: command.gender,
        bornAbroad: command.bornAbroad,
        childrenInHousehold: children,
        unit: command.unit,
      },
      metadata: { actor: command.actor, effectiveDate },
    },
  ];
}

function evolve(state: CaseState, event: CaseEvent): CaseState {
  if (event.type === 'CaseRegistered') {
    const { caseId, pseudonym, unit } = event.data;
    return { status: 'open', unit, caseId, pseudonym, periods: [{ from: event.metadata.effectiveDate, status: 'open', unit }], assessments: {}, interventions: {}, benefitMonths: [] };
  }
  // Stored facts are never refused: an event the state cannot place is ignored, not thrown on.
  if (state.status === 'not_registered') return state;
  const from = event.metadata.effectiveDate;
  switch (event.type) {
    case 'AssessmentRecorded':
      return { ...state, assessments: { ...state.assessments, [event.data.roundId]: { questionnaireVersion: event.data.questionnaireVersion, effectiveDate: from } } };
    case 'AssessmentCorrected':
    case 'PrioritySet':
      return state;
    case 'CaseTransferred':
      return withPeriod(state, { from, status: 'open', unit: event.data.toUnit });
    case 'CaseClosed':
      return withPeriod(state, { from, status: 'closed', reason: event.data.reason, fromUnit: event.data.fromUnit });
    case 'CaseReopened':
      return withPeriod(state, { from, status: 'open', unit: event.data.unit });
    case 'InterventionStarted':
      return { ...state, interventions: { ...state.interventions, [event.data.interventionId]: { startDate: event.data.startDate, endDate: null } } };
    case 'InterventionEnded': {
      const intervention = state.interventions[event.data.interventionId];
      if (!intervention) return state;
      return { ...state, interventions: { ...state.interventions, [event.data.interventionId]: { ...intervention, endDate: event.data.endDate } } };
    }
    case 'BenefitMonthRecorded':
      return state.benefitMonths.includes(event.data.month) ? state : { ...state, benefitMonths: [...state.benefitMonths, event.data.month].sort() };
    case 'BenefitMonthWithdrawn':
      return { ...state, benefitMonths: state.benefitMonths.filter((m) => m !== event.data.month) };
  }
}

function withPeriod(state: RegisteredCase, period: Period): CaseState {
  const base: Registered = {
    caseId: state.caseId,
    pseudonym: state.pseudonym,
    assessments: state.assessments,
    interventions: state.interventions,
    benefitMonths: state.benefitMonths,
    periods: [...state.periods, period],
  };
  return period.status === 'open' ? { ...base, status: 'open', unit: period.unit } : { ...base, status: 'closed', reason: period.reason, fromUnit: period.fromUnit };
}

function requireRound(roundId: string, round: RoundInfo | undefined): RoundInfo {
  if (!round) throw DomainError.notFound('round-not-found', `Round ${roundId} does not exist.`, { roundId });
  return round;
}

function requireOpenOnReferenceDate(state: RegisteredCase, round: RoundInfo): void {
  if (!isOpenOn(state, round.referenceDate)) {
    throw DomainError.conflict('case-not-in-round', `The case was not open on the round's reference date ${round.referenceDate}.`, { roundId: round.roundId });
  }
}

function requireNotBeforeLatestChange(state: RegisteredCase, effectiveDate: string): void {
  const latest = state.periods[state.periods.length - 1]!.from;
  if (effectiveDate < latest) {
    throw DomainError.conflict('effective-date-before-latest-change', `The case's latest change is dated ${latest}; a transfer, closure or reopening cannot be dated before it.`, {
      latestChange: latest,
    });
  }
}

/** The command's effective date (default today), checked: a real date, not after today. */
function checkEffectiveDate(command: CommandContext & { effectiveDate?: string }, errors: FieldError[]): string {
  const date = command.effectiveDate ?? command.today;
  checkDate(date, command.today, 'effectiveDate', errors);
  return date;
}

function checkDate(date: unknown, today: string, path: string, errors: FieldError[]): boolean {
  if (!isCalendarDate(date)) {
    errors.push({ path, message: 'must be a date YYYY-MM-DD' });
    return false;
  }
  if (date > today) {
    errors.push({ path, message: `must not be after today (${today})` });
    return false;
  }
  return true;
}

function checkEnum(value: unknown, allowed: readonly string[], path: string, errors: FieldError[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) errors.push({ path, message: `must be one of ${allowed.join(', ')}` });
}

function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function checkOptionalCiphertext(value: unknown, errors: FieldError[]): void {
  if (value !== null && !isCiphertext(value)) errors.push({ path: 'reason', message: 'must be a non-empty text when given' });
}
