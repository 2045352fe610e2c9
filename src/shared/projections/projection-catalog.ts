import type { SqlExecutor } from '../event-store/event-store.port.js';
import type { Projection } from './projection.js';
import { buildSchemaName, quoteIdent, searchPathSql } from './projection-schema.js';

/**
 * The `public.projections` table: one row per build (schema) of a projection. Its `position` is
 * the build's checkpoint; the runner moves it in the same transaction as the rows it writes.
 */

/** Advisory lock namespaces (two-key form; the event store and migrations use the one-key form). */
export const LOCKS = {
  /** Session lock per build schema, held by the one runner of that build (the lease). */
  lease: 727191,
  /** Per projection name: inline appends take it shared, the switch of an inline build exclusively. */
  inlineSwitch: 727192,
  /** Serialises catalog changes (start-up reconciliation, rebuild requests) across instances. */
  catalog: 727193,
} as const;

export type BuildState = 'building' | 'live' | 'retired';

export interface BuildRow {
  schema: string;
  name: string;
  version: number;
  kind: 'inline' | 'async';
  state: BuildState;
  position: number;
  eventsProcessed: number;
  eventsPerSecond: number | null;
  lastEventAt: Date | null;
  createdAt: Date;
  liveSince: Date | null;
  retiredAt: Date | null;
  lastError: string | null;
  lastErrorPosition: number | null;
  lastErrorAt: Date | null;
  errorCount: number;
}

interface RawRow {
  schema_name: string;
  name: string;
  version: number;
  kind: 'inline' | 'async';
  state: BuildState;
  position: string;
  events_processed: string;
  events_per_second: number | null;
  last_event_at: Date | null;
  created_at: Date;
  live_since: Date | null;
  retired_at: Date | null;
  last_error: string | null;
  last_error_position: string | null;
  last_error_at: Date | null;
  error_count: number;
}

const COLUMNS = `schema_name, name, version, kind, state, position, events_processed, events_per_second, last_event_at,
  created_at, live_since, retired_at, last_error, last_error_position, last_error_at, error_count`;

function toRow(r: RawRow): BuildRow {
  return {
    schema: r.schema_name,
    name: r.name,
    version: r.version,
    kind: r.kind,
    state: r.state,
    position: Number(r.position),
    eventsProcessed: Number(r.events_processed),
    eventsPerSecond: r.events_per_second,
    lastEventAt: r.last_event_at,
    createdAt: r.created_at,
    liveSince: r.live_since,
    retiredAt: r.retired_at,
    lastError: r.last_error,
    lastErrorPosition: r.last_error_position === null ? null : Number(r.last_error_position),
    lastErrorAt: r.last_error_at,
    errorCount: r.error_count,
  };
}

export async function listBuilds(db: SqlExecutor, states: BuildState[] = ['live', 'building']): Promise<BuildRow[]> {
  const { rows } = await db.query<RawRow>(
    `SELECT ${COLUMNS} FROM public.projections WHERE state = ANY($1) ORDER BY name, created_at`,
    [states],
  );
  return rows.map(toRow);
}

export async function getBuild(db: SqlExecutor, schema: string, forUpdate = false): Promise<BuildRow | undefined> {
  const { rows } = await db.query<RawRow>(
    `SELECT ${COLUMNS} FROM public.projections WHERE schema_name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [schema],
  );
  return rows[0] && toRow(rows[0]);
}

export async function liveBuild(db: SqlExecutor, name: string, forUpdate = false): Promise<BuildRow | undefined> {
  const { rows } = await db.query<RawRow>(
    `SELECT ${COLUMNS} FROM public.projections WHERE name = $1 AND state = 'live'${forUpdate ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0] && toRow(rows[0]);
}

/**
 * Creates a build's schema, lets the projection create its tables there, and records the build —
 * all in the caller's transaction, so a failed `setup` leaves neither schema nor row behind.
 */
export async function createBuild(tx: SqlExecutor, p: Projection, state: 'building' | 'live'): Promise<BuildRow> {
  const { rows: taken } = await tx.query<{ name: string }>(
    `SELECT schema_name AS name FROM public.projections WHERE name = $1 AND version = $2
     UNION SELECT nspname FROM pg_namespace WHERE nspname LIKE $3`,
    [p.name, p.version, `proj\\_${p.name.replace(/_/g, '\\_')}\\_v${p.version}%`],
  );
  const used = new Set(taken.map((r) => r.name));
  let schema = buildSchemaName(p.name, p.version, 0);
  for (let r = 1; used.has(schema); r++) schema = buildSchemaName(p.name, p.version, r);
  await tx.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  await tx.query(searchPathSql(schema));
  await p.setup(tx);
  await tx.query(`SELECT set_config('search_path', 'public', true)`);
  const { rows } = await tx.query<RawRow>(
    `INSERT INTO public.projections (schema_name, name, version, kind, state, live_since)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'live' THEN now() END) RETURNING ${COLUMNS}`,
    [schema, p.name, p.version, p.kind, state],
  );
  return toRow(rows[0]!);
}

/** Marks a build retired; its schema stays for a grace period so reads in flight finish. */
export async function retireBuild(tx: SqlExecutor, schema: string): Promise<void> {
  await tx.query(`UPDATE public.projections SET state = 'retired', retired_at = now(), updated_at = now() WHERE schema_name = $1`, [schema]);
}

/** Records a handler failure; returns how many failures in a row this build has had. */
export async function recordError(db: SqlExecutor, schema: string, message: string, position: number): Promise<number> {
  const { rows } = await db.query<{ error_count: number }>(
    `UPDATE public.projections
        SET last_error = $2, last_error_position = $3, last_error_at = now(), error_count = error_count + 1, updated_at = now()
      WHERE schema_name = $1 RETURNING error_count`,
    [schema, message.slice(0, 2000), position],
  );
  return rows[0]?.error_count ?? 1;
}

/** Drops schemas retired longer ago than the grace period, and forgets them. */
export async function dropRetired(db: SqlExecutor, graceMs: number): Promise<string[]> {
  const { rows } = await db.query<{ schema_name: string }>(
    `SELECT schema_name FROM public.projections WHERE state = 'retired' AND retired_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [graceMs],
  );
  for (const r of rows) {
    await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(r.schema_name)} CASCADE`);
    await db.query(`DELETE FROM public.projections WHERE schema_name = $1 AND state = 'retired'`, [r.schema_name]);
  }
  return rows.map((r) => r.schema_name);
}

/** Schemas whose lease some session holds right now (from pg_locks: works across instances). */
export async function leasedSchemas(db: SqlExecutor, schemas: string[]): Promise<Set<string>> {
  if (schemas.length === 0) return new Set();
  // Two-key advisory locks show the second key as an unsigned oid; hashtext() is a signed int4.
  const { rows } = await db.query<{ s: string }>(
    `SELECT s FROM unnest($1::text[]) s
      WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid = $2::bigint::oid AND l.objid = ((hashtext(s)::bigint + 4294967296) % 4294967296)::oid)`,
    [schemas, LOCKS.lease],
  );
  return new Set(rows.map((r) => r.s));
}
