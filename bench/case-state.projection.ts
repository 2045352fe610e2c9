import type { SqlExecutor, StoredEvent } from '../src/shared/event-store/event-store.port.js';
import type { Projection } from '../src/shared/projections/projection.js';

/**
 * The benchmark's read model: every case's current state (status, unit, closure, priority,
 * background, latest answers, active interventions, benefit months), i.e. what a caseworker's
 * case list shows. It is written the way a fast projection should be: the batch is folded per
 * case in memory first, then every touched case is written by one statement (an UPDATE of the
 * existing rows and an INSERT of the new ones), instead of one statement per event.
 *
 * Idempotent per batch: a case row remembers the stream version it has applied, and a case's
 * part of a batch is skipped when the row already has it.
 */

export const CASE_EVENT_TYPES = [
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

interface Patch {
  case_id: string;
  tenant: string;
  first_version: number;
  version: number;
  last_position: number;
  status: string | null;
  unit: string | null;
  closure_set: boolean;
  closure_reason: string | null;
  priority: string | null;
  gender: string | null;
  birth_year: number | null;
  answers: Record<string, unknown> | null;
  answers_replace: boolean;
  assessed_round: string | null;
  interventions_delta: number;
  benefit_months_delta: number;
  events: number;
}

function fold(events: readonly StoredEvent[]): Patch[] {
  const patches = new Map<string, Patch>();
  for (const e of events) {
    let p = patches.get(e.stream);
    if (!p) {
      p = {
        case_id: e.stream,
        tenant: e.tenant,
        first_version: e.version,
        version: e.version,
        last_position: e.position,
        status: null,
        unit: null,
        closure_set: false,
        closure_reason: null,
        priority: null,
        gender: null,
        birth_year: null,
        answers: null,
        answers_replace: false,
        assessed_round: null,
        interventions_delta: 0,
        benefit_months_delta: 0,
        events: 0,
      };
      patches.set(e.stream, p);
    }
    p.version = e.version;
    p.last_position = e.position;
    p.events++;
    const d = e.data as Record<string, never>;
    switch (e.type) {
      case 'CaseRegistered':
        p.status = 'open';
        p.unit = d.unit;
        p.gender = d.gender;
        p.birth_year = d.birthYear;
        break;
      case 'AssessmentRecorded':
        p.answers = { ...(d.answers as object) };
        p.answers_replace = true;
        p.assessed_round = d.roundId;
        break;
      case 'AssessmentCorrected':
        p.answers = { ...(p.answers ?? {}), ...(d.answers as object) };
        break;
      case 'PrioritySet':
        p.priority = d.priority;
        break;
      case 'CaseTransferred':
        p.unit = d.toUnit;
        break;
      case 'InterventionStarted':
        p.interventions_delta++;
        break;
      case 'InterventionEnded':
        p.interventions_delta--;
        break;
      case 'BenefitMonthRecorded':
        p.benefit_months_delta++;
        break;
      case 'BenefitMonthWithdrawn':
        p.benefit_months_delta--;
        break;
      case 'CaseClosed':
        p.status = 'closed';
        p.closure_set = true;
        p.closure_reason = d.reason;
        break;
      case 'CaseReopened':
        p.status = 'open';
        p.unit = d.unit;
        p.closure_set = true;
        p.closure_reason = null;
        break;
    }
  }
  return [...patches.values()];
}

const RECORD = `json_to_recordset($1::json) AS r(case_id text, tenant text, first_version int, version int, last_position bigint,
  status text, unit text, closure_set boolean, closure_reason text, priority text, gender text, birth_year int,
  answers jsonb, answers_replace boolean, assessed_round text, interventions_delta int, benefit_months_delta int, events int)`;

const APPLY_SQL = `
  WITH r AS (SELECT * FROM ${RECORD}),
  updated AS (
    UPDATE case_state c SET
      status = coalesce(r.status, c.status),
      unit = coalesce(r.unit, c.unit),
      closure_reason = CASE WHEN r.closure_set THEN r.closure_reason ELSE c.closure_reason END,
      priority = coalesce(r.priority, c.priority),
      gender = coalesce(r.gender, c.gender),
      birth_year = coalesce(r.birth_year, c.birth_year),
      answers = CASE WHEN r.answers_replace THEN r.answers WHEN r.answers IS NULL THEN c.answers ELSE c.answers || r.answers END,
      assessed_round = coalesce(r.assessed_round, c.assessed_round),
      interventions_active = c.interventions_active + r.interventions_delta,
      benefit_months = c.benefit_months + r.benefit_months_delta,
      events = c.events + r.events,
      version = r.version,
      last_position = r.last_position
    FROM r
    WHERE c.case_id = r.case_id AND c.version < r.first_version
    RETURNING c.case_id)
  INSERT INTO case_state (case_id, tenant, status, unit, closure_reason, priority, gender, birth_year, answers, assessed_round,
                          interventions_active, benefit_months, events, version, last_position)
  SELECT r.case_id, r.tenant, coalesce(r.status, 'open'), r.unit, r.closure_reason, r.priority, r.gender, r.birth_year,
         coalesce(r.answers, '{}'), r.assessed_round, r.interventions_delta, r.benefit_months_delta, r.events, r.version, r.last_position
    FROM r WHERE r.first_version = 1
  ON CONFLICT (case_id) DO NOTHING`;

export function caseStateProjection(version = 1): Projection {
  return {
    name: 'case_state_bench',
    version,
    kind: 'async',
    handles: CASE_EVENT_TYPES,
    async setup(tx: SqlExecutor) {
      // fillfactor: room on each page for the new row version, so updates stay HOT (no index write).
      await tx.query(`
        CREATE TABLE case_state (
          case_id text PRIMARY KEY, tenant text NOT NULL, status text NOT NULL, unit text, closure_reason text,
          priority text, gender text, birth_year integer, answers jsonb NOT NULL, assessed_round text,
          interventions_active integer NOT NULL, benefit_months integer NOT NULL,
          events integer NOT NULL, version integer NOT NULL, last_position bigint NOT NULL
        ) WITH (fillfactor = 70)`);
    },
    async apply(tx: SqlExecutor, events: readonly StoredEvent[]) {
      await tx.query(APPLY_SQL, [JSON.stringify(fold(events))]);
    },
  };
}
