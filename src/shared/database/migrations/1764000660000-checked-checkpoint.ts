import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * projection_checkpoint: a build's checkpoint moves only if it is still where the runner left it
 * (belt and braces next to the lease), tells the other instances' waiters where it is now (at
 * commit), and refuses otherwise (SQLSTATE VA422, slug build-gone, public.vagen_refuse) instead of
 * answering "0 rows". Refusing in the database lets the checkpoint and the COMMIT go as one
 * message: a batch costs one round trip less, and its BEGIN travels with its first statement.
 */
export class CheckedCheckpoint1764000660000 implements MigrationInterface {
  name = 'CheckedCheckpoint1764000660000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION projection_checkpoint(p_schema text, p_position bigint, p_count integer, p_last_event_at timestamptz, p_expected bigint, p_rate double precision)
      RETURNS void LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $fn$
      DECLARE
        v_name  text;
        v_state text;
      BEGIN
        UPDATE public.projections
           SET position = p_position, events_processed = events_processed + p_count, last_event_at = p_last_event_at,
               events_per_second = p_rate, updated_at = now(),
               last_error = NULL, last_error_position = NULL, last_error_at = NULL, error_count = 0
         WHERE schema_name = p_schema AND position = p_expected AND state <> 'retired'
        RETURNING name, state INTO v_name, v_state;
        IF NOT FOUND THEN
          PERFORM public.vagen_refuse('conflict', 'build-gone', format('%s is no longer at position %s', p_schema, p_expected));
        END IF;
        PERFORM pg_notify('vagen_projections',
          json_build_object('t', 'progress', 'name', v_name, 'schema', p_schema, 'state', v_state, 'position', p_position)::text);
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION projection_checkpoint(text, bigint, integer, timestamptz, bigint, double precision)');
  }
}
