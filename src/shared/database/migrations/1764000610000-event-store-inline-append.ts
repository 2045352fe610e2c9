import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event store, fourth step: appends with inline projections hold the append lock for one
 * server-side statement and the commit, never across a round trip to the service.
 *
 * Until now such an append took the global append lock first and then ran its inline
 * projections (several statements, each a round trip to Node) under it, one append of the batch
 * after the other: bench:http measured the lock held in 84–96 % of the time and commands queueing
 * behind it for seconds. Now the adapter runs the inline projections first, in the append's
 * transaction but before the lock, and then sends this function and COMMIT in one message: the
 * lock is taken inside the function and released by the commit that follows it on the server.
 *
 * event_store_append_one appends one stream's events like event_store_append, but fails (and
 * so aborts the transaction and its inline writes) instead of answering a status other than ok:
 * SQLSTATE VA409, DETAIL a JSON object {status, stream_version, positions} with the statuses of
 * 1764000410000-event-store.ts. A duplicate (the retry of an append that was stored) therefore
 * does not apply the inline projections a second time.
 *
 * Inline projections no longer see positions (they are given under the lock, after them), so
 * erased_cases drops its erased_position column; nothing read it (the PersonErased event's
 * position is in the log).
 */
export class EventStoreInlineAppend1764000610000 implements MigrationInterface {
  name = 'EventStoreInlineAppend1764000610000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION event_store_append_one(
        p_stream text, p_tenant text, p_expected integer,
        p_ids uuid[], p_types text[], p_schema_versions integer[], p_data json[], p_metadata json[]
      ) RETURNS TABLE (stream_version integer, positions bigint[], recorded_at timestamptz)
      LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
      DECLARE
        r record;
      BEGIN
        SELECT * INTO r FROM event_store_append(ARRAY[p_stream], ARRAY[p_tenant], ARRAY[p_expected], ARRAY[cardinality(p_ids)],
                                                p_ids, p_types, p_schema_versions, p_data, p_metadata);
        IF r.status <> 'ok' THEN
          RAISE EXCEPTION 'append to % not written: %', p_stream, r.status
            USING ERRCODE = 'VA409',
                  DETAIL = json_build_object('status', r.status, 'stream_version', r.stream_version, 'positions', r.positions)::text;
        END IF;
        stream_version := r.stream_version;
        positions := r.positions;
        recorded_at := r.recorded_at;
        RETURN NEXT;
      END
      $fn$`);
    await q.query(`
      DO $do$
      DECLARE s text;
      BEGIN
        FOR s IN SELECT schema_name FROM public.projections WHERE name = 'erased_cases' LOOP
          IF to_regclass(quote_ident(s) || '.erased_cases') IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I.erased_cases DROP COLUMN IF EXISTS erased_position', s);
          END IF;
        END LOOP;
      END
      $do$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION event_store_append_one(text, text, integer, uuid[], text[], integer[], json[], json[])');
  }
}
