import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_EACH_FUNCTION, APPEND_FUNCTION } from './1764000531000-event-store-json-batch.js';

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
 * `events`) and without recordedAt (the chunk's recorded_at, the same for all its events). An
 * array rather than one json document: reading takes the elements out as they are, where a
 * document would be parsed whole to split it (measured: a 5,000-event page of readAll cost
 * PostgreSQL ~20 ms in json_array_elements).
 *
 * The guarantees stay in the database:
 * - (stream, version): appends and imports decide versions under the append lock from the
 *   stream row (event_streams), as before; a chunk's (stream_id, first_version) is unique.
 * - event ids: generated ones are unique by construction, and the unique index on first_id keeps
 *   two chunks from sharing a start. Every check of stored ids looks in both tables: the append
 *   functions below through event_store_stored (`events` by its index, chunks through
 *   event_store_chunked: the chunk with the greatest first_id not above the id); the import, for
 *   ids it is given, through event_store_chunked (the unique index on `events` sees the rest).
 * - positions: the chunk's first_position is its key, and its events are read in position order
 *   with those of `events` (the adapter's reads take both tables, and event_log below).
 *
 * event_log: every event, one row each, from both tables, for ad-hoc queries (tests, tools,
 * analysts). The adapter does not read through it: its reads use each table's own indexes.
 */
/** `sql` with each `[from, to]` replaced; each `from` must occur exactly once. */
function edit(sql: string, replacements: [string, string][]): string {
  return replacements.reduce((text, [from, to]) => {
    if (text.split(from).length !== 2) throw new Error(`EventChunks1764000690000: expected one "${from}" in the function it edits`);
    return text.replace(from, to);
  }, sql);
}

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

    // Ids among p_ids that are chunked events, with the stream, position and version of each
    // (`position` is a keyword where a RETURNS TABLE names its columns): each id is looked up in
    // the chunk with the greatest first_id not above it.
    await q.query(`
      CREATE FUNCTION event_store_chunked(p_ids uuid[])
      RETURNS TABLE (id uuid, stream_id text, event_position bigint, version integer)
      LANGUAGE sql STABLE AS $fn$
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
    // Stored ids among p_ids, in either table.
    await q.query(`
      CREATE FUNCTION event_store_stored(p_ids uuid[])
      RETURNS TABLE (id uuid, stream_id text, event_position bigint, version integer)
      LANGUAGE sql STABLE AS $fn$
        SELECT e.id, e.stream_id, e.position, e.version FROM public.events e WHERE e.id = ANY (p_ids)
        UNION ALL
        SELECT * FROM public.event_store_chunked(p_ids)
      $fn$`);

    // A chunk as one JSON text, `[recordedAt in ms, first id, stream, tenant, [event, …]]`, for
    // readStream and readAll (parseRow in the adapter fills in each event's id, stream, tenant).
    await q.query(`
      CREATE FUNCTION event_store_chunk_text(c public.event_chunks) RETURNS text
      LANGUAGE sql STABLE AS $fn$
        SELECT '[' || date_part('epoch', c.recorded_at) * 1000 || ',"' || c.first_id || '",' || to_json(c.stream_id) || ','
               || to_json(c.tenant) || ',[' || array_to_string(c.events, ',') || ']]'
      $fn$`);

    // readAll's chunks, one text each (event_store_chunk_text), in position order, after p_after,
    // until they hold p_limit events after p_after (and up to p_to, if given).
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
            SELECT c.first_position, c.last_position, public.event_store_chunk_text(c) AS text FROM public.event_chunks c
             WHERE c.first_position > p_after - 100 AND c.last_position > p_after
               AND (p_to IS NULL OR c.first_position <= p_to) AND (p_known IS NULL OR c.recorded_at <= p_known)
             ORDER BY c.first_position;
        ELSE
          OPEN v_rows FOR EXECUTE
            'SELECT c.first_position, c.last_position, public.event_store_chunk_text(c) AS text FROM public.event_chunks c
              WHERE c.first_position > $1 - 100 AND c.last_position > $1 AND c.tenant = ANY ($2)'
            || CASE WHEN p_to IS NULL THEN '' ELSE ' AND c.first_position <= $3' END
            || CASE WHEN p_known IS NULL THEN '' ELSE ' AND c.recorded_at <= $4' END
            || ' ORDER BY c.first_position'
            USING p_after, p_tenants, p_to, p_known;
        END IF;
        LOOP
          FETCH v_rows INTO r;
          EXIT WHEN NOT FOUND;
          RETURN NEXT r.text;
          v_n := v_n + least(r.last_position, coalesce(p_to, r.last_position)) - greatest(r.first_position, p_after + 1) + 1;
          EXIT WHEN v_n >= p_limit;
        END LOOP;
        CLOSE v_rows;
      END
      $fn$`);

    // The append functions of 1764000531000-event-store-json-batch.ts, unchanged but for their
    // checks of stored ids, which now go through event_store_stored.
    await q.query(
      edit(APPEND_EACH_FUNCTION, [
        ['CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'],
        ['array_agg(e.position ORDER BY e.version)', 'array_agg(e.event_position ORDER BY e.version)'],
        ['FROM events e WHERE e.id = ANY (p_ids[v_start:v_end]);', 'FROM event_store_stored(p_ids[v_start:v_end]) e;'],
      ]),
    );
    await q.query(
      edit(APPEND_FUNCTION, [
        ['CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'],
        ['IF EXISTS (SELECT 1 FROM events e WHERE e.id = ANY (p_ids))', 'IF EXISTS (SELECT 1 FROM event_store_stored(p_ids))'],
      ]),
    );
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
