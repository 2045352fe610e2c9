import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * idempotency_claim: takes an Idempotency-Key inside a command's own transaction (the one that
 * appends its events), so the key is recorded if and only if the events are. Raises SQLSTATE
 * VA412 when the key is already held: by a committed request (done, or still answering), or by
 * one committing right now, which it waits for. A claim left unanswered longer than
 * `p_abandoned_secs` (its request died between commit and answer) is taken over.
 */
export class IdempotencyClaim1764000640000 implements MigrationInterface {
  name = 'IdempotencyClaim1764000640000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION idempotency_claim(p_user text, p_key text, p_method text, p_path text, p_hash text, p_abandoned_secs integer)
      RETURNS void LANGUAGE plpgsql SET search_path = public AS $fn$
      BEGIN
        INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
        VALUES (p_user, p_key, p_method, p_path, p_hash)
        ON CONFLICT (user_id, key) DO UPDATE
          SET created_at = now(), method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash
          WHERE idempotency_keys.completed_at IS NULL
            AND idempotency_keys.created_at < now() - make_interval(secs => p_abandoned_secs);
        IF NOT FOUND THEN
          RAISE EXCEPTION 'Idempotency-Key % is already used', p_key USING ERRCODE = 'VA412';
        END IF;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION idempotency_claim(text, text, text, text, text, integer)');
  }
}
