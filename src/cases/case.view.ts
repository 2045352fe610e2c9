import type { Answers } from '../questionnaires/questionnaire.js';
import { applyCorrection } from '../questionnaires/validate-answers.js';
import type { UnitCode } from '../units/units.js';
import type {
  BornAbroad,
  CaseEvent,
  ChildrenInHousehold,
  ClosureReason,
  Gender,
  InterventionOutcome,
  InterventionProvider,
  InterventionType,
  Priority,
} from './case.events.js';

/**
 * The read shape of `GET /cases/{id}` (without `personalIdentityNumber`, which the handler
 * decrypts from the vault by pseudonym, and with reasons still as ciphertext, which it
 * decrypts too).
 *
 * Bitemporal reading: `knownAt` is the caller's choice of events (those recorded by then, e.g.
 * `readStream(stream, { knownAt })`); `validAt` is applied here: only events whose
 * effectiveDate ≤ validAt count, folded in effective-date order (ties in recording order). So
 * a fact recorded late with an earlier effective date counts for every validAt after that date
 * once it is known.
 */
export interface CaseView {
  id: string;
  pseudonym: string;
  birthYear: number;
  gender: Gender;
  bornAbroad: BornAbroad;
  childrenInHousehold: ChildrenInHousehold;
  /** Effective date of the registration. */
  registeredOn: string;
  status: 'open' | 'closed';
  /** The unit while open; null while closed (see `closure.fromUnit`). */
  unit: UnitCode | null;
  /** The latest priority in force, whichever round it was set in. */
  priority: Priority | null;
  /** The latest priority set for each round. */
  priorityByRound: Record<string, Priority>;
  closure: { reason: ClosureReason; effectiveDate: string; fromUnit: UnitCode } | null;
  interventions: InterventionView[];
  /** Sorted YYYY-MM. */
  benefitMonths: string[];
  assessments: Record<string, AssessmentView>;
  /** The stream version of the newest event given (the ETag), whatever validAt is. */
  version: number;
}

export interface InterventionView {
  interventionId: string;
  type: InterventionType;
  provider: InterventionProvider;
  startDate: string;
  /** null while running on validAt. */
  endDate: string | null;
  outcome: InterventionOutcome | null;
}

export interface AssessmentView {
  roundId: string;
  questionnaireVersion: number;
  /** With every correction in force applied. */
  answers: Answers;
  /** As first recorded; corrections never change it. */
  originalAnswers: Answers;
  assessedBy: string;
  effectiveDate: string;
  recordedAt: string | null;
  corrections: { answers: Answers; reasonCiphertext: string; correctedBy: string; recordedAt: string | null }[];
}

/** A case event as read from the store: the store adds version, position and recordedAt. */
export type CaseEventRecord = CaseEvent & { version?: number; recordedAt?: Date | string };

export interface CaseViewOptions {
  /** YYYY-MM-DD; default: everything given. */
  validAt?: string;
}

/** Folds a case's events into its view; null when the case did not exist on validAt. */
export function caseView(events: readonly CaseEventRecord[], options: CaseViewOptions = {}): CaseView | null {
  const registered = events.find((e) => e.type === 'CaseRegistered');
  const validAt = options.validAt;
  if (!registered || (validAt !== undefined && registered.metadata.effectiveDate > validAt)) return null;

  const version = events.reduce((v, e, i) => Math.max(v, e.version ?? i + 1), 0);
  const view: CaseView = {
    id: registered.data.caseId,
    pseudonym: registered.data.pseudonym,
    birthYear: registered.data.birthYear,
    gender: registered.data.gender,
    bornAbroad: registered.data.bornAbroad,
    childrenInHousehold: registered.data.childrenInHousehold,
    registeredOn: registered.metadata.effectiveDate,
    status: 'open',
    unit: registered.data.unit,
    priority: null,
    priorityByRound: {},
    closure: null,
    interventions: [],
    benefitMonths: [],
    assessments: {},
    version,
  };

  // Array.prototype.sort is stable: equal effective dates keep recording order. The
  // registration is applied above, so facts dated before it (register history of benefit
  // months) need no special case.
  const inForce = events
    .filter((e) => e !== registered && (validAt === undefined || e.metadata.effectiveDate <= validAt))
    .sort((a, b) => (a.metadata.effectiveDate < b.metadata.effectiveDate ? -1 : a.metadata.effectiveDate > b.metadata.effectiveDate ? 1 : 0));

  const months = new Set<string>();
  for (const e of inForce) {
    const recordedAt = e.recordedAt === undefined ? null : e.recordedAt instanceof Date ? e.recordedAt.toISOString() : e.recordedAt;
    switch (e.type) {
      case 'CaseRegistered':
        break;
      case 'AssessmentRecorded':
        view.assessments[e.data.roundId] = {
          roundId: e.data.roundId,
          questionnaireVersion: e.data.questionnaireVersion,
          answers: e.data.answers,
          originalAnswers: e.data.answers,
          assessedBy: e.data.assessedBy,
          effectiveDate: e.metadata.effectiveDate,
          recordedAt,
          corrections: [],
        };
        break;
      case 'AssessmentCorrected': {
        const a = view.assessments[e.data.roundId];
        if (!a) break;
        a.answers = applyCorrection(a.answers, e.data.answers);
        a.corrections.push({ answers: e.data.answers, reasonCiphertext: e.data.reasonCiphertext, correctedBy: e.data.correctedBy, recordedAt });
        break;
      }
      case 'PrioritySet':
        view.priority = e.data.priority;
        if (e.data.roundId !== null) view.priorityByRound[e.data.roundId] = e.data.priority;
        break;
      case 'CaseTransferred':
        view.unit = e.data.toUnit;
        break;
      case 'CaseClosed':
        view.status = 'closed';
        view.unit = null;
        view.closure = { reason: e.data.reason, effectiveDate: e.metadata.effectiveDate, fromUnit: e.data.fromUnit };
        break;
      case 'CaseReopened':
        view.status = 'open';
        view.unit = e.data.unit;
        view.closure = null;
        break;
      case 'InterventionStarted':
        view.interventions.push({ ...e.data, endDate: null, outcome: null });
        break;
      case 'InterventionEnded': {
        const i = view.interventions.find((x) => x.interventionId === e.data.interventionId);
        if (i) Object.assign(i, { endDate: e.data.endDate, outcome: e.data.outcome });
        break;
      }
      case 'BenefitMonthRecorded':
        months.add(e.data.month);
        break;
      case 'BenefitMonthWithdrawn':
        months.delete(e.data.month);
        break;
    }
  }
  view.benefitMonths = [...months].sort();
  view.interventions.sort((a, b) => (a.startDate < b.startDate ? -1 : a.startDate > b.startDate ? 1 : 0));
  return view;
}
