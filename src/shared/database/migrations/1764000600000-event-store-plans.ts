import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event store, third step: the append functions never scan a table.
 *
 * PL/pgSQL caches a generic plan for each statement after a few calls and keeps it until the
 * table's statistics change. A plan made while `events` was small (a fresh database, or a server
 * with autovacuum off, which never ANALYZEs) checks the batch's event ids with a sequential scan
 * of `events`, and then every append reads the whole table: bench:store measured 3.4 ms of a
 * 5.4 ms call in that scan at 10,000 events, growing with the log. Every statement in these
 * functions reaches its rows by key (events by id, event_streams by stream id), so the
 * functions forbid sequential scans outright and the plans stay index lookups whatever the
 * statistics say.
 */
export class EventStorePlans1764000600000 implements MigrationInterface {
  name = 'EventStorePlans1764000600000';

  async up(q: QueryRunner): Promise<void> {
    const signature = '(text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])';
    await q.query(`ALTER FUNCTION event_store_append${signature} SET enable_seqscan = off`);
    await q.query(`ALTER FUNCTION event_store_append_each(timestamptz, text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[]) SET enable_seqscan = off`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER FUNCTION event_store_append(text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[]) RESET enable_seqscan');
    await q.query('ALTER FUNCTION event_store_append_each(timestamptz, text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[]) RESET enable_seqscan');
  }
}
