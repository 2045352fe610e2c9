import type { MigrationInterface, QueryRunner } from 'typeorm';

const FUNCTIONS = [
  'event_store_append(text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])',
  'event_store_append_each(timestamptz, text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])',
  'event_store_append_one(text, text, integer, uuid[], text[], integer[], json[], json[])',
  'projection_inline_targets(text[], integer[])',
  'erased_case_guard(integer, text)',
];

/**
 * The functions on every append plan each statement once per connection, not on every call.
 *
 * PL/pgSQL runs a statement with parameters on a custom plan (planned for the call's values)
 * until the generic plan looks no dearer, and with sequential scans forbidden (migration
 * 1764000600000) a generic plan costed on a table without statistics can look dearer for good:
 * then every call planned its statements again. perf on registration day's load showed planning
 * inside these functions (GetCachedPlan) as a sixth of PostgreSQL's CPU. Every statement in them
 * reaches its rows by key, so the generic plan is the right one for any values: they now always
 * use it. erased_case_guard also forbids sequential scans, for the reason 1764000600000 gives
 * (its table grows without statistics on a server that never ANALYZEs).
 */
export class GenericPlans1764000630000 implements MigrationInterface {
  name = 'GenericPlans1764000630000';

  async up(q: QueryRunner): Promise<void> {
    for (const f of FUNCTIONS) await q.query(`ALTER FUNCTION ${f} SET plan_cache_mode = force_generic_plan`);
    await q.query('ALTER FUNCTION erased_case_guard(integer, text) SET enable_seqscan = off');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER FUNCTION erased_case_guard(integer, text) RESET enable_seqscan');
    for (const f of FUNCTIONS) await q.query(`ALTER FUNCTION ${f} RESET plan_cache_mode`);
  }
}
