import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer round trips in an append with inline projections (bench:http counts them per command):
 *
 * - projection_inline_targets: what projection_inline_target does (a shared switch lock, then in
 *   a fresh snapshot the live schema of the caller's version), for every inline projection of the
 *   append in one call, and search_path set (for the transaction) to the first one found. The
 *   engine then switches search_path only between projections, and never back: the statements
 *   that follow in the append's transaction are the store's, which name their schema.
 * - the event store's functions get `SET search_path = public`, so an inline projection's table
 *   can never shadow `events` or `event_streams` inside them, whatever search_path the inline
 *   projections leave behind.
 * - erased_case_guard: the erased_cases guard (shared per-case lock, then the look in a new
 *   snapshot, which a VOLATILE function gives each statement) in one call.
 */
export class InlineTargets1764000620000 implements MigrationInterface {
  name = 'InlineTargets1764000620000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION projection_inline_targets(p_names text[], p_versions integer[])
      RETURNS TABLE (name text, target_schema text)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_first text;
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(727192, hashtext(n)) FROM unnest(p_names) AS n ORDER BY n;
        FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
          name := p_names[i];
          SELECT p.schema_name INTO target_schema FROM public.projections p
           WHERE p.name = p_names[i] AND p.state = 'live' AND p.version = p_versions[i];
          IF target_schema IS NOT NULL AND v_first IS NULL THEN
            v_first := target_schema;
            PERFORM set_config('search_path', quote_ident(target_schema) || ', public', true);
          END IF;
          RETURN NEXT;
        END LOOP;
      END
      $fn$`);
    for (const signature of [
      'event_store_append(text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])',
      'event_store_append_each(timestamptz, text[], text[], integer[], integer[], uuid[], text[], integer[], json[], json[])',
      'event_store_append_one(text, text, integer, uuid[], text[], integer[], json[], json[])',
    ]) {
      await q.query(`ALTER FUNCTION ${signature} SET search_path = public`);
    }
    await q.query(`
      CREATE FUNCTION erased_case_guard(p_lock integer, p_case_id text) RETURNS boolean
      LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(p_lock, hashtext(p_case_id));
        RETURN EXISTS (SELECT 1 FROM erased_cases WHERE case_id = p_case_id::uuid);
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION erased_case_guard(integer, text)');
    await q.query('DROP FUNCTION projection_inline_targets(text[], integer[])');
  }
}
