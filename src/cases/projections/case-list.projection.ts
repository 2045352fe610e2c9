import { fold } from '../../shared/domain/decider.js';
import type { SqlExecutor, StoredEvent } from '../../shared/event-store/event-store.port.js';
import type { Projection } from '../../shared/projections/projection.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { erasedCaseIdsOf, PERSON_ERASED } from '../../admin/erasure/person-erased.event.js';
import { caseDecider } from '../case.decider.js';
import { CASE_EVENT_TYPES, type CaseEvent } from '../case.events.js';
import { caseView, type CaseEventRecord } from '../case.view.js';

/**
 * One row per case, shaped for the caseworker's list (`GET /cases` with filters) and for a
 * round's live progress (`GET /rounds`): current unit, status, priority, which rounds have an
 * assessment or a priority, and the periods the case was open (a date multirange, so "open on
 * the reference date" is one indexable `@>`).
 *
 * Facts can be back-dated, so a row is not evolved event by event: it keeps the case's events
 * (compact) and folds them again with the domain's own `caseView`, which orders by effective
 * date. Idempotent: events at or below the row's position are skipped.
 *
 * PersonErased (src/admin/erasure) deletes the erased cases' rows. No case event follows it
 * (the erased_cases guard), so a rebuild ends without them too. Version 2: version 1 ignored it.
 */
export const caseListProjection: Projection = {
  name: 'case_list',
  version: 2,
  kind: 'async',
  handles: [...CASE_EVENT_TYPES, PERSON_ERASED],

  async setup(tx) {
    await tx.query(`
      CREATE TABLE case_list (
        case_id uuid PRIMARY KEY,
        municipality text NOT NULL,
        pseudonym text NOT NULL,
        status text NOT NULL,
        unit text,
        priority text,
        registered_on date NOT NULL,
        open_periods datemultirange NOT NULL,
        assessed_rounds text[] NOT NULL,
        prioritised_rounds text[] NOT NULL,
        version integer NOT NULL,
        position bigint NOT NULL,
        events jsonb NOT NULL
      )`);
    await tx.query('CREATE INDEX case_list_municipality ON case_list (municipality, case_id)');
    await tx.query('CREATE INDEX case_list_open_periods ON case_list USING gist (open_periods)');
    await tx.query('CREATE INDEX case_list_assessed ON case_list USING gin (assessed_rounds)');
  },

  async apply(tx, events) {
    const byCase = new Map<string, StoredEvent[]>();
    const erased: string[] = [];
    for (const e of events) {
      if (e.type === PERSON_ERASED) {
        erased.push(...erasedCaseIdsOf(e));
        continue;
      }
      const id = caseIdOfStream(e.stream);
      if (!id) continue;
      let list = byCase.get(id);
      if (!list) byCase.set(id, (list = []));
      list.push(e);
    }
    await applyCaseEvents(tx, byCase);
    if (erased.length > 0) await tx.query('DELETE FROM case_list WHERE case_id = ANY($1::uuid[])', [erased]);
  },
};

async function applyCaseEvents(tx: SqlExecutor, byCase: Map<string, StoredEvent[]>): Promise<void> {
  if (byCase.size === 0) return;
  const ids = [...byCase.keys()];
  const { rows } = await tx.query<{ case_id: string; position: string; events: CompactEvent[] }>(
    'SELECT case_id, position, events FROM case_list WHERE case_id = ANY($1::uuid[])',
    [ids],
  );
  const existing = new Map(rows.map((r) => [r.case_id, r]));
  const out: Row[] = [];
  for (const [caseId, fresh] of byCase) {
    const row = existing.get(caseId);
    const known = row?.events ?? [];
    const after = Number(row?.position ?? 0);
    const added = fresh.filter((e) => e.position > after).map(compact);
    if (added.length === 0) continue;
    const all = [...known, ...added];
    const r = toRow(caseId, fresh[0]!.tenant, all);
    if (r) out.push(r);
  }
  await upsert(tx, out);
}

/** What a row keeps of an event: enough for the domain to fold it. */
interface CompactEvent {
  type: string;
  data: Record<string, unknown>;
  effectiveDate: string;
  actor: string;
  version: number;
  position: number;
  recordedAt: string;
}

interface Row {
  caseId: string;
  municipality: string;
  pseudonym: string;
  status: string;
  unit: string | null;
  priority: string | null;
  registeredOn: string;
  openPeriods: string;
  assessedRounds: string[];
  prioritisedRounds: string[];
  version: number;
  position: number;
  events: CompactEvent[];
}

function compact(e: StoredEvent): CompactEvent {
  // Free text (reasons) stays in the log only: the list never shows it.
  const { reasonCiphertext: _r, ...data } = e.data as Record<string, unknown>;
  return {
    type: e.type,
    data,
    effectiveDate: String(e.metadata.effectiveDate),
    actor: e.metadata.actor,
    version: e.version,
    position: e.position,
    recordedAt: e.recordedAt.toISOString(),
  };
}

export function toDomainEvents(events: readonly CompactEvent[]): CaseEventRecord[] {
  return events.map(
    (c) =>
      ({
        type: c.type,
        schemaVersion: 1,
        data: c.data,
        metadata: { actor: c.actor, effectiveDate: c.effectiveDate },
        version: c.version,
        recordedAt: c.recordedAt,
      }) as unknown as CaseEventRecord,
  );
}

function toRow(caseId: string, municipality: string, events: CompactEvent[]): Row | undefined {
  const domain = toDomainEvents(events);
  const view = caseView(domain);
  if (!view) return undefined;
  const state = fold(caseDecider, domain as unknown as CaseEvent[]);
  const periods = state.status === 'not_registered' ? [] : state.periods;
  const ranges: string[] = [];
  periods.forEach((p, i) => {
    if (p.status !== 'open') return;
    const next = periods[i + 1];
    ranges.push(`[${p.from},${next ? next.from : ''})`);
  });
  return {
    caseId,
    municipality,
    pseudonym: view.pseudonym,
    status: view.status,
    unit: view.unit,
    priority: view.priority,
    registeredOn: view.registeredOn,
    openPeriods: `{${ranges.join(',')}}`,
    assessedRounds: Object.keys(view.assessments),
    prioritisedRounds: Object.keys(view.priorityByRound),
    version: view.version,
    position: Math.max(...events.map((e) => e.position)),
    events,
  };
}

async function upsert(tx: SqlExecutor, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO case_list (case_id, municipality, pseudonym, status, unit, priority, registered_on, open_periods,
                            assessed_rounds, prioritised_rounds, version, position, events)
     SELECT r.case_id, r.municipality, r.pseudonym, r.status, r.unit, r.priority, r.registered_on, r.open_periods::datemultirange,
            ARRAY(SELECT jsonb_array_elements_text(r.assessed_rounds)), ARRAY(SELECT jsonb_array_elements_text(r.prioritised_rounds)),
            r.version, r.position, r.events
       FROM jsonb_to_recordset($1::jsonb) AS r(case_id uuid, municipality text, pseudonym text, status text, unit text, priority text,
            registered_on date, open_periods text, assessed_rounds jsonb, prioritised_rounds jsonb, version int, position bigint, events jsonb)
     ON CONFLICT (case_id) DO UPDATE SET
       status = EXCLUDED.status, unit = EXCLUDED.unit, priority = EXCLUDED.priority, registered_on = EXCLUDED.registered_on,
       open_periods = EXCLUDED.open_periods, assessed_rounds = EXCLUDED.assessed_rounds, prioritised_rounds = EXCLUDED.prioritised_rounds,
       version = EXCLUDED.version, position = EXCLUDED.position, events = EXCLUDED.events
     WHERE case_list.position < EXCLUDED.position`,
    [
      JSON.stringify(
        rows.map((r) => ({
          case_id: r.caseId,
          municipality: r.municipality,
          pseudonym: r.pseudonym,
          status: r.status,
          unit: r.unit,
          priority: r.priority,
          registered_on: r.registeredOn,
          open_periods: r.openPeriods,
          assessed_rounds: r.assessedRounds,
          prioritised_rounds: r.prioritisedRounds,
          version: r.version,
          position: r.position,
          events: r.events,
        })),
      ),
    ],
  );
}
