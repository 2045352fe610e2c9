import type { BornAbroad, ChildrenInHousehold, ClosureReason, Gender, InterventionOutcome, InterventionProvider, InterventionType, Priority } from '../cases/case.events.js';
import type { Answers } from '../questionnaires/questionnaire.js';
import type { UnitCode } from '../units/units.js';

/**
 * A generated municipality as the commands its staff would have sent, in API terms (API.md):
 * each step is one request with its body, in the order it happened.
 *
 * Ids in a timeline are the generator's own keys, because the server assigns the real ones:
 * `case` (e.g. `c0007`), `round` (the round's label, unique in a municipality) and
 * `intervention` (e.g. `c0007/i2`). A body's `roundId` holds the round key too. Whoever plays
 * the timeline (the demo runner, the bulk simulator, the specs) maps keys to the ids it got.
 *
 * `at` is the day the request was made (YYYY-MM-DD). Steps are sorted by `at`; steps on the same
 * day keep their generated order, which for one case is the order they happened in.
 */
export type TimelineStep =
  | { at: string; actor: string; command: 'OpenRound'; round: string; body: { label: string; referenceDate: string; questionnaireVersion: number } }
  | { at: string; actor: string; command: 'CloseRound'; round: string }
  | {
      at: string;
      actor: string;
      command: 'RegisterCase';
      case: string;
      body: { personalIdentityNumber: string; gender: Gender; bornAbroad: BornAbroad; childrenInHousehold: ChildrenInHousehold; unit: UnitCode; effectiveDate: string };
    }
  | { at: string; actor: string; command: 'RecordAssessment'; case: string; body: { roundId: string; answers: Answers; effectiveDate: string } }
  | { at: string; actor: string; command: 'CorrectAssessment'; case: string; round: string; body: { answers: Answers; reason: string } }
  | { at: string; actor: string; command: 'SetPriority'; case: string; body: { priority: Priority; roundId?: string; reason?: string; effectiveDate: string } }
  | { at: string; actor: string; command: 'TransferCase'; case: string; body: { toUnit: UnitCode; effectiveDate: string; reason?: string } }
  | {
      at: string;
      actor: string;
      command: 'StartIntervention';
      case: string;
      intervention: string;
      body: { type: InterventionType; provider: InterventionProvider; startDate: string };
    }
  | { at: string; actor: string; command: 'EndIntervention'; case: string; intervention: string; body: { endDate: string; outcome: InterventionOutcome } }
  | { at: string; actor: string; command: 'RecordBenefitMonth'; case: string; month: string }
  | { at: string; actor: string; command: 'WithdrawBenefitMonth'; case: string; month: string }
  | { at: string; actor: string; command: 'CloseCase'; case: string; body: { reason: ClosureReason; effectiveDate: string } }
  | { at: string; actor: string; command: 'ReopenCase'; case: string; body: { unit: UnitCode; effectiveDate: string } };

export type TimelineCommand = TimelineStep['command'];

/** One stretch of a timeline: the setup before the first round, or the time from one round's reference date to the next. */
export interface TimelinePeriod {
  /** `setup`, or the label of the round whose reference date starts the period. */
  name: string;
  from: string;
  /** Exclusive. */
  to: string;
  steps: TimelineStep[];
}

export interface RoundPlan {
  key: string;
  label: string;
  referenceDate: string;
  /** Day the round is opened (two weeks before the reference date). */
  opens: string;
  /** Day it is closed, or null when it stays open. */
  closes: string | null;
}
