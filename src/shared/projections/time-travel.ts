import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { EventStore } from '../event-store/event-store.port.js';
import type { Projection } from './projection.js';
import { readAhead } from './batch-stream.js';
import { assertIdentifier, quoteIdent, searchPathSql } from './projection-schema.js';

/** Which past to build: up to a global position, as recorded by an instant, or both (the earlier wins). */
export interface AsOf {
  position?: number;
  knownAt?: Date;
}

export interface TimeTravelBuild {
  schema: string;
  projection: string;
  version: number;
  asOf: AsOf;
  /** Last position applied (0 when nothing was recorded by then). */
  position: number;
  events: number;
}

/**
 * Builds a projection from the log as it stood at `asOf`, with the projection's own setup and
 * handlers, into a schema of its own — the live build is not touched. The schema also gets a
 * one-row table `_time_travel` saying what it is, so a kept build explains itself.
 *
 * `knownAt` filters on the store's recordedAt, which never goes backwards along positions, so
 * "known at T" is a prefix of the log, exactly what was visible to a reader at T.
 */
export async function buildAsOf(
  pool: Pool,
  store: EventStore,
  p: Projection,
  asOf: AsOf,
  opts: { batchSize: number; schema?: string; replace?: boolean },
): Promise<TimeTravelBuild> {
  const schema = opts.schema ?? `tt_${p.name}_${randomBytes(4).toString('hex')}`;
  assertIdentifier(schema);
  if (schema.startsWith('proj_') || schema === 'public' || schema.startsWith('pg_')) {
    throw new Error(`"${schema}" is reserved; choose another schema name for a time-travel build`);
  }
  // Fixed before reading, so "now" means the head when the build started, not a moving target.
  const toPosition = asOf.position ?? (asOf.knownAt ? undefined : await store.headPosition());
  const client = await pool.connect();
  let created = false;
  try {
    await client.query('BEGIN');
    if (opts.replace) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(searchPathSql(schema));
    await p.setup(client);
    await client.query(`
      CREATE TABLE _time_travel (
        projection text NOT NULL, version integer NOT NULL, as_of_position bigint, known_at timestamptz,
        position bigint NOT NULL, events bigint NOT NULL, built_at timestamptz NOT NULL DEFAULT now())`);
    await client.query('COMMIT');
    created = true;

    const handles = new Set(p.handles);
    let position = 0;
    let events = 0;
    for await (const batch of readAhead(store.readAll({ toPosition, knownAt: asOf.knownAt, batchSize: opts.batchSize }))) {
      if (batch.length === 0) continue;
      const handled = batch.filter((e) => handles.has(e.type));
      if (handled.length > 0) {
        await client.query(`BEGIN; ${searchPathSql(schema)}`);
        await p.apply(client, handled);
        await client.query('COMMIT');
      }
      position = batch[batch.length - 1]!.position;
      events += batch.length;
    }
    await client.query(
      `INSERT INTO ${quoteIdent(schema)}._time_travel (projection, version, as_of_position, known_at, position, events) VALUES ($1, $2, $3, $4, $5, $6)`,
      [p.name, p.version, asOf.position ?? null, asOf.knownAt ?? null, position, events],
    );
    return { schema, projection: p.name, version: p.version, asOf, position, events };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (created) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export async function dropTimeTravel(pool: Pool, schema: string): Promise<void> {
  assertIdentifier(schema);
  if (schema.startsWith('proj_') || schema === 'public') throw new Error(`"${schema}" is not a time-travel build`);
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}
