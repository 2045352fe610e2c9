import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An Idempotency-Key answered in the command's own transaction. `response_ref` records how to
 * give the answer again (for a case command: the case and its version after the command) instead
 * of the answer's text, which is not known before the append commits (it holds the events'
 * positions and recorded times). idempotency_claim_answered takes the key as idempotency_claim
 * does and completes it at once with the status, the headers known up front and the reference,
 * so the key is complete if and only if the events are stored: no completion to write after the
 * commit, and no window in which a repeat finds the request still running after its events are in.
 */
export class IdempotencyAnswerRef1764000680000 implements MigrationInterface {
  name = 'IdempotencyAnswerRef1764000680000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE idempotency_keys ADD COLUMN response_ref jsonb');
    await q.query(`
      CREATE FUNCTION idempotency_claim_answered(p_user text, p_key text, p_method text, p_path text, p_hash text, p_abandoned_secs integer,
                                                 p_status integer, p_headers jsonb, p_ref jsonb)
      RETURNS void LANGUAGE plpgsql SET search_path = public AS $fn$
      BEGIN
        INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, completed_at, status_code, response_headers, response_ref)
        VALUES (p_user, p_key, p_method, p_path, p_hash, now(), p_status, p_headers, p_ref)
        ON CONFLICT (user_id, key) DO UPDATE
          SET created_at = now(), method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
              completed_at = now(), status_code = EXCLUDED.status_code, response_headers = EXCLUDED.response_headers,
              response_body = NULL, response_ref = EXCLUDED.response_ref
          WHERE idempotency_keys.completed_at IS NULL
            AND idempotency_keys.created_at < now() - make_interval(secs => p_abandoned_secs);
        IF NOT FOUND THEN
          RAISE EXCEPTION 'Idempotency-Key % is already used', p_key USING ERRCODE = 'VA412';
        END IF;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION idempotency_claim_answered(text, text, text, text, text, integer, integer, jsonb, jsonb)');
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN response_ref');
  }
}
