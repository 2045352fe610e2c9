import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // Idempotency records: one per (user, key). `request_hash` detects a different body under
    // the same key (422); `completed_at IS NULL` marks a request still running (409).
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id        text        NOT NULL,
        key            text        NOT NULL,
        method         text        NOT NULL,
        path           text        NOT NULL,
        request_hash   text        NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        completed_at   timestamptz,
        status_code    integer,
        response_headers jsonb,
        response_body  text,
        PRIMARY KEY (user_id, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}
