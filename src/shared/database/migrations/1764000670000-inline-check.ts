import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * projection_inline_check: what projection_inline_targets does (the shared switch lock per
 * projection, then the live schema of the caller's version in a fresh snapshot, search_path set
 * to the first one), except that the caller says which schemas it expects and needs no answer:
 * the engine remembers the targets it was last given and sends this check with the append, so
 * an append with inline projections saves the round trip that asked for them. If a build was
 * switched since (a rebuild took over, a version went live), the check fails the transaction
 * with SQLSTATE VA410 before anything is written to a stale schema, and the store runs the
 * append again with the targets asked afresh.
 */
export class InlineCheck1764000670000 implements MigrationInterface {
  name = 'InlineCheck1764000670000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION projection_inline_check(p_names text[], p_versions integer[], p_schemas text[])
      RETURNS void
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_first  text;
        v_schema text;
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(727192, hashtext(n)) FROM unnest(p_names) AS n ORDER BY n;
        FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
          v_schema := NULL;
          SELECT p.schema_name INTO v_schema FROM public.projections p
           WHERE p.name = p_names[i] AND p.state = 'live' AND p.version = p_versions[i];
          IF v_schema IS DISTINCT FROM p_schemas[i] THEN
            RAISE EXCEPTION USING ERRCODE = 'VA410',
              MESSAGE = format('The live build of inline projection %s changed (expected %s, now %s); the append is retried.',
                               p_names[i], coalesce(p_schemas[i], 'none'), coalesce(v_schema, 'none'));
          END IF;
          IF v_schema IS NOT NULL AND v_first IS NULL THEN
            v_first := v_schema;
            PERFORM set_config('search_path', quote_ident(v_schema) || ', public', true);
          END IF;
        END LOOP;
      END
      $fn$`);
    await q.query('ALTER FUNCTION projection_inline_check(text[], integer[], text[]) SET plan_cache_mode = force_generic_plan');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION projection_inline_check(text[], integer[], text[])');
  }
}
