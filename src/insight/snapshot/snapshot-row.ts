import type { BornAbroad, ChildrenInHousehold, ClosureReason, Gender, InterventionProvider, InterventionType, Priority } from '../../cases/case.events.js';
import type { Answers } from '../../questionnaires/questionnaire.js';
import { applyCorrection } from '../../questionnaires/validate-answers.js';
import { DURATION_RULES, longestSpell, monthIndex } from '../../reports/benefit-duration.js';
import type { UnitCode } from '../../units/units.js';
import type { AssessmentFacts, CaseFacts, FactEvent } from './case-facts.js';

/**
 * One case in a round's snapshot: its state on the round's reference date.
 *
 * The snapshot keeps a row for every case registered on or before the reference date; the
 * round's population ("every case open on the reference date") is the rows with status `open`.
 * Closed rows are what flows need for `closed:<reason>` and what a panel needs for outcomes.
 *
 * Two clocks meet here. Unit, status, interventions, benefit months and background are folded
 * as valid on the reference date (`caseView(…, { validAt })`). The round's assessment and
 * priority are the round's own, whenever during the round they were made (an assessment is
 * usually dated after the reference date), with every correction in force.
 */
export interface SnapshotRow {
  caseId: string;
  pseudonym: string;
  status: 'open' | 'closed';
  /** The unit while open, else null. */
  unit: UnitCode | null;
  closureReason: ClosureReason | null;
  /** The priority set for this round, null when none was. */
  priority: Priority | null;
  gender: Gender;
  birthYear: number;
  bornAbroad: BornAbroad;
  childrenInHousehold: ChildrenInHousehold;
  registeredOn: string;
  /** The round's answers with corrections applied; null when the case was not assessed in the round. */
  answers: Answers | null;
  /** Actor id of the assessing caseworker (for the consistency report; pseudonymised on the way out). */
  assessedBy: string | null;
  assessedOn: string | null;
  /** Interventions running on the reference date. */
  interventions: { type: InterventionType; provider: InterventionProvider }[];
  benefitMonthsLast12: number;
  longTerm: boolean;
  veryLongTerm: boolean;
  fiveYear: boolean;
  tenYear: boolean;
  /**
   * Set on a frozen row whose person was erased since: caseId is then `erased-<uuid>` (the same
   * in every round) and pseudonym ''. Aggregates count the row; row-level outputs leave it out.
   */
  erased?: true;
}

export interface RoundRef {
  roundId: string;
  referenceDate: string;
}

const byEffectiveDate = (a: FactEvent, b: FactEvent) => (a.effectiveDate < b.effectiveDate ? -1 : a.effectiveDate > b.effectiveDate ? 1 : 0);

/**
 * The row of one case for a round, or null when the case was not registered on the reference
 * date. The fold is the domain's `caseView` rule (case.view.ts), written out for the few event
 * types a row needs, because a freeze folds every case of the municipality at once: events count
 * in effective-date order (ties in recording order; Array.prototype.sort is stable), the state
 * ones only up to the reference date. snapshot-row.spec.ts checks it against caseView itself on
 * thousands of synthetic histories.
 */
export function snapshotRow(facts: CaseFacts, assessment: AssessmentFacts | undefined, round: RoundRef): SnapshotRow | null {
  const ref = round.referenceDate;
  if (facts.registeredOn > ref) return null;
  const registered = facts.events.find((e) => e.type === 'CaseRegistered');
  if (!registered) return null;
  const reg = registered.data as { gender: Gender; birthYear: number; bornAbroad: BornAbroad; childrenInHousehold: ChildrenInHousehold; unit: UnitCode };

  let status: 'open' | 'closed' = 'open';
  let unit: UnitCode | null = reg.unit;
  let closureReason: ClosureReason | null = null;
  const interventions: { id: string; type: InterventionType; provider: InterventionProvider; startDate: string; ended: boolean }[] = [];
  let priority: Priority | null = null;
  const inForce = facts.events.filter((e) => e !== registered && e.effectiveDate <= ref).sort(byEffectiveDate);
  for (const e of inForce) {
    switch (e.type) {
      case 'CaseTransferred':
        unit = e.data.toUnit as UnitCode;
        break;
      case 'CaseClosed':
        status = 'closed';
        unit = null;
        closureReason = e.data.reason as ClosureReason;
        break;
      case 'CaseReopened':
        status = 'open';
        unit = e.data.unit as UnitCode;
        closureReason = null;
        break;
      case 'InterventionStarted':
        interventions.push({ id: String(e.data.interventionId), type: e.data.type as InterventionType, provider: e.data.provider as InterventionProvider, startDate: String(e.data.startDate), ended: false });
        break;
      case 'InterventionEnded': {
        const i = interventions.find((x) => x.id === e.data.interventionId);
        if (i) i.ended = true;
        break;
      }
    }
  }
  // The round's own priority: its latest PrioritySet, whatever its date.
  for (const e of facts.events.filter((x) => x.type === 'PrioritySet').sort(byEffectiveDate)) if (e.data.roundId === round.roundId) priority = e.data.priority as Priority;
  // The round's assessment with its corrections in force, whatever their dates.
  let answers: Answers | null = null;
  let assessedBy: string | null = null;
  let assessedOn: string | null = null;
  for (const e of [...(assessment?.events ?? [])].sort(byEffectiveDate)) {
    if (e.data.roundId !== round.roundId) continue;
    if (e.type === 'AssessmentRecorded') {
      answers = e.data.answers as Answers;
      assessedBy = String(e.data.assessedBy);
      assessedOn = e.effectiveDate;
    } else if (e.type === 'AssessmentCorrected' && answers) {
      answers = applyCorrection(answers, e.data.answers as Answers);
    }
  }
  const refMonth = ref.slice(0, 7);
  const months = facts.months.filter((m) => m <= refMonth);
  const from = monthIndex(refMonth) - 11;
  return {
    caseId: facts.caseId,
    pseudonym: facts.pseudonym,
    status,
    unit,
    closureReason,
    priority,
    gender: reg.gender,
    birthYear: reg.birthYear,
    bornAbroad: reg.bornAbroad,
    childrenInHousehold: reg.childrenInHousehold,
    registeredOn: facts.registeredOn,
    answers,
    assessedBy,
    assessedOn,
    interventions: interventions
      .sort((a, b) => (a.startDate < b.startDate ? -1 : a.startDate > b.startDate ? 1 : 0))
      .filter((i) => !i.ended)
      .map((i) => ({ type: i.type, provider: i.provider })),
    benefitMonthsLast12: months.filter((m) => monthIndex(m) >= from).length,
    ...durationFlagsAt(months, ref),
  };
}

/**
 * The long-term flags of the seed's table on a reference date: the same categories and the same
 * spell rule as the yearly report (benefit-duration.ts), with windows of the same length that end
 * with the reference month instead of a calendar year (12, 36, 72 and 120 months). A snapshot is
 * taken mid-year, and "long-term on the reference date" should not depend on how much of the
 * calendar year has passed.
 */
export function durationFlagsAt(months: readonly string[], referenceDate: string): Pick<SnapshotRow, 'longTerm' | 'veryLongTerm' | 'fiveYear' | 'tenYear'> {
  const end = monthIndex(referenceDate.slice(0, 7));
  const set = new Set(months.map(monthIndex));
  const flag = (category: string) => {
    const rule = DURATION_RULES.find((r) => r.category === category)!;
    const length = (1 - rule.fromYearOffset) * 12;
    return longestSpell(set, end - length + 1, end, rule.maxBreak) >= rule.minMonths;
  };
  return { longTerm: flag('long_term'), veryLongTerm: flag('very_long_term'), fiveYear: flag('five_year'), tenYear: flag('ten_year') };
}

export const AGE_GROUPS = ['under_25', '25_34', '35_44', '45_54', '55_plus'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];

/** Age reached during the reference year (only the birth year is kept, never the date). */
export function ageGroup(birthYear: number, referenceDate: string): AgeGroup {
  const age = Number(referenceDate.slice(0, 4)) - birthYear;
  if (age < 25) return 'under_25';
  if (age < 35) return '25_34';
  if (age < 45) return '35_44';
  if (age < 55) return '45_54';
  return '55_plus';
}

export function hasChildren(children: ChildrenInHousehold): 'yes' | 'no' | 'unknown' {
  return children === 'unknown' ? 'unknown' : children > 0 ? 'yes' : 'no';
}
