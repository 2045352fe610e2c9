import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The projection catalog (see src/shared/projections/). One row per build of a projection: the
 * live one, at most one being built beside it, and retired ones waiting to be dropped. The row's
 * `position` is the checkpoint, updated in the same transaction as the build's rows.
 */
export class Projections1764000520000 implements MigrationInterface {
  name = 'Projections1764000520000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projections (
        schema_name         text        PRIMARY KEY,
        name                text        NOT NULL,
        version             integer     NOT NULL,
        kind                text        NOT NULL CHECK (kind IN ('inline', 'async')),
        state               text        NOT NULL CHECK (state IN ('building', 'live', 'retired')),
        position            bigint      NOT NULL DEFAULT 0,
        events_processed    bigint      NOT NULL DEFAULT 0,
        events_per_second   double precision,
        last_event_at       timestamptz,
        created_at          timestamptz NOT NULL DEFAULT now(),
        live_since          timestamptz,
        retired_at          timestamptz,
        updated_at          timestamptz NOT NULL DEFAULT now(),
        last_error          text,
        last_error_position bigint,
        last_error_at       timestamptz,
        error_count         integer     NOT NULL DEFAULT 0
      )`);
    // What makes "exactly one live version" and "one rebuild at a time" a database fact.
    await q.query(`CREATE UNIQUE INDEX projections_one_live ON projections (name) WHERE state = 'live'`);
    await q.query(`CREATE UNIQUE INDEX projections_one_building ON projections (name) WHERE state = 'building'`);

    // Called by inline projections inside the append's transaction. One round trip: a shared lock
    // that the switch of a rebuilt inline projection takes exclusively (so no append writes the
    // old version after the new one has caught up), then — in a fresh snapshot, which a VOLATILE
    // function gives each statement — the live schema, set as search_path for the transaction.
    // Only when the live build is the caller's version: code of version N must not write a
    // version M schema (during a version bump the new build is filled from the log instead).
    // No SET clause on the function: that would undo the set_config when it returns.
    await q.query(`
      CREATE FUNCTION projection_inline_target(p_name text, p_version integer)
      RETURNS TABLE (target_schema text, previous_path text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(727192, hashtext(p_name));
        previous_path := current_setting('search_path');
        SELECT p.schema_name INTO target_schema FROM public.projections p
         WHERE p.name = p_name AND p.state = 'live' AND p.version = p_version;
        IF target_schema IS NOT NULL THEN
          PERFORM set_config('search_path', quote_ident(target_schema) || ', public', true);
        END IF;
        RETURN NEXT;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION projection_inline_target(text, integer)');
    await q.query('DROP TABLE projections');
  }
}
