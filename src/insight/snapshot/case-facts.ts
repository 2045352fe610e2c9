import { caseIdOfStream } from '../../shared/streams.js';

/**
 * What the insight read side keeps of one case: enough to fold its state on any reference date
 * with the domain's own `caseView`, but small enough that freezing a round of 10,000 cases reads
 * a few megabytes, not the whole log. Two things make a case's log large and are kept apart:
 *
 * - Benefit months: every BenefitMonthRecorded/Withdrawn has the month's first day as effective
 *   date, so on any validAt the month is in force exactly when the last of its events (in
 *   recording order) recorded it and the month has begun. A set of months is therefore all a
 *   fold needs; `months` is that set.
 * - Assessments: one per round with its corrections, kept per (case, round) in
 *   `AssessmentFacts`, because a snapshot only ever needs the round's own.
 *
 * The rest (registration, transfers, closures, reopenings, priorities, interventions) are few and
 * kept as compact events. Free text (`reasonCiphertext`) is never copied here.
 *
 * The same functions build facts inside the projection (from stored events, batch by batch) and
 * from an event export or a log replay (knownAt), so all three agree by construction.
 */

/** An event as the insight side keeps it: its type, data (without free text) and effective date. */
export interface FactEvent {
  type: string;
  data: Record<string, unknown>;
  effectiveDate: string;
}

export interface CaseFacts {
  caseId: string;
  tenant: string;
  pseudonym: string;
  /** Effective date of the registration. */
  registeredOn: string;
  /** Registration, lifecycle, priorities and interventions, in stream order. */
  events: FactEvent[];
  /** Months with assistance in force (recorded and not withdrawn since), sorted YYYY-MM. */
  months: string[];
  /** Position of the latest event applied (idempotence: older ones are skipped). */
  position: number;
}

export interface AssessmentFacts {
  caseId: string;
  tenant: string;
  roundId: string;
  /** AssessmentRecorded and its AssessmentCorrected events, in stream order. */
  events: FactEvent[];
  position: number;
}

/** The parts of a stored (or exported) event the facts read. */
export interface EventLike {
  stream: string;
  tenant: string;
  type: string;
  position: number;
  version?: number;
  data: Record<string, unknown>;
  metadata: { actor?: unknown; effectiveDate?: unknown };
}

const CORE_TYPES = new Set(['CaseRegistered', 'CaseTransferred', 'CaseClosed', 'CaseReopened', 'PrioritySet', 'InterventionStarted', 'InterventionEnded']);
const MONTH_TYPES = new Set(['BenefitMonthRecorded', 'BenefitMonthWithdrawn']);
const ASSESSMENT_TYPES = new Set(['AssessmentRecorded', 'AssessmentCorrected']);

export type FactKind = 'case' | 'assessment' | 'other';

export function factKind(type: string): FactKind {
  if (CORE_TYPES.has(type) || MONTH_TYPES.has(type)) return 'case';
  if (ASSESSMENT_TYPES.has(type)) return 'assessment';
  return 'other';
}

export function toFactEvent(e: EventLike): FactEvent {
  const { reasonCiphertext: _dropped, ...data } = e.data;
  return { type: e.type, data, effectiveDate: String(e.metadata.effectiveDate) };
}

/** Index of `month` in the sorted list, or where it would go (binary search). */
function monthSlot(months: readonly string[], month: string): number {
  let lo = 0;
  let hi = months.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (months[mid]! < month) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies one case event (not an assessment event) to a case's facts, in place (the caller owns
 * them). An event at or below the facts' position is skipped (idempotence); an event of a case
 * whose registration has not been seen gives undefined. Returns the facts.
 */
export function applyToCase(facts: CaseFacts | undefined, e: EventLike): CaseFacts | undefined {
  if (facts && e.position <= facts.position) return facts;
  if (e.type === 'CaseRegistered') {
    if (facts) {
      facts.position = e.position;
      return facts;
    }
    const caseId = caseIdOfStream(e.stream) ?? String(e.data.caseId);
    return {
      caseId,
      tenant: e.tenant,
      pseudonym: String(e.data.pseudonym),
      registeredOn: String(e.metadata.effectiveDate),
      events: [toFactEvent(e)],
      months: [],
      position: e.position,
    };
  }
  if (!facts) return undefined;
  if (MONTH_TYPES.has(e.type)) {
    const month = String(e.data.month);
    const i = monthSlot(facts.months, month);
    const present = facts.months[i] === month;
    if (e.type === 'BenefitMonthRecorded' && !present) facts.months.splice(i, 0, month);
    if (e.type === 'BenefitMonthWithdrawn' && present) facts.months.splice(i, 1);
  } else if (CORE_TYPES.has(e.type)) {
    facts.events.push(toFactEvent(e));
  }
  facts.position = e.position;
  return facts;
}

/** Applies an AssessmentRecorded or AssessmentCorrected to the (case, round) facts, in place. */
export function applyToAssessment(facts: AssessmentFacts | undefined, e: EventLike): AssessmentFacts {
  if (facts && e.position <= facts.position) return facts;
  const event = toFactEvent(e);
  if (!facts) return { caseId: caseIdOfStream(e.stream)!, tenant: e.tenant, roundId: String(e.data.roundId), events: [event], position: e.position };
  facts.events.push(event);
  facts.position = e.position;
  return facts;
}

/**
 * Facts of every case of a log, in memory: the replay behind `knownAt=<timestamp>` and the
 * evaluator's rebuild from an event export. Only the given round's assessments are kept.
 */
export class FactsAccumulator {
  readonly cases = new Map<string, CaseFacts>();
  readonly assessments = new Map<string, AssessmentFacts>();

  constructor(private readonly roundIds?: ReadonlySet<string>) {}

  add(e: EventLike): void {
    const caseId = caseIdOfStream(e.stream);
    if (!caseId) return;
    const kind = factKind(e.type);
    if (kind === 'case') {
      const next = applyToCase(this.cases.get(caseId), e);
      if (next) this.cases.set(caseId, next);
    } else if (kind === 'assessment') {
      const roundId = String(e.data.roundId);
      if (this.roundIds && !this.roundIds.has(roundId)) return;
      const key = `${caseId}|${roundId}`;
      this.assessments.set(key, applyToAssessment(this.assessments.get(key), e));
    }
  }

  assessment(caseId: string, roundId: string): AssessmentFacts | undefined {
    return this.assessments.get(`${caseId}|${roundId}`);
  }
}
