import { CASE_EVENT_TYPES } from '../../cases/case.events.js';
import { QUESTIONNAIRE_V1, type Question, type Questionnaire } from '../../questionnaires/questionnaire.js';
import { panelFragment } from '../exports/panel.js';
import type { SqlExecutor, StoredEvent } from '../../shared/event-store/event-store.port.js';
import type { Projection } from '../../shared/projections/projection.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { eraseFromRoundSnapshots } from '../../admin/erasure/insight-erasure.js';
import { erasedCaseIdsOf, PERSON_ERASED } from '../../admin/erasure/person-erased.event.js';
import { type AssessmentFacts, type CaseFacts, applyToAssessment, applyToCase, factKind, type FactEvent } from './case-facts.js';
import { snapshotRow, type SnapshotRow } from './snapshot-row.js';

export const ROUND_SNAPSHOTS = 'round_snapshots';

/**
 * The insight read side: per case the compact facts (case-facts.ts), per (case, round) the
 * assessment, the municipality's rounds and questionnaire versions, and each round's snapshot.
 *
 * A round's rows are kept up to date while it is open, and freezing is then only a mark:
 * - RoundOpened folds every case registered by the reference date into `snapshot_rows`;
 * - after each run of case events, the cases they touched are folded again for every open round
 *   of their municipality;
 * - RoundClosed marks the round closed. Batches are split at it, so the rows then reflect exactly
 *   the events before it in the log: "as known at closing" (round.events.ts). Closed rounds' rows
 *   are never written again (except by an erasure), so the frozen snapshot needs no copy, and
 *   closing 10,000 cases costs one row update, inside the checkpoint's transaction.
 *
 * Erasure (PersonErased): the person's facts go, their rows in frozen snapshots are made
 * anonymous but kept, so frozen aggregates keep their numbers (insight-erasure.ts, shared with the
 * admin module), and their rows in open rounds go. `erased_position` on the municipality's rounds
 * changes, which tells cached frames that they are stale.
 *
 * Idempotent: facts skip events at or below their position, a RoundOpened or RoundClosed seen
 * again finds its round already there or closed, and folding a case again gives the same row.
 */
export const roundSnapshotsProjection: Projection = {
  name: ROUND_SNAPSHOTS,
  version: 1,
  kind: 'async',
  handles: [...CASE_EVENT_TYPES, 'RoundOpened', 'RoundClosed', 'QuestionnairePublished', PERSON_ERASED],

  async setup(tx) {
    await tx.query(`
      CREATE TABLE insight_cases (
        tenant text NOT NULL,
        case_id text NOT NULL,
        pseudonym text NOT NULL,
        registered_on date NOT NULL,
        position bigint NOT NULL,
        events jsonb NOT NULL,
        months text[] NOT NULL,
        PRIMARY KEY (tenant, case_id)
      )`);
    await tx.query('CREATE INDEX insight_cases_pseudonym ON insight_cases (tenant, pseudonym)');
    await tx.query(`
      CREATE TABLE insight_assessments (
        tenant text NOT NULL,
        round_id text NOT NULL,
        case_id text NOT NULL,
        position bigint NOT NULL,
        events jsonb NOT NULL,
        PRIMARY KEY (tenant, round_id, case_id)
      )`);
    await tx.query(`
      CREATE TABLE insight_rounds (
        tenant text NOT NULL,
        round_id text NOT NULL,
        label text NOT NULL,
        reference_date date NOT NULL,
        questionnaire_version integer NOT NULL,
        opened_position bigint NOT NULL,
        opened_at timestamptz NOT NULL,
        closed_position bigint,
        closed_at timestamptz,
        closed_on date,
        frozen_rows integer,
        erased_position bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, round_id)
      )`);
    await tx.query(`CREATE TABLE insight_questionnaires (tenant text NOT NULL, version integer NOT NULL, questions jsonb NOT NULL, PRIMARY KEY (tenant, version))`);
    // One row per case registered by the reference date; `row` is a SnapshotRow. Live while the
    // round is open, frozen once it is closed.
    await tx.query(`
      CREATE TABLE snapshot_rows (
        tenant text NOT NULL,
        round_id text NOT NULL,
        case_id text NOT NULL,
        pseudonym text NOT NULL,
        status text NOT NULL,
        registered_on text NOT NULL,
        row jsonb NOT NULL,
        -- The row's values for the panel export, comma-separated (panel.ts panelFragment).
        panel text NOT NULL,
        PRIMARY KEY (tenant, round_id, case_id)
      )`);
    // The panel export reads a round person by person.
    await tx.query('CREATE INDEX snapshot_rows_person ON snapshot_rows (tenant, round_id, pseudonym, case_id)');
  },

  async apply(tx, events) {
    let segment: StoredEvent[] = [];
    for (const e of events) {
      if (e.type !== 'RoundOpened' && e.type !== 'RoundClosed' && e.type !== PERSON_ERASED) {
        segment.push(e);
        continue;
      }
      // Everything before it first: the round's rows, its freeze or an erasure see exactly the events before it.
      await applySegment(tx, segment);
      segment = [];
      if (e.type === 'RoundOpened') await open(tx, e);
      else if (e.type === 'RoundClosed') await freeze(tx, e);
      else await erase(tx, e);
    }
    await applySegment(tx, segment);
  },
};

async function applySegment(tx: SqlExecutor, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const caseEvents: StoredEvent[] = [];
  const assessmentEvents: StoredEvent[] = [];
  for (const e of events) {
    if (e.type === 'QuestionnairePublished') {
      await tx.query('INSERT INTO insight_questionnaires (tenant, version, questions) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        e.tenant,
        e.data.version,
        JSON.stringify(e.data.questions as Question[]),
      ]);
      continue;
    }
    const kind = factKind(e.type);
    if (kind === 'case') caseEvents.push(e);
    else if (kind === 'assessment') assessmentEvents.push(e);
  }
  const touched = new Map<string, { tenant: string; caseId: string }>();
  const cases = await applyCaseEvents(tx, caseEvents, touched);
  await applyAssessmentEvents(tx, assessmentEvents, touched);
  await refreshOpenRounds(tx, touched, cases);
}

interface CaseRowRaw {
  tenant: string;
  case_id: string;
  pseudonym: string;
  registered_on: string;
  position: string;
  events: FactEvent[];
  months: string[];
}

const CASE_COLUMNS = `c.tenant, c.case_id, c.pseudonym, to_char(c.registered_on, 'YYYY-MM-DD') AS registered_on, c.position, c.events, c.months`;

function factsFromRow(r: CaseRowRaw): CaseFacts {
  return { caseId: r.case_id, tenant: r.tenant, pseudonym: r.pseudonym, registeredOn: r.registered_on, position: Number(r.position), events: r.events, months: r.months };
}

const keyOf = (tenant: string, caseId: string) => `${tenant}|${caseId}`;

async function loadCases(tx: SqlExecutor, keys: readonly { tenant: string; caseId: string }[]): Promise<Map<string, CaseFacts>> {
  if (keys.length === 0) return new Map();
  const { rows } = await tx.query<CaseRowRaw>(
    `SELECT ${CASE_COLUMNS} FROM insight_cases c JOIN unnest($1::text[], $2::text[]) AS k(tenant, case_id) USING (tenant, case_id)`,
    [keys.map((k) => k.tenant), keys.map((k) => k.caseId)],
  );
  return new Map(rows.map((r) => [keyOf(r.tenant, r.case_id), factsFromRow(r)]));
}

/** Applies the case events to the facts and writes the changed ones; returns every touched case's facts. */
async function applyCaseEvents(tx: SqlExecutor, events: readonly StoredEvent[], touched: Map<string, { tenant: string; caseId: string }>): Promise<Map<string, CaseFacts>> {
  if (events.length === 0) return new Map();
  const keys = new Map<string, { tenant: string; caseId: string }>();
  for (const e of events) keys.set(keyOf(e.tenant, caseIdOfStream(e.stream)!), { tenant: e.tenant, caseId: caseIdOfStream(e.stream)! });
  const facts = await loadCases(tx, [...keys.values()]);
  const changed = new Set<string>();
  for (const e of events) {
    const key = keyOf(e.tenant, caseIdOfStream(e.stream)!);
    const before = facts.get(key);
    const position = before?.position;
    const after = applyToCase(before, e);
    if (after && after.position !== position) {
      facts.set(key, after);
      changed.add(key);
      touched.set(key, keys.get(key)!);
    }
  }
  const out = [...changed].map((k) => facts.get(k)!);
  if (out.length > 0) {
    await tx.query(
      `INSERT INTO insight_cases (tenant, case_id, pseudonym, registered_on, position, events, months)
       SELECT r.tenant, r.case_id, r.pseudonym, r.registered_on, r.position, r.events, ARRAY(SELECT jsonb_array_elements_text(r.months))
         FROM jsonb_to_recordset($1::jsonb) AS r(tenant text, case_id text, pseudonym text, registered_on date, position bigint, events jsonb, months jsonb)
       ON CONFLICT (tenant, case_id) DO UPDATE SET position = EXCLUDED.position, events = EXCLUDED.events, months = EXCLUDED.months
       WHERE insight_cases.position < EXCLUDED.position`,
      [JSON.stringify(out.map((f) => ({ tenant: f.tenant, case_id: f.caseId, pseudonym: f.pseudonym, registered_on: f.registeredOn, position: f.position, events: f.events, months: f.months })))],
    );
  }
  return facts;
}

async function applyAssessmentEvents(tx: SqlExecutor, events: readonly StoredEvent[], touched: Map<string, { tenant: string; caseId: string }>): Promise<void> {
  if (events.length === 0) return;
  const keyOfEvent = (e: StoredEvent) => `${e.tenant}|${String(e.data.roundId)}|${caseIdOfStream(e.stream)}`;
  const keys = new Map<string, [string, string, string]>();
  for (const e of events) keys.set(keyOfEvent(e), [e.tenant, String(e.data.roundId), caseIdOfStream(e.stream)!]);
  const list = [...keys.values()];
  const { rows } = await tx.query<{ tenant: string; round_id: string; case_id: string; position: string; events: FactEvent[] }>(
    `SELECT a.tenant, a.round_id, a.case_id, a.position, a.events
       FROM insight_assessments a JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(tenant, round_id, case_id) USING (tenant, round_id, case_id)`,
    [list.map((k) => k[0]), list.map((k) => k[1]), list.map((k) => k[2])],
  );
  const facts = new Map<string, AssessmentFacts>(
    rows.map((r) => [`${r.tenant}|${r.round_id}|${r.case_id}`, { tenant: r.tenant, roundId: r.round_id, caseId: r.case_id, position: Number(r.position), events: r.events }]),
  );
  const changed = new Set<string>();
  for (const e of events) {
    const key = keyOfEvent(e);
    const before = facts.get(key);
    const position = before?.position;
    const after = applyToAssessment(before, e);
    if (after.position !== position) {
      facts.set(key, after);
      changed.add(key);
      touched.set(keyOf(after.tenant, after.caseId), { tenant: after.tenant, caseId: after.caseId });
    }
  }
  if (changed.size === 0) return;
  await tx.query(
    `INSERT INTO insight_assessments (tenant, round_id, case_id, position, events)
     SELECT r.tenant, r.round_id, r.case_id, r.position, r.events
       FROM jsonb_to_recordset($1::jsonb) AS r(tenant text, round_id text, case_id text, position bigint, events jsonb)
     ON CONFLICT (tenant, round_id, case_id) DO UPDATE SET position = EXCLUDED.position, events = EXCLUDED.events
     WHERE insight_assessments.position < EXCLUDED.position`,
    [JSON.stringify([...changed].map((k) => facts.get(k)!).map((f) => ({ tenant: f.tenant, round_id: f.roundId, case_id: f.caseId, position: f.position, events: f.events })))],
  );
}

/** Folds the touched cases again for every open round of their municipality. */
async function refreshOpenRounds(tx: SqlExecutor, touched: Map<string, { tenant: string; caseId: string }>, known: Map<string, CaseFacts>): Promise<void> {
  if (touched.size === 0) return;
  const tenants = [...new Set([...touched.values()].map((t) => t.tenant))];
  const { rows: open } = await tx.query(`SELECT ${ROUND_COLUMNS} FROM insight_rounds WHERE tenant = ANY($1::text[]) AND closed_position IS NULL`, [tenants]);
  if (open.length === 0) return;
  const rounds = open.map(toRoundRow);
  const keys = [...touched.values()].filter((k) => rounds.some((r) => r.tenant === k.tenant));
  const missing = keys.filter((k) => !known.has(keyOf(k.tenant, k.caseId)));
  const facts = new Map([...known, ...(await loadCases(tx, missing))]);
  const { rows: assessed } = await tx.query<{ tenant: string; round_id: string; case_id: string; position: string; events: FactEvent[] }>(
    `SELECT a.tenant, a.round_id, a.case_id, a.position, a.events
       FROM insight_assessments a JOIN unnest($1::text[], $2::text[]) AS k(tenant, case_id) USING (tenant, case_id)
      WHERE a.round_id = ANY($3::text[])`,
    [keys.map((k) => k.tenant), keys.map((k) => k.caseId), rounds.map((r) => r.roundId)],
  );
  const assessments = new Map(assessed.map((a) => [`${a.tenant}|${a.round_id}|${a.case_id}`, { tenant: a.tenant, roundId: a.round_id, caseId: a.case_id, position: Number(a.position), events: a.events }]));
  for (const round of rounds) {
    const rows: SnapshotRow[] = [];
    for (const k of keys) {
      if (k.tenant !== round.tenant) continue;
      const f = facts.get(keyOf(k.tenant, k.caseId));
      if (!f) continue;
      const row = snapshotRow(f, assessments.get(`${k.tenant}|${round.roundId}|${k.caseId}`), round);
      if (row) rows.push(row);
    }
    await writeRows(tx, round, rows);
  }
}

/** Inserts or replaces rows of a round (in slices: one parameter of tens of megabytes parses slower than a few). */
async function writeRows(tx: SqlExecutor, round: { tenant: string; roundId: string; questionnaireVersion: number }, rows: readonly SnapshotRow[]): Promise<void> {
  if (rows.length === 0) return;
  const questionnaire = await questionnaireOf(tx, round.tenant, round.questionnaireVersion);
  for (let i = 0; i < rows.length; i += 2000) {
    await tx.query(
      `INSERT INTO snapshot_rows (tenant, round_id, case_id, pseudonym, status, registered_on, row, panel)
       SELECT $1, $2, x->'r'->>'caseId', x->'r'->>'pseudonym', x->'r'->>'status', x->'r'->>'registeredOn', x->'r', x->>'p' FROM jsonb_array_elements($3::jsonb) AS x
       ON CONFLICT (tenant, round_id, case_id) DO UPDATE SET status = EXCLUDED.status, row = EXCLUDED.row, panel = EXCLUDED.panel`,
      [round.tenant, round.roundId, JSON.stringify(rows.slice(i, i + 2000).map((r) => ({ r, p: panelFragment(r, questionnaire) })))],
    );
  }
}

async function questionnaireOf(tx: SqlExecutor, tenant: string, version: number): Promise<Questionnaire> {
  if (version === QUESTIONNAIRE_V1.version) return QUESTIONNAIRE_V1;
  const { rows } = await tx.query<{ questions: Question[] }>('SELECT questions FROM insight_questionnaires WHERE tenant = $1 AND version = $2', [tenant, version]);
  if (!rows[0]) throw new Error(`Questionnaire version ${version} of ${tenant} is not in the read model`);
  return { version, questions: rows[0].questions };
}

export interface RoundRow {
  tenant: string;
  roundId: string;
  label: string;
  referenceDate: string;
  questionnaireVersion: number;
  openedPosition: number;
  openedAt: Date;
  closedPosition: number | null;
  closedAt: Date | null;
  closedOn: string | null;
  /** Position of the municipality's latest erasure seen (0: none); cached frames carry it. */
  erasedPosition: number;
}

export const ROUND_COLUMNS = `tenant, round_id, label, to_char(reference_date, 'YYYY-MM-DD') AS reference_date, questionnaire_version,
  opened_position, opened_at, closed_position, closed_at, to_char(closed_on, 'YYYY-MM-DD') AS closed_on, erased_position`;

export function toRoundRow(r: Record<string, unknown>): RoundRow {
  return {
    tenant: String(r.tenant),
    roundId: String(r.round_id),
    label: String(r.label),
    referenceDate: String(r.reference_date),
    questionnaireVersion: Number(r.questionnaire_version),
    openedPosition: Number(r.opened_position),
    openedAt: r.opened_at as Date,
    closedPosition: r.closed_position === null ? null : Number(r.closed_position),
    closedAt: (r.closed_at as Date | null) ?? null,
    closedOn: (r.closed_on as string | null) ?? null,
    erasedPosition: Number(r.erased_position ?? 0),
  };
}

/** Every case registered by the reference date, folded from the facts as they stand in this transaction. */
export async function computeRowsFromFacts(tx: SqlExecutor, tenant: string, round: { roundId: string; referenceDate: string }): Promise<SnapshotRow[]> {
  const [cases, assessments] = await Promise.all([
    tx.query<CaseRowRaw>(`SELECT ${CASE_COLUMNS} FROM insight_cases c WHERE c.tenant = $1 AND c.registered_on <= $2::date`, [tenant, round.referenceDate]),
    tx.query<{ case_id: string; position: string; events: FactEvent[] }>('SELECT case_id, position, events FROM insight_assessments WHERE tenant = $1 AND round_id = $2', [
      tenant,
      round.roundId,
    ]),
  ]);
  const byCase = new Map(assessments.rows.map((a) => [a.case_id, a]));
  const rows: SnapshotRow[] = [];
  for (const c of cases.rows) {
    const a = byCase.get(c.case_id);
    const row = snapshotRow(factsFromRow(c), a ? { tenant, roundId: round.roundId, caseId: c.case_id, position: Number(a.position), events: a.events } : undefined, round);
    if (row) rows.push(row);
  }
  return rows.sort((x, y) => (x.caseId < y.caseId ? -1 : x.caseId > y.caseId ? 1 : 0));
}

async function open(tx: SqlExecutor, e: StoredEvent): Promise<void> {
  const { rows } = await tx.query(
    `INSERT INTO insight_rounds (tenant, round_id, label, reference_date, questionnaire_version, opened_position, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING ${ROUND_COLUMNS}`,
    [e.tenant, e.data.roundId, e.data.label, e.data.referenceDate, e.data.questionnaireVersion, e.position, e.recordedAt],
  );
  if (!rows[0]) return;
  const round = toRoundRow(rows[0]);
  await writeRows(tx, round, await computeRowsFromFacts(tx, round.tenant, round));
}

async function freeze(tx: SqlExecutor, closed: StoredEvent): Promise<void> {
  await tx.query(
    `UPDATE insight_rounds
        SET closed_position = $3, closed_at = $4, closed_on = $5,
            frozen_rows = (SELECT count(*) FROM snapshot_rows s WHERE s.tenant = $1 AND s.round_id = $2)
      WHERE tenant = $1 AND round_id = $2 AND closed_position IS NULL`,
    [closed.tenant, closed.data.roundId, closed.position, closed.recordedAt, closed.metadata.effectiveDate ?? null],
  );
}

async function erase(tx: SqlExecutor, e: StoredEvent): Promise<void> {
  await eraseFromRoundSnapshots(tx, e.tenant, erasedCaseIdsOf(e));
  // Open rounds are live views: an erased person is simply not in them.
  await tx.query(
    `DELETE FROM snapshot_rows s USING insight_rounds r
      WHERE r.tenant = $1 AND r.closed_position IS NULL AND s.tenant = r.tenant AND s.round_id = r.round_id AND s.row ? 'erased'`,
    [e.tenant],
  );
  await tx.query('UPDATE insight_rounds SET erased_position = $2 WHERE tenant = $1 AND erased_position < $2', [e.tenant, e.position]);
}
