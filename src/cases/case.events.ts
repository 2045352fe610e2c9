import type { Answers } from '../questionnaires/questionnaire.js';
import type { DomainEvent } from '../shared/domain/decider.js';
import type { UnitCode } from '../units/units.js';

/**
 * The facts of one case stream. Type strings are stable forever (API.md "Evaluator exports");
 * a changed data shape gets schemaVersion 2 and an upcaster, never a silent edit.
 *
 * Privacy: the person appears only as `pseudonym` (keyed HMAC, derived by the privacy module),
 * never as a personnummer. Free text (reasons) is carried only as `…Ciphertext`, an opaque
 * envelope made by the vault with the person's key before the command reaches the decider, so
 * crypto-shredding the key erases it. Optional values are `null`, not absent, so an event reads
 * back from JSON exactly as it was decided.
 *
 * `metadata.effectiveDate` is when it happened in the world; for some events it is fixed by
 * the data rather than chosen by the caller (see each event).
 */

export const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
export type Gender = (typeof GENDERS)[number];

export const BORN_ABROAD = ['yes', 'no', 'unknown'] as const;
export type BornAbroad = (typeof BORN_ABROAD)[number];

/** A count of children, or `'unknown'` ("vet ej" is data here too). */
export type ChildrenInHousehold = number | 'unknown';

export const PRIORITIES = ['high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const INTERVENTION_TYPES = ['language_coach', 'work_practice', 'employer_contact', 'rehabilitation', 'study_guidance', 'labour_market_programme', 'other'] as const;
export type InterventionType = (typeof INTERVENTION_TYPES)[number];

export const INTERVENTION_PROVIDERS = ['municipality', 'employment_service', 'other'] as const;
export type InterventionProvider = (typeof INTERVENTION_PROVIDERS)[number];

export const INTERVENTION_OUTCOMES = ['completed', 'interrupted', 'unknown'] as const;
export type InterventionOutcome = (typeof INTERVENTION_OUTCOMES)[number];

export const CLOSURE_REASONS = ['employment', 'studies', 'other_benefit', 'moved', 'other', 'unknown'] as const;
export type ClosureReason = (typeof CLOSURE_REASONS)[number];

type CaseEventOf<Type extends string, Data> = DomainEvent<Type, Data> & { schemaVersion: 1 };

/** Effective date: when the case started (may be long before registration day). */
export type CaseRegistered = CaseEventOf<
  'CaseRegistered',
  {
    caseId: string;
    pseudonym: string;
    birthYear: number;
    gender: Gender;
    bornAbroad: BornAbroad;
    childrenInHousehold: ChildrenInHousehold;
    unit: UnitCode;
  }
>;

/** Effective date: the day of the assessment. */
export type AssessmentRecorded = CaseEventOf<
  'AssessmentRecorded',
  {
    roundId: string;
    questionnaireVersion: number;
    /** Every question of that version, canonical order (see parseAnswers). */
    answers: Answers;
    /** Actor id of the caseworker who assessed (for the consistency report). */
    assessedBy: string;
  }
>;

/**
 * Replaces some answers of a round's assessment; the AssessmentRecorded stays as it was.
 * Effective date: the assessment's own effective date — a correction says what was true then,
 * so a view `validAt` any date after the assessment shows it once it is known (`knownAt`).
 */
export type AssessmentCorrected = CaseEventOf<
  'AssessmentCorrected',
  {
    roundId: string;
    /** Only the corrected questions. */
    answers: Answers;
    reasonCiphertext: string;
    correctedBy: string;
  }
>;

export type PrioritySet = CaseEventOf<
  'PrioritySet',
  {
    priority: Priority;
    /** The round this prioritisation belongs to, if any. */
    roundId: string | null;
    reasonCiphertext: string | null;
  }
>;

export type CaseTransferred = CaseEventOf<'CaseTransferred', { fromUnit: UnitCode; toUnit: UnitCode; reasonCiphertext: string | null }>;

/** Effective date = startDate. The id is given by the handler (uuid) and answered to the client. */
export type InterventionStarted = CaseEventOf<
  'InterventionStarted',
  { interventionId: string; type: InterventionType; provider: InterventionProvider; startDate: string }
>;

/** Effective date = endDate. */
export type InterventionEnded = CaseEventOf<'InterventionEnded', { interventionId: string; endDate: string; outcome: InterventionOutcome }>;

/**
 * Assistance applied to `month` (YYYY-MM). Effective date: the month's first day, for both
 * recording and withdrawing: a withdrawal corrects a mistake, so it holds from the same day.
 */
export type BenefitMonthRecorded = CaseEventOf<'BenefitMonthRecorded', { month: string }>;
export type BenefitMonthWithdrawn = CaseEventOf<'BenefitMonthWithdrawn', { month: string }>;

/** `fromUnit`: the unit the case left from (flows read it without replaying the stream). */
export type CaseClosed = CaseEventOf<'CaseClosed', { reason: ClosureReason; fromUnit: UnitCode }>;

export type CaseReopened = CaseEventOf<'CaseReopened', { unit: UnitCode }>;

export type CaseEvent =
  | CaseRegistered
  | AssessmentRecorded
  | AssessmentCorrected
  | PrioritySet
  | CaseTransferred
  | InterventionStarted
  | InterventionEnded
  | BenefitMonthRecorded
  | BenefitMonthWithdrawn
  | CaseClosed
  | CaseReopened;

export const CASE_EVENT_TYPES: readonly CaseEvent['type'][] = [
  'CaseRegistered',
  'AssessmentRecorded',
  'AssessmentCorrected',
  'PrioritySet',
  'CaseTransferred',
  'InterventionStarted',
  'InterventionEnded',
  'BenefitMonthRecorded',
  'BenefitMonthWithdrawn',
  'CaseClosed',
  'CaseReopened',
];

/**
 * Narrows events read from the store (StoredEvent) to case events: the store's types are
 * generic, and a case stream only ever holds these. Throws on anything else, which would mean
 * a wrong stream or a missing upcaster.
 */
export function asCaseEvents<E extends { type: string; schemaVersion: number; metadata: { actor?: unknown; effectiveDate?: unknown } }>(events: readonly E[]): (E & CaseEvent)[] {
  for (const e of events) {
    if (!(CASE_EVENT_TYPES as readonly string[]).includes(e.type) || e.schemaVersion !== 1 || typeof e.metadata.effectiveDate !== 'string') {
      throw new Error(`Not a case event (schema 1 with an effective date): ${e.type} v${e.schemaVersion}`);
    }
  }
  return events as (E & CaseEvent)[];
}
