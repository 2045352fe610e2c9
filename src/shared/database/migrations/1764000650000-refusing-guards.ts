import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inline guards that refuse in the database, so their statements can travel with the append
 * (CoalescingExecutor) instead of each costing a round trip whose answer Node had to look at.
 *
 * Each raises SQLSTATE VA422 with DETAIL `{"kind", "slug", "details"}` (src/shared/database/
 * refusal.ts turns it back into the DomainError the Node check used to throw); the error fails
 * the message and with it the append, and the transaction is rolled back.
 *
 * Like erased_case_guard they name their projection's table without a schema: the append's
 * transaction has search_path pointed at the live build. Each statement of a VOLATILE PL/pgSQL
 * function takes a new snapshot, so a row committed by a racing transaction while this one waited
 * for its lock or unique key is seen (a single SQL statement would keep its older snapshot).
 *
 * - round_guard_check: locks the round's row FOR SHARE (a close waits for this append, or this
 *   append waits for the close and then sees it), refuses round-closed.
 * - erased_case_check: erased_case_guard, refusing case-not-found.
 * - open_case_claim: the person's open-case row; refuses person-has-open-case when another case
 *   holds it.
 */
export class RefusingGuards1764000650000 implements MigrationInterface {
  name = 'RefusingGuards1764000650000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION vagen_refuse(p_kind text, p_slug text, p_message text, p_details json DEFAULT '{}')
      RETURNS void LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION USING ERRCODE = 'VA422', MESSAGE = p_message,
          DETAIL = json_build_object('kind', p_kind, 'slug', p_slug, 'details', p_details)::text;
      END
      $fn$`);
    await q.query(`
      CREATE FUNCTION round_guard_check(p_round_id text) RETURNS void
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_status text;
      BEGIN
        SELECT status INTO v_status FROM round_guard WHERE round_id = p_round_id FOR SHARE;
        IF v_status = 'closed' THEN
          PERFORM public.vagen_refuse('conflict', 'round-closed', format('Round %s is closed; no more assessments can be recorded in it.', p_round_id));
        END IF;
      END
      $fn$`);
    await q.query(`
      CREATE FUNCTION erased_case_check(p_lock integer, p_case_id text) RETURNS void
      LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        IF public.erased_case_guard(p_lock, p_case_id) THEN
          PERFORM public.vagen_refuse('not_found', 'case-not-found', 'Case not found.');
        END IF;
      END
      $fn$`);
    await q.query(`
      CREATE FUNCTION open_case_claim(p_municipality text, p_pseudonym text, p_case_id uuid) RETURNS void
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_existing uuid;
      BEGIN
        INSERT INTO open_cases (municipality, pseudonym, case_id) VALUES (p_municipality, p_pseudonym, p_case_id) ON CONFLICT DO NOTHING;
        IF FOUND THEN
          RETURN;
        END IF;
        SELECT case_id INTO v_existing FROM open_cases WHERE municipality = p_municipality AND pseudonym = p_pseudonym;
        IF v_existing IS NOT NULL AND v_existing <> p_case_id THEN
          PERFORM public.vagen_refuse('conflict', 'person-has-open-case',
            format('The person already has an open case (%s) in this municipality.', v_existing), json_build_object('caseId', v_existing));
        END IF;
      END
      $fn$`);
    for (const f of ['round_guard_check(text)', 'erased_case_check(integer, text)', 'open_case_claim(text, text, uuid)']) {
      // As for the other guards (migration 1764000630000): planned once per connection, by key.
      await q.query(`ALTER FUNCTION ${f} SET plan_cache_mode = force_generic_plan`);
      await q.query(`ALTER FUNCTION ${f} SET enable_seqscan = off`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION open_case_claim(text, text, uuid)');
    await q.query('DROP FUNCTION erased_case_check(integer, text)');
    await q.query('DROP FUNCTION round_guard_check(text)');
    await q.query('DROP FUNCTION vagen_refuse(text, text, text, json)');
  }
}
