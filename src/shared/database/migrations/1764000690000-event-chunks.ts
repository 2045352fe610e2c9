import type { MigrationInterface, QueryRunner } from 'typeorm';

const APPEND = 'event_store_append(text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])';
const APPEND_EACH = 'event_store_append_each(timestamptz, text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])';

/**
 * Event store, fifth step: a bulk import stores its events in chunks, one row per stream and up
 * to 100 events (EVENT_CHUNK_MAX in the adapter), instead of one row per event.
 *
 * Why: every row of `events` keeps four B-tree indexes up to date (all events by position, one
 * stream by version, unique event ids, per municipality by position). For a 200,000-event import
 * that index upkeep, not the store, was the cost: bench:store measured the import at 0.4–0.6× a
 * plain COPY of as many ~300-byte rows (issue #4 asks ≥ 0.8×), and a COPY into a bare copy of the
 * events table with the same indexes was no faster than the store. A chunk is one row and one
 * entry per index for up to 100 events, so the index upkeep of an import of 20-event streams
 * shrinks twentyfold, while the bytes stored stay the same (the events column is compressed).
 *
 * event_chunks: one row per chunk. Its events are contiguous in everything the indexes look up:
 * positions first_position..last_position and versions first_version..last_version, one step per
 * event, in the order of the `events` array; and ids, which the store generates for chunked
 * events (an append that brings its own ids goes to `events`, row by row, so the unique index
 * checks them): a UUIDv7 whose last 32 bits count up from a random start below 2^31, so the
 * chunk's ids are exactly the uuids from first_id to last_id and event k's id is first_id + k.
 * `events` is an array of json, one element an event, each the event as the adapter reads it,
 * with the keys of a StoredEvent in their order, but with id, stream and tenant left empty (the
 * chunk's: repeated in every element they made a one-event chunk ~100 bytes bigger than a row of
 * `events`) and without recordedAt (the chunk's recorded_at, the same for all its events). An array rather than one json document: reading takes the elements
 * out as they are, where a document would be parsed whole to split it (measured: a 5,000-event
 * page of readAll cost PostgreSQL ~20 ms in json_array_elements).
 *
 * The guarantees stay in the database:
 * - (stream, version): appends and imports decide versions under the append lock from the
 *   stream row (event_streams), as before; a chunk's (stream_id, first_version) is unique.
 * - event ids: generated ones are unique by construction, and the unique index on first_id keeps
 *   two chunks from sharing a start. Every check of stored ids (the append functions below, and
 *   the import for ids it is given) goes through event_store_stored, which finds an id in
 *   `events` by its index and in a chunk by the chunk with the greatest first_id not above it.
 * - positions: the chunk's first_position is its key, and its events are read in position order
 *   with those of `events` (the adapter's reads take both tables, and event_log below).
 *
 * event_log: every event, one row each, from both tables, for ad-hoc queries (tests, tools,
 * analysts). The adapter does not read through it: its reads use each table's own indexes.
 */
export class EventChunks1764000690000 implements MigrationInterface {
  name = 'EventChunks1764000690000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_chunks (
        first_position  bigint      PRIMARY KEY,
        last_position   bigint      NOT NULL,
        recorded_at     timestamptz NOT NULL,
        first_version   integer     NOT NULL,
        last_version    integer     NOT NULL,
        first_id        uuid        NOT NULL,
        last_id         uuid        NOT NULL,
        stream_id       text        NOT NULL,
        tenant          text        NOT NULL,
        events          json[]      NOT NULL,
        CHECK (last_position - first_position = last_version - first_version AND first_version >= 1 AND last_id >= first_id
               AND cardinality(events) = last_position - first_position + 1)
      )`);
    await q.query('CREATE UNIQUE INDEX event_chunks_stream_version ON event_chunks (stream_id, first_version)');
    await q.query('CREATE UNIQUE INDEX event_chunks_first_id ON event_chunks (first_id)');
    await q.query('CREATE INDEX event_chunks_tenant_position ON event_chunks (tenant, first_position)');
    // lz4 where the server has it (cheaper than the default pglz for chunks that are compressed).
    await q.query(`
      DO $do$
      BEGIN
        ALTER TABLE event_chunks ALTER COLUMN events SET COMPRESSION lz4;
      EXCEPTION WHEN others THEN
        NULL;
      END
      $do$`);

    // Stored ids among p_ids, with the stream, position and version of each (`position` is a
    // keyword where a RETURNS TABLE names its columns).
    await q.query(`
      CREATE FUNCTION event_store_stored(p_ids uuid[])
      RETURNS TABLE (id uuid, stream_id text, event_position bigint, version integer)
      LANGUAGE sql STABLE AS $fn$
        SELECT e.id, e.stream_id, e.position, e.version FROM public.events e WHERE e.id = ANY (p_ids)
        UNION ALL
        SELECT i.id, c.stream_id, c.first_position + o.d, c.first_version + o.d::integer
          FROM unnest(p_ids) AS i(id)
          CROSS JOIN LATERAL (
            SELECT ch.stream_id, ch.first_position, ch.first_version, ch.first_id, ch.last_id
              FROM public.event_chunks ch WHERE ch.first_id <= i.id ORDER BY ch.first_id DESC LIMIT 1
          ) c
          -- Within a chunk only the last 32 bits of an id differ: the offset is their difference.
          CROSS JOIN LATERAL (
            SELECT ('x' || right(i.id::text, 8))::bit(32)::bigint - ('x' || right(c.first_id::text, 8))::bit(32)::bigint AS d
          ) o
         WHERE i.id <= c.last_id
      $fn$`);

    // readAll's chunks: one text per chunk, `[recordedAt in ms, first id, stream, tenant, [event, …]]`
    // (CHUNK_ROW in the adapter, which fills in each event's id, stream and tenant), in position order,
    // after p_after, until they hold p_limit events after p_after (and up to p_to, if given).
    // Counting by events is why this is a loop: a LIMIT counts chunks. Reads of all
    // municipalities (every projection's catch-up) run one static query, planned once per
    // connection on the position key; reads of some municipalities are planned for their values
    // (EXECUTE), so a small municipality's read takes its (tenant, position) index.
    // `p_after - 100`: a chunk holds at most 100 events (EVENT_CHUNK_MAX in the adapter).
    await q.query(`
      CREATE FUNCTION event_store_chunk_page(p_after bigint, p_limit bigint, p_tenants text[], p_to bigint, p_known timestamptz)
      RETURNS SETOF text LANGUAGE plpgsql STABLE AS $fn$
      DECLARE
        r      record;
        v_n    bigint := 0;
        v_rows refcursor;
      BEGIN
        IF p_tenants IS NULL THEN
          OPEN v_rows FOR
            SELECT c.first_position, c.last_position, c.recorded_at, c.first_id, c.stream_id, c.tenant, c.events FROM public.event_chunks c
             WHERE c.first_position > p_after - 100 AND c.last_position > p_after
               AND (p_to IS NULL OR c.first_position <= p_to) AND (p_known IS NULL OR c.recorded_at <= p_known)
             ORDER BY c.first_position;
        ELSE
          OPEN v_rows FOR EXECUTE
            'SELECT c.first_position, c.last_position, c.recorded_at, c.first_id, c.stream_id, c.tenant, c.events FROM public.event_chunks c
              WHERE c.first_position > $1 - 100 AND c.last_position > $1 AND c.tenant = ANY ($2)'
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND c.first_position <= $3' END
            || CASE WHEN p_known IS NULL THEN '' ELSE ' AND c.recorded_at <= $4' END
            || ' ORDER BY c.first_position'
            USING p_after, p_tenants, p_to, p_known;
        END IF;
        LOOP
          FETCH v_rows INTO r;
          EXIT WHEN NOT FOUND;
          RETURN NEXT '[' || date_part('epoch', r.recorded_at) * 1000 || ',"' || r.first_id || '",' || to_json(r.stream_id) || ','
                      || to_json(r.tenant) || ',[' || array_to_string(r.events, ',') || ']]';
          v_n := v_n + least(r.last_position, coalesce(p_to, r.last_position)) - greatest(r.first_position, p_after + 1) + 1;
          EXIT WHEN v_n >= p_limit;
        END LOOP;
        CLOSE v_rows;
      END
      $fn$`);

    // The append functions of 1764000531000-event-store-json-batch.ts, unchanged but for their
    // checks of stored ids, which now go through event_store_stored.
    await q.query(`
      CREATE OR REPLACE FUNCTION event_store_append_each(
        p_now timestamptz, p_streams text[], p_tenants text[], p_expected integer[], p_counts integer[],
        p_ids uuid[], p_types text[], p_schema_versions integer[], p_data json[], p_metadata json[]
      ) RETURNS TABLE (status text, stream_version integer, positions bigint[], recorded_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      DECLARE
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
        FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
          v_n := p_counts[i];
          v_end := v_start + v_n - 1;
          SELECT count(*)::integer, array_agg(e.event_position ORDER BY e.version), count(DISTINCT e.stream_id)::integer,
                 min(e.stream_id), max(e.version)
            INTO v_dups, v_dup_pos, v_dup_streams, v_dup_stream, v_dup_version
            FROM event_store_stored(p_ids[v_start:v_end]) e;
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
              SELECT v_first + u.o - 1, p_now, v_current + u.o::integer, u.sv, u.id, p_streams[i], p_tenants[i], u.ty, u.d, u.m
                FROM unnest(p_ids[v_start:v_end], p_types[v_start:v_end], p_schema_versions[v_start:v_end],
                            p_data[v_start:v_end], p_metadata[v_start:v_end]) WITH ORDINALITY AS u(id, ty, sv, d, m, o);
            IF v_tenant IS NULL THEN
              INSERT INTO event_streams (stream_id, tenant, version, created_at, updated_at)
                VALUES (p_streams[i], p_tenants[i], v_n, p_now, p_now);
            ELSE
              UPDATE event_streams SET version = v_current + v_n, updated_at = p_now WHERE stream_id = p_streams[i];
            END IF;
            v_last := v_first + v_n - 1;
            status := 'ok';
            stream_version := v_current + v_n;
            positions := ARRAY(SELECT generate_series(v_first, v_last));
            recorded_at := p_now;
          END IF;
          RETURN NEXT;
          v_start := v_end + 1;
        END LOOP;
        IF v_last > 0 THEN
          PERFORM pg_notify('vagen_events', v_last::text);
        END IF;
      END
      $fn$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION event_store_append(
        p_streams text[], p_tenants text[], p_expected integer[], p_counts integer[],
        p_ids uuid[], p_types text[], p_schema_versions integer[], p_data json[], p_metadata json[]
      ) RETURNS TABLE (status text, stream_version integer, positions bigint[], recorded_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_now     timestamptz;
        v_appends integer := coalesce(array_length(p_streams, 1), 0);
        v_status  text[];
        v_cur     integer[];
        v_off     bigint[];
        v_start   integer[];
        v_total   bigint;
        v_first   bigint;
      BEGIN
        -- The global append lock (key 727190002, also taken by the bulk path), held to commit:
        -- positions are allocated under it, so they become visible in order.
        PERFORM pg_advisory_xact_lock(727190002);
        -- Under the lock, so recorded_at never goes backwards along positions; milliseconds, like
        -- a JS Date, so a recordedAt read back and given as knownAt finds its own event.
        v_now := date_trunc('milliseconds', clock_timestamp());
        IF EXISTS (SELECT 1 FROM event_store_stored(p_ids))
           OR (SELECT count(DISTINCT s) FROM unnest(p_streams) s) <> v_appends THEN
          RETURN QUERY SELECT * FROM event_store_append_each(v_now, p_streams, p_tenants, p_expected, p_counts, p_ids, p_types, p_schema_versions, p_data, p_metadata);
          RETURN;
        END IF;

        -- Each append's check against its stream row (no FOR UPDATE: every writer holds the
        -- append lock, and the unique (stream_id, version) index is the backstop). off = where
        -- its positions start among the accepted events; start = its first event in p_ids.
        SELECT array_agg(x.st ORDER BY x.i), array_agg(x.cur ORDER BY x.i), array_agg(x.off ORDER BY x.i),
               array_agg(x.start ORDER BY x.i), coalesce(sum(x.c) FILTER (WHERE x.st = 'ok'), 0)
          INTO v_status, v_cur, v_off, v_start, v_total
          FROM (
            SELECT y.i, y.c, y.cur, y.st,
                   coalesce(sum(y.c) FILTER (WHERE y.st = 'ok') OVER (ORDER BY y.i), 0) - CASE WHEN y.st = 'ok' THEN y.c ELSE 0 END AS off,
                   (sum(y.c) OVER (ORDER BY y.i) - y.c + 1)::integer AS start
              FROM (
                SELECT u.i, u.c, coalesce(es.version, 0) AS cur,
                       CASE WHEN u.x >= 0 AND u.x <> coalesce(es.version, 0) THEN 'conflict'
                            WHEN es.tenant IS NOT NULL AND es.tenant <> u.t THEN 'tenant_mismatch'
                            ELSE 'ok' END AS st
                  FROM unnest(p_streams, p_tenants, p_expected, p_counts) WITH ORDINALITY AS u(s, t, x, c, i)
                  LEFT JOIN event_streams es ON es.stream_id = u.s
              ) y
          ) x;

        IF v_total > 0 THEN
          v_first := nextval('event_position_seq');
          IF v_total > 1 THEN
            PERFORM setval('event_position_seq', v_first + v_total - 1);
          END IF;
          INSERT INTO events (position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata)
            SELECT v_first + v_off[a.i] + (e.k - v_start[a.i]), v_now, v_cur[a.i] + (e.k - v_start[a.i])::integer + 1,
                   e.sv, e.id, p_streams[a.i], p_tenants[a.i], e.ty, e.d, e.m
              FROM unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata) WITH ORDINALITY AS e(id, ty, sv, d, m, k)
              JOIN (SELECT j AS i, generate_series(v_start[j], v_start[j] + p_counts[j] - 1) AS k
                      FROM generate_subscripts(p_streams, 1) j WHERE v_status[j] = 'ok') a ON a.k = e.k;
          INSERT INTO event_streams (stream_id, tenant, version, created_at, updated_at)
            SELECT p_streams[j], p_tenants[j], v_cur[j] + p_counts[j], v_now, v_now
              FROM generate_subscripts(p_streams, 1) j WHERE v_status[j] = 'ok'
            ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at;
          -- Delivered at commit; subscribers wake up and read from their checkpoint.
          PERFORM pg_notify('vagen_events', (v_first + v_total - 1)::text);
        END IF;

        RETURN QUERY
          SELECT v_status[j],
                 CASE WHEN v_status[j] = 'ok' THEN v_cur[j] + p_counts[j] ELSE v_cur[j] END,
                 CASE WHEN v_status[j] = 'ok' THEN ARRAY(SELECT generate_series(v_first + v_off[j], v_first + v_off[j] + p_counts[j] - 1)) END,
                 CASE WHEN v_status[j] = 'ok' THEN v_now END
            FROM generate_subscripts(p_streams, 1) j ORDER BY j;
      END
      $fn$`);
    // CREATE OR REPLACE drops the settings 1764000600000 and 1764000630000 gave them.
    for (const f of [APPEND, APPEND_EACH]) await q.query(`ALTER FUNCTION ${f} SET enable_seqscan = off SET plan_cache_mode = force_generic_plan`);

    await q.query(`
      CREATE VIEW event_log AS
        SELECT position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata FROM events
        UNION ALL
        SELECT c.first_position + x.n - 1, c.recorded_at, c.first_version + x.n::integer - 1, (x.e ->> 'schemaVersion')::integer,
               (left(c.first_id::text, 28) || lpad(to_hex(('x' || right(c.first_id::text, 8))::bit(32)::bigint + x.n - 1), 8, '0'))::uuid,
               c.stream_id, c.tenant, x.e ->> 'type', x.e -> 'data', x.e -> 'metadata'
          FROM event_chunks c CROSS JOIN LATERAL unnest(c.events) WITH ORDINALITY AS x(e, n)`);
  }

  async down(): Promise<void> {
    // Chunked events would have to be written out row by row first.
    throw new Error('EventChunks1764000690000 is irreversible');
  }
}
