import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store's tables (see src/shared/event-store/postgres/postgres-event-store.ts for the
 * ordering argument). Every writer appends through `event_store_append` or the bulk path, and both
 * take the global append lock first; that lock is what makes `position` commit in order.
 */
export class EventStore1764000410000 implements MigrationInterface {
  name = 'EventStore1764000410000';

  async up(q: QueryRunner): Promise<void> {
    // Positions come from this sequence, always under the global append lock, so they are handed
    // out in commit order. A rolled-back append leaves a gap; positions are increasing, not dense.
    await q.query('CREATE SEQUENCE event_position_seq AS bigint MINVALUE 1 START 1 CACHE 1');

    // One row per stream: its tenant and current version. The expected-version check reads it.
    await q.query(`
      CREATE TABLE event_streams (
        stream_id   text        PRIMARY KEY,
        tenant      text        NOT NULL,
        version     integer     NOT NULL,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);

    // Fixed-width columns first (no alignment padding). The primary key on position serves
    // readAll; (stream_id, version) serves readStream and is the database's own guarantee that a
    // version is never written twice; (id) makes retries safe; (tenant, position) serves
    // per-municipality reads and exports.
    await q.query(`
      CREATE TABLE events (
        position        bigint      PRIMARY KEY,
        recorded_at     timestamptz NOT NULL,
        version         integer     NOT NULL,
        schema_version  integer     NOT NULL,
        id              uuid        NOT NULL,
        stream_id       text        NOT NULL,
        tenant          text        NOT NULL,
        type            text        NOT NULL,
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL
      )`);
    await q.query('CREATE UNIQUE INDEX events_stream_version ON events (stream_id, version)');
    await q.query('CREATE UNIQUE INDEX events_id ON events (id)');
    await q.query('CREATE INDEX events_tenant_position ON events (tenant, position)');

    // One call appends a whole batch of appends (each to its own stream, each with its own
    // expected version) in one round trip. A conflicting append is reported in its result row
    // and writes nothing; the others go on. Statuses:
    //   ok        appended; positions and the new stream version returned
    //   conflict  expected version did not match; stream_version = actual version
    //   duplicate every event id is already stored in this stream (a retry): the stored positions
    //             and the version of the last of them are returned, nothing is written
    //   duplicate_conflict  some ids are stored, or stored in another stream: nothing written
    //   tenant_mismatch     the stream exists under another tenant: nothing written
    // p_expected: -1 = any, 0 = the stream must not exist, n = exact version.
    await q.query(`
      CREATE FUNCTION event_store_append(
        p_streams text[], p_tenants text[], p_expected integer[], p_counts integer[],
        p_ids uuid[], p_types text[], p_schema_versions integer[], p_data jsonb[], p_metadata jsonb[]
      ) RETURNS TABLE (status text, stream_version integer, positions bigint[], recorded_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_now     timestamptz;
        v_start   integer := 1;
        v_end     integer;
        v_n       integer;
        v_current integer;
        v_tenant  text;
        v_first   bigint;
        v_last    bigint := 0;
        v_dups    integer;
        v_dup_pos bigint[];
        v_dup_streams integer;
        v_dup_stream  text;
        v_dup_version integer;
      BEGIN
        -- The global append lock (key 727190002, also taken by the bulk path). Held to commit.
        PERFORM pg_advisory_xact_lock(727190002);
        -- Taken under the lock, so recorded_at never goes backwards along positions.
        -- Milliseconds, like a JS Date: a recordedAt read back and given as knownAt finds its own event.
        v_now := date_trunc('milliseconds', clock_timestamp());
        FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
          v_n := p_counts[i];
          v_end := v_start + v_n - 1;
          SELECT count(*)::integer, array_agg(e.position ORDER BY e.version), count(DISTINCT e.stream_id)::integer,
                 min(e.stream_id), max(e.version)
            INTO v_dups, v_dup_pos, v_dup_streams, v_dup_stream, v_dup_version
            FROM events e WHERE e.id = ANY (p_ids[v_start:v_end]);
          IF v_dups > 0 THEN
            IF v_dups = v_n AND v_dup_streams = 1 AND v_dup_stream = p_streams[i] THEN
              status := 'duplicate'; stream_version := v_dup_version; positions := v_dup_pos;
            ELSE
              status := 'duplicate_conflict'; stream_version := NULL; positions := NULL;
            END IF;
            recorded_at := NULL;
            RETURN NEXT;
            v_start := v_end + 1;
            CONTINUE;
          END IF;
          -- No FOR UPDATE: every writer holds the global lock, and the unique index on
          -- (stream_id, version) would reject a second writer of the same version anyway.
          SELECT s.version, s.tenant INTO v_current, v_tenant FROM event_streams s WHERE s.stream_id = p_streams[i];
          IF NOT FOUND THEN
            v_current := 0;
            v_tenant := NULL;
          END IF;
          IF p_expected[i] >= 0 AND p_expected[i] <> v_current THEN
            status := 'conflict'; stream_version := v_current; positions := NULL; recorded_at := NULL;
          ELSIF v_tenant IS NOT NULL AND v_tenant <> p_tenants[i] THEN
            status := 'tenant_mismatch'; stream_version := v_current; positions := NULL; recorded_at := NULL;
          ELSE
            v_first := nextval('event_position_seq');
            IF v_n > 1 THEN
              PERFORM setval('event_position_seq', v_first + v_n - 1);
            END IF;
            INSERT INTO events (position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata)
              SELECT v_first + u.o - 1, v_now, v_current + u.o::integer, u.sv, u.id, p_streams[i], p_tenants[i], u.ty, u.d, u.m
                FROM unnest(p_ids[v_start:v_end], p_types[v_start:v_end], p_schema_versions[v_start:v_end],
                            p_data[v_start:v_end], p_metadata[v_start:v_end]) WITH ORDINALITY AS u(id, ty, sv, d, m, o);
            IF v_tenant IS NULL THEN
              INSERT INTO event_streams (stream_id, tenant, version, created_at, updated_at)
                VALUES (p_streams[i], p_tenants[i], v_n, v_now, v_now);
            ELSE
              UPDATE event_streams SET version = v_current + v_n, updated_at = v_now WHERE stream_id = p_streams[i];
            END IF;
            v_last := v_first + v_n - 1;
            status := 'ok';
            stream_version := v_current + v_n;
            positions := ARRAY(SELECT generate_series(v_first, v_last));
            recorded_at := v_now;
          END IF;
          RETURN NEXT;
          v_start := v_end + 1;
        END LOOP;
        IF v_last > 0 THEN
          -- Delivered at commit; subscribers wake up and read from their checkpoint.
          PERFORM pg_notify('vagen_events', v_last::text);
        END IF;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION event_store_append(text[], text[], integer[], integer[], uuid[], text[], integer[], jsonb[], jsonb[])');
    await q.query('DROP TABLE events');
    await q.query('DROP TABLE event_streams');
    await q.query('DROP SEQUENCE event_position_seq');
  }
}
